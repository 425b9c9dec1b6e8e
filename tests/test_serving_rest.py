"""The model server's REST API over loopback, against the contract-conforming fixture model:
predict, classify, metadata and status as TF Serving answers them; bad input answered with the right
4xx while the server keeps serving; concurrent requests batched, as its Prometheus metrics show."""
import base64
import concurrent.futures
import json
import re

import serving_model_fixture as fixture

import numpy as np
import pytest
import requests
from tensorflow.core.example import example_pb2

from speech_emotion.serving import model_server
from speech_emotion.serving import recording_predictions

_CLIPS = [fixture.wav_clip(seconds=0.4 + 0.2 * index, amplitude=0.2 + 0.2 * index, frequency=150 + 100 * index,
                           seed=index, channels=1 + index % 2, sample_rate=(16000, 22050, 8000)[index % 3])
          for index in range(4)]
_MAX_REQUEST_BYTES = 200_000


def _b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode()}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("rest")
    fixture.push_version(root / "models", 1)
    (root / "batching.txt").write_text("max_batch_size { value: 16 }\nbatch_timeout_micros { value: 30000 }\n"
                                       "num_batch_threads { value: 2 }\nmax_enqueued_batches { value: 100 }\n")
    (root / "monitoring.config").write_text('prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }\n')
    options = model_server.parse_flags([
        f"--model_name={fixture.MODEL_NAME}", f"--model_base_path={root / 'models'}",
        f"--port={fixture.free_port()}", f"--rest_api_port={fixture.free_port()}",
        "--enable_batching", f"--batching_parameters_file={root / 'batching.txt'}",
        f"--monitoring_config_file={root / 'monitoring.config'}", f"--max_request_bytes={_MAX_REQUEST_BYTES}",
    ])
    with model_server.ModelServer(options) as running:
        yield running


@pytest.fixture(scope="module")
def url(server):
    return f"http://127.0.0.1:{server.rest_port}/v1/models/{fixture.MODEL_NAME}"


@pytest.fixture(scope="module")
def expected():
    return fixture.reference_probabilities(_CLIPS)


def test_status_reports_the_loaded_version(url):
    answer = requests.get(url)
    assert answer.status_code == 200
    assert answer.json() == {"model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
    assert requests.get(url + "/versions/1").json()["model_version_status"][0]["state"] == "AVAILABLE"


def test_metadata_lists_the_contract_signatures(url):
    answer = requests.get(url + "/metadata").json()
    assert answer["model_spec"] == {"name": fixture.MODEL_NAME, "version": "1", "signature_name": ""}
    signatures = answer["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "classify", "serving_examples", "timeline", "timeline_examples"} <= set(signatures)
    default = signatures["serving_default"]
    assert default["inputs"]["audio"]["dtype"] == "DT_STRING"
    assert set(default["outputs"]) == {"probabilities", "classes", "label"}
    assert signatures["classify"]["inputs"]["inputs"]["dtype"] == "DT_STRING"


def test_row_predict_matches_the_model_called_in_process(url, expected):
    answer = requests.post(url + ":predict", json={"instances": [_b64(clip) for clip in _CLIPS]})
    assert answer.status_code == 200
    predictions = answer.json()["predictions"]
    probabilities = np.array([row["probabilities"] for row in predictions])
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert [row["label"] for row in predictions] == [fixture.EMOTIONS[i] for i in expected.argmax(axis=1)]
    assert all(row["classes"] == list(fixture.EMOTIONS) for row in predictions)


def test_columnar_predict_with_named_input_and_signature(url, expected):
    body = {"signature_name": "serving_default", "inputs": {"audio": [_b64(clip) for clip in _CLIPS[:2]]}}
    outputs = requests.post(url + "/versions/1:predict", json=body).json()["outputs"]
    np.testing.assert_allclose(outputs["probabilities"], expected[:2], rtol=1e-5)
    assert len(outputs["label"]) == 2


def test_serving_examples_signature_answers_its_single_output_unnamed(url, expected):
    examples = []
    for clip in _CLIPS:
        example = example_pb2.Example()
        example.features.feature["audio"].bytes_list.value.append(clip)
        examples.append(_b64(example.SerializeToString()))
    body = {"signature_name": "serving_examples", "instances": examples}
    predictions = requests.post(url + ":predict", json=body).json()["predictions"]
    np.testing.assert_allclose(predictions, expected, rtol=1e-5)


def test_classify_returns_label_score_pairs(url, expected):
    body = {"signature_name": "classify", "examples": [{"audio": _b64(clip)} for clip in _CLIPS]}
    answer = requests.post(url + ":classify", json=body)
    assert answer.status_code == 200
    for pairs, row in zip(answer.json()["results"], expected):
        assert [label for label, _ in pairs] == list(fixture.EMOTIONS)
        np.testing.assert_allclose([score for _, score in pairs], row, rtol=1e-5)


def _empty_wav() -> bytes:
    clip = fixture.wav_clip(seconds=0.1)
    return clip[:40] + (0).to_bytes(4, "little")  # header and an empty data chunk


_BAD_REQUESTS = [
    # (what, method, path suffix, body, HTTP status, part of the error message)
    ("non-audio bytes", "POST", ":predict", {"instances": [_b64(b"hello, not a wav file at all")]}, 400, "RIFF"),
    ("empty wav", "POST", ":predict", {"instances": [_b64(_empty_wav())]}, 400, "no complete sample frame"),
    ("truncated wav", "POST", ":predict", {"instances": [_b64(_CLIPS[0][:30])]}, 400, "WAV"),
    ("empty bytes", "POST", ":predict", {"instances": [_b64(b"")]}, 400, "shorter than a RIFF header"),
    ("wrong input name", "POST", ":predict", {"instances": [{"wav": _b64(_CLIPS[0])}]}, 400, "keys must be equal to: audio"),
    ("wrong input type", "POST", ":predict", {"instances": [3.5]}, 400, "is not of expected type: string"),
    ("unknown signature", "POST", ":predict", {"signature_name": "nope", "instances": [_b64(_CLIPS[0])]}, 400, "nope"),
    ("malformed json", "POST", ":predict", b'{"instances": [', 400, "JSON Parse error"),
    ("no body", "POST", ":predict", b"", 400, "The document is empty"),
    ("classify on predict signature", "POST", ":classify", {"examples": [{"audio": _b64(_CLIPS[0])}]}, 400,
     "Expected one or two output Tensors, found 3"),
    ("unknown version", "POST", "/versions/7:predict", {"instances": [_b64(_CLIPS[0])]}, 404, "Specific(emotion, 7)"),
    ("unknown label", "POST", "/labels/canary:predict", {"instances": [_b64(_CLIPS[0])]}, 400,
     "Unrecognized servable version label: canary"),
    ("unknown version status", "GET", "/versions/7", None, 404, "Could not find version 7 of model emotion"),
    ("version over int64", "POST", "/versions/9223372036854775808:predict", {"instances": []}, 400,
     "Failed to convert version: 9223372036854775808 to numeric."),
    # Python refuses int() of over 4300 digits; the answer must still be TF Serving's 400.
    ("5000-digit version", "POST", f"/versions/{'9' * 5000}:predict", {"instances": []}, 400, "Failed to convert version"),
    ("5000-digit version status", "GET", f"/versions/{'9' * 5000}/metadata", None, 400, "Failed to convert version"),
    ("zero-padded version", "GET", f"/versions/{'0' * 5000}7", None, 404, "Could not find version 7 of model emotion"),
    ("unknown method", "POST", ":explain", {"examples": []}, 400, "Malformed request"),
    ("unsupported verb", "DELETE", "", None, 400, "Malformed request"),
    ("oversized payload", "POST", ":predict", {"instances": [_b64(b"\x00" * _MAX_REQUEST_BYTES)]}, 413, "exceeds the limit"),
]


@pytest.mark.parametrize("what, method, suffix, body, status, message", _BAD_REQUESTS, ids=[row[0] for row in _BAD_REQUESTS])
def test_bad_requests_get_the_right_status_and_the_server_keeps_serving(url, expected, what, method, suffix, body, status, message):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    answer = requests.request(method, url + suffix, data=data)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]
    good = requests.post(url + ":predict", json={"instances": [_b64(_CLIPS[0])]})
    np.testing.assert_allclose(good.json()["predictions"][0]["probabilities"], expected[0], rtol=1e-5)


def test_unknown_model_and_paths_outside_the_api_are_not_found(server, url):
    base = f"http://127.0.0.1:{server.rest_port}"
    assert requests.post(base + "/v1/models/other:predict", json={"instances": [1]}).status_code == 404
    assert "Could not find any versions of model other" in requests.get(base + "/v1/models/other").json()["error"]
    assert requests.get(base + "/v2/models/emotion").status_code == 404
    assert requests.get(base + "/v1/models").json()["error"] == "Missing model name in request."


def _batch_sizes(metrics_page: str) -> dict:
    """Cumulative processed_batch_size bucket counts of the serving_default signature, by upper bound."""
    pattern = re.compile(r':tensorflow:serving:batching:processed_batch_size_bucket\{model_name="emotion",'
                         r'signature_name="serving_default",le="([^"]+)"\} (\d+)')
    return {bound: int(count) for bound, count in pattern.findall(metrics_page)}


def test_concurrent_requests_are_batched_and_a_bad_one_fails_alone(server, url, expected):
    metrics_url = f"http://127.0.0.1:{server.rest_port}/monitoring/prometheus/metrics"
    before = _batch_sizes(requests.get(metrics_url).text)

    def send(index):
        clip = b"not audio" if index == 5 else _CLIPS[index % len(_CLIPS)]
        return requests.post(url + ":predict", json={"instances": [_b64(clip)]})

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(send, range(24)))
    for index, answer in enumerate(answers):
        if index == 5:
            assert answer.status_code == 400
        else:
            assert answer.status_code == 200, answer.text
            np.testing.assert_allclose(answer.json()["predictions"][0]["probabilities"], expected[index % len(_CLIPS)], rtol=1e-5)
    after = _batch_sizes(requests.get(metrics_url).text)
    batches = after["+Inf"] - before.get("+Inf", 0)
    single_request_batches = after["1"] - before.get("1", 0)
    assert batches > single_request_batches, "no batch held more than one request"


def test_metrics_count_requests_by_api_and_status(server, url):
    metrics_url = f"http://127.0.0.1:{server.rest_port}/monitoring/prometheus/metrics"
    requests.post(url + ":predict", json={"instances": [_b64(_CLIPS[0])]})
    requests.post(url + ":predict", json={"instances": [_b64(b"junk")]})
    page = requests.get(metrics_url).text
    ok = re.search(r':tensorflow:serving:request_count\{model_name="emotion",API="predict",entrypoint="REST",status="OK"\} (\d+)', page)
    invalid = re.search(r':tensorflow:serving:request_count\{model_name="emotion",API="predict",entrypoint="REST",'
                        r'status="INVALID_ARGUMENT"\} (\d+)', page)
    assert ok and int(ok.group(1)) >= 1 and invalid and int(invalid.group(1)) >= 1
    assert re.search(r':tensorflow:serving:request_latency_count\{model_name="emotion",API="predict",entrypoint="REST"\} \d+', page)


def test_requests_over_the_timeout_get_504_and_deadline_exceeded(tmp_path):
    fixture.push_version(tmp_path / "models", 1)
    with fixture.running_server(tmp_path / "models", rest_api_timeout_in_ms=1) as slow:
        url = f"http://127.0.0.1:{slow.rest_port}/v1/models/{fixture.MODEL_NAME}"
        answer = requests.post(url + ":predict", json={"instances": [_b64(clip) for clip in _CLIPS]})
        assert answer.status_code == 504 and answer.json() == {"error": "Deadline Exceeded"}
        assert requests.get(url).status_code == 200
        assert slow.metrics.request_count.value(fixture.MODEL_NAME, "predict", "REST", "DEADLINE_EXCEEDED") == 1


def test_concurrent_timeline_requests_of_different_lengths_each_get_their_own_answer_with_batching_on(url):
    # 8 kHz keeps the longest under the server's request limit; 5 s is three windows, 4 s two.
    recordings = [fixture.wav_clip(seconds=seconds, sample_rate=8000, seed=index)
                  for index, seconds in enumerate((5.0, 2.0, 4.0, 5.0, 0.5, 2.5))]

    def timeline(recording):
        answer = requests.post(url + ":predict", json={"signature_name": "timeline", "inputs": {"audio": [_b64(recording)]}})
        assert answer.status_code == 200, answer.text
        [prediction] = recording_predictions.from_outputs(answer.json()["outputs"])
        return prediction

    with concurrent.futures.ThreadPoolExecutor(len(recordings)) as pool:
        answers = list(pool.map(timeline, recordings))
    expected = fixture.reference_timeline(recordings)
    assert [len(answer.timeline) for answer in answers] == [3, 1, 2, 3, 1, 1]
    for answer, reference in zip(answers, expected):
        assert answer.overall.label == reference.overall.label
        assert [(w.start_seconds, w.end_seconds) for w in answer.timeline] == [(w.start_seconds, w.end_seconds) for w in reference.timeline]
        np.testing.assert_allclose(list(answer.overall.probabilities.values()), list(reference.overall.probabilities.values()),
                                   rtol=1e-6)

    # The row format gives each recording's padded rows and its window_count.
    rows = requests.post(url + ":predict", json={"signature_name": "timeline",
                                                 "instances": [{"audio": _b64(recording)} for recording in recordings[:2]]})
    assert rows.status_code == 200, rows.text
    assert [row["window_count"] for row in rows.json()["predictions"]] == [3, 1]
    assert rows.json()["predictions"][1]["label"] == [expected[1].timeline[0].label, "", ""]
