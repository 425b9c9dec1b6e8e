"""REST connections that misbehave, over raw loopback sockets: idle connections, headers sent a byte at a
time and bodies that never finish are cut after --rest_api_read_timeout_in_ms, a client that hangs up
mid-body is a quiet CANCELLED (no traceback, no INTERNAL), and well-behaved clients notice nothing."""
import base64
import logging
import socket
import time

import serving_model_fixture as fixture

import pytest
import requests

from speech_emotion.serving import model_server

_READ_TIMEOUT_SECONDS = 1.0
_PREDICT_PATH = f"/v1/models/{fixture.MODEL_NAME}:predict"
_CLIP = fixture.wav_clip(seconds=0.3)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("connections") / "models"
    fixture.push_version(base, 1)
    with fixture.running_server(base, rest_api_read_timeout_in_ms=int(_READ_TIMEOUT_SECONDS * 1000)) as running:
        yield running


def _connect(server) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", server.rest_port))
    connection.settimeout(10 * _READ_TIMEOUT_SECONDS)
    return connection


def _headers(content_length: int) -> bytes:
    return (f"POST {_PREDICT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {content_length}\r\n\r\n").encode()


def _read_until_closed(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def _request_count(server, status: str) -> int:
    return server.metrics.request_count.value(fixture.MODEL_NAME, "predict", "REST", status)


def test_the_read_timeout_defaults_to_30_seconds():
    assert model_server.parse_flags(["--model_base_path=/m"]).rest_api_read_timeout_in_ms == 30000
    with pytest.raises(ValueError, match="rest_api_read_timeout_in_ms must be positive"):
        model_server.parse_flags(["--model_base_path=/m", "--rest_api_read_timeout_in_ms=0"])


def test_an_idle_connection_is_closed(server):
    with _connect(server) as connection:
        started = time.monotonic()
        assert _read_until_closed(connection) == b""
        assert _READ_TIMEOUT_SECONDS * 0.9 <= time.monotonic() - started < 4 * _READ_TIMEOUT_SECONDS


def test_headers_sent_a_byte_at_a_time_are_cut_off(server):
    headers = _headers(10)
    started = time.monotonic()
    sent = 0
    with _connect(server) as connection:
        with pytest.raises(OSError):  # the server closes; a later send fails
            for sent, byte in enumerate(headers):
                connection.send(bytes([byte]))
                time.sleep(0.05)
    # Headers of 20 s at this pace: the connection went after about the timeout.
    assert sent < len(headers) - 1
    assert time.monotonic() - started < 4 * _READ_TIMEOUT_SECONDS


def test_a_body_that_never_finishes_gets_408(server):
    before = _request_count(server, "DEADLINE_EXCEEDED")
    with _connect(server) as connection:
        connection.sendall(_headers(1000) + b'{"instances": [')
        started = time.monotonic()
        answer = connection.recv(65536)
        waited = time.monotonic() - started
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert b'"error": "The request body did not arrive within 1 s of its headers' in rest
    assert _READ_TIMEOUT_SECONDS * 0.9 <= waited < 4 * _READ_TIMEOUT_SECONDS
    assert _request_count(server, "DEADLINE_EXCEEDED") == before + 1


def test_a_client_hanging_up_mid_body_is_a_quiet_cancelled_request(server, caplog):
    before_internal = _request_count(server, "INTERNAL")
    before_cancelled = _request_count(server, "CANCELLED")
    caplog.set_level(logging.DEBUG)
    with _connect(server) as connection:
        connection.sendall(_headers(100_000) + b"{" * 1000)
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while _request_count(server, "CANCELLED") == before_cancelled and time.monotonic() < deadline:
        time.sleep(0.05)

    assert _request_count(server, "CANCELLED") == before_cancelled + 1
    assert _request_count(server, "INTERNAL") == before_internal
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
    (record,) = [record for record in caplog.records if "closed the connection" in record.getMessage()]
    assert record.levelno == logging.INFO and record.exc_info is None
    assert record.getMessage() == f"REST request POST {_PREDICT_PATH}: the client closed the connection before sending the whole body"


def test_well_behaved_clients_keep_their_connection_and_reconnect_after_the_timeout(server):
    body = {"instances": [{"b64": base64.b64encode(_CLIP).decode()}]}
    url = f"http://127.0.0.1:{server.rest_port}{_PREDICT_PATH}"
    expected = fixture.reference_probabilities([_CLIP])[0].tolist()
    with requests.Session() as session:
        for pause in (0.0, _READ_TIMEOUT_SECONDS / 4, 2 * _READ_TIMEOUT_SECONDS):  # the last one outlives its connection
            time.sleep(pause)
            answer = session.post(url, json=body)
            assert answer.status_code == 200
            assert answer.json()["predictions"][0]["probabilities"] == pytest.approx(expected, rel=1e-5)
