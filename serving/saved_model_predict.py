"""Classifies WAV files with a pushed SavedModel, in core TensorFlow only (as TF Serving runs it).

`python -m speech_emotion.serving.saved_model_predict MODEL_BASE_PATH FILE...` prints one JSON
object per file, and one line on stderr for each file the model cannot read. It never imports
tensorflow_io, and says so if anything else did.
"""
import errno
import json
import os
import re
import sys

import speech_emotion  # noqa: F401
from speech_emotion import console
from speech_emotion import user_errors

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


def predict_wav_files(model_base_path: str, paths):
    """Yields (path, result) per file: the result is the model's answer, or the ValueError or OSError
    that file caused. Each file is its own batch, so one the model cannot read fails alone."""
    import tensorflow as tf

    serve = tf.saved_model.load(latest_version_dir(model_base_path)).signatures["serving_default"]
    for path in paths:
        try:
            with open(path, "rb") as audio_file:
                outputs = serve(audio=tf.constant([audio_file.read()]))
        except OSError as error:
            yield path, error
            continue
        except tf.errors.InvalidArgumentError as error:
            yield path, ValueError(f"the model cannot read it: {model_error_message(error)}")
            continue
        classes = [name.decode() for name in outputs["classes"][0].numpy()]
        probabilities = outputs["probabilities"][0].numpy().tolist()
        yield path, {"file": path, "label": outputs["label"][0].numpy().decode(),
                     "probabilities": dict(zip(classes, probabilities))}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print(f"usage: python -m speech_emotion.serving.{PROGRAM} MODEL_BASE_PATH FILE...", file=sys.stderr)
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
