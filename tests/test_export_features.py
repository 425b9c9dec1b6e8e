"""The exported model's `features` and `timeline` signatures and feature_config.json asset, on a model exported from a
real Transform run."""
import io
import json
import os

import speech_emotion  # noqa: F401  (must precede TensorFlow)
import numpy as np
import pytest
import soundfile
import tensorflow as tf
import transform_fixture

from speech_emotion.audio import features, frontend, wav
from speech_emotion.config import FeatureConfig
from speech_emotion.trainer import export, preprocessing

CONFIG = FeatureConfig(clip_seconds=0.5, n_mels=40, fmax=7600.0, n_mfcc=10)
EMOTIONS = ("neutral", "happy")


def _wav_bytes(frequency, sample_rate=22050):
    time_s = np.arange(int(0.4 * sample_rate)) / sample_rate
    waveform = 0.2 * np.sin(2 * np.pi * frequency * time_s) + 0.05 * np.sin(2 * np.pi * 3 * frequency * time_s)
    buffer = io.BytesIO()
    soundfile.write(buffer, waveform.astype(np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def exported_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    transform_output = transform_fixture.analysed_transform_output(
        [(_wav_bytes(200.0), "neutral"), (_wav_bytes(330.0), "happy")], CONFIG, EMOTIONS, str(root))
    log_mel = tf.keras.Input([CONFIG.num_frames, CONFIG.n_mels], name=preprocessing.LOG_MEL)
    probabilities = tf.keras.layers.Dense(len(EMOTIONS), activation="softmax")(tf.keras.layers.GlobalAveragePooling1D()(log_mel))
    output_dir = str(root / "serving")
    export.export_serving_model(tf.keras.Model(log_mel, probabilities), transform_output, EMOTIONS, CONFIG, output_dir)
    return output_dir


def test_features_signature_gives_unnormalised_features_of_the_exported_config(exported_dir):
    signature = tf.saved_model.load(exported_dir).signatures[export.FEATURES_SIGNATURE]
    clips = [_wav_bytes(200.0), _wav_bytes(440.0, sample_rate=48000)]

    served = signature(audio=tf.constant(clips))

    expected = features.audio_features(frontend.waveforms_from_wav_batch(tf.constant(clips), CONFIG), CONFIG)
    assert set(served) == set(features.FEATURE_NAMES)
    for name, size in features.feature_dimensions(CONFIG).items():
        assert served[name].shape == (2, CONFIG.num_frames, size), name
        np.testing.assert_allclose(served[name].numpy(), expected[name].numpy(), rtol=1e-4, atol=1e-3, err_msg=name)
    # dB before normalisation: the zero padding of these short clips sits at the floor, top_db below the peak.
    log_mel = served[features.LOG_MEL].numpy()
    np.testing.assert_allclose(log_mel.max(axis=(1, 2)) - log_mel.min(axis=(1, 2)), CONFIG.top_db, atol=1e-3)


def test_feature_config_asset_carries_every_setting(exported_dir):
    with open(os.path.join(exported_dir, "assets", export.FEATURE_CONFIG_ASSET)) as config_file:
        recorded = json.load(config_file)
    for name in ("sample_rate", "n_fft", "hop_length", "win_length", "n_mels", "fmin", "fmax", "center", "clip_seconds", "htk", "norm", "power", "n_mfcc", "n_chroma",
                 "window_hop_seconds"):
        assert name in recorded, name
    assert FeatureConfig(**recorded) == CONFIG


def test_serving_default_still_classifies(exported_dir):
    served = tf.saved_model.load(exported_dir).signatures["serving_default"](audio=tf.constant([_wav_bytes(250.0)]))
    np.testing.assert_allclose(served["probabilities"].numpy().sum(axis=-1), 1.0, rtol=1e-5)


def test_timeline_runs_each_window_through_the_transform_as_serving_default_does(exported_dir):
    signatures = tf.saved_model.load(exported_dir).signatures
    rate = CONFIG.sample_rate
    time_s = np.arange(int(1.3 * rate)) / rate
    # Silence, then a tone: the trimming inside each window changes what the model sees.
    recording = np.where(time_s < 0.3, 0.0, 0.3 * np.sin(2 * np.pi * (200.0 + 300.0 * time_s) * time_s))
    short = _wav_bytes(330.0)  # 0.4 s at 22.05 kHz: under one window

    outputs = signatures["timeline"](audio=tf.constant([wav.encode_wav_pcm16(recording, rate), short]))

    # 1.3 s in 0.5 s windows (the hop is at most a window): every 0.5 s, the last one ending with the recording.
    assert outputs["window_count"].numpy().tolist() == [3, 1]
    np.testing.assert_allclose(outputs["start_seconds"].numpy()[0], [0.0, 0.5, 0.8], rtol=1e-6)
    np.testing.assert_allclose(outputs["end_seconds"].numpy()[0], [0.5, 1.0, 1.3], rtol=1e-6)
    windows = [wav.encode_wav_pcm16(recording[start:start + CONFIG.clip_samples], rate)
               for start in (0, CONFIG.clip_samples, len(recording) - CONFIG.clip_samples)]
    served = signatures["serving_default"](audio=tf.constant(windows))["probabilities"].numpy()
    np.testing.assert_allclose(outputs["probabilities"].numpy()[0], served, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs["overall_probabilities"].numpy()[0], served.mean(axis=0), rtol=1e-5)
    # A recording under one window is answered exactly as serving_default answers it.
    alone = signatures["serving_default"](audio=tf.constant([short]))
    np.testing.assert_array_equal(outputs["overall_probabilities"].numpy()[1], alone["probabilities"].numpy()[0])
    assert outputs["overall_label"].numpy()[1] == alone["label"].numpy()[0]
