"""The REST and gRPC clients and `ser predict` against a running server: WAV files are sent as they are,
other formats decoded client-side into WAV, and the `timeline` signature's windows and overall answer
agree with the model called in-process."""
import io
import json
import subprocess
import sys
import wave

import serving_model_fixture as fixture

import numpy as np
import pytest
import soundfile

from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import audio_files
from speech_emotion.serving import clients
from speech_emotion.serving import predict_cli

_CLIPS = [fixture.wav_clip(seconds=0.5, amplitude=0.1 + 0.4 * index, seed=index) for index in range(3)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("clients") / "models"
    fixture.push_version(base, 1)
    with fixture.running_server(base, enable_batching=True) as running:
        yield running


@pytest.fixture(scope="module")
def addresses(server):
    return {"rest": f"127.0.0.1:{server.rest_port}", "grpc": f"127.0.0.1:{server.grpc_port}"}


@pytest.mark.parametrize("client_class, api", [(clients.RestClient, "rest"), (clients.GrpcClient, "grpc")])
def test_clients_predict_what_the_model_predicts(addresses, client_class, api):
    expected = fixture.reference_probabilities(_CLIPS)
    client = client_class(addresses[api])
    predictions = client.predict(_CLIPS)
    client.close()
    if api == "rest":
        assert clients.RestClient(addresses[api]).status()["model_version_status"][0]["state"] == "AVAILABLE"
    np.testing.assert_allclose([list(p.probabilities.values()) for p in predictions], expected, rtol=1e-5)
    assert all(list(p.probabilities) == list(fixture.EMOTIONS) for p in predictions)
    assert [p.label for p in predictions] == [fixture.EMOTIONS[i] for i in expected.argmax(axis=1)]


@pytest.mark.parametrize("client_class, api, message", [
    (clients.RestClient, "rest", "HTTP 400"), (clients.GrpcClient, "grpc", "INVALID_ARGUMENT")])
def test_clients_report_the_servers_error(addresses, client_class, api, message):
    client = client_class(addresses[api])
    with pytest.raises(clients.PredictionError, match=message):
        client.predict([b"not a wav"])
    with pytest.raises(clients.PredictionError, match="404|NOT_FOUND"):
        client_class(addresses[api], model_name="other").predict(_CLIPS[:1])
    client.close()


def _tone(seconds, sample_rate, channels, frequency=180.0):
    time = np.arange(int(seconds * sample_rate)) / sample_rate
    # Loudness changes along the recording, so windows differ.
    tone = (0.1 + 0.8 * time / seconds) * np.sin(2 * np.pi * frequency * time)
    return np.repeat(tone[:, np.newaxis], channels, axis=1).astype(np.float32)


_RECORDINGS = [
    # (file name, seconds, rate, channels, soundfile format and subtype, windows expected: 3 s every 1 s)
    ("long.flac", 8.0, 44100, 2, ("FLAC", "PCM_16"), 6),
    ("short.mp3", 2.0, 22050, 1, ("MP3", "MPEG_LAYER_III"), 1),
    ("speech.ogg", 4.0, 48000, 1, ("OGG", "VORBIS"), 2),
    ("studio.wav", 6.5, 48000, 2, ("WAV", "PCM_24"), 5),  # the last window ends with the recording: 3.5-6.5 s
]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recordings")
    paths = []
    for name, seconds, rate, channels, (file_format, subtype), _ in _RECORDINGS:
        path = folder / name
        soundfile.write(path, _tone(seconds, rate, channels), rate, format=file_format, subtype=subtype)
        paths.append(str(path))
    return paths


def test_a_wav_is_sent_as_it_is_and_other_formats_as_16_bit_wav_of_their_own_rate_and_channels(recordings):
    with open(recordings[3], "rb") as studio:
        assert audio_files.wav_bytes_of_file(recordings[3], DEFAULT_FEATURE_CONFIG) == studio.read()
    with wave.open(io.BytesIO(audio_files.wav_bytes_of_file(recordings[0], DEFAULT_FEATURE_CONFIG))) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth(), reader.getnframes()) == (44100, 2, 2, 8 * 44100)


@pytest.mark.parametrize("client_class, api", [(clients.RestClient, "rest"), (clients.GrpcClient, "grpc")])
def test_clients_timeline_answers_what_the_model_answers(addresses, recordings, client_class, api):
    wav_recordings = [audio_files.wav_bytes_of_file(path, DEFAULT_FEATURE_CONFIG) for path in recordings]
    client = client_class(addresses[api])
    predictions = client.timeline(wav_recordings)
    client.close()
    expected = fixture.reference_timeline(wav_recordings)
    assert [len(prediction.timeline) for prediction in predictions] == [count for *_, count in _RECORDINGS]
    for prediction, reference in zip(predictions, expected):
        _assert_same_answer(prediction.to_json(), reference.to_json())


def _assert_same_answer(answer: dict, expected: dict) -> None:
    """Equal JSON answers, probabilities to float32's precision (REST sends them as text)."""
    assert answer["duration_seconds"] == expected["duration_seconds"]
    assert answer["overall"]["label"] == expected["overall"]["label"]
    np.testing.assert_allclose(list(answer["overall"]["probabilities"].values()),
                               list(expected["overall"]["probabilities"].values()), rtol=1e-6)
    assert [(w["start_seconds"], w["end_seconds"], w["label"], list(w["probabilities"])) for w in answer["timeline"]] == [
        (w["start_seconds"], w["end_seconds"], w["label"], list(w["probabilities"])) for w in expected["timeline"]]
    np.testing.assert_allclose([list(w["probabilities"].values()) for w in answer["timeline"]],
                               [list(w["probabilities"].values()) for w in expected["timeline"]], rtol=1e-6)


@pytest.mark.parametrize("api", ["rest", "grpc"])
def test_predict_cli_json_timeline_and_overall_agree_with_the_model(addresses, recordings, capsys, api):
    flags = ["--server", addresses[api], "--json"] + (["--grpc"] if api == "grpc" else [])
    assert predict_cli.main(recordings + flags) == 0
    results = json.loads(capsys.readouterr().out)
    assert [result.pop("file") for result in results] == recordings
    expected = fixture.reference_timeline([audio_files.wav_bytes_of_file(path, DEFAULT_FEATURE_CONFIG) for path in recordings])
    for result, reference, (_, seconds, _, _, _, window_count) in zip(results, expected, _RECORDINGS):
        _assert_same_answer(result, reference.to_json())
        assert len(result["timeline"]) == window_count and result["duration_seconds"] == pytest.approx(seconds, abs=0.05)
        windows = np.array([list(entry["probabilities"].values()) for entry in result["timeline"]])
        np.testing.assert_allclose(list(result["overall"]["probabilities"].values()), windows.mean(axis=0), rtol=1e-5)


def test_predict_cli_table_and_unreadable_files(addresses, recordings, capsys, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF but nothing else")
    low_rate = tmp_path / "low-rate.wav"
    low_rate.write_bytes(fixture.wav_clip(seconds=1.0, sample_rate=2000))
    code = predict_cli.main([recordings[1], str(broken), str(tmp_path / "missing.flac"), str(low_rate),
                             "--server", addresses["rest"]])
    captured = capsys.readouterr()
    assert code == 1
    assert "broken.wav" in captured.err and "missing.flac" in captured.err
    # A WAV goes to the model as it is, and the model refuses the rate.
    assert "WAV sample rate (Hz) is outside the supported 4000..192000 Hz" in captured.err and "2000" in captured.err
    rows = captured.out.strip().splitlines()
    assert rows[0].split() == ["file", "window", "(s)", "emotion", "probability"]
    assert rows[1].split()[:2] == [recordings[1], "0.0-2.0"] and rows[2].split()[:2] == [recordings[1], "overall"]


def test_ser_predict_over_rest_never_imports_tensorflow(addresses, recordings):
    script = ("import json, sys\n"
              "from speech_emotion import cli\n"
              "code = cli.main(['predict', *sys.argv[1:]])\n"
              "print(json.dumps({'code': code, 'tensorflow': 'tensorflow' in sys.modules}))\n")
    completed = subprocess.run([sys.executable, "-c", script, recordings[1], "--server", addresses["rest"], "--json"],
                               capture_output=True, text=True, timeout=300)
    lines = completed.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"code": 0, "tensorflow": False}, completed.stderr
    [result] = json.loads("\n".join(lines[:-1]))
    assert result["file"] == recordings[1] and len(result["timeline"]) == 1
