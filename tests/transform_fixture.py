"""Test helper: a real tf.Transform output of the project's preprocessing_fn, analysed over a few WAV clips."""
import os
from typing import Sequence, Tuple

import speech_emotion  # noqa: F401  (must precede TensorFlow)
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

from speech_emotion.config import FeatureConfig
from speech_emotion.data import example_features
from speech_emotion.trainer import preprocessing


def analysed_transform_output(clips: Sequence[Tuple[bytes, str]], feature_config: FeatureConfig, emotions: Sequence[str],
                              root: str) -> tft.TFTransformOutput:
    """Runs the Transform's analysis over (WAV bytes, label) pairs and writes its output under `root`."""
    raw_metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec({
        # The shape SchemaGen infers for single-valued features.
        example_features.AUDIO: tf.io.FixedLenFeature([1], tf.string),
        example_features.LABEL: tf.io.FixedLenFeature([1], tf.string),
        example_features.CORPUS: tf.io.FixedLenFeature([1], tf.string),
        example_features.SPEAKER: tf.io.FixedLenFeature([1], tf.string),
    }))
    raw = [{example_features.AUDIO: [audio], example_features.LABEL: [label.encode()], example_features.CORPUS: [b"synthetic"],
            example_features.SPEAKER: [b"synthetic:01"]} for audio, label in clips]
    custom_config = {preprocessing.FEATURE_CONFIG_KEY: feature_config.to_json(), preprocessing.EMOTIONS_KEY: list(emotions)}
    transform_dir = os.path.join(root, "transform")
    with tft_beam.Context(temp_dir=os.path.join(root, "tmp"), force_tf_compat_v1=False):
        transform_fn = (raw, raw_metadata) | tft_beam.AnalyzeDataset(lambda inputs: preprocessing.preprocessing_fn(inputs, custom_config))
        _ = transform_fn | tft_beam.WriteTransformFn(transform_dir)
    metadata_io.write_metadata(raw_metadata, os.path.join(transform_dir, tft.TFTransformOutput.RAW_METADATA_DIR))
    return tft.TFTransformOutput(transform_dir)
