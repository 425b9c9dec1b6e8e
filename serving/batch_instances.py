"""Batch prediction instances as Vertex AI sends them, turned into the WAV bytes the model takes.

An instance is a JSON object with `"audio": {"b64": "<base64 WAV bytes>"}` (sent to the model as
is) or `"uri": "<local path or gs://...>"` (read with tf.io.gfile; audio that is not WAV, such as
FLAC or MP3, is decoded here and re-encoded as 16-bit WAV). Other fields are carried through.
"""
import base64
import dataclasses
import json
import os
import tempfile

import tensorflow as tf

from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import audio_files
from speech_emotion.data.readers import corpus_files
from speech_emotion.serving import errors

AUDIO_FIELD = "audio"
B64_FIELD = "b64"
URI_FIELD = "uri"


@dataclasses.dataclass(frozen=True)
class InstanceError:
    """Why one instance got no prediction: a gRPC status name (as TF Serving reports it) and a message."""

    status: str
    message: str

    @classmethod
    def of(cls, error: Exception) -> "InstanceError":
        serving_error = errors.from_exception(error)
        return cls(status=serving_error.code.name, message=serving_error.message)


def parse_instance(line: str) -> dict:
    """One JSON Lines input line to its instance; raises ValueError when it is not a JSON object."""
    instance = json.loads(line)
    if not isinstance(instance, dict):
        raise ValueError(f"an instance must be a JSON object, got {type(instance).__name__}")
    return instance


def wav_bytes(instance: dict) -> bytes:
    """The model input of one instance; raises ValueError for a malformed instance, tf.errors for unreadable files."""
    has_audio, has_uri = AUDIO_FIELD in instance, URI_FIELD in instance
    if has_audio == has_uri:
        raise ValueError(f'an instance needs exactly one of "{AUDIO_FIELD}": {{"{B64_FIELD}": ...}} and "{URI_FIELD}": ...')
    if has_audio:
        audio = instance[AUDIO_FIELD]
        if not isinstance(audio, dict) or not isinstance(audio.get(B64_FIELD), str):
            raise ValueError(f'"{AUDIO_FIELD}" must be {{"{B64_FIELD}": "<base64 of the WAV file>"}}')
        return base64.b64decode(audio[B64_FIELD], validate=True)
    uri = instance[URI_FIELD]
    if not isinstance(uri, str) or not uri:
        raise ValueError(f'"{URI_FIELD}" must be a file path or URL string')
    return read_audio_as_wav(uri)


def read_audio_as_wav(uri: str) -> bytes:
    """The file's bytes when it is WAV; otherwise its audio decoded and re-encoded as 16-bit PCM WAV, as every
    client sends it (audio_files.wav_bytes_of_file)."""
    with tf.io.gfile.GFile(uri, "rb") as file:
        data = file.read()
    if audio_files.is_wav(data):
        return data
    if "://" not in uri:
        return audio_files.wav_bytes_of_file(uri, DEFAULT_FEATURE_CONFIG)
    # The decoders read local files only.
    with tempfile.TemporaryDirectory() as folder:
        local_path = os.path.join(folder, "audio" + os.path.splitext(uri)[1])
        with open(local_path, "wb") as local_file:
            local_file.write(data)
        return audio_files.wav_bytes_of_file(local_path, DEFAULT_FEATURE_CONFIG)


def folder_instances(folder: str) -> list:
    """A `uri` instance for every audio file under `folder` (local or gs://), recursively, sorted by path."""
    paths = []
    for directory, _, names in tf.io.gfile.walk(folder):
        paths.extend(os.path.join(directory, name) for name in names
                     if os.path.splitext(name)[1].lower() in corpus_files.AUDIO_EXTENSIONS)
    return [{URI_FIELD: path} for path in sorted(paths)]
