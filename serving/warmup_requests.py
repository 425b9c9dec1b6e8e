"""TF Serving's warm-up file: `assets.extra/tf_serving_warmup_requests` in a SavedModel version, a TFRecord
file of tensorflow.serving.PredictionLog records that the server replays after loading the version and
before serving it, so the first real request does not pay for building and optimising the graphs.

`write_audio_requests` writes the requests every pushed model carries: one Predict on `serving_default`,
one Classify on `classify` and one Predict on `timeline`, each with one generated clip of the FeatureConfig's
clip length.
"""
import os
import re
import typing

import numpy as np
import tensorflow as tf
from tensorflow.core.example import example_pb2
from tensorflow_serving.apis import prediction_log_pb2

from speech_emotion.audio import wav
from speech_emotion.config import FeatureConfig
from speech_emotion.serving import recording_predictions

ASSETS_EXTRA = "assets.extra"
REQUESTS_FILE = "tf_serving_warmup_requests"
# TF Serving's WarmupConsts::kMaxNumRecords.
MAX_RECORDS = 1000
AUDIO_SIGNATURE, AUDIO_INPUT = "serving_default", "audio"
CLASSIFY_SIGNATURE, AUDIO_FEATURE = "classify", "audio"
TIMELINE_SIGNATURE = recording_predictions.SIGNATURE_NAME


def requests_path(version_dir: str) -> str:
    return os.path.join(version_dir, ASSETS_EXTRA, REQUESTS_FILE)


def write_requests(version_dir: str, logs: typing.Sequence[prediction_log_pb2.PredictionLog]) -> str:
    """Writes `logs` as the version's warm-up file; returns its path."""
    if not 0 < len(logs) <= MAX_RECORDS:
        raise ValueError(f"a warm-up file holds 1 to {MAX_RECORDS} requests, got {len(logs)}")
    path = requests_path(version_dir)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for log in logs:
            writer.write(log.SerializeToString())
    return path


def read_requests(version_dir: str) -> typing.List[prediction_log_pb2.PredictionLog]:
    """The version's warm-up requests, [] when it has no warm-up file; ValueError, as TF Serving fails the
    load, when the file is not TFRecords of PredictionLogs or holds more than MAX_RECORDS."""
    path = requests_path(version_dir)
    if not tf.io.gfile.exists(path):
        return []
    logs = []
    try:
        for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
            log = prediction_log_pb2.PredictionLog()
            try:
                log.ParseFromString(record)
            except Exception:  # noqa: BLE001 - protobuf's DecodeError and its C++ variants
                raise ValueError(f"Failed to parse warmup record: {record[:64]!r} from {path}") from None
            logs.append(log)
            if len(logs) > MAX_RECORDS:
                raise ValueError(f"Number of warmup records exceeds the maximum ({MAX_RECORDS}) at {path}")
    except tf.errors.OpError as error:
        # Eager errors wrap the reader's message in the iterator op's name: "{{function_node ...}} ... [Op:...]".
        message = re.sub(r"^\{\{.*?\}\}\s*|\s*\[Op:.*$", "", error.message, flags=re.DOTALL)
        raise ValueError(f"{message} reading {path}. Please verify your warmup data is in TFRecord format.") from None
    return logs


def warmup_clip(feature_config: FeatureConfig, seed: int = 0) -> bytes:
    """WAV bytes of a voiced-sounding clip of the config's clip length: a gliding harmonic tone with an
    amplitude envelope, plus noise."""
    rate = feature_config.sample_rate
    time_axis = np.arange(feature_config.clip_samples) / rate
    pitch = 140.0 + 40.0 * np.sin(2 * np.pi * 0.5 * time_axis)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(harmonic * phase) / harmonic for harmonic in range(1, 6))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 2.0 * time_axis))
    noise = np.random.default_rng(seed).standard_normal(time_axis.shape)
    return wav.encode_wav_pcm16(0.25 * envelope * voiced + 0.01 * noise, rate)


def audio_requests(feature_config: FeatureConfig) -> typing.List[prediction_log_pb2.PredictionLog]:
    """A Predict on `serving_default`, a Classify on `classify` and a Predict on `timeline`, one clip each."""
    clip = warmup_clip(feature_config)
    predict, timeline = (_predict_log(signature, clip) for signature in (AUDIO_SIGNATURE, TIMELINE_SIGNATURE))
    classify = prediction_log_pb2.PredictionLog()
    classify.classify_log.request.model_spec.signature_name = CLASSIFY_SIGNATURE
    example = example_pb2.Example()
    example.features.feature[AUDIO_FEATURE].bytes_list.value.append(clip)
    classify.classify_log.request.input.example_list.examples.append(example)
    return [predict, classify, timeline]


def _predict_log(signature_name: str, clip: bytes) -> prediction_log_pb2.PredictionLog:
    log = prediction_log_pb2.PredictionLog()
    log.predict_log.request.model_spec.signature_name = signature_name
    log.predict_log.request.inputs[AUDIO_INPUT].CopyFrom(tf.make_tensor_proto([clip], dtype=tf.string))
    return log


def write_audio_requests(version_dir: str, feature_config: FeatureConfig) -> str:
    """Gives an exported audio model (serving_default, classify and timeline signatures) its warm-up file."""
    return write_requests(version_dir, audio_requests(feature_config))
