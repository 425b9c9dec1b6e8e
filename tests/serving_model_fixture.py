"""Test helpers for the serving tests: a small SavedModel under the serving contract, WAV clips, a running server.

The model decodes the WAV bytes in its graph and scores a few statistics of the waveform (RMS, peak,
zero-crossing rate, duration), so its probabilities depend on the audio deterministically; a bias
towards `favoured_emotion` makes the versions of a test distinguishable by their label. Its `timeline`
signatures are the exporter's own (trainer/timeline.py) around that model.
"""
import atexit
import contextlib
import functools
import shutil
import socket
import tempfile

import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow is imported)
import numpy as np
import tensorflow as tf

from speech_emotion.audio import frontend
from speech_emotion.audio import wav
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.config import MODEL_NAME
from speech_emotion.data import taxonomy
from speech_emotion.serving import model_server
from speech_emotion.serving import recording_predictions
from speech_emotion.serving import warmup_requests
from speech_emotion.trainer import timeline

EMOTIONS = taxonomy.EMOTIONS
_FAVOURED_BIAS = 5.0
_NUM_STATISTICS = 4


def _statistics(wav_bytes: tf.Tensor) -> tf.Tensor:
    # The served model's own front-end up to resampling, so the contract's input bounds hold here too.
    mono = frontend.mono_waveform_from_wav(wav_bytes, DEFAULT_FEATURE_CONFIG)
    signs = tf.sign(mono)
    return tf.stack([
        tf.sqrt(tf.reduce_mean(tf.square(mono))),
        tf.reduce_max(tf.abs(mono)),
        tf.reduce_mean(tf.cast(tf.not_equal(signs[1:], signs[:-1]), tf.float32)),
        tf.math.log1p(tf.cast(tf.shape(mono)[0], tf.float32) / DEFAULT_FEATURE_CONFIG.sample_rate),
    ])


class _ContractModel(tf.Module):
    def __init__(self, favoured_emotion: str):
        super().__init__()
        weights = np.random.default_rng(7).uniform(-1.0, 1.0, size=(_NUM_STATISTICS, len(EMOTIONS)))
        self._weights = tf.constant(weights, tf.float32)
        self._bias = tf.constant(_FAVOURED_BIAS * np.eye(len(EMOTIONS))[EMOTIONS.index(favoured_emotion)], tf.float32)
        self._emotions = tf.constant(EMOTIONS)

    def predict_clips(self, audio):
        statistics = tf.map_fn(_statistics, audio, fn_output_signature=tf.TensorSpec([_NUM_STATISTICS], tf.float32))
        probabilities = tf.nn.softmax(tf.matmul(statistics, self._weights) + self._bias)
        classes = tf.tile(self._emotions[tf.newaxis, :], [tf.shape(audio)[0], 1])
        return probabilities, classes

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(self, audio):
        probabilities, classes = self.predict_clips(audio)
        return {"probabilities": probabilities, "classes": classes,
                "label": tf.gather(self._emotions, tf.argmax(probabilities, axis=-1))}

    def _audio_of_examples(self, serialized):
        return tf.io.parse_example(serialized, {"audio": tf.io.FixedLenFeature([], tf.string)})["audio"]

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def classify(self, inputs):
        probabilities, classes = self.predict_clips(self._audio_of_examples(inputs))
        return {"classes": classes, "scores": probabilities}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve_examples(self, examples):
        probabilities, _ = self.predict_clips(self._audio_of_examples(examples))
        return {"probabilities": probabilities}


@functools.lru_cache(maxsize=None)
def exported_model(favoured_emotion: str = taxonomy.NEUTRAL, warmup: bool = False) -> str:
    """Exports the model once per test process, with the exporter's warm-up requests if `warmup`; returns its
    directory (copy it, never write into it)."""
    export_dir = tempfile.mkdtemp(prefix=f"serving_fixture_{favoured_emotion}_")
    atexit.register(shutil.rmtree, export_dir, ignore_errors=True)
    model = _ContractModel(favoured_emotion)
    signatures = {"serving_default": model.serve, "classify": model.classify, "serving_examples": model.serve_examples,
                  **timeline.timeline_signatures(lambda clips: model.predict_clips(clips)[0], EMOTIONS, DEFAULT_FEATURE_CONFIG)}
    tf.saved_model.save(model, export_dir, signatures=signatures)
    if warmup:
        warmup_requests.write_audio_requests(export_dir, DEFAULT_FEATURE_CONFIG)
    return export_dir


def push_version(base_path, version: int, favoured_emotion: str = taxonomy.NEUTRAL, warmup: bool = False) -> str:
    """Copies the fixture model to `base_path`/`version`, the layout the Pusher writes."""
    return shutil.copytree(exported_model(favoured_emotion, warmup), f"{base_path}/{version}")


@functools.lru_cache(maxsize=None)
def _loaded_model(favoured_emotion: str):
    return tf.saved_model.load(exported_model(favoured_emotion))


def reference_probabilities(clips, favoured_emotion: str = taxonomy.NEUTRAL) -> np.ndarray:
    """What the SavedModel itself answers for `clips` (WAV bytes), called in-process."""
    serve = _loaded_model(favoured_emotion).signatures["serving_default"]
    return serve(audio=tf.constant(list(clips)))["probabilities"].numpy()


def reference_timeline(recordings, favoured_emotion: str = taxonomy.NEUTRAL):
    """What the SavedModel's `timeline` signature answers for `recordings` (WAV bytes), called in-process:
    one recording_predictions.RecordingPrediction each."""
    signature = _loaded_model(favoured_emotion).signatures[recording_predictions.SIGNATURE_NAME]
    outputs = signature(audio=tf.constant(list(recordings)))
    return recording_predictions.from_outputs({name: value.numpy() for name, value in outputs.items()})


def wav_clip(seconds: float = 0.5, sample_rate: int = 16000, channels: int = 1, frequency: float = 220.0,
             amplitude: float = 0.5, seed: int = 0) -> bytes:
    """A 16-bit WAV of a noisy tone; different arguments give different statistics, hence probabilities."""
    rng = np.random.default_rng(seed)
    time = np.arange(int(seconds * sample_rate)) / sample_rate
    tone = amplitude * np.sin(2 * np.pi * frequency * time) + 0.05 * rng.standard_normal(time.shape)
    return wav.encode_wav_pcm16(np.repeat(tone[:, np.newaxis], channels, axis=1), sample_rate)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(base_path, **flags):
    """A ModelServer on free loopback ports serving `base_path` as MODEL_NAME; `flags` override ServerOptions."""
    options = dict(model_name=MODEL_NAME, model_base_path=str(base_path), port=free_port(), rest_api_port=free_port(),
                   file_system_poll_wait_seconds=0.1)
    options.update(flags)
    with model_server.ModelServer(model_server.ServerOptions(**options)) as server:
        yield server
