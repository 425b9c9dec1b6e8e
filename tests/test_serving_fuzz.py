"""Fuzzing over loopback: thousands of random and mutated REST and gRPC requests (corrupted WAVs, broken
JSON, odd paths, random protobuf bytes) must each get a well-formed 2xx/4xx answer, never a 5xx or a
dropped connection, and the server must answer a valid request correctly afterwards. WAV headers that
declare audio outside the model contract (a 1 Hz rate, hours of samples) must be refused without the
server's memory growing: the server runs in this process, so its resident set is this process'."""
import base64
import collections
import concurrent.futures
import json
import random
import re
import threading
import time

import grpc
import hostile_audio
import serving_model_fixture as fixture

import numpy as np
import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

pytestmark = pytest.mark.filterwarnings("ignore:Unexpected end-group tag:RuntimeWarning")  # protobuf on partial parses

_SEED = 20240521
_REST_REQUESTS = 2000
_GRPC_REQUESTS = 500
_TIME_BUDGET_SECONDS = 90
_MAX_REQUEST_BYTES = 256 * 1024
_CLIPS = [fixture.wav_clip(seconds=0.25, seed=index, channels=1 + index % 2) for index in range(4)]
_PREDICT_METHOD = "/tensorflow.serving.PredictionService/Predict"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz") / "models"
    fixture.push_version(base, 1)
    with fixture.running_server(base, enable_batching=True, max_request_bytes=_MAX_REQUEST_BYTES) as running:
        yield running


def _memory_kib(field: str) -> int:
    """VmRSS (resident now) or VmHWM (peak since the last reset) of this process, in KiB."""
    with open("/proc/self/status") as status:
        return int(re.search(rf"{field}:\s+(\d+)", status.read()).group(1))


def _reset_peak_memory() -> None:
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def _report(capsys, title: str, rows: dict) -> None:
    with capsys.disabled():
        print(f"\n{title}: " + ", ".join(f"{name} {value}" for name, value in rows.items()))


def _random_json_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 2**31, 2**63, -2**64, 3])
    if kind == 2:
        return rng.choice([0.5, -1e300, 1e-320, float("nan"), float("inf")])
    if kind == 3:
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(8)))
    if kind == 4:
        return {"b64": rng.choice(["", "AAAA", "!!", base64.b64encode(rng.choice(_CLIPS)).decode()])}
    if kind == 5:
        return [_random_json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 6:
        return {rng.choice(["audio", "b64", "x", ""]): _random_json_value(rng, depth + 1) for _ in range(rng.randrange(3))}
    return [[_random_json_value(rng, depth + 2)] * 2] * 2


def _rest_request(rng: random.Random):
    """(method, path, body bytes) of one random request."""
    kind = rng.randrange(6)
    path = "/v1/models/emotion:predict"
    if kind == 0:  # valid JSON around a corrupted WAV
        clips = [hostile_audio.mutated_bytes(rng, rng.choice(_CLIPS)) for _ in range(rng.randint(1, 3))]
        body = json.dumps({"instances": [{"b64": base64.b64encode(clip).decode()} for clip in clips]}).encode()
    elif kind == 1:  # corrupted JSON
        body = hostile_audio.mutated_bytes(rng, json.dumps({"instances": [{"b64": base64.b64encode(_CLIPS[0]).decode()}]}).encode())
    elif kind == 2:  # random JSON documents
        document = {rng.choice(["instances", "inputs", "examples", "signature_name", "context"]): _random_json_value(rng)
                    for _ in range(rng.randint(0, 3))}
        body = json.dumps(document).encode()
        path = rng.choice([path, "/v1/models/emotion:classify", "/v1/models/emotion/versions/1:predict"])
    elif kind == 3:  # random paths and methods
        segment = rng.choice(["emotion", "x", "%2F..", "emotion/versions/99999999999999999999", "emotion/labels/a:b",
                              "", "emotion/metadata", "emotion:predict:predict"])
        path = rng.choice(["/v1/models/", "/v1/", "/", "/monitoring/", "/v1/models/emotion/versions/"]) + segment
        body = rng.randbytes(rng.randrange(32))
        return rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]), path, body
    elif kind == 4:  # valid classify with a corrupted WAV
        clip = hostile_audio.mutated_bytes(rng, rng.choice(_CLIPS))
        body = json.dumps({"signature_name": "classify", "examples": [{"audio": {"b64": base64.b64encode(clip).decode()}}]}).encode()
        path = "/v1/models/emotion:classify"
    else:  # oversized or random bodies
        body = rng.randbytes(rng.choice([0, 10, _MAX_REQUEST_BYTES + 1]))
    return "POST", path, body


def _check_rest_answer(method: str, path: str, answer: requests.Response) -> None:
    assert answer.status_code in (200, 400, 404, 413), (answer.status_code, answer.text[:300])
    if method == "HEAD":
        return
    document = answer.json()
    if answer.status_code == 200:
        assert {"predictions", "outputs", "results", "model_version_status", "model_spec"} & set(document)
    else:
        assert isinstance(document["error"], str) and document["error"]


def _grpc_payload(rng: random.Random) -> bytes:
    if rng.random() < 0.3:
        return rng.randbytes(rng.randrange(256))
    request = predict_pb2.PredictRequest()
    request.model_spec.name = rng.choice([fixture.MODEL_NAME, fixture.MODEL_NAME, "x"])
    request.inputs[rng.choice(["audio", "audio", "wav"])].CopyFrom(
        tf.make_tensor_proto([hostile_audio.mutated_bytes(rng, rng.choice(_CLIPS)) if rng.random() < 0.7 else rng.choice(_CLIPS)],
                             dtype=tf.string))
    serialized = request.SerializeToString()
    return hostile_audio.mutated_bytes(rng, serialized) if rng.random() < 0.5 else serialized


def _parses(payload: bytes) -> bool:
    try:
        predict_pb2.PredictRequest.FromString(payload)
    except Exception:  # noqa: BLE001 - any parse failure counts
        return False
    return True


_GRPC_CODES = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
               grpc.StatusCode.FAILED_PRECONDITION}


def test_random_and_mutated_requests_never_break_the_server(server, capsys):
    rss_before = _memory_kib("VmRSS")
    rng = random.Random(_SEED)
    rest_requests = [_rest_request(rng) for _ in range(_REST_REQUESTS)]
    grpc_payloads = [_grpc_payload(rng) for _ in range(_GRPC_REQUESTS)]
    base = f"http://127.0.0.1:{server.rest_port}"
    deadline = time.monotonic() + _TIME_BUDGET_SECONDS
    sessions = threading.local()

    def send_rest(request):
        if time.monotonic() > deadline:
            return None
        method, path, body = request
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
        answer = sessions.session.request(method, base + path, data=body, headers={"Content-Type": "application/json"})
        _check_rest_answer(method, path, answer)
        return answer.status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        rest_statuses = [status for status in pool.map(send_rest, rest_requests) if status is not None]

    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        predict = channel.unary_unary(_PREDICT_METHOD)  # raw bytes in and out

        def send_grpc(payload):
            if time.monotonic() > deadline:
                return None
            try:
                predict(payload, timeout=30)
                return grpc.StatusCode.OK
            except grpc.RpcError as error:
                assert error.code() in _GRPC_CODES, (error.code(), error.details())
                if error.code() == grpc.StatusCode.INVALID_ARGUMENT and "Cannot parse the request message" in error.details():
                    assert not _parses(payload)
                return error.code()

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            grpc_codes = [code for code in pool.map(send_grpc, grpc_payloads) if code is not None]

    assert len(rest_statuses) > _REST_REQUESTS // 2 and len(grpc_codes) > _GRPC_REQUESTS // 2, "ran out of time budget"
    assert {200, 400, 404, 413} <= set(rest_statuses)
    assert {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND} <= set(grpc_codes)

    expected = fixture.reference_probabilities(_CLIPS)
    answer = requests.post(base + "/v1/models/emotion:predict",
                           json={"instances": [{"b64": base64.b64encode(clip).decode()} for clip in _CLIPS]})
    np.testing.assert_allclose([row["probabilities"] for row in answer.json()["predictions"]], expected, rtol=1e-5)
    assert server.metrics.request_count.value(fixture.MODEL_NAME, "predict", "REST", "INTERNAL") == 0
    by_status = collections.Counter(rest_statuses)
    _report(capsys, "fuzz run", {
        "REST by status": dict(sorted(by_status.items())),
        "gRPC by code": dict(collections.Counter(code.name for code in grpc_codes)),
        "5xx": sum(count for status, count in by_status.items() if status >= 500),
        "RSS before/after (MiB)": f"{rss_before // 1024}/{_memory_kib('VmRSS') // 1024}",
    })


# Concurrent copies of each: a few such requests at once once got a server killed for memory.
_HOSTILE_COPIES = 4
# Peak resident growth allowed while they are answered; the bounds keep it to the decode of 32 KB.
_MAX_PEAK_GROWTH_MIB = 256


def test_wav_headers_outside_the_contract_are_refused_with_bounded_memory(server, capsys):
    base = f"http://127.0.0.1:{server.rest_port}"
    rest_bodies = [json.dumps({"instances": [{"b64": base64.b64encode(clip).decode()}]})
                   for clip in hostile_audio.WAVS_OUTSIDE_THE_CONTRACT.values() for _ in range(_HOSTILE_COPIES)]
    grpc_requests = []
    for clip in hostile_audio.WAVS_OUTSIDE_THE_CONTRACT.values():
        request = predict_pb2.PredictRequest()
        request.model_spec.name = fixture.MODEL_NAME
        request.inputs["audio"].CopyFrom(tf.make_tensor_proto([clip], dtype=tf.string))
        grpc_requests += [request] * _HOSTILE_COPIES
    rss_before = _memory_kib("VmRSS")
    _reset_peak_memory()

    with concurrent.futures.ThreadPoolExecutor(len(rest_bodies)) as pool:
        rest_answers = list(pool.map(lambda body: requests.post(base + "/v1/models/emotion:predict", data=body,
                                                                timeout=60), rest_bodies))
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

        def grpc_error(request):
            with pytest.raises(grpc.RpcError) as raised:
                stub.Predict(request, timeout=60)
            return raised.value

        with concurrent.futures.ThreadPoolExecutor(len(grpc_requests)) as pool:
            grpc_errors = list(pool.map(grpc_error, grpc_requests))
    peak_growth_mib = (_memory_kib("VmHWM") - rss_before) / 1024

    for answer in rest_answers:
        assert answer.status_code == 400, answer.text[:300]
        assert re.search(r"sample rate .*outside the supported 4000\.\.192000 Hz", answer.json()["error"]), answer.text
    for error in grpc_errors:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "outside the supported" in error.details()
    _report(capsys, "hostile WAV headers", {
        "requests": len(rest_answers) + len(grpc_errors), "peak RSS growth (MiB)": f"{peak_growth_mib:.0f}",
        "RSS before/after (MiB)": f"{rss_before // 1024}/{_memory_kib('VmRSS') // 1024}",
    })
    assert peak_growth_mib < _MAX_PEAK_GROWTH_MIB
    answer = requests.post(base + "/v1/models/emotion:predict",
                           json={"instances": [{"b64": base64.b64encode(_CLIPS[0]).decode()}]})
    np.testing.assert_allclose(answer.json()["predictions"][0]["probabilities"],
                               fixture.reference_probabilities(_CLIPS[:1])[0], rtol=1e-5)
