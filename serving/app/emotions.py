"""The emotions of a recording from the model server: the one place the app asks the model.

Today the recording is windowed here, as `ser predict` windows it (predict_cli.py), and each window is
sent to the `serving_default` signature; the overall result weights the windows by their duration.
"""
import numpy as np

from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.serving import clients
from speech_emotion.serving import predict_cli


def emotion_timeline(client: clients.RestClient, name: str, waveform: np.ndarray) -> predict_cli.FilePrediction:
    """Emotions of each window of a mono waveform at the model's rate, and overall; PredictionError from the server."""
    windows, duration_seconds = predict_cli.waveform_windows(waveform, DEFAULT_FEATURE_CONFIG.clip_seconds)
    return predict_cli.predict_windows(client, name, windows, duration_seconds)
