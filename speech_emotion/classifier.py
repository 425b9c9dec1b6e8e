"""`speech_emotion.Classifier`: the model's one answer per recording, from Python.

    classifier = speech_emotion.Classifier("serving_model/emotion")   # a SavedModel or TF Serving model base path
    classifier = speech_emotion.Classifier("localhost:8501")          # or a running server's REST API
    prediction = classifier.predict("talk.flac")
    prediction.overall.label, prediction.overall.probabilities, prediction.timeline[0].start_seconds

Both read the model's `timeline` signature, as `ser predict` does, and answer alike; `prediction.to_json()` is what
`ser predict --json` prints for the file. A model folder loads TensorFlow; a server address never imports it.
"""
import os
import re
import tempfile
import typing

from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.config import MODEL_NAME
from speech_emotion.data import audio_files
from speech_emotion.serving import clients
from speech_emotion.serving import recording_predictions

_SERVER_ADDRESS = re.compile(r"[\w.-]+:\d+|\[[0-9a-fA-F:.]+\]:\d+")

Audio = typing.Union[str, os.PathLike, bytes]


class Classifier:
    """Emotions of recordings from `model`: a SavedModel folder or a TF Serving model base path (its latest
    version; local or gs://), or "host:port" of a model server's REST API serving the model as `model_name`."""

    def __init__(self, model: typing.Union[str, os.PathLike], model_name: str = MODEL_NAME, timeout_seconds: float = 60.0):
        model = os.fspath(model)
        if os.path.isdir(model) or "://" in model:
            from speech_emotion.serving import saved_model_predict

            self._model = saved_model_predict.LoadedModel(model)
        elif _SERVER_ADDRESS.fullmatch(model):
            self._model = clients.RestClient(model, model_name, timeout_seconds=timeout_seconds)
        else:
            raise ValueError(f"{model!r} is neither a model folder nor a server's host:port")

    def predict(self, audio: Audio) -> recording_predictions.RecordingPrediction:
        """The answer for one recording: a path to an audio file (WAV, FLAC, OGG, MP3, AIFF) or its bytes.
        Raises ValueError or OSError when it cannot be read, clients.PredictionError when a server refuses it."""
        [prediction] = self._model.timeline([_wav_bytes(audio)])
        return prediction

    def close(self) -> None:
        self._model.close()

    def __enter__(self) -> "Classifier":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _wav_bytes(audio: Audio) -> bytes:
    """What the model is sent for `audio`, as `ser predict` sends a file (audio_files.wav_bytes_of_file)."""
    if not isinstance(audio, bytes):
        return audio_files.wav_bytes_of_file(os.fspath(audio), DEFAULT_FEATURE_CONFIG)
    if audio_files.is_wav(audio):
        return audio
    # The decoders read files.
    with tempfile.NamedTemporaryFile(suffix=".audio") as audio_file:
        audio_file.write(audio)
        audio_file.flush()
        return audio_files.wav_bytes_of_file(audio_file.name, DEFAULT_FEATURE_CONFIG)
