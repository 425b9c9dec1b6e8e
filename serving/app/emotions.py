"""The emotions of a recording from the model server: the one place the app asks the model.

The upload goes to the model's `timeline` signature exactly as `ser predict` sends a file (a WAV as it is,
other formats decoded here into 16-bit WAV), so the app and the command line give the same answer.
"""
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import audio_files
from speech_emotion.serving import clients
from speech_emotion.serving import recording_predictions


def emotion_timeline(client: clients.RestClient, path: str) -> recording_predictions.RecordingPrediction:
    """The model's windows and overall answer for the audio file at `path`; PredictionError from the server."""
    [prediction] = client.timeline([audio_files.wav_bytes_of_file(path, DEFAULT_FEATURE_CONFIG)])
    return prediction
