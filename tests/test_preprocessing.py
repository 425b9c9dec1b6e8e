"""The Transform preprocessing_fn run by tf.Transform's Beam implementation on a few synthetic clips."""
import io
import os

import speech_emotion  # noqa: F401  (must precede TensorFlow)
import numpy as np
import pytest
import soundfile
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from speech_emotion.audio import features
from speech_emotion.config import FeatureConfig
from speech_emotion.data import example_features
from speech_emotion.trainer import preprocessing

CONFIG = FeatureConfig(clip_seconds=0.5)
EMOTIONS = ("neutral", "happy", "sad", "angry")
LABELS = ("sad", "happy", "sad", "angry", "sad", "happy")
RAW_METADATA = dataset_metadata.DatasetMetadata(
    schema_utils.schema_from_feature_spec({
        example_features.AUDIO: tf.io.FixedLenFeature([], tf.string),
        example_features.LABEL: tf.io.FixedLenFeature([], tf.string),
        example_features.CORPUS: tf.io.FixedLenFeature([], tf.string),
        example_features.SPEAKER: tf.io.FixedLenFeature([], tf.string),
    })
)


def _wav_bytes(seed):
    rng = np.random.default_rng(seed)
    sample_rate = 22050
    time_s = np.arange(int(0.6 * sample_rate)) / sample_rate
    tone = sum(np.sin(2 * np.pi * k * (120.0 + 40 * seed) * time_s) / k for k in range(1, 6))
    waveform = (0.05 + 0.05 * seed) * tone / np.abs(tone).max() + 0.01 * rng.standard_normal(len(time_s))
    buffer = io.BytesIO()
    soundfile.write(buffer, waveform.astype(np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    raw = [{example_features.AUDIO: _wav_bytes(seed), example_features.LABEL: label.encode(), example_features.CORPUS: b"ravdess",
            example_features.SPEAKER: f"ravdess:{seed % 2:02d}".encode()} for seed, label in enumerate(LABELS)]
    custom_config = {preprocessing.FEATURE_CONFIG_KEY: CONFIG.to_json(), preprocessing.EMOTIONS_KEY: list(EMOTIONS)}
    output_dir = str(tmp_path_factory.mktemp("transform"))
    with tft_beam.Context(temp_dir=os.path.join(output_dir, "tmp"), force_tf_compat_v1=False):
        (examples, _), transform_fn = (raw, RAW_METADATA) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing.preprocessing_fn(inputs, custom_config), output_record_batches=False
        )
        _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
    return examples, tft.TFTransformOutput(output_dir)


def test_features_have_config_shapes_and_unit_statistics(transformed):
    examples, _ = transformed
    assert len(examples) == len(LABELS)
    for name, size in features.feature_dimensions(CONFIG).items():
        stacked = np.stack([np.reshape(example[name], [CONFIG.num_frames, size]) for example in examples])
        # Normalised per coefficient over every frame of the (train) data analysed.
        np.testing.assert_allclose(stacked.mean(axis=(0, 1)), 0.0, atol=1e-3, err_msg=name)
        np.testing.assert_allclose(stacked.std(axis=(0, 1)), 1.0, atol=1e-2, err_msg=name)


def test_labels_keep_the_canonical_order_and_the_vocabulary_is_recorded(transformed):
    examples, transform_output = transformed
    assert [int(example[preprocessing.LABEL_INDEX]) for example in examples] == [EMOTIONS.index(label) for label in LABELS]
    # Corpus and speaker pass through for the Trainer's balancing weights.
    assert [example[preprocessing.EXAMPLE_SPEAKER] for example in examples] == [f"ravdess:{seed % 2:02d}".encode() for seed in range(len(LABELS))]
    assert {example[preprocessing.EXAMPLE_CORPUS] for example in examples} == {b"ravdess"}
    vocabulary = transform_output.vocabulary_by_name(preprocessing.LABEL_VOCABULARY)
    assert [word.decode() for word in vocabulary] == ["sad", "happy", "angry"]


def test_transform_graph_reproduces_the_analysed_outputs(transformed):
    examples, transform_output = transformed
    layer = transform_output.transform_features_layer()
    outputs = layer({
        example_features.AUDIO: tf.constant([_wav_bytes(1)]),
        example_features.LABEL: tf.constant([b"happy"]),
    })
    np.testing.assert_allclose(
        outputs[features.MFCC].numpy()[0], np.reshape(examples[1][features.MFCC], [CONFIG.num_frames, CONFIG.n_mfcc]), atol=1e-3
    )


def test_normalisation_statistics_do_not_depend_on_the_order_beam_combines_batches(tmp_path):
    frames, coefficients = 20, 8
    rows = np.random.default_rng(0).normal(-40.0, 25.0, size=(240, frames, coefficients)).astype(np.float32)
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(
        {"value": tf.io.FixedLenFeature([frames, coefficients], tf.float32)}))

    def normalised_first_row(order, name):
        instances = [{"value": rows[index]} for index in order]
        with tft_beam.Context(temp_dir=str(tmp_path / name), desired_batch_size=7, force_tf_compat_v1=False):
            transform_fn = (instances, metadata) | tft_beam.AnalyzeDataset(
                lambda inputs: {"value": preprocessing.normalised_per_coefficient(inputs["value"], "value")})
            (transformed_rows, _) = (([{"value": rows[0]}], metadata), transform_fn) | tft_beam.TransformDataset()
        return transformed_rows[0]["value"]

    forward = normalised_first_row(range(len(rows)), "forward")
    np.testing.assert_array_equal(forward, normalised_first_row(reversed(range(len(rows))), "reversed"))
    assert abs(float(np.mean(forward))) < 1.0
