"""The TFX pipeline definition; runners (local, Kubeflow) only differ in how they run it."""
import json

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx

from speech_emotion.components.audio_example_gen.component import AudioExampleGen
from speech_emotion.components.augmentation.component import AudioAugmentation
from speech_emotion.components.batch_predictions import predictions
from speech_emotion.components.batch_predictions.component import BatchPredictionWriter
from speech_emotion.components.cross_corpus.component import CrossCorpusGate
from speech_emotion.data import example_features
from speech_emotion.data import splits
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.trainer import metrics
from speech_emotion.trainer import preprocessing
from speech_emotion.trainer import task

PER_CLASS_RECALL = "recall"


def eval_config(config: pipeline_config.PipelineConfig) -> tfma.EvalConfig:
    num_classes = len(config.emotions)
    metric_configs = [
        tfma.MetricConfig(class_name="ExampleCount"),
        tfma.MetricConfig(class_name="SparseCategoricalAccuracy", config=json.dumps({"name": "accuracy"})),
        tfma.MetricConfig(
            class_name=metrics.UnweightedAccuracy.__name__,
            module=metrics.__name__,
            config=json.dumps({"num_classes": num_classes, "name": metrics.UNWEIGHTED_ACCURACY}),
            # Blessing looks at the overall slice only; small slices are reported, not gated on.
            per_slice_thresholds=[
                tfma.PerSliceMetricThreshold(
                    slicing_specs=[tfma.SlicingSpec()],
                    threshold=tfma.MetricThreshold(
                        value_threshold=tfma.GenericValueThreshold(
                            lower_bound={"value": config.blessing.min_unweighted_accuracy}
                        ),
                        change_threshold=tfma.GenericChangeThreshold(
                            direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -1e-10}
                        ),
                    ),
                )
            ],
        ),
        tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
    ]
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_examples",
                preprocessing_function_names=["transform_features"],
                label_key=preprocessing.LABEL_INDEX,
                prediction_key="probabilities",
            )
        ],
        metrics_specs=[
            tfma.MetricsSpec(metrics=metric_configs),
            # Recall per emotion on the argmax (top_k 1), keyed by class id: sub_key {class_id: N}.
            tfma.MetricsSpec(
                metrics=[tfma.MetricConfig(class_name="Recall", config=json.dumps({"name": PER_CLASS_RECALL, "top_k": 1}))],
                binarize=tfma.BinarizationOptions(class_ids={"values": list(range(num_classes))}),
            ),
        ],
        slicing_specs=[
            tfma.SlicingSpec(),
            tfma.SlicingSpec(feature_keys=[example_features.CORPUS]),
            tfma.SlicingSpec(feature_keys=[example_features.GENDER]),
            tfma.SlicingSpec(feature_keys=[example_features.LABEL]),
        ],
    )


def batch_prediction_components(config: pipeline_config.PipelineConfig, model, model_blessing) -> list:
    """With `config.unlabelled_clips`: the clips ingested on their own, classified by the blessed model with
    BulkInferrer, and written as `ser batch-predict`'s JSON Lines files (also to `config.predictions_dir`)."""
    if not config.unlabelled_clips:
        return []
    example_gen = AudioExampleGen(config.unlabelled_ingest).with_id("UnlabelledExampleGen")
    bulk_inferrer = tfx.components.BulkInferrer(
        examples=example_gen.outputs["examples"],
        model=model,
        model_blessing=model_blessing,
        data_spec=tfx.proto.DataSpec(example_splits=[splits.UNLABELLED]),
        model_spec=tfx.proto.ModelSpec(model_signature_name=[predictions.SIGNATURE_NAME]),
    )
    writer = BatchPredictionWriter(
        examples=example_gen.outputs["examples"],
        inference_result=bulk_inferrer.outputs["inference_result"],
        model_blessing=model_blessing,
        output_dir=config.predictions_dir,
    )
    return [example_gen, bulk_inferrer, writer]


def create_pipeline(config: pipeline_config.PipelineConfig) -> tfx.dsl.Pipeline:
    example_gen = AudioExampleGen(config.ingest)
    # Train split only: eval and test pass through byte-identical.
    augmentation = AudioAugmentation(
        examples=example_gen.outputs["examples"], config=config.augmentation, feature_config=config.feature
    )
    if config.augmentation_beam_pipeline_args:
        augmentation.with_beam_pipeline_args(list(config.augmentation_beam_pipeline_args))
    training_examples = augmentation.outputs["augmented_examples"]
    statistics_gen = tfx.components.StatisticsGen(examples=training_examples)
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=False)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    feature_custom_config = {
        preprocessing.FEATURE_CONFIG_KEY: config.feature.to_json(),
        preprocessing.EMOTIONS_KEY: list(config.emotions),
    }
    transform = tfx.components.Transform(
        examples=training_examples,
        schema=schema_gen.outputs["schema"],
        preprocessing_fn="speech_emotion.trainer.preprocessing.preprocessing_fn",
        splits_config=tfx.proto.SplitsConfig(analyze=[splits.TRAIN], transform=[splits.TRAIN, splits.EVAL]),
        custom_config=feature_custom_config,
        disable_statistics=True,
    )
    training_custom_config = {
        **feature_custom_config,
        task.TRAINING_CONFIG_KEY: config.training.to_json(),
        task.TUNING_CONFIG_KEY: config.tuning.to_json(),
        task.REPORTS_DIR_KEY: config.reports_dir,
    }
    training_inputs = dict(
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(splits=[splits.TRAIN]),
        eval_args=tfx.proto.EvalArgs(splits=[splits.EVAL]),
        custom_config=training_custom_config,
    )
    # trials == 0: no search; the Trainer builds TrainingConfig.model.
    tuner = (
        tfx.components.Tuner(tuner_fn="speech_emotion.trainer.tuning.tuner_fn", **training_inputs)
        if config.tuning.enabled else None
    )
    trainer = tfx.components.Trainer(
        run_fn="speech_emotion.trainer.task.run_fn",
        hyperparameters=tuner.outputs["best_hyperparameters"] if tuner else None,
        **training_inputs,
    )
    model_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        # The gate's blessing, so the baseline is the last model that passed every check (the one pushed).
        model_blessing=tfx.dsl.Channel(
            type=tfx.types.standard_artifacts.ModelBlessing, producer_component_id=CrossCorpusGate.__name__
        ),
    ).with_id("latest_blessed_model_resolver")
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        example_splits=[splits.EVAL],
        eval_config=eval_config(config),
    )
    cross_corpus_gate = CrossCorpusGate(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        evaluator_blessing=evaluator.outputs["blessing"],
        evaluation=evaluator.outputs["evaluation"],
        min_unweighted_accuracy=config.blessing.min_cross_corpus_unweighted_accuracy,
        reports_dir=config.reports_dir,
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=cross_corpus_gate.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.serving_model_dir)
        ),
    )
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=[
            example_gen, augmentation, statistics_gen, schema_gen, example_validator, transform,
            *([tuner] if tuner else []), trainer, model_resolver, evaluator, cross_corpus_gate, pusher,
            # The blessing the Pusher reads: the predictions are those of the model that is served.
            *batch_prediction_components(config, trainer.outputs["model"], cross_corpus_gate.outputs["blessing"]),
        ],
        enable_cache=True,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path),
        beam_pipeline_args=list(config.beam_pipeline_args),
    )
