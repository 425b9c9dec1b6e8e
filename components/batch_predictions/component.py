"""BatchPredictionWriter: BulkInferrer's PredictionLogs over the unlabelled clips as `ser batch-predict`'s files.

Writes, in its output artifact (and copied to `output_dir` when given):
  prediction.results-NNNNN-of-NNNNN       {"instance": {"uri": clip, ...}, "prediction": {"label": ..., "probabilities": {...},
                                           "duration_seconds": ..., "timeline": [...]}}
  prediction.errors_stats-NNNNN-of-NNNNN  {"instance": {"uri": clip}, "error": {"status": ..., "message": ...}}
with one line per file of the clips folder; the artifact's `results` and `errors` properties count them.
"""
from tfx import types
from tfx.dsl.components.base import base_beam_component
from tfx.dsl.components.base import executor_spec
from tfx.types import component_spec
from tfx.types import standard_artifacts

from speech_emotion.components.batch_predictions import executor


class BatchPredictions(types.Artifact):
    """`ser batch-predict`'s results and errors files (JSON Lines)."""

    # <namespace>.<Name>, the form the Kubeflow V2 compiler requires of custom artifact types.
    TYPE_NAME = "speech_emotion.BatchPredictions"


class BatchPredictionWriterSpec(types.ComponentSpec):
    PARAMETERS = {executor.OUTPUT_DIR_KEY: component_spec.ExecutionParameter(type=str)}
    INPUTS = {
        executor.EXAMPLES_KEY: component_spec.ChannelParameter(type=standard_artifacts.Examples),
        executor.INFERENCE_RESULT_KEY: component_spec.ChannelParameter(type=standard_artifacts.InferenceResult),
        executor.MODEL_BLESSING_KEY: component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing),
    }
    OUTPUTS = {executor.PREDICTIONS_KEY: component_spec.ChannelParameter(type=BatchPredictions)}


class BatchPredictionWriter(base_beam_component.BaseBeamComponent):
    """`examples` are the clips as AudioExampleGen ingested them (its summary lists the quarantined
    files), `inference_result` BulkInferrer's PredictionLogs of their `unlabelled` split with the
    model's `timeline_examples` signature, `model_blessing` the blessing BulkInferrer was given."""

    SPEC_CLASS = BatchPredictionWriterSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(self, examples: types.BaseChannel, inference_result: types.BaseChannel,
                 model_blessing: types.BaseChannel, output_dir: str = ""):
        super().__init__(
            spec=BatchPredictionWriterSpec(
                examples=examples,
                inference_result=inference_result,
                model_blessing=model_blessing,
                output_dir=output_dir,
                predictions=types.Channel(type=BatchPredictions),
            )
        )
