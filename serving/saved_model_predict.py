"""Classifies WAV files with a pushed SavedModel's `timeline` signature, in core TensorFlow only (as TF Serving runs it).

`python -m speech_emotion.serving.saved_model_predict MODEL FILE...` (MODEL a TF Serving model base path, whose
latest version is used, or one SavedModel folder) prints one JSON object per file, as `ser predict --json` prints
it, and one line on stderr for each file the model cannot read. It never imports tensorflow_io, and says so if
anything else did.
"""
import errno
import json
import os
import re
import sys

import speech_emotion  # noqa: F401
from speech_emotion import console
from speech_emotion import user_errors
from speech_emotion.serving import recording_predictions

PROGRAM = "saved_model_predict"
# The model's WAV parser fails with "assertion failed: [message] [value]..." inside a graph error's dump.
_ASSERTION = re.compile(r"assertion failed: (.*)")
_GRAPH_NOISE = re.compile(r"\s*\[\[.*|\s*\[Op:[^\]]*\]")


def latest_version_dir(model_base_path: str) -> str:
    """The highest integer version folder under a TF Serving model base path."""
    import tensorflow as tf

    if not tf.io.gfile.isdir(model_base_path):
        raise FileNotFoundError(errno.ENOENT, "no model base path", model_base_path)
    versions = [int(name) for name in tf.io.gfile.listdir(model_base_path) if name.strip("/").isdigit()]
    if not versions:
        raise ValueError(f"no model version under {model_base_path}")
    return os.path.join(model_base_path, str(max(versions)))


def model_error_message(error) -> str:
    """The cause of a tf.errors.OpError the model raised, as one line: its assertion's message."""
    found = _ASSERTION.search(error.message)
    line = found.group(1) if found else error.message.strip().splitlines()[-1]
    return _GRAPH_NOISE.sub("", line).replace("] [", " ").strip("[] ")


def resolve_model_dir(path: str) -> str:
    """`path` when it is a SavedModel, else the latest version under it (a TF Serving model base path)."""
    import tensorflow as tf

    if tf.io.gfile.exists(os.path.join(path, "saved_model.pb")):
        return path
    if not tf.io.gfile.isdir(path):
        raise FileNotFoundError(errno.ENOENT, "no model base path", path)
    return latest_version_dir(path)


class LoadedModel:
    """A pushed SavedModel in this process; `timeline` answers as clients.RestClient.timeline does from a server."""

    def __init__(self, model: str):
        import tensorflow as tf

        self.model_dir = resolve_model_dir(model)
        self._model = tf.saved_model.load(self.model_dir)

    def timeline(self, wav_recordings) -> list:
        """One RecordingPrediction per WAV recording; ValueError with the model's reason when it cannot read one."""
        import tensorflow as tf

        signature = self._model.signatures[recording_predictions.SIGNATURE_NAME]
        try:
            outputs = signature(**{recording_predictions.AUDIO_INPUT: tf.constant(list(wav_recordings), tf.string)})
        except tf.errors.InvalidArgumentError as error:
            raise ValueError(f"the model cannot read it: {model_error_message(error)}") from None
        return recording_predictions.from_outputs({name: value.numpy() for name, value in outputs.items()})

    def close(self) -> None:
        """Nothing to release; here so that callers treat it as they treat a client."""


def predict_wav_files(model: str, paths):
    """Yields (path, result) per file: the result is the model's answer as `ser predict --json` prints it, or
    the ValueError or OSError that file caused. Each file is its own batch, so one the model cannot read fails alone."""
    loaded = LoadedModel(model)
    for path in paths:
        try:
            with open(path, "rb") as audio_file:
                [prediction] = loaded.timeline([audio_file.read()])
        except (OSError, ValueError) as error:
            yield path, error
            continue
        yield path, {"file": path, **prediction.to_json()}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print(f"usage: python -m speech_emotion.serving.{PROGRAM} MODEL FILE...", file=sys.stderr)
        return 2
    console.import_tensorflow()
    failed = False
    try:
        for path, result in predict_wav_files(argv[0], argv[1:]):
            if isinstance(result, Exception):
                print(f"{PROGRAM}: {user_errors.message(result, path)}", file=sys.stderr)
                failed = True
            else:
                print(json.dumps(result))
    except user_errors.USER_ERRORS as error:
        print(f"{PROGRAM}: {user_errors.message(error)}", file=sys.stderr)
        return 1
    if "tensorflow_io" in sys.modules:
        print("error: tensorflow_io was imported; stock TF Serving could not run this model", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
