"""The Evaluator's metrics, computed by TFMA itself on known predictions."""
import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow is imported)

import numpy as np
import pandas as pd
import tensorflow_model_analysis as tfma

from speech_emotion.data import ingest
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import pipeline
from speech_emotion.trainer import metrics as trainer_metrics

EMOTIONS = ("angry", "happy", "sad")
LABELS = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
ARGMAX = np.array([0, 0, 1, 1, 2, 2, 2, 0, 1])


def _overall_metrics() -> dict:
    config = pipeline_config.PipelineConfig(workdir="unused", ingest=ingest.IngestConfig(corpora=()), emotions=EMOTIONS)
    eval_config = pipeline.eval_config(config)
    # Raw predictions instead of a model, on the overall slice: the same metric configs, no SavedModel to call.
    del eval_config.model_specs[:]
    eval_config.model_specs.add(label_key="label", prediction_key="probabilities")
    del eval_config.slicing_specs[1:]
    for metrics_spec in eval_config.metrics_specs:  # the change threshold needs a baseline model
        for metric in metrics_spec.metrics:
            del metric.per_slice_thresholds[:]
    frame = pd.DataFrame({"label": LABELS, "probabilities": list(np.eye(len(EMOTIONS))[ARGMAX] * 0.6 + 0.1)})
    result = tfma.analyze_raw_data(frame, eval_config)
    (_, metrics), = result.slicing_metrics
    return {sub_key: {name: value["doubleValue"] for name, value in values.items()} for sub_key, values in metrics[""].items()}


def test_per_class_recall_and_unweighted_accuracy_follow_the_argmax():
    metrics = _overall_metrics()
    expected_recall = [2 / 3, 1 / 2, 2 / 4]
    for class_id, recall in enumerate(expected_recall):
        assert abs(metrics[f"classId:{class_id} topK:1"][pipeline.PER_CLASS_RECALL] - recall) < 1e-6
    assert abs(metrics[""][trainer_metrics.UNWEIGHTED_ACCURACY] - np.mean(expected_recall)) < 1e-6
    assert abs(metrics[""]["accuracy"] - np.mean(LABELS == ARGMAX)) < 1e-6
    assert metrics[""]["example_count"] == len(LABELS)
