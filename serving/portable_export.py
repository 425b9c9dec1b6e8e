"""Converts a pushed model's network for TFLite and ONNX runtimes: `ser export --model DIR --format tflite|onnx --output FILE`.

The converted file runs the served model's `waveform_clip` function (trainer/waveform_signature.py): input `waveform`
float32 [1, clip_samples], the mono clip at the model's sample rate, silence trimmed and centre-cropped or
centre-padded as the Transform does; output `probabilities` [1, num_classes]. Decoding and resampling stay with
the caller: TFLite and ONNX have no string ops. FILE.json beside it gives the labels in output order, the sample
rate, clip length and trimming threshold.
"""
import contextlib
import json
import os

import tensorflow as tf

from speech_emotion.config import FeatureConfig
from speech_emotion.serving import saved_model_predict
from speech_emotion.trainer import export
from speech_emotion.trainer import waveform_signature

TFLITE = "tflite"
ONNX = "onnx"
FORMATS = (TFLITE, ONNX)
SIDECAR_SUFFIX = ".json"
# tf2onnx 1.17 writes up to opset 18; 17 runs on onnxruntime 1.13 and later.
ONNX_OPSET = 17


def model_version_dir(model_dir: str) -> str:
    """`model_dir` itself when it holds a SavedModel, else its highest version folder (a TF Serving base path)."""
    if tf.io.gfile.exists(os.path.join(model_dir, "saved_model.pb")):
        return model_dir
    return saved_model_predict.latest_version_dir(model_dir)


def _read_asset(version_dir: str, name: str) -> str:
    with tf.io.gfile.GFile(os.path.join(version_dir, "assets", name)) as asset:
        return asset.read()


@contextlib.contextmanager
def _writing(path: str):
    """tf.io.gfile's errors while writing `path`, as the OSError that `ser` reports in one line."""
    try:
        yield
    except tf.errors.OpError as error:
        raise OSError(f"cannot write {path}: {error.message}") from None


def _tflite_bytes(loaded, clip_function) -> bytes:
    # Builtin ops only: the waveform front-end (rfft included) and the Keras RNNs all have TFLite kernels.
    return tf.lite.TFLiteConverter.from_concrete_functions([clip_function.get_concrete_function()], loaded).convert()


def _onnx_bytes(clip_function) -> bytes:
    try:
        import tf2onnx
    except ImportError as error:
        raise ValueError(f"ONNX export needs tf2onnx: pip install 'speech-emotion-tfx[export]' ({error})") from None
    model_proto, _ = tf2onnx.convert.from_function(
        clip_function, input_signature=clip_function.get_concrete_function().structured_input_signature[0], opset=ONNX_OPSET
    )
    return model_proto.SerializeToString()


def export_portable_model(model_dir: str, model_format: str, output_path: str) -> dict:
    """Writes the pushed model under `model_dir` as `model_format` to `output_path`, and the sidecar beside it."""
    if model_format not in FORMATS:
        raise ValueError(f"unknown format {model_format!r}: choose one of {', '.join(FORMATS)}")
    version_dir = model_version_dir(model_dir)
    output_dir = os.path.dirname(output_path)
    if output_dir:
        # Before the conversion, which takes a while: an output under a file fails here.
        with _writing(output_path):
            tf.io.gfile.makedirs(output_dir)
    loaded = tf.saved_model.load(version_dir)
    clip_function = getattr(loaded, waveform_signature.WAVEFORM_CLIP_FUNCTION, None)
    if clip_function is None:
        raise ValueError(f"{version_dir} has no {waveform_signature.WAVEFORM_CLIP_FUNCTION} function: it was exported "
                         "before portable export existed; retrain it with this version")
    converted = _tflite_bytes(loaded, clip_function) if model_format == TFLITE else _onnx_bytes(clip_function)
    feature_config = FeatureConfig.from_json(_read_asset(version_dir, export.FEATURE_CONFIG_ASSET))
    sidecar = {
        "format": model_format,
        "input": waveform_signature.WAVEFORM_INPUT,
        "input_shape": [1, feature_config.clip_samples],
        "output": waveform_signature.PROBABILITIES_OUTPUT,
        "labels": _read_asset(version_dir, export.LABELS_ASSET).split(),
        "sample_rate": feature_config.sample_rate,
        "clip_samples": feature_config.clip_samples,
        "trim_db": feature_config.trim_db,
        "source_model": version_dir,
    }
    with _writing(output_path), tf.io.gfile.GFile(output_path, "wb") as output_file:
        output_file.write(converted)
    with _writing(output_path + SIDECAR_SUFFIX), tf.io.gfile.GFile(output_path + SIDECAR_SUFFIX, "w") as sidecar_file:
        sidecar_file.write(json.dumps(sidecar, indent=2) + "\n")
    return {"output": output_path, "bytes": len(converted), "sidecar": output_path + SIDECAR_SUFFIX, **sidecar}
