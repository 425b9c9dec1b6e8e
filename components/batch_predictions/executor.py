"""Executor of BatchPredictionWriter: BulkInferrer's PredictionLogs to `ser batch-predict`'s JSON Lines files."""
import os
from typing import Any, Dict, List

import tensorflow as tf
from tfx.components.util import model_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils

from speech_emotion.components.batch_predictions import predictions
from speech_emotion.data import ingest
from speech_emotion.data import splits
from speech_emotion.serving import batch_pipeline

EXAMPLES_KEY = "examples"
INFERENCE_RESULT_KEY = "inference_result"
MODEL_BLESSING_KEY = "model_blessing"
PREDICTIONS_KEY = "predictions"
OUTPUT_DIR_KEY = "output_dir"


def _prediction_files(folder: str) -> List[str]:
    return sorted(tf.io.gfile.glob(os.path.join(folder, "prediction.*")))


def _count_lines(path: str) -> int:
    with tf.io.gfile.GFile(path) as lines:
        return sum(1 for _ in lines)


def replace_prediction_files(source_dir: str, target_dir: str) -> None:
    """Makes `target_dir`'s prediction files those of `source_dir`, dropping an earlier run's."""
    tf.io.gfile.makedirs(target_dir)
    for stale in _prediction_files(target_dir):
        tf.io.gfile.remove(stale)
    for path in _prediction_files(source_dir):
        tf.io.gfile.copy(path, os.path.join(target_dir, os.path.basename(path)))


class Executor(base_beam_executor.BaseBeamExecutor):
    def Do(self, input_dict: Dict[str, List], output_dict: Dict[str, List], exec_properties: Dict[str, Any]) -> None:
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        inference_result = artifact_utils.get_single_instance(input_dict[INFERENCE_RESULT_KEY])
        blessing = artifact_utils.get_single_instance(input_dict[MODEL_BLESSING_KEY])
        output = artifact_utils.get_single_instance(output_dict[PREDICTIONS_KEY])
        # BulkInferrer writes nothing for a model that is not blessed.
        prediction_logs = os.path.join(inference_result.uri, "*") if model_utils.is_model_blessed(blessing) else None
        example_files = os.path.join(ingest.split_dir(examples.uri, splits.UNLABELLED), "*")
        with self._make_beam_pipeline() as pipeline:
            _ = pipeline | predictions.WriteBatchPredictions(
                example_files, prediction_logs, ingest.read_summary(examples.uri), output.uri)

        for kind, prefix in ((batch_pipeline.RESULTS, batch_pipeline.RESULTS_PREFIX),
                             (batch_pipeline.ERRORS, batch_pipeline.ERRORS_PREFIX)):
            files = tf.io.gfile.glob(os.path.join(output.uri, f"{prefix}-*"))
            output.set_int_custom_property(kind, sum(_count_lines(path) for path in files))
        if exec_properties.get(OUTPUT_DIR_KEY):
            replace_prediction_files(output.uri, exec_properties[OUTPUT_DIR_KEY])
