"""speech_emotion.Classifier: the same answer from a model folder, a TF Serving model base path and a running
`ser serve`, for paths and bytes of WAV and other formats, as `ser predict --json` prints it."""
import subprocess
import sys

import serving_model_fixture as fixture

import numpy as np
import pytest
import soundfile

import speech_emotion
from speech_emotion.serving import clients

_SECONDS = 7.6


@pytest.fixture(scope="module")
def model_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("classifier") / "models"
    fixture.push_version(base, 3)
    return base


@pytest.fixture(scope="module")
def server_address(model_base):
    with fixture.running_server(model_base) as server:
        yield f"127.0.0.1:{server.rest_port}"


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recordings")
    wav_path, flac_path = folder / "talk.wav", folder / "talk.flac"
    wav_path.write_bytes(fixture.wav_clip(seconds=_SECONDS, seed=2))
    samples, rate = soundfile.read(str(wav_path), dtype="float32")
    soundfile.write(str(flac_path), samples, rate)  # lossless: the same audio
    return wav_path, flac_path


def _assert_same(answer, expected):
    assert answer.overall.label == expected.overall.label
    assert [(w.start_seconds, w.end_seconds, w.label) for w in answer.timeline] == [
        (w.start_seconds, w.end_seconds, w.label) for w in expected.timeline]
    np.testing.assert_allclose(list(answer.overall.probabilities.values()), list(expected.overall.probabilities.values()),
                               rtol=1e-6)
    np.testing.assert_allclose([list(w.probabilities.values()) for w in answer.timeline],
                               [list(w.probabilities.values()) for w in expected.timeline], rtol=1e-6)


def test_a_model_folder_a_base_path_and_a_server_give_the_same_answer(model_base, server_address, recordings):
    wav_path, flac_path = recordings
    [expected] = fixture.reference_timeline([wav_path.read_bytes()])
    assert [(w.start_seconds, w.end_seconds) for w in expected.timeline] == [(0.0, 3.0), (1.0, 4.0), (2.0, 5.0), (3.0, 6.0), (4.0, 7.0), (4.6, 7.6)]

    for model in (model_base / "3", model_base, server_address):
        with speech_emotion.Classifier(model) as classifier:
            for audio in (wav_path, str(flac_path), wav_path.read_bytes(), flac_path.read_bytes()):
                answer = classifier.predict(audio)
                _assert_same(answer, expected)
                assert answer.duration_seconds == pytest.approx(_SECONDS)
    with speech_emotion.Classifier(model_base) as classifier:
        assert classifier.predict(wav_path).to_json() == expected.to_json()  # what `ser predict --json` prints


def test_unreadable_audio_and_unknown_models_raise(model_base, server_address, tmp_path):
    with speech_emotion.Classifier(model_base) as classifier:
        with pytest.raises(ValueError, match="cannot decode"):
            classifier.predict(b"neither WAV nor anything else")
        with pytest.raises(ValueError, match="the model cannot read it: WAV has no fmt chunk"):
            classifier.predict(b"RIFF\x04\x00\x00\x00WAVE")
    with speech_emotion.Classifier(server_address) as classifier:
        with pytest.raises(clients.PredictionError, match="HTTP 400: .*WAV has no fmt chunk"):
            classifier.predict(b"RIFF\x04\x00\x00\x00WAVE")
    with pytest.raises(ValueError, match="neither a model folder nor a server's host:port"):
        speech_emotion.Classifier(str(tmp_path / "no_such_model"))
    with pytest.raises(ValueError, match="no model version"):
        speech_emotion.Classifier(tmp_path)  # a folder without a model


def test_a_server_classifier_never_imports_tensorflow(server_address, recordings):
    script = ("import sys, speech_emotion\n"
              "prediction = speech_emotion.Classifier(sys.argv[1]).predict(sys.argv[2])\n"
              "print(prediction.overall.label, len(prediction.timeline), 'tensorflow' in sys.modules)\n")
    completed = subprocess.run([sys.executable, "-c", script, server_address, str(recordings[1])],
                               capture_output=True, text=True, timeout=300)
    [expected] = fixture.reference_timeline([recordings[0].read_bytes()])
    assert completed.stdout.split() == [expected.overall.label, str(len(expected.timeline)), "False"], completed.stderr
