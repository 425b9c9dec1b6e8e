"""`ser app` in front of a running model server (`ser serve` with the fixture model): POST /api/analyze, as an
audio/* body or a multipart/form-data field, answers the emotions `ser predict` reports for the same file,
the words spoken with their times and an interpretation; bad requests and hostile audio get a 4xx
{"error": ...} and never break it; a model server that does not answer gets 502."""
import http.server
import io
import json
import math
import random
import threading
import time

import app_fixture
import hostile_audio
import serving_model_fixture as fixture

import numpy as np
import pytest
import requests
import soundfile

from speech_emotion.audio import wav
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.serving import clients
from speech_emotion.serving import cross_origin
from speech_emotion.serving import predict_cli
from speech_emotion.serving import recording_predictions
from speech_emotion.serving.app import interpretation
from speech_emotion.serving.app import transcription

_RATE = DEFAULT_FEATURE_CONFIG.sample_rate
_MAX_REQUEST_BYTES = 2_000_000
_MAX_WORD_ERROR_RATE = 0.5  # as tests/test_app_transcription.py measured it
_FUZZ_REQUESTS = 60
_FUZZ_SECONDS = 90


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("app") / "models"
    fixture.push_version(base, 1)
    with fixture.running_server(base) as running:
        yield f"127.0.0.1:{running.rest_port}"


@pytest.fixture(scope="module")
def app(model_server):
    with app_fixture.running_app(model_server, "--max-request-bytes", str(_MAX_REQUEST_BYTES)) as base_url:
        yield base_url


def _ser_predict(model_server, path) -> recording_predictions.RecordingPrediction:
    client = clients.RestClient(model_server, fixture.MODEL_NAME)
    try:
        return predict_cli.predict_file(client, str(path)).prediction
    finally:
        client.close()


def _assert_same_emotions(answer: dict, expected: recording_predictions.RecordingPrediction) -> None:
    assert answer["overall"]["label"] == expected.overall.label
    assert answer["overall"]["probabilities"] == pytest.approx(expected.overall.probabilities, abs=1e-6)
    assert answer["duration_seconds"] == pytest.approx(expected.duration_seconds, abs=1e-3)
    assert len(answer["timeline"]) == len(expected.timeline)
    for window, expected_window in zip(answer["timeline"], expected.timeline):
        assert window["start_seconds"] == pytest.approx(expected_window.start_seconds, abs=1e-3)
        assert window["end_seconds"] == pytest.approx(expected_window.end_seconds, abs=1e-3)
        assert window["label"] == expected_window.label
        assert window["probabilities"] == pytest.approx(expected_window.probabilities, abs=1e-6)


@pytest.fixture(scope="module")
def speech_path(tmp_path_factory):
    """Two sentences with a pause: about 8 s, several windows."""
    second = app_fixture.spoken("thank you very much for your help", _RATE)
    first = app_fixture.spoken(app_fixture.SENTENCE, _RATE)
    recording = np.concatenate([first, np.zeros(2 * _RATE, np.float32), second, np.zeros(_RATE, np.float32)])
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    path.write_bytes(wav.encode_wav_pcm16(recording, _RATE))
    return path


def test_an_audio_body_gets_ser_predicts_emotions_the_words_and_a_summary(app, model_server, speech_path):
    answer = requests.post(app + "/api/analyze", data=speech_path.read_bytes(), headers={"Content-Type": "audio/wav"})
    assert answer.status_code == 200, answer.text
    answer = answer.json()

    assert set(answer) == {"file", "duration_seconds", "overall", "timeline", "transcript", "interpretation"}
    expected = _ser_predict(model_server, speech_path)
    # A 3 s window every second, the last one ending with the recording.
    assert len(expected.timeline) == math.ceil(round(expected.duration_seconds - DEFAULT_FEATURE_CONFIG.clip_seconds, 3)) + 1
    _assert_same_emotions(answer, expected)
    reference = f"{app_fixture.SENTENCE} thank you very much for your help"
    transcript = answer["transcript"]
    assert app_fixture.word_error_rate(reference, transcript["text"]) <= _MAX_WORD_ERROR_RATE, transcript["text"]
    assert transcript["text"] == " ".join(word["word"] for word in transcript["words"])
    assert all(set(word) == {"word", "start_seconds", "end_seconds"} for word in transcript["words"])
    assert all(0 <= word["start_seconds"] < word["end_seconds"] <= answer["duration_seconds"] for word in transcript["words"])
    assert answer["interpretation"]["source"] == "summary" and "warning" not in answer["interpretation"]
    assert answer["interpretation"]["text"].startswith(f"Overall the speech sounds {expected.overall.label} (")
    # The summary is written from ser predict's timeline and the words the app heard.
    words = tuple(transcription.Word(word["word"], word["start_seconds"], word["end_seconds"]) for word in transcript["words"])
    assert answer["interpretation"]["text"] == interpretation.summary(expected, transcription.Transcript(transcript["text"], words))


def test_a_multipart_field_of_another_format_rate_and_channels_is_decoded_as_ser_predict_decodes_it(app, model_server, tmp_path):
    time_axis = np.arange(int(4.0 * 44100)) / 44100
    tone = 0.3 * np.sin(2 * np.pi * 220 * time_axis) * (1 + time_axis) / 5
    path = tmp_path / "stereo.ogg"
    soundfile.write(path, np.stack([tone, 0.5 * tone[::-1]], axis=1), 44100)
    with open(path, "rb") as file:
        answer = requests.post(app + "/api/analyze", files={"audio": ("stereo.ogg", file, "audio/ogg")})
    assert answer.status_code == 200, answer.text
    answer = answer.json()

    assert answer["file"] == "stereo.ogg"
    _assert_same_emotions(answer, _ser_predict(model_server, path))
    assert answer["transcript"] == {"text": "", "words": []}  # a tone says nothing
    assert answer["interpretation"]["text"].endswith("No words were recognised.")


def _multipart(fields: dict) -> tuple:
    """(body, Content-Type) of a multipart/form-data request with these (name -> (filename or None, bytes)) fields."""
    prepared = requests.Request("POST", "http://localhost/", files=fields).prepare()
    return prepared.body, prepared.headers["Content-Type"]


_VALID_CLIP = fixture.wav_clip(seconds=0.5, seed=3)


def _float_wav(samples) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(samples, np.float32), _RATE, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def _bad_requests():
    no_field = _multipart({"recording": ("a.wav", _VALID_CLIP)})
    text_field = _multipart({"audio": (None, b"not a file")})
    cases = [
        ("text/plain", b"hello", 415, "audio/* Content-Type"),
        ("application/octet-stream", _VALID_CLIP, 415, "audio/* Content-Type"),
        ("audio/wav", b"", 400, "upload: the audio is empty"),
        ("audio/wav", b"RIFF\x00\x00\x00\x00WAVEjunk" * 10, 400, "cannot decode upload"),
        ("audio/mpeg", bytes(range(256)) * 8, 400, "cannot decode upload"),
        (no_field[1], no_field[0], 400, "no file field `audio`"),
        (text_field[1], text_field[0], 400, "no file field `audio`"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\ngarbage", 400, ""),
        ("audio/wav", bytes(_MAX_REQUEST_BYTES + 1), 413, f"exceeds the limit of {_MAX_REQUEST_BYTES} bytes"),
        ("audio/wav", _float_wav([0.0, np.nan, 0.5] * 1000),
         400, "upload: the audio holds NaN or infinite samples"),
    ]
    cases += [("audio/wav", clip, 400, "upload") for clip in hostile_audio.WAVS_OUTSIDE_THE_CONTRACT.values()]
    return cases


@pytest.mark.parametrize("content_type, body, status, message", _bad_requests())
def test_bad_uploads_get_a_4xx_error(app, content_type, body, status, message):
    answer = requests.post(app + "/api/analyze", data=body, headers={"Content-Type": content_type})
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"error"} and message in answer.json()["error"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_header_declaring_hours_costs_only_the_audio_it_holds(app):
    answer = requests.post(app + "/api/analyze", data=hostile_audio.declared_wav(_RATE, 1, _RATE, declared_data_bytes=2**32 - 100),
                           headers={"Content-Type": "audio/wav"})
    assert answer.status_code == 200 and answer.json()["duration_seconds"] == 1.0


@pytest.mark.parametrize("method, path, status", [("GET", "/api/analyze", 405), ("GET", "/nothing", 404),
                                                  ("POST", "/", 405), ("GET", "/ui/missing.js", 404)])
def test_other_paths_and_methods_get_json_errors(app, method, path, status):
    answer = requests.request(method, app + path)
    assert answer.status_code == status
    assert answer.json() == {"error": f"{answer.reason}: {method} {path}"}
    assert answer.headers["Content-Security-Policy"] == cross_origin.SECURITY_HEADERS["Content-Security-Policy"]


def test_the_page_and_its_settings(app):
    page = requests.get(app + "/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<script type="module" src="/ui/app.js">' in page.text
    assert requests.get(app + "/ui/app.js").headers["Content-Type"].startswith("text/javascript")
    assert requests.get(app + "/ui/config.json").json() == {
        "sample_rate": _RATE, "window_seconds": DEFAULT_FEATURE_CONFIG.clip_seconds,
        "max_seconds": DEFAULT_FEATURE_CONFIG.max_input_seconds, "max_request_bytes": _MAX_REQUEST_BYTES,
        "model_name": fixture.MODEL_NAME}


def test_a_page_of_another_origin_may_not_post_audio(app):
    answer = requests.post(app + "/api/analyze", data=_VALID_CLIP,
                           headers={"Content-Type": "audio/wav", "Origin": "http://evil.example"})
    assert answer.status_code == 403 and "Cross-origin request from http://evil.example refused" in answer.json()["error"]


def test_mutated_audio_never_breaks_the_app(app):
    rng = random.Random(20261203)
    seeds = [fixture.wav_clip(seconds=0.4, seed=index, channels=1 + index % 2) for index in range(3)]
    ogg = io.BytesIO()
    soundfile.write(ogg, np.zeros((6400, 1)), _RATE, format="OGG")
    seeds.append(ogg.getvalue())
    statuses = []
    deadline = time.monotonic() + _FUZZ_SECONDS
    for _ in range(_FUZZ_REQUESTS):
        if time.monotonic() > deadline:
            break
        answer = requests.post(app + "/api/analyze", data=hostile_audio.mutated_bytes(rng, rng.choice(seeds)),
                               headers={"Content-Type": "audio/wav"}, timeout=120)
        statuses.append(answer.status_code)
        assert answer.status_code in (200, 400), answer.text
        assert ("error" in answer.json()) == (answer.status_code == 400)
    assert len(statuses) >= 20 and 400 in statuses
    answer = requests.post(app + "/api/analyze", data=_VALID_CLIP, headers={"Content-Type": "audio/wav"})
    assert answer.status_code == 200 and len(answer.json()["timeline"]) == 1


def test_a_recording_the_model_server_refuses_gets_its_4xx(tmp_path):
    base = tmp_path / "models"
    fixture.push_version(base, 1)
    with fixture.running_server(base, max_request_bytes=len(_VALID_CLIP)) as small, \
            app_fixture.running_app(f"127.0.0.1:{small.rest_port}") as base_url:
        answer = requests.post(base_url + "/api/analyze", data=_VALID_CLIP, headers={"Content-Type": "audio/wav"})
        assert answer.status_code == 413
        assert answer.json()["error"].startswith(f"The model server at 127.0.0.1:{small.rest_port} refused the recording: HTTP 413")


def test_a_model_server_that_does_not_answer_gets_502():
    dead = f"127.0.0.1:{fixture.free_port()}"
    with app_fixture.running_app(dead) as base_url:
        answer = requests.post(base_url + "/api/analyze", data=_VALID_CLIP, headers={"Content-Type": "audio/wav"})
        assert answer.status_code == 502
        assert answer.json()["error"].startswith(f"The model server at {dead} failed: no server answers")
        assert requests.get(base_url + "/").status_code == 200


class _ChatEndpoint(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint answering every chat completion with one interpretation."""

    received = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"path": self.path, "authorization": self.headers.get("Authorization"), "body": body})
        content = json.dumps({"interpretation": "A calm voice throughout."})
        answer = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_the_llm_flags_and_key_reach_the_endpoint(model_server):
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ChatEndpoint) as endpoint:
        thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
        thread.start()
        flags = ("--llm-url", f"http://127.0.0.1:{endpoint.server_address[1]}", "--llm-model", "local-model",
                 "--llm-key-env", "SER_TEST_LLM_KEY")
        try:
            with app_fixture.running_app(model_server, *flags, env={"SER_TEST_LLM_KEY": "sk-local"}) as base_url:
                answer = requests.post(base_url + "/api/analyze", data=_VALID_CLIP, headers={"Content-Type": "audio/wav"})
        finally:
            endpoint.shutdown()
            thread.join()

    assert answer.status_code == 200, answer.text
    assert answer.json()["interpretation"] == {"text": "A calm voice throughout.", "source": "llm"}
    [request] = _ChatEndpoint.received
    assert request["path"] == "/v1/chat/completions" and request["authorization"] == "Bearer sk-local"
    assert request["body"]["model"] == "local-model"
    assert json.loads(request["body"]["messages"][1]["content"])["overall"]["neutral"] == pytest.approx(
        answer.json()["overall"]["probabilities"]["neutral"], abs=1e-3)
