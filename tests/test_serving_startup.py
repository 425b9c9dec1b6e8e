"""Starting `ser serve` wrong: a port in use or a missing base path ends the command with one line naming
what is wrong (no traceback); a base path one level off is reported once, in TF Serving's words with
what the path holds instead, and the server starts serving once a version lands there."""
import base64
import logging
import os
import shutil
import socket
import subprocess
import sys
import time

import serving_model_fixture as fixture

import pytest
import requests

_NO_VERSIONS = "No versions of servable emotion found under base path {}. Did you forget to name your leaf directory as a number (eg. '/1/')?"


def _serve(*flags) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "speech_emotion.serving.model_server", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _assert_one_line_error(command: subprocess.Popen, *parts: str) -> None:
    _, stderr = command.communicate(timeout=300)
    assert command.returncode == 1, stderr
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if "ser serve: error:" in line]
    assert len(errors) == 1, stderr
    for part in parts:
        assert part in errors[0]
    assert stderr.rstrip().endswith(errors[0])


@pytest.fixture(scope="module")
def base_path(tmp_path_factory):
    base = tmp_path_factory.mktemp("startup") / "models"
    fixture.push_version(base, 1)
    return base


@pytest.fixture
def taken_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_rest_port_in_use_or_a_missing_base_path_ends_the_command_with_one_line(base_path, taken_port, tmp_path):
    missing = tmp_path / "no_such_folder"
    # Both at once: each command spends most of its time importing TensorFlow.
    port_in_use = _serve(f"--model_base_path={base_path}", "--port=0", f"--rest_api_port={taken_port}")
    no_base_path = _serve(f"--model_base_path={missing}", "--port=0", f"--rest_api_port={fixture.free_port()}")
    _assert_one_line_error(port_in_use, f"127.0.0.1:{taken_port}", "--rest_api_port", "Address already in use")
    _assert_one_line_error(no_base_path, f"Could not find base path {missing} for servable default")


def test_a_grpc_port_held_by_another_server_is_refused(base_path):
    # gRPC servers share a port by default (SO_REUSEPORT): the second must fail, not split the traffic.
    with fixture.running_server(base_path, rest_api_port=0) as first:
        with pytest.raises(OSError, match=f"cannot bind gRPC to 127.0.0.1:{first.grpc_port} \\(--port\\)"):
            with fixture.running_server(base_path, port=first.grpc_port):
                pass


def _wait_for_polls(seconds: float = 0.6) -> None:
    time.sleep(seconds)  # several polls at the fixture's 0.1 s


def _logged(caplog, level):
    return [record.getMessage() for record in caplog.records if record.levelno == level]


def test_a_base_path_one_level_too_deep_is_reported_once(base_path, caplog):
    version_folder = base_path / "1"
    caplog.set_level(logging.INFO)
    with fixture.running_server(version_folder) as server:
        _wait_for_polls()
        url = f"http://127.0.0.1:{server.rest_port}/v1/models/{fixture.MODEL_NAME}"
        assert requests.post(url + ":predict", json={"instances": []}).status_code == 404
    assert _logged(caplog, logging.WARNING) == [
        _NO_VERSIONS.format(version_folder)
        + f" {version_folder} is a version folder itself: give its parent, {base_path}, as the base path."]


def test_a_base_path_one_level_too_high_is_reported_once_then_served_when_a_version_lands(base_path, tmp_path, caplog):
    root = tmp_path / "serving_model"
    shutil.copytree(base_path, root / "emotion")
    (root / "2").mkdir()  # a numbered folder without a model
    caplog.set_level(logging.INFO)
    with fixture.running_server(root) as server:
        _wait_for_polls()
        assert _logged(caplog, logging.WARNING) == [
            _NO_VERSIONS.format(root) + " Numbered folders without a saved_model.pb: 2."]
        shutil.rmtree(root / "2")
        _wait_for_polls()
        assert _logged(caplog, logging.WARNING)[1:] == [
            _NO_VERSIONS.format(root) + f" Versions were found one level down, under {root / 'emotion'}."]
        fixture.push_version(root, 3)
        deadline = time.monotonic() + 30
        url = f"http://127.0.0.1:{server.rest_port}/v1/models/{fixture.MODEL_NAME}"
        while requests.get(url).json().get("model_version_status", [{}])[0].get("state") != "AVAILABLE":
            assert time.monotonic() < deadline, "version 3 was never loaded"
            time.sleep(0.1)
    assert len(_logged(caplog, logging.WARNING)) == 2


def test_a_base_path_removed_while_serving_is_reported_once_and_the_loaded_version_keeps_serving(base_path, tmp_path, caplog):
    base = tmp_path / "models"
    shutil.copytree(base_path, base)
    clip = fixture.wav_clip(seconds=0.3)
    caplog.set_level(logging.INFO)
    with fixture.running_server(base) as server:
        shutil.move(str(base), str(tmp_path / "moved"))
        _wait_for_polls()
        url = f"http://127.0.0.1:{server.rest_port}/v1/models/{fixture.MODEL_NAME}:predict"
        answer = requests.post(url, json={"instances": [{"b64": base64.b64encode(clip).decode()}]})
        assert answer.status_code == 200
    assert _logged(caplog, logging.ERROR) == [f"Could not find base path {base} for servable {fixture.MODEL_NAME}"]
    assert not os.path.exists(base)
