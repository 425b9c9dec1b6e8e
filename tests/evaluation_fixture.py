"""Test helper: a real Evaluator (TFMA) result of the pipeline's eval config, computed on given predictions."""
from typing import Optional, Sequence

import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow is imported)
import numpy as np
import pandas as pd
import tensorflow_model_analysis as tfma

from speech_emotion.data import example_features
from speech_emotion.data import ingest
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import pipeline
from speech_emotion.trainer import preprocessing


def evaluator_result(emotions: Sequence[str], labels: Sequence[int], argmax: Sequence[int], genders: Sequence[str],
                     corpora: Sequence[str], output_path: Optional[str] = None) -> tfma.EvalResult:
    """TFMA on the eval config's metrics and slices, with raw predictions (0.6 on `argmax`) instead of a model;
    written under `output_path` (as the Evaluator writes its artifact) when given."""
    config = pipeline_config.PipelineConfig(workdir="unused", ingest=ingest.IngestConfig(corpora=()), emotions=tuple(emotions))
    eval_config = pipeline.eval_config(config)
    del eval_config.model_specs[:]
    eval_config.model_specs.add(label_key=preprocessing.LABEL_INDEX, prediction_key="probabilities")
    for metrics_spec in eval_config.metrics_specs:  # the change threshold needs a baseline model
        for metric in metrics_spec.metrics:
            del metric.per_slice_thresholds[:]
    predictions = np.eye(len(emotions))[np.asarray(argmax)] * 0.6 + 0.4 / len(emotions)
    frame = pd.DataFrame({preprocessing.LABEL_INDEX: list(labels), "probabilities": list(predictions), example_features.GENDER: list(genders),
                          example_features.CORPUS: list(corpora), example_features.LABEL: [emotions[i] for i in labels]})
    return tfma.analyze_raw_data(frame, eval_config, output_path=output_path)
