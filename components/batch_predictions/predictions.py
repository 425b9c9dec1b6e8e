"""BulkInferrer's PredictionLogs as `ser batch-predict`'s results and errors files.

Every clip of the unlabelled folder ends in one line: a prediction, an error naming why it got none
(quarantined at ingestion, or no blessed model), or, for an identical copy of another clip that
ingestion set aside, the prediction of that clip.
"""
from typing import Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
import grpc
import tensorflow as tf
from apache_beam.ml.inference import base
from tensorflow_serving.apis import prediction_log_pb2

from speech_emotion.data import example_features
from speech_emotion.serving import batch_instances
from speech_emotion.serving import batch_pipeline
from speech_emotion.serving import errors
from speech_emotion.serving import recording_predictions

# The exported model's signature BulkInferrer runs (trainer/export.py): serialized tf.Example in, the recording's
# timeline and overall answer out.
SIGNATURE_NAME = recording_predictions.EXAMPLES_SIGNATURE_NAME
DUPLICATE_OF = "duplicate_of"
_INSTANCE_METADATA = tuple(
    name for name in example_features.METADATA_FEATURES if name not in (example_features.LABEL, example_features.SOURCE_PATH)
)


def instance_of(example: tf.train.Example) -> dict:
    """The clip as a `uri` instance, with the example's non-empty metadata."""
    features = example.features.feature
    instance = {batch_instances.URI_FIELD: features[example_features.SOURCE_PATH].bytes_list.value[0].decode()}
    for name in _INSTANCE_METADATA:
        values = features[name].bytes_list.value if name in features else []
        if values and values[0]:
            instance[name] = values[0].decode()
    if example_features.DURATION_SECONDS in features:
        instance[example_features.DURATION_SECONDS] = round(features[example_features.DURATION_SECONDS].float_list.value[0], 3)
    return instance


def prediction_of(log: prediction_log_pb2.PredictionLog) -> Tuple[dict, dict]:
    """(instance, prediction) of one PredictionLog of the `timeline_examples` signature, the prediction as
    `ser batch-predict` writes it (RecordingPrediction.to_batch_json)."""
    if log.WhichOneof("log_type") != "predict_log":
        raise ValueError(f"expected a predict_log of the {SIGNATURE_NAME!r} signature, got {log.WhichOneof('log_type')}")
    request, response = log.predict_log.request, log.predict_log.response
    if len(request.inputs) != 1:
        raise ValueError(f"expected one serialized tf.Example in, got inputs {sorted(request.inputs)}")
    (serialized,) = next(iter(request.inputs.values())).string_val
    # One example per log: each output is the signature's for a batch of one, overall_label shaped [1, 1].
    outputs = {name: tf.make_ndarray(tensor) for name, tensor in response.outputs.items()}
    if recording_predictions.OVERALL_LABEL in outputs:
        outputs[recording_predictions.OVERALL_LABEL] = outputs[recording_predictions.OVERALL_LABEL].reshape([1])
    [prediction] = recording_predictions.from_outputs(outputs)
    return instance_of(tf.train.Example.FromString(serialized)), prediction.to_batch_json()


def set_aside(summary: Dict) -> Tuple[List[Tuple[dict, batch_instances.InstanceError]], Dict[str, List[str]]]:
    """From ingestion's summary: (instance, error) for every quarantined file, and the paths of the
    identical copies ingestion dropped, by the path of the clip it kept."""
    quarantined, copies = [], {}
    for corpus in summary["corpora"].values():
        for rejected in corpus["quarantined"]:
            error = batch_instances.InstanceError.of(errors.invalid_argument(rejected["reason"]))
            quarantined.append(({batch_instances.URI_FIELD: rejected["path"]}, error))
        for duplicate in corpus["duplicates"]:
            copies.setdefault(duplicate[DUPLICATE_OF], []).append(duplicate["path"])
    return quarantined, copies


def _with_copies(keyed_prediction, copies: Dict[str, List[str]]) -> Iterable[Tuple[dict, base.PredictionResult]]:
    instance, inference = keyed_prediction
    uri = instance[batch_instances.URI_FIELD]
    yield instance, base.PredictionResult(uri, inference)
    for copy in copies.get(uri, ()):
        yield {batch_instances.URI_FIELD: copy, DUPLICATE_OF: uri}, base.PredictionResult(copy, inference)


def _read_records(pipeline, label: str, pattern: str, message_type):
    """The protos in the TFRecord files matching `pattern`; none when no file matches (an empty folder of clips)."""
    if not tf.io.gfile.glob(pattern):
        return pipeline | label >> beam.Create([])
    return pipeline | label >> beam.io.ReadFromTFRecord(pattern, coder=beam.coders.ProtoCoder(message_type))


class WriteBatchPredictions(beam.PTransform):
    """Writes `ser batch-predict`'s prediction.results-* and prediction.errors_stats-* under `output_dir`.

    `prediction_logs` are BulkInferrer's output files, None when it ran no inference (no blessed model):
    then every clip of `example_files` is an error.
    """

    def __init__(self, example_files: str, prediction_logs: Optional[str], summary: Dict, output_dir: str):
        super().__init__()
        self._example_files = example_files
        self._prediction_logs = prediction_logs
        self._quarantined, self._copies = set_aside(summary)
        self._output_dir = output_dir

    def expand(self, pipeline):
        if self._prediction_logs is not None:
            inferences = (
                _read_records(pipeline, "ReadPredictionLogs", self._prediction_logs, prediction_log_pb2.PredictionLog)
                | "ToPrediction" >> beam.Map(prediction_of)
            )
        else:
            not_blessed = batch_instances.InstanceError(
                status=grpc.StatusCode.FAILED_PRECONDITION.name,
                message="no prediction: the model was not blessed, so BulkInferrer ran no inference",
            )
            inferences = (
                _read_records(pipeline, "ReadExamples", self._example_files, tf.train.Example)
                | "NotBlessed" >> beam.Map(lambda example: (instance_of(example), not_blessed))
            )
        keyed_results = (
            (
                inferences | "WithCopies" >> beam.FlatMap(_with_copies, self._copies),
                pipeline | "Quarantined" >> beam.Create(
                    [(instance, base.PredictionResult(instance[batch_instances.URI_FIELD], error))
                     for instance, error in self._quarantined]),
            )
            | "AllClips" >> beam.Flatten()
        )
        # From here on, exactly as `ser batch-predict` writes its files.
        results, errors = batch_pipeline.split_failed(keyed_results | "Records" >> beam.Map(batch_pipeline.prediction_record),
                                                      "Predicted")
        batch_pipeline.write_prediction_files(results, errors, self._output_dir)

