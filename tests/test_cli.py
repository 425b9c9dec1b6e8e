"""The `ser` command line: help and argument errors without TensorFlow, one-line errors, quiet pipeline runs."""
import io
import json
import os
import subprocess
import sys

import pytest
from absl import logging as absl_logging

from speech_emotion import cli
from speech_emotion.data import ingest
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import progress

_HEAVY_MODULES = ("tensorflow", "apache_beam", "tfx", "keras_tuner")
# Runs `ser` in a fresh interpreter and prints the heavy modules it imported.
_IMPORTS_OF_A_COMMAND = """
import json, sys
from speech_emotion import cli
try:
    code = cli.main(json.loads(sys.argv[1]))
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "imported": [name for name in %r if name in sys.modules]}))
""" % (_HEAVY_MODULES,)


def _imports_of(argv):
    completed = subprocess.run([sys.executable, "-c", _IMPORTS_OF_A_COMMAND, json.dumps(argv)],
                               capture_output=True, text=True, timeout=300)
    return json.loads(completed.stdout.strip().splitlines()[-1]), completed.stderr


@pytest.mark.parametrize("argv, code", [
    (["--help"], 0),
    (["predict", "--help"], 0),
    (["app", "--help"], 0),
    (["app", "--model-server", "nohostport"], 2),  # not HOST:PORT: ser app's one-line error
    (["pipeline", "run", "--help"], 0),
    (["pipeline", "run", "--workdir", "w", "--tuning-trials", "many"], 2),  # argparse's usage error
    (["pipeline", "config", "--print", "--workdir", "w", "--corpus", "ravdess=/data/ravdess"], 0),
    (["evaluate", "--help"], 0),
    (["no-such-command"], 2),
])
def test_help_and_argument_errors_import_no_tensorflow_beam_or_tfx(argv, code):
    result, stderr = _imports_of(argv)
    assert result == {"code": code, "imported": []}, stderr


def test_a_missing_file_is_one_line_naming_it(tmp_path):
    missing = str(tmp_path / "missing.wav")
    completed = subprocess.run([sys.executable, "-m", "speech_emotion.cli", "predict", missing, "--server", "127.0.0.1:9"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1
    assert completed.stderr.splitlines() == [f"ser: no such file: {missing}"]


def test_an_unreadable_file_is_one_line_naming_it_and_the_decoders_reasons(tmp_path):
    garbage = tmp_path / "song.mp3"
    garbage.write_bytes(b"\xff\xfb\x90\x00" + bytes(400))
    completed = subprocess.run([sys.executable, "-m", "speech_emotion.cli", "predict", str(garbage)],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1
    [line] = completed.stderr.splitlines()
    assert line.startswith(f"ser: cannot decode {garbage}: soundfile: ")


def test_a_user_error_is_one_line_and_v_adds_the_traceback(tmp_path, capfd, monkeypatch):
    # -v sets TF_CPP_MIN_LOG_LEVEL for the process; the other tests' subprocesses inherit the default again.
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    argv = ["report", "--corpus", "nosuchcorpus=/data", "--out", str(tmp_path)]
    assert cli.main(argv) == 2
    [line] = capfd.readouterr().err.splitlines()
    assert line.startswith("ser: ") and "nosuchcorpus" in line
    assert cli.main([*argv, "-v"]) == 2
    err = capfd.readouterr().err
    assert "Traceback (most recent call last)" in err and err.splitlines()[-1] == line


def _write_ingest_summary(config, execution_id):
    output = os.path.join(config.pipeline_root, "AudioExampleGen", "examples", str(execution_id))
    os.makedirs(output)
    summary = {"corpora": {"ravdess": {"quarantined": [{"path": "x.wav", "reason": "unreadable"}]}},
               "splits": {"train": {"examples": 8}, "eval": {"examples": 2}, "test": {"examples": 0}}}
    with open(os.path.join(output, ingest.SUMMARY_FILE), "w") as summary_file:
        json.dump(summary, summary_file)


def test_a_quiet_run_prints_a_line_per_component_and_logs_everything_else_to_the_work_directory(tmp_path):
    config = pipeline_config.PipelineConfig(workdir=str(tmp_path), ingest=ingest.IngestConfig(corpora=()), emotions=("sad", "angry"))
    terminal = io.StringIO()
    with progress.reported_run(config.workdir, verbose=False, terminal=terminal) as (run_progress, log_path):
        run_progress.config = config
        # What LocalDagRunner logs around a component, and the chatter a component makes, Python's and native.
        absl_logging.info("Component %s is running.", "AudioExampleGen")
        print("Epoch 1/20 - loss: 2.07")
        os.write(2, b"E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:479] Unable to register cuFFT factory\n")
        absl_logging.warning("a warning from Beam")
        _write_ingest_summary(config, 3)
        absl_logging.info("Component %s is finished.", "AudioExampleGen")
        absl_logging.info("Component %s is running.", "Transform")
        absl_logging.info("A cached execution %d is used.", 7)
        absl_logging.info("Component %s is finished.", "Transform")
    lines = terminal.getvalue().splitlines()
    assert lines[0] == f"Full logs: {log_path}" and os.path.dirname(log_path) == os.path.join(str(tmp_path), progress.LOGS_DIR)
    assert lines[1].split() == ["AudioExampleGen", "0s", "10", "clips", "(train", "8,", "eval", "2),", "1", "quarantined"]
    assert lines[2].split() == ["Transform", "0s", "(cached)"]
    assert len(lines) == 3
    with open(log_path) as log_file:
        log = log_file.read()
    for chatter in ("Epoch 1/20", "Unable to register cuFFT factory", "a warning from Beam", "Component Transform is running."):
        assert chatter in log


def test_a_failed_quiet_run_names_the_component_and_the_log(tmp_path):
    terminal = io.StringIO()
    with pytest.raises(ValueError, match="bad corpus"):
        with progress.reported_run(str(tmp_path), verbose=False, terminal=terminal) as (_, log_path):
            absl_logging.info("Component %s is running.", "Trainer")
            raise ValueError("bad corpus")
    assert terminal.getvalue().splitlines()[-1] == f"  Trainer failed after 0s; full log: {log_path}"
    with open(log_path) as log_file:
        assert "ValueError: bad corpus" in log_file.read()
