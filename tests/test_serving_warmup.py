"""Warm-up as TF Serving does it: a version's assets.extra/tf_serving_warmup_requests (TFRecord of
PredictionLogs) is replayed after loading and before the version serves; a malformed file fails that
version's load with a clear error while the server and the versions already loaded keep serving."""
import base64
import os
import time

import serving_model_fixture as fixture

import numpy as np
import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from speech_emotion.audio import wav
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import taxonomy
from speech_emotion.serving import model_manager
from speech_emotion.serving import warmup_requests

_CLIP = fixture.wav_clip(seconds=0.5, seed=5)


def _statuses(server):
    return {status.version: status for status in server._manager.statuses(fixture.MODEL_NAME)}


def _predict_label(server) -> str:
    answer = requests.post(f"http://127.0.0.1:{server.rest_port}/v1/models/{fixture.MODEL_NAME}:predict",
                           json={"instances": [{"b64": base64.b64encode(_CLIP).decode()}]}, timeout=30)
    answer.raise_for_status()
    return answer.json()["predictions"][0]["label"]


def test_exporter_requests_are_a_small_predict_classify_and_timeline_of_one_clip_of_the_clip_length(tmp_path):
    path = warmup_requests.write_audio_requests(str(tmp_path), DEFAULT_FEATURE_CONFIG)
    assert path == str(tmp_path / "assets.extra" / "tf_serving_warmup_requests")
    logs = warmup_requests.read_requests(str(tmp_path))
    assert [log.WhichOneof("log_type") for log in logs] == ["predict_log", "classify_log", "predict_log"]
    assert logs[0].predict_log.request.model_spec.signature_name == "serving_default"
    assert logs[1].classify_log.request.model_spec.signature_name == "classify"
    assert logs[2].predict_log.request.model_spec.signature_name == "timeline"
    assert logs[2].predict_log.request.inputs["audio"] == logs[0].predict_log.request.inputs["audio"]
    clip = tf.make_ndarray(logs[0].predict_log.request.inputs["audio"])[0]
    waveform, sample_rate = wav.decode_wav(tf.constant(clip))
    assert int(sample_rate) == DEFAULT_FEATURE_CONFIG.sample_rate
    assert waveform.shape[0] == DEFAULT_FEATURE_CONFIG.clip_samples
    assert 0.05 < float(tf.reduce_max(tf.abs(waveform))) < 1.0  # audible, not clipped
    example_clip = logs[1].classify_log.request.input.example_list.examples[0].features.feature["audio"].bytes_list.value[0]
    assert example_clip == clip
    assert (tmp_path / "assets.extra" / "tf_serving_warmup_requests").stat().st_size < 3 * len(clip) + 1024


def test_version_with_warmup_replays_it_through_the_model_before_it_is_available(tmp_path):
    base = tmp_path / "models"
    fixture.push_version(base, 1, warmup=True)
    with fixture.running_server(base, enable_batching=True) as server:
        # Available once start() returns, and both requests already ran the model, before any client request.
        assert _statuses(server)[1].state == model_manager.AVAILABLE
        metrics = server.metrics
        assert metrics.warmup_request_count.value(fixture.MODEL_NAME, "predict_log") == 2
        assert metrics.warmup_request_count.value(fixture.MODEL_NAME, "classify_log") == 1
        for signature in ("serving_default", "classify", "timeline"):
            assert sum(metrics.processed_batch_size.counts(fixture.MODEL_NAME, signature).values()) == 1
        warmup_path = warmup_requests.requests_path(str(base / "1"))
        assert sum(metrics.model_warmup_latency.counts(warmup_path, "OK").values()) == 1
        assert sum(metrics.request_count.value(fixture.MODEL_NAME, api, "REST", "OK") for api in ("predict", "classify")) == 0
        expected = fixture.reference_probabilities([_CLIP])
        assert _predict_label(server) == fixture.EMOTIONS[int(np.argmax(expected[0]))]


def _write_warmup_file(version_dir, content: bytes) -> None:
    path = warmup_requests.requests_path(str(version_dir))
    tf.io.gfile.makedirs(str(version_dir / "assets.extra"))
    with open(path, "wb") as warmup_file:
        warmup_file.write(content)


def _tfrecord(records, scratch_dir) -> bytes:
    path = os.path.join(scratch_dir, "records.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)
    with open(path, "rb") as records_file:
        return records_file.read()


def _failing_predict_log() -> bytes:
    log = prediction_log_pb2.PredictionLog()
    log.predict_log.request.inputs["wav"].CopyFrom(tf.make_tensor_proto([_CLIP], dtype=tf.string))
    return log.SerializeToString()


_MALFORMED = [
    ("not a TFRecord file", lambda scratch: b"this is not a TFRecord file, only text" * 4,
     "Please verify your warmup data is in TFRecord format"),
    ("a record that is no PredictionLog", lambda scratch: _tfrecord([b"\xff\xff\xff\xff not a proto"], scratch),
     "Failed to parse warmup record"),
    ("a request the model refuses", lambda scratch: _tfrecord([_failing_predict_log()], scratch),
     "Warm-up request 0 (predict_log) of"),
]


@pytest.mark.parametrize("what, content, message", _MALFORMED, ids=[row[0] for row in _MALFORMED])
def test_malformed_warmup_fails_that_version_only(tmp_path, what, content, message):
    base = tmp_path / "models"
    fixture.push_version(base, 1, taxonomy.NEUTRAL)
    with fixture.running_server(base, max_num_load_retries=0) as server:
        assert _predict_label(server) == taxonomy.NEUTRAL
        staged = fixture.push_version(tmp_path / "staging", 2, taxonomy.ANGRY)
        _write_warmup_file(tmp_path / "staging" / "2", content(str(tmp_path)))
        os.rename(staged, base / "2")  # as the Pusher: the version appears complete
        deadline = time.monotonic() + 30
        while 2 not in _statuses(server) or _statuses(server)[2].state != model_manager.END:
            assert time.monotonic() < deadline, _statuses(server)
            time.sleep(0.1)
        error = _statuses(server)[2].error
        assert "Failed to load version 2" in error and message in error, error
        assert "tf_serving_warmup_requests" in error
        status = requests.get(f"http://127.0.0.1:{server.rest_port}/v1/models/{fixture.MODEL_NAME}/versions/2", timeout=10)
        assert status.json()["model_version_status"][0]["status"]["error_message"] == error
        assert _predict_label(server) == taxonomy.NEUTRAL  # version 1 keeps serving
        assert server.metrics.warmup_request_count.value(fixture.MODEL_NAME, "predict_log") == 0
