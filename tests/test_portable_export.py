"""`ser export`: the pushed model's network from the waveform, converted for TFLite and ONNX runtimes, answers as the
SavedModel does, for every architecture and on every call of one interpreter or session."""
import json
import os

import speech_emotion  # noqa: F401  (must precede TensorFlow)
import numpy as np
import pytest
import tensorflow as tf
import transform_fixture
from serving_model_fixture import exported_model
from test_architecture_export import CONFIG, EMOTIONS, _wav_bytes

from speech_emotion import cli
from speech_emotion.audio import frontend
from speech_emotion.serving import portable_export
from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import export
from speech_emotion.trainer import model as model_lib
from speech_emotion.trainer import waveform_signature

# Equal LSTM and GRU widths: the shape at which a fused TFLite LSTM would hand its state to the BiGRU behind it.
_MODEL_SIZES = dict(conv_filters=(4, 8), recurrent_units=4, attention_heads=2, dense_units=8)
# Clips the model never saw in the Transform's analysis: one louder than the others, one that needs padding. Run one
# after the other through the same interpreter or session, so that state kept between calls would show.
_CLIP_FREQUENCIES = (260.0, 610.0, 260.0)


@pytest.fixture(scope="module")
def transform_output(tmp_path_factory):
    return transform_fixture.analysed_transform_output(
        [(_wav_bytes(200.0), "neutral"), (_wav_bytes(330.0), "happy"), (_wav_bytes(500.0), "angry")], CONFIG, EMOTIONS,
        str(tmp_path_factory.mktemp("transform")))


@pytest.fixture(scope="module", params=trainer_config.ARCHITECTURES)
def pushed_model(request, transform_output, tmp_path_factory):
    """A small model of each architecture pushed as TF Serving's version 1."""
    tf.keras.utils.set_random_seed(0)
    model_config = trainer_config.ModelConfig(architecture=request.param, **_MODEL_SIZES)
    model = model_lib.build_model(len(EMOTIONS), CONFIG.num_frames, CONFIG.n_mels, model_config)
    base_path = tmp_path_factory.mktemp(request.param) / "serving_model"
    export.export_serving_model(model, transform_output, EMOTIONS, CONFIG, str(base_path / "1"))
    return base_path


@pytest.fixture(scope="module")
def clips():
    audio = tf.constant([_wav_bytes(frequency) for frequency in _CLIP_FREQUENCIES])
    return audio, frontend.waveforms_from_wav_batch(audio, CONFIG).numpy()


def _saved_model_probabilities(pushed_model, waveforms):
    serve = tf.saved_model.load(str(pushed_model / "1")).signatures[waveform_signature.WAVEFORM_SIGNATURE]
    return serve(waveform=tf.constant(waveforms))[waveform_signature.PROBABILITIES_OUTPUT].numpy()


def _export_with_cli(pushed_model, model_format, output, capsys):
    assert cli.main(["export", "--model", str(pushed_model), "--format", model_format, "--output", str(output)]) == 0
    summary = json.loads(capsys.readouterr().out)
    with open(f"{output}.json") as sidecar_file:
        sidecar = json.load(sidecar_file)
    assert sidecar["labels"] == list(EMOTIONS)
    assert (sidecar["sample_rate"], sidecar["clip_samples"]) == (CONFIG.sample_rate, CONFIG.clip_samples)
    assert summary["bytes"] == os.path.getsize(output)
    print(f"{model_format}: {summary['bytes']} bytes")


def _assert_matches_saved_model(answered, pushed_model, waveforms, model_format):
    expected = _saved_model_probabilities(pushed_model, waveforms)
    print(f"{pushed_model.parent.name} {model_format} max abs difference: {np.max(np.abs(answered - expected)):.2g}")
    np.testing.assert_allclose(answered, expected, atol=1e-4, rtol=0)


def test_waveform_signature_answers_as_the_served_model_does_on_the_wav(pushed_model, clips):
    audio, waveforms = clips
    served = tf.saved_model.load(str(pushed_model / "1")).signatures["serving_default"](audio=audio)["probabilities"].numpy()
    np.testing.assert_allclose(_saved_model_probabilities(pushed_model, waveforms), served, rtol=1e-4, atol=1e-5)


def test_tflite_model_matches_the_saved_model_on_the_same_waveform(pushed_model, clips, tmp_path, capsys):
    output = tmp_path / "emotion.tflite"
    _export_with_cli(pushed_model, portable_export.TFLITE, output, capsys)
    runner = tf.lite.Interpreter(model_path=str(output)).get_signature_runner()
    _, waveforms = clips
    lite = np.concatenate([runner(waveform=waveform[np.newaxis])[waveform_signature.PROBABILITIES_OUTPUT] for waveform in waveforms])
    _assert_matches_saved_model(lite, pushed_model, waveforms, portable_export.TFLITE)


def test_onnx_model_matches_the_saved_model_on_the_same_waveform(pushed_model, clips, tmp_path, capsys):
    onnxruntime = pytest.importorskip("onnxruntime", reason="ONNX export is checked with onnxruntime: pip install 'speech-emotion-tfx[export]'")
    pytest.importorskip("tf2onnx", reason="ONNX export needs tf2onnx: pip install 'speech-emotion-tfx[export]'")
    output = tmp_path / "emotion.onnx"
    _export_with_cli(pushed_model, portable_export.ONNX, output, capsys)
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    [waveform_input] = session.get_inputs()
    _, waveforms = clips
    answered = np.concatenate([session.run([waveform_signature.PROBABILITIES_OUTPUT], {waveform_input.name: waveform[np.newaxis]})[0]
                               for waveform in waveforms])
    _assert_matches_saved_model(answered, pushed_model, waveforms, portable_export.ONNX)


def _refused_in_one_line(argv, capsys, needle):
    assert cli.main(["export", *argv]) != 0
    message = capsys.readouterr().err
    assert message.startswith("ser: ") and needle in message and message.count("\n") == 1, message


def test_a_model_exported_without_the_waveform_function_is_refused_in_one_line(tmp_path, capsys):
    _refused_in_one_line(["--model", exported_model(), "--format", "tflite", "--output", str(tmp_path / "old.tflite")], capsys, "waveform_clip")
    assert not os.path.exists(tmp_path / "old.tflite")


def test_a_missing_model_is_refused_in_one_line(tmp_path, capsys):
    missing = str(tmp_path / "no_model")
    _refused_in_one_line(["--model", missing, "--format", "onnx", "--output", str(tmp_path / "emotion.onnx")], capsys, missing)


def test_an_output_that_cannot_be_written_is_refused_in_one_line_before_converting(tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    output = str(tmp_path / "a_file" / "emotion.tflite")
    _refused_in_one_line(["--model", exported_model(), "--format", "tflite", "--output", output], capsys, f"cannot write {output}")
