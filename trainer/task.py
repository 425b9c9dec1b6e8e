"""TFX Trainer entry point (`run_fn`): trains on the transformed examples and exports the served model.

With a Tuner upstream, the model is rebuilt from the best trial's hyperparameters and retrained in full;
without one, `TrainingConfig.model` is trained. Architectures in `TrainingConfig.ensemble_architectures` are
trained after it with its settings, and the exported model averages their probabilities. Each model ends
training with the mean of its last epochs' weights (`TrainingConfig.average_last_epochs`). Then a temperature
is fitted on the eval split (trainer/calibration.py) and the exported model serves the scaled probabilities; the
SavedModel's assets keep it (calibration.json) and what was trained (model_summary.json) for the model card.
"""
import collections
import dataclasses
import os
from typing import NamedTuple, Tuple

import numpy as np

import keras_tuner
import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from speech_emotion.config import FeatureConfig
from speech_emotion.data import splits
from speech_emotion.trainer import calibration
from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import example_weights
from speech_emotion.trainer import export
from speech_emotion.trainer import model as model_lib
from speech_emotion.trainer import model_summary
from speech_emotion.trainer import preprocessing
from speech_emotion.trainer import reports
from speech_emotion.trainer import search_space
from speech_emotion.trainer import weight_averaging

# Keys of the Trainer's and Tuner's custom_config.
TRAINING_CONFIG_KEY = "training_config"
TUNING_CONFIG_KEY = "tuning_config"
REPORTS_DIR_KEY = "reports_dir"
SHUFFLE_BUFFER_EXAMPLES = 10000
# Joins corpus, speaker and label index into the key of an example's weight; no corpus or speaker name holds it.
GROUP_SEPARATOR = "\x1f"


class TrainingInputs(NamedTuple):
    """What both the Trainer and the Tuner read from their common FnArgs."""

    training_config: trainer_config.TrainingConfig
    feature_config: FeatureConfig
    emotions: list
    tf_transform_output: tft.TFTransformOutput
    train_dataset: tf.data.Dataset
    eval_dataset: tf.data.Dataset
    train_examples: int


def make_dataset(file_pattern, data_accessor, schema, batch_size: int, shuffle: bool,
                 balance: trainer_config.BalanceConfig) -> Tuple[tf.data.Dataset, int]:
    """(log-mel, label index, example weight) batches, the weights balancing the split's corpora, speakers and
    emotions (example_weights), and the number of examples. The transformed records carry every feature (about 94 KB
    each); the log-mel, label, corpus and speaker are kept in memory after the first pass (the one that counts the
    groups), so later epochs and tuning trials skip reading and parsing them (a third of an epoch's time on 2 CPUs)."""
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=preprocessing.LABEL_INDEX, num_epochs=1, shuffle=False),
        schema,
    )
    dataset = dataset.map(lambda features, labels: (
        features[preprocessing.LOG_MEL], tf.reshape(labels, [-1]),
        tf.reshape(features[preprocessing.EXAMPLE_CORPUS], [-1]), tf.reshape(features[preprocessing.EXAMPLE_SPEAKER], [-1]),
    )).cache()
    counts = collections.Counter()
    for _, labels, corpora, speakers in dataset.as_numpy_iterator():
        counts.update(zip(corpora.tolist(), speakers.tolist(), labels.tolist()))
    weights = example_weights.group_weights(counts, balance)
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant([_group_key(corpus, speaker, label) for corpus, speaker, label in weights], tf.string),
            tf.constant(list(weights.values()), tf.float32),
        ),
        default_value=0.0,
    )
    if shuffle:
        dataset = dataset.unbatch().shuffle(SHUFFLE_BUFFER_EXAMPLES, reshuffle_each_iteration=True).batch(batch_size)

    def weighted(log_mel, labels, corpora, speakers):
        keys = tf.strings.join([corpora, speakers, tf.strings.as_string(labels)], separator=GROUP_SEPARATOR)
        return log_mel, labels, table.lookup(keys)

    return dataset.map(weighted).prefetch(tf.data.AUTOTUNE), sum(counts.values())


def _group_key(corpus: bytes, speaker: bytes, label: int) -> bytes:
    return GROUP_SEPARATOR.encode().join([corpus, speaker, str(label).encode()])


def training_inputs(fn_args: tfx.components.FnArgs) -> TrainingInputs:
    custom_config = fn_args.custom_config
    training_config = trainer_config.TrainingConfig.from_json(custom_config[TRAINING_CONFIG_KEY])
    tf.keras.utils.set_random_seed(training_config.seed)
    feature_config = FeatureConfig.from_json(custom_config[preprocessing.FEATURE_CONFIG_KEY])
    emotions = list(custom_config[preprocessing.EMOTIONS_KEY])
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)

    def dataset(files, shuffle):
        return make_dataset(
            files, fn_args.data_accessor, tf_transform_output.transformed_metadata.schema, training_config.batch_size, shuffle,
            training_config.balance,
        )

    (train_dataset, train_examples), (eval_dataset, _) = dataset(fn_args.train_files, True), dataset(fn_args.eval_files, False)
    return TrainingInputs(training_config, feature_config, emotions, tf_transform_output, train_dataset, eval_dataset, train_examples)


def model_config_for(fn_args: tfx.components.FnArgs, training_config: trainer_config.TrainingConfig) -> trainer_config.ModelConfig:
    if not fn_args.hyperparameters:
        return training_config.model
    tuning_config = trainer_config.TuningConfig.from_json(fn_args.custom_config[TUNING_CONFIG_KEY])
    hyperparameters = keras_tuner.HyperParameters.from_config(fn_args.hyperparameters)
    return search_space.model_config(hyperparameters, tuning_config.architectures, training_config.model)


def training_callbacks(training_config: trainer_config.TrainingConfig, log_dir: str) -> list:
    """Early stopping and learning-rate halving on validation loss; none restores an earlier epoch's weights.

    The eval split is a few held-out speakers, so its scores are noisy: unweighted accuracy moves in whole
    clips and jumped by 0.1 between neighbouring epochs on real corpora. Restoring the best-scoring epoch
    then keeps whichever epoch those speakers happened to favour; the smoother loss only decides when
    training has stopped improving.
    """
    return [
        tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=training_config.early_stopping_patience),
        tf.keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=training_config.reduce_lr_patience),
        tf.keras.callbacks.TensorBoard(log_dir=log_dir),
    ]


def predictions(model: tf.keras.Model, dataset: tf.data.Dataset):
    """(probabilities, labels) of every example of a (log-mel, label, weight) dataset, inference mode."""
    probabilities, labels = [], []
    for log_mel, batch_labels, _ in dataset:
        probabilities.append(model(log_mel, training=False).numpy())
        labels.append(batch_labels.numpy())
    return np.concatenate(probabilities), np.concatenate(labels)


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    inputs = training_inputs(fn_args)
    training_config, feature_config, emotions, tf_transform_output, train_dataset, eval_dataset, _ = inputs
    epochs = training_config.epochs_for(inputs.train_examples)
    print(f"Training on {inputs.train_examples} examples for up to {epochs} epochs")
    reports_dir = fn_args.custom_config.get(REPORTS_DIR_KEY) or fn_args.model_run_dir
    averaging = [weight_averaging.LastEpochsWeightAverage(training_config.average_last_epochs)] if training_config.average_last_epochs else []
    members, summaries = [], []
    for member_config in training_config.member_configs(model_config_for(fn_args, training_config)):
        model = model_lib.build_model(len(emotions), feature_config.num_frames, feature_config.n_mels, member_config)
        history = model.fit(
            train_dataset,
            validation_data=eval_dataset,
            epochs=epochs,
            callbacks=training_callbacks(training_config, os.path.join(fn_args.model_run_dir, member_config.architecture)) + averaging,
            verbose=2,
        )
        reports.write_training_curves(history.history, member_config.architecture, reports_dir)
        members.append(model)
        summaries.append(model_summary.MemberSummary(
            architecture=member_config.architecture, parameters=int(model.count_params()), epochs_run=len(history.history["loss"]),
            averaged_epochs=averaging[0].averaged_epochs if averaging else 0, settings=dataclasses.asdict(member_config),
        ))
    served = model_lib.averaged(members)
    # On the averaged weights, which are the ones exported; unweighted: the clips as they are, as ECE counts them.
    fitted = calibration.Calibration.fit(*predictions(served, eval_dataset), fitted_on=splits.EVAL)
    print(f"Temperature {fitted.temperature:.3f} on {fitted.clips} eval clips: ECE {fitted.expected_calibration_error_before:.3f} "
          f"-> {fitted.expected_calibration_error_after:.3f}, NLL {fitted.negative_log_likelihood_before:.3f} -> "
          f"{fitted.negative_log_likelihood_after:.3f}")
    export.export_serving_model(served, tf_transform_output, emotions, feature_config, fn_args.serving_model_dir,
                                temperature=fitted.temperature)
    fitted.write(fn_args.serving_model_dir)
    model_summary.ModelSummary.of(summaries).write(fn_args.serving_model_dir)
