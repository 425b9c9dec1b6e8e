"""The REST and gRPC clients and `ser predict` against a running server: audio files of several formats
are decoded client-side, cut into 16 kHz mono windows, and the timeline and overall result agree with
the model called in-process."""
import io
import json
import subprocess
import sys
import wave

import serving_model_fixture as fixture

import numpy as np
import pytest
import soundfile

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
    # (file name, seconds, rate, channels, soundfile format and subtype, windows expected at 3 s)
    ("long.flac", 8.0, 44100, 2, ("FLAC", "PCM_16"), 3),
    ("short.mp3", 2.0, 22050, 1, ("MP3", "MPEG_LAYER_III"), 1),
    ("speech.ogg", 4.0, 48000, 1, ("OGG", "VORBIS"), 1),  # the 1 s left after one window is dropped
    ("studio.wav", 6.5, 48000, 2, ("WAV", "PCM_24"), 2),
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


def test_audio_windows_are_16k_mono_wav_of_the_window_length(recordings):
    windows, duration = predict_cli.audio_windows(recordings[0], window_seconds=3.0)
    assert duration == pytest.approx(8.0, abs=0.01)
    assert [(w.start_seconds, round(w.end_seconds, 2)) for w in windows] == [(0.0, 3.0), (3.0, 6.0), (6.0, 8.0)]
    for window in windows:
        with wave.open(io.BytesIO(window.wav_bytes)) as reader:
            assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (16000, 1, 2)
            assert reader.getnframes() == round((window.end_seconds - window.start_seconds) * 16000)


@pytest.mark.parametrize("api", ["rest", "grpc"])
def test_predict_cli_json_timeline_and_overall_agree_with_the_model(addresses, recordings, capsys, api):
    flags = ["--server", addresses[api], "--json"] + (["--grpc"] if api == "grpc" else [])
    assert predict_cli.main(recordings + flags) == 0
    results = json.loads(capsys.readouterr().out)
    assert [result["file"] for result in results] == recordings
    for result, (_, seconds, _, _, _, window_count), path in zip(results, _RECORDINGS, recordings):
        windows, _ = predict_cli.audio_windows(path, 3.0)
        expected = fixture.reference_probabilities([window.wav_bytes for window in windows])
        timeline = result["timeline"]
        assert len(timeline) == window_count and result["duration_seconds"] == pytest.approx(seconds, abs=0.05)
        np.testing.assert_allclose([list(entry["probabilities"].values()) for entry in timeline], expected, rtol=1e-4)
        durations = np.array([entry["end_seconds"] - entry["start_seconds"] for entry in timeline])
        overall = durations @ expected / durations.sum()
        np.testing.assert_allclose(list(result["overall"]["probabilities"].values()), overall, rtol=1e-4)
        assert result["overall"]["label"] == fixture.EMOTIONS[int(overall.argmax())]


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
    assert "sample rate 2000 Hz is outside the supported 4000..192000 Hz" in captured.err
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
