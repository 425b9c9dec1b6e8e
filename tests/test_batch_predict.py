"""Batch prediction: Vertex-style JSON Lines and folder inputs through the Beam pipeline and a real SavedModel, on
the DirectRunner and on Beam's DaskRunner with a two-worker dask.distributed cluster started here."""
import argparse
import base64
import glob
import io
import json
import os
import re

import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow is imported)
import numpy as np
import pytest
import soundfile

import serving_model_fixture as fixture
from speech_emotion.data import taxonomy
from speech_emotion.serving import batch_inference
from speech_emotion.serving import batch_instances
from speech_emotion.serving import batch_pipeline
from speech_emotion.serving import batch_predict
from speech_emotion.serving import saved_model_predict

# A RIFF/WAVE header without chunks: it passes the client's WAV check, and the model rejects it.
BAD_WAV = b"RIFF\x04\x00\x00\x00WAVE"


def _clip(seed):
    return fixture.wav_clip(seconds=0.3, frequency=150.0 + 60.0 * seed, amplitude=0.2 + 0.1 * seed, seed=seed)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _read_records(output_dir, prefix):
    records = []
    for path in glob.glob(os.path.join(output_dir, prefix + "-*")):
        with open(path) as file:
            records.extend(json.loads(line) for line in file)
    return records


def _assert_prediction_matches(prediction, expected):
    """`expected`: the probabilities the SavedModel itself gives the clip."""
    assert list(prediction["probabilities"]) == list(fixture.EMOTIONS)
    np.testing.assert_allclose(list(prediction["probabilities"].values()), expected, rtol=1e-5, atol=1e-6)
    assert prediction["label"] == fixture.EMOTIONS[int(np.argmax(expected))]


@pytest.fixture(scope="module")
def model_base(tmp_path_factory):
    """A TF Serving base path; predictions must come from its latest version, which favours neutral."""
    base = tmp_path_factory.mktemp("model")
    fixture.push_version(base, 1, favoured_emotion=taxonomy.ANGRY)
    fixture.push_version(base, 2)
    return str(base)


@pytest.fixture(params=["DirectRunner", "DaskRunner"])
def beam_args(request):
    """Beam options for the engine the pipeline runs on."""
    if request.param == "DirectRunner":
        return []
    return request.getfixturevalue("dask_beam_args")


def test_handler_reruns_a_rejected_batch_clip_by_clip(model_base):
    handler = batch_inference.WavSignatureModelHandler(saved_model_predict.resolve_model_dir(model_base))
    long_recording = fixture.wav_clip(seconds=7.6, seed=4)
    clips = [_clip(0), BAD_WAV, long_recording]

    results = list(handler.run_inference(clips, handler.load_model()))

    assert [result.example for result in results] == clips
    _assert_prediction_matches(results[0].inference, fixture.reference_probabilities(clips[:1])[0])
    [window] = results[0].inference["timeline"]
    assert (window["start_seconds"], window["end_seconds"]) == (0.0, 0.3)
    assert window["probabilities"] == results[0].inference["probabilities"]  # one window: the overall answer is its
    # The long recording's answer is its timeline's: the mean of six overlapping windows.
    [expected] = fixture.reference_timeline([long_recording])
    assert results[2].inference == expected.to_batch_json()
    assert [(window["start_seconds"], window["end_seconds"]) for window in results[2].inference["timeline"]] == [(0.0, 3.0), (1.0, 4.0), (2.0, 5.0), (3.0, 6.0), (4.0, 7.0), (4.6, 7.6)]
    assert results[2].inference["duration_seconds"] == 7.6
    assert isinstance(results[1].inference, batch_instances.InstanceError)
    assert results[1].inference.status == "INVALID_ARGUMENT"
    assert "fmt chunk" in results[1].inference.message


def test_jsonl_input(model_base, tmp_path, beam_args):
    good = {seed: _clip(seed) for seed in range(4)}
    on_disk = tmp_path / "on_disk.wav"
    on_disk.write_bytes(good[3])
    lines = [json.dumps({"audio": {"b64": _b64(good[seed])}, "id": f"clip-{seed}", "speaker": seed}) for seed in range(3)]
    lines += [
        json.dumps({"uri": str(on_disk), "id": "by-uri"}),
        json.dumps({"uri": str(tmp_path / "missing.wav"), "id": "missing"}),
        json.dumps({"audio": {"b64": "not*base64"}, "id": "bad-base64"}),
        json.dumps({"audio": {"b64": _b64(BAD_WAV)}, "id": "bad-audio"}),
        json.dumps({"id": "no-audio"}),
        "{this is not json",
        "",
        "[1, 2]",
        " \t ",
    ]
    input_path = tmp_path / "instances.jsonl"
    input_path.write_text("\n".join(lines) + "\n")
    output_dir = str(tmp_path / "out")
    # One batch holds every clip, so the bad one shares a batch with good ones.
    config = batch_predict.BatchPredictConfig(model=model_base, input=str(input_path), output_dir=output_dir,
                                              min_batch_size=8, max_batch_size=8)

    summary = batch_pipeline.predict(config, beam_args)

    # Vertex's shards, nothing else (no temporary files); how many shards is the runner's choice.
    shards = [re.fullmatch(r"prediction\.(errors_stats|results)-(\d{5})-of-(\d{5})", name) for name in os.listdir(output_dir)]
    assert all(shards) and {shard[1] for shard in shards} == {"errors_stats", "results"}
    for kind in ("errors_stats", "results"):
        numbers = sorted((int(shard[2]), int(shard[3])) for shard in shards if shard[1] == kind)
        assert numbers == [(index, len(numbers)) for index in range(len(numbers))]
    results = _read_records(output_dir, batch_pipeline.RESULTS_PREFIX)
    errors = _read_records(output_dir, batch_pipeline.ERRORS_PREFIX)
    assert (summary.results, summary.errors) == (len(results), len(errors)) == (4, 6)
    assert summary.skipped_blank == 2
    assert summary.results + summary.errors + summary.skipped_blank == len(lines)

    by_id = {record["instance"]["id"]: record for record in results}
    assert sorted(by_id) == ["by-uri", "clip-0", "clip-1", "clip-2"]
    expected = fixture.reference_probabilities([good[seed] for seed in range(4)])
    for seed in range(3):
        assert by_id[f"clip-{seed}"]["instance"]["speaker"] == seed
        _assert_prediction_matches(by_id[f"clip-{seed}"]["prediction"], expected[seed])
    _assert_prediction_matches(by_id["by-uri"]["prediction"], expected[3])

    error_by_id = {record["instance"]["id"] if isinstance(record["instance"], dict) else record["instance"]: record["error"]
                   for record in errors}
    assert error_by_id["missing"]["status"] == "NOT_FOUND"
    assert error_by_id["bad-base64"]["status"] == "INVALID_ARGUMENT"
    assert error_by_id["bad-audio"]["status"] == "INVALID_ARGUMENT"
    assert "fmt chunk" in error_by_id["bad-audio"]["message"]
    assert error_by_id["no-audio"]["status"] == "INVALID_ARGUMENT"
    assert error_by_id["{this is not json"]["status"] == "INVALID_ARGUMENT"
    assert "JSON object" in error_by_id["[1, 2]"]["message"]


def test_folder_input_through_the_command(model_base, tmp_path, capsys):
    folder = tmp_path / "clips"
    (folder / "nested").mkdir(parents=True)
    clips = {"a.wav": _clip(0), "nested/b.wav": _clip(1)}
    for name, clip in clips.items():
        (folder / name).write_bytes(clip)
    # FLAC is decoded on the client and re-encoded as 16-bit WAV; lossless, so it predicts as the WAV it came from.
    samples, rate = soundfile.read(io.BytesIO(_clip(2)), dtype="float32")
    soundfile.write(str(folder / "c.flac"), samples, rate)
    (folder / "corrupt.flac").write_bytes(b"fLaC and then nothing sensible")
    # Below the model contract's lowest rate: a FLAC is refused on the client, a WAV by the model's graph.
    soundfile.write(str(folder / "low-rate.flac"), samples[:2000], 2000)
    soundfile.write(str(folder / "low-rate.wav"), samples[:2000], 2000, subtype="PCM_16")
    (folder / "notes.txt").write_text("not audio, not an instance")
    output_dir = tmp_path / "out"
    parser = argparse.ArgumentParser()
    batch_predict.add_arguments(parser)
    args = parser.parse_args(["--model", model_base, "--input", str(folder), "--output", str(output_dir),
                              "--beam-arg=--direct_num_workers=1"])

    assert batch_predict.run(args) == 1  # some instances failed
    assert json.loads(capsys.readouterr().out) == {"results": 3, "errors": 3, "skipped_blank": 0, "output_dir": str(output_dir)}

    results = {os.path.relpath(record["instance"]["uri"], folder): record["prediction"]
               for record in _read_records(output_dir, batch_pipeline.RESULTS_PREFIX)}
    errors = {os.path.relpath(record["instance"]["uri"], folder): record["error"]
              for record in _read_records(output_dir, batch_pipeline.ERRORS_PREFIX)}
    assert sorted(results) == ["a.wav", "c.flac", "nested/b.wav"]
    assert sorted(errors) == ["corrupt.flac", "low-rate.flac", "low-rate.wav"]
    assert {error["status"] for error in errors.values()} == {"INVALID_ARGUMENT"}
    assert "sample rate 2000 Hz is outside the supported 4000..192000 Hz" in errors["low-rate.flac"]["message"]
    assert re.search(r"sample rate .*outside the supported 4000\.\.192000 Hz", errors["low-rate.wav"]["message"])
    expected = fixture.reference_probabilities([clips["a.wav"], clips["nested/b.wav"], _clip(2)])
    _assert_prediction_matches(results["a.wav"], expected[0])
    _assert_prediction_matches(results["nested/b.wav"], expected[1])
    _assert_prediction_matches(results["c.flac"], expected[2])
    assert all(len(prediction["timeline"]) == 1 and prediction["duration_seconds"] == 0.3 for prediction in results.values())

    with pytest.raises(ValueError, match="already holds prediction files"):
        batch_predict.run(args)
