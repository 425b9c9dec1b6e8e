"""Browser pages of other origins against a running server: a "simple" cross-origin POST runs no inference,
pages of the server's own origin and listed origins (--cors_allowed_origins) do, with CORS headers and preflight
answers; clients that send no Origin are served whatever their Content-Type, as TF Serving serves them;
every answer says nosniff and carries the Content-Security-Policy."""
import base64
import json

import serving_model_fixture as fixture

import pytest
import requests

from speech_emotion.serving import cross_origin
from speech_emotion.serving import errors
from speech_emotion.serving import model_server

_ALLOWED = "https://allowed.example:8443"
_CLIP = fixture.wav_clip(seconds=0.3, seed=5)
_BODY = json.dumps({"instances": [{"b64": base64.b64encode(_CLIP).decode()}]}).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("cross_origin") / "models"
    fixture.push_version(base, 1)
    with fixture.running_server(base, cors_allowed_origins=f"{_ALLOWED}, http://other.example") as running:
        yield running


@pytest.fixture(scope="module")
def base_url(server):
    return f"http://127.0.0.1:{server.rest_port}"


def _predict_count(server, status: str) -> int:
    return server.metrics.request_count.value(fixture.MODEL_NAME, "predict", "REST", status)


def _post(base_url, headers):
    return requests.post(f"{base_url}/v1/models/{fixture.MODEL_NAME}:predict", data=_BODY, headers=headers)


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example", "Content-Type": "text/plain"},
    {"Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"},
    {"Origin": "http://127.0.0.1:1", "Content-Type": "text/plain"},  # same host, another port
    {"Origin": "null", "Content-Type": "text/plain"},  # a sandboxed frame or a file:// page
    {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
], ids=["text-plain", "form", "other-port", "null", "sec-fetch-site"])
def test_a_cross_origin_simple_post_runs_no_inference(server, base_url, headers):
    ok_before, denied_before = _predict_count(server, "OK"), _predict_count(server, "PERMISSION_DENIED")
    answer = _post(base_url, headers)
    assert answer.status_code == 403
    assert "refused" in answer.json()["error"]
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert (_predict_count(server, "OK"), _predict_count(server, "PERMISSION_DENIED")) == (ok_before, denied_before + 1)


def test_the_refusal_says_how_to_allow_the_page(base_url):
    answer = _post(base_url, {"Origin": "http://evil.example", "Content-Type": "text/plain"})
    assert answer.json() == {"error": "Cross-origin request from http://evil.example refused: start the server with "
                                      "--cors_allowed_origins=http://evil.example to allow that page"}


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain", "application/x-www-form-urlencoded",
                                          "application/octet-stream"])
def test_clients_without_an_origin_are_served_whatever_their_content_type(server, base_url, content_type):
    answer = _post(base_url, {"Content-Type": content_type} if content_type else {})
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"][0]["probabilities"] == pytest.approx(
        fixture.reference_probabilities([_CLIP])[0].tolist(), rel=1e-5)
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_the_servers_own_page_may_post(server, base_url):
    answer = _post(base_url, {"Origin": base_url, "Content-Type": "text/plain", "Sec-Fetch-Site": "same-origin"})
    assert answer.status_code == 200, answer.text
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_a_listed_origin_gets_cors_headers_and_its_preflight_answered(base_url):
    url = f"{base_url}/v1/models/{fixture.MODEL_NAME}:predict"
    preflight = requests.options(url, headers={"Origin": _ALLOWED, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == _ALLOWED
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]

    answer = _post(base_url, {"Origin": _ALLOWED, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == _ALLOWED and answer.headers["Vary"] == "Origin"
    status = requests.get(f"{base_url}/v1/models/{fixture.MODEL_NAME}", headers={"Origin": "HTTPS://Allowed.Example:8443"})
    assert status.headers["Access-Control-Allow-Origin"] == "HTTPS://Allowed.Example:8443"


def test_an_unlisted_origins_preflight_is_refused(base_url):
    preflight = requests.options(f"{base_url}/v1/models/{fixture.MODEL_NAME}:predict",
                                 headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "refused" in preflight.json()["error"]
    assert "Access-Control-Allow-Origin" not in preflight.headers
    # Without the preflight headers OPTIONS stays what it is in TF Serving: a malformed request.
    assert requests.options(f"{base_url}/v1/models/{fixture.MODEL_NAME}:predict").status_code == 400


@pytest.mark.parametrize("path", ["/", f"/v1/models/{fixture.MODEL_NAME}", "/v1/nothing"])
def test_every_answer_says_nosniff_and_carries_the_content_security_policy(base_url, path):
    answer = requests.get(base_url + path)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Security-Policy"] == cross_origin.SECURITY_HEADERS["Content-Security-Policy"]


def test_any_origin_with_a_star():
    policy = cross_origin.OriginPolicy(cross_origin.parse_allowed_origins("*"))
    headers = {"Origin": "http://anywhere.example"}
    policy.check(headers, "127.0.0.1:8501")
    assert policy.response_headers(headers, "127.0.0.1:8501") == {"Access-Control-Allow-Origin": "*"}


@pytest.mark.parametrize("origins, message", [
    ("evil.example", "must look like https://host"),
    ("http://evil.example/path", "must look like https://host"),
    ("ftp://evil.example", "must look like https://host"),
    ("http://evil.example:port", "must look like https://host"),
    ("*, http://a.example", "list nothing beside it"),
])
def test_malformed_allowed_origins_are_refused_at_startup(origins, message):
    with pytest.raises(ValueError, match=message):
        model_server.parse_flags(["--model_base_path=/m", f"--cors_allowed_origins={origins}"])


def test_default_ports_and_case_make_the_same_origin():
    policy = cross_origin.OriginPolicy()
    for origin, host in [("http://Example.com", "example.com:80"), ("https://example.com", "EXAMPLE.com:443"),
                         ("http://[::1]:8501", "[::1]:8501")]:
        policy.check({"Origin": origin}, host)
    for origin, host in [("https://example.com", "example.com:80"), ("http://example.com", "example.com.evil:80")]:
        with pytest.raises(errors.ServingError, match="refused"):
            policy.check({"Origin": origin}, host)
