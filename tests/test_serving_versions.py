"""Model versions: half-written versions are never loaded, the version policy decides what is served,
labels name versions, and a newly pushed version takes over under load without one failed request."""
import base64
import os
import shutil
import threading
import time

import grpc
import serving_model_fixture as fixture

import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc
from tensorflow_serving.config import model_server_config_pb2
from google.protobuf import text_format

from speech_emotion.data import taxonomy
from speech_emotion.serving import dynamic_batching
from speech_emotion.serving import errors
from speech_emotion.serving import model_manager
from speech_emotion.serving import servable

_CLIP = fixture.wav_clip(seconds=0.5, seed=3)


class _CountingLoader:
    def __init__(self):
        self.loaded = []
        self._scheduler = dynamic_batching.UnbatchedScheduler(1)

    def __call__(self, source, version, path):
        self.loaded.append(version)
        return servable.Servable(source.name, version, path, self._scheduler)


def _manager(base, loader, **source_fields):
    source = model_manager.ModelSource(fixture.MODEL_NAME, str(base), **source_fields)
    return model_manager.ModelManager([source], loader, max_num_load_retries=1)


def _states(manager):
    return {status.version: status.state for status in manager.statuses(fixture.MODEL_NAME)}


def _write_partial_version(base, version, favoured_emotion):
    """Copies a version but only the first half of its saved_model.pb, as a copy in progress leaves it."""
    source = fixture.exported_model(favoured_emotion)
    target = base / str(version)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(servable.SAVED_MODEL_FILE))
    graph = open(os.path.join(source, servable.SAVED_MODEL_FILE), "rb").read()
    (target / servable.SAVED_MODEL_FILE).write_bytes(graph[:len(graph) // 2])
    return graph


def test_version_being_written_is_not_loaded_and_the_old_one_keeps_serving(tmp_path):
    base = tmp_path / "models"
    fixture.push_version(base, 1)
    loader = _CountingLoader()
    manager = _manager(base, loader)
    manager.poll()
    assert loader.loaded == [] and _states(manager) == {1: model_manager.START}  # files not yet seen twice
    manager.poll()
    assert loader.loaded == [1] and manager.servable(fixture.MODEL_NAME).version == 1

    graph = _write_partial_version(base, 2, taxonomy.ANGRY)
    manager.poll()
    assert loader.loaded == [1] and _states(manager)[2] == model_manager.START
    manager.poll()  # unchanged for a poll: a load is tried, fails, and version 1 stays
    manager.poll()
    manager.poll()  # max_num_load_retries=1: two attempts, then no more for these files
    assert loader.loaded == [1, 2, 2]
    status = {status.version: status for status in manager.statuses(fixture.MODEL_NAME)}[2]
    assert status.state == model_manager.END and "Failed to load version 2" in status.error
    assert manager.servable(fixture.MODEL_NAME).version == 1

    (base / "2" / servable.SAVED_MODEL_FILE).write_bytes(graph)  # the copy completes
    manager.poll()
    assert loader.loaded == [1, 2, 2]  # changed since the last poll: not yet
    manager.poll()
    assert loader.loaded == [1, 2, 2, 2]
    assert _states(manager) == {1: model_manager.END, 2: model_manager.AVAILABLE}
    assert manager.servable(fixture.MODEL_NAME).version == 2
    with pytest.raises(errors.ServingError) as raised:
        manager.servable(fixture.MODEL_NAME, version=1)
    assert raised.value.code == grpc.StatusCode.NOT_FOUND


def test_all_policy_serves_every_version_and_unloads_one_removed_from_disk(tmp_path):
    base = tmp_path / "models"
    for version in (1, 2):
        fixture.push_version(base, version)
    (base / "7").mkdir()  # no saved_model.pb: not a version
    (base / "tmp-upload").mkdir()
    manager = _manager(base, _CountingLoader(), policy=model_manager.VersionPolicy("all"))
    manager.poll()
    manager.poll()
    assert {manager.servable(fixture.MODEL_NAME, version=v).version for v in (1, 2)} == {1, 2}
    assert manager.servable(fixture.MODEL_NAME).version == 2
    shutil.rmtree(base / "1")
    manager.poll()
    assert _states(manager) == {1: model_manager.END, 2: model_manager.AVAILABLE}


def test_directories_not_named_by_an_int64_version_are_not_versions(tmp_path):
    base = tmp_path / "models"
    fixture.push_version(base, 1)
    for name in ("9" * 200, "9223372036854775808", "\u0663", "+2", "1e3"):  # "\u0663" is Arabic-Indic 3
        shutil.copytree(base / "1", base / name)
    fixture.push_version(base, 9223372036854775807)
    loader = _CountingLoader()
    manager = _manager(base, loader, policy=model_manager.VersionPolicy("all"))
    manager.poll()
    manager.poll()
    assert sorted(loader.loaded) == [1, 9223372036854775807]
    assert _states(manager) == {1: model_manager.AVAILABLE, 9223372036854775807: model_manager.AVAILABLE}


@pytest.mark.parametrize("text, version", [("0", 0), ("007", 7), ("0" * 5000 + "12", 12), ("9223372036854775807", 2**63 - 1),
                                           ("9223372036854775808", None), ("9" * 5000, None), ("-1", None), ("", None),
                                           ("\u0663", None), (" 1", None)])
def test_parse_version(text, version):
    assert model_manager.parse_version(text) == version


@pytest.mark.parametrize("policy, wanted", [
    ("", {5}),
    ("latest { num_versions: 2 }", {3, 5}),
    ("all {}", {1, 3, 5}),
    ("specific { versions: 1 versions: 4 }", {1}),
])
def test_version_policy_from_model_config(policy, wanted):
    config = text_format.Parse(f'name: "emotion" base_path: "/m" model_version_policy {{ {policy} }}',
                               model_server_config_pb2.ModelConfig())
    assert model_manager.ModelSource.from_proto(config).policy.wanted([1, 3, 5]) == wanted


def test_labels_name_versions_from_the_model_config_file(tmp_path):
    base = tmp_path / "models"
    fixture.push_version(base, 1, taxonomy.NEUTRAL)
    fixture.push_version(base, 2, taxonomy.ANGRY)
    config = tmp_path / "models.config"
    config.write_text(f'model_config_list {{ config {{ name: "emotion" base_path: "{base}" model_platform: "tensorflow" '
                      'model_version_policy { specific { versions: 1 versions: 2 } } '
                      'version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 } } }')
    with fixture.running_server(base, model_config_file=str(config), model_base_path="") as server:
        url = f"http://127.0.0.1:{server.rest_port}/v1/models/emotion"
        body = {"instances": [{"b64": base64.b64encode(_CLIP).decode()}]}
        assert requests.post(url + "/labels/stable:predict", json=body).json()["predictions"][0]["label"] == taxonomy.NEUTRAL
        assert requests.post(url + "/labels/canary:predict", json=body).json()["predictions"][0]["label"] == taxonomy.ANGRY
        assert requests.post(url + ":predict", json=body).json()["predictions"][0]["label"] == taxonomy.ANGRY
        assert requests.get(url + "/labels/stable/metadata").json()["model_spec"]["version"] == "1"
        assert requests.get(url + "/labels/beta").status_code == 400


def test_new_version_takes_over_under_concurrent_load_without_failures(tmp_path):
    base = tmp_path / "models"
    fixture.push_version(base, 1, taxonomy.NEUTRAL)
    fixture.exported_model(taxonomy.ANGRY)  # exported before the load starts, so the push is a plain copy
    with fixture.running_server(base, enable_batching=True) as server:
        labels = {}
        failures = []
        stop = threading.Event()

        def rest_client(name):
            session = requests.Session()
            body = {"instances": [{"b64": base64.b64encode(_CLIP).decode()}]}
            url = f"http://127.0.0.1:{server.rest_port}/v1/models/emotion:predict"
            while not stop.is_set():
                answer = session.post(url, json=body)
                if answer.status_code != 200:
                    failures.append(answer.text)
                else:
                    labels[name].append(answer.json()["predictions"][0]["label"])

        def grpc_client(name):
            with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
                stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
                request = predict_pb2.PredictRequest()
                request.model_spec.name = fixture.MODEL_NAME
                request.inputs["audio"].CopyFrom(tf.make_tensor_proto([_CLIP], dtype=tf.string))
                while not stop.is_set():
                    try:
                        response = stub.Predict(request, timeout=30)
                    except grpc.RpcError as error:
                        failures.append(error.details())
                        continue
                    labels[name].append(response.outputs["label"].string_val[0].decode())

        threads = []
        for index, client in enumerate([rest_client] * 4 + [grpc_client] * 2):
            labels[index] = []
            threads.append(threading.Thread(target=client, args=(index,)))
            threads[-1].start()
        time.sleep(0.5)
        fixture.push_version(base, 2, taxonomy.ANGRY)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(seen and seen[-1] == taxonomy.ANGRY for seen in labels.values()):
            time.sleep(0.1)
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
        status = requests.get(f"http://127.0.0.1:{server.rest_port}/v1/models/emotion").json()

    assert failures == []
    for seen in labels.values():
        assert seen[0] == taxonomy.NEUTRAL and seen[-1] == taxonomy.ANGRY
        switch = seen.index(taxonomy.ANGRY)
        assert set(seen[:switch]) == {taxonomy.NEUTRAL} and set(seen[switch:]) == {taxonomy.ANGRY}
    assert [(entry["version"], entry["state"]) for entry in status["model_version_status"]] == [("1", "END"), ("2", "AVAILABLE")]
