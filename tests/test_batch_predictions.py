"""BatchPredictionWriter on what TFX's BulkInferrer executor writes for a folder of unlabelled clips."""
import glob
import json
import os
import shutil

import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import json_format
from tfx.components.bulk_inferrer import executor as bulk_inferrer_executor
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import bulk_inferrer_pb2
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import standard_artifacts
from tfx.utils import path_utils

import serving_model_fixture
from speech_emotion.components.batch_predictions import executor
from speech_emotion.components.batch_predictions import predictions
from speech_emotion.components.batch_predictions.component import BatchPredictions
from speech_emotion.data import corpus_spec
from speech_emotion.data import example_features
from speech_emotion.data import ingest
from speech_emotion.data import splits
from speech_emotion.data import synthetic
from speech_emotion.data import taxonomy
from speech_emotion.serving import batch_pipeline

BEAM_ARGS = ["--direct_running_mode=in_memory"]
EMOTIONS = (taxonomy.NEUTRAL, taxonomy.ANGRY, taxonomy.SAD)


def _context(root):
    return base_beam_executor.BaseBeamExecutor.Context(beam_pipeline_args=BEAM_ARGS, tmp_dir=os.path.join(root, "tmp"))


def _artifact(artifact_type, uri):
    artifact = artifact_type()
    artifact.uri = str(uri)
    os.makedirs(artifact.uri, exist_ok=True)
    return artifact


def _blessing(root, blessed: bool):
    blessing = _artifact(standard_artifacts.ModelBlessing, os.path.join(root, f"blessing_{blessed}"))
    blessing.set_int_custom_property("blessed", int(blessed))
    return blessing


def _bulk_infer(root, name, examples, model, blessing):
    inference_result = _artifact(standard_artifacts.InferenceResult, os.path.join(root, name))
    exec_properties = {
        "data_spec": json_format.MessageToJson(bulk_inferrer_pb2.DataSpec(example_splits=[splits.UNLABELLED])),
        "model_spec": json_format.MessageToJson(bulk_inferrer_pb2.ModelSpec(model_signature_name=[predictions.SIGNATURE_NAME])),
    }
    bulk_inferrer_executor.Executor(_context(root)).Do(
        {"examples": [examples], "model": [model], "model_blessing": [blessing]},
        {"inference_result": [inference_result]}, exec_properties)
    return inference_result


def _write_predictions(root, name, examples, inference_result, blessing, output_dir):
    output = _artifact(BatchPredictions, os.path.join(root, name))
    executor.Executor(_context(root)).Do(
        {executor.EXAMPLES_KEY: [examples], executor.INFERENCE_RESULT_KEY: [inference_result],
         executor.MODEL_BLESSING_KEY: [blessing]},
        {executor.PREDICTIONS_KEY: [output]}, {executor.OUTPUT_DIR_KEY: output_dir})
    return output


def _lines(folder, prefix):
    paths = sorted(glob.glob(os.path.join(folder, f"{prefix}-*")))
    return [json.loads(line) for path in paths for line in open(path)]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("batch_predictions"))
    clips_dir = os.path.join(root, "clips")
    clips = synthetic.write_corpus("unlabelled", clips_dir, speakers=2, utterances_per_emotion=1, seed=3,
                                   seconds=0.6, emotions=EMOTIONS)
    copy = os.path.join(clips_dir, "zz_copy_of_first.wav")
    shutil.copyfile(clips[0], copy)
    long = os.path.join(clips_dir, "long.wav")
    with open(long, "wb") as long_file:
        long_file.write(serving_model_fixture.wav_clip(seconds=7.0, seed=5))
    broken = os.path.join(clips_dir, "broken.wav")
    with open(broken, "wb") as broken_file:
        broken_file.write(bytes(np.random.default_rng(1).integers(0, 256, size=3000, dtype=np.uint8)))

    clips_spec = corpus_spec.CorpusSpec("unlabelled", clips_dir, corpus_spec.UNLABELLED_ROLE)
    examples = _artifact(standard_artifacts.Examples, os.path.join(root, "examples"))
    ingest.run(ingest.IngestConfig(corpora=(clips_spec,)), examples.uri, BEAM_ARGS)
    examples.split_names = artifact_utils.encode_split_names([splits.UNLABELLED])
    examples_utils.set_payload_format(examples, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)

    model = _artifact(standard_artifacts.Model, os.path.join(root, "model"))
    shutil.copytree(serving_model_fixture.exported_model(),
                    path_utils.serving_model_dir(model.uri, path_utils.is_old_model_artifact(model)))

    output_dir = os.path.join(root, "workdir_predictions")
    os.makedirs(output_dir)
    with open(os.path.join(output_dir, f"{batch_pipeline.RESULTS_PREFIX}-00000-of-00002"), "w") as stale:
        stale.write('{"left over": "from an earlier run"}\n')

    blessed, not_blessed = _blessing(root, True), _blessing(root, False)
    written = _write_predictions(root, "blessed", examples, _bulk_infer(root, "inferred", examples, model, blessed), blessed, output_dir)
    refused = _write_predictions(root, "not_blessed", examples, _bulk_infer(root, "not_inferred", examples, model, not_blessed),
                                 not_blessed, "")
    return dict(clips=clips, copy=copy, long=long, broken=broken, examples=examples, written=written, refused=refused,
                output_dir=output_dir)


def _ingested_audio(examples):
    files = glob.glob(os.path.join(ingest.split_dir(examples.uri, splits.UNLABELLED), "*"))
    audio = {}
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        example = tf.train.Example.FromString(record.numpy())
        features = example.features.feature
        audio[features[example_features.SOURCE_PATH].bytes_list.value[0].decode()] = features[
            example_features.AUDIO].bytes_list.value[0]
    return audio


def test_every_clip_gets_the_models_prediction_or_an_error(run):
    results = _lines(run["written"].uri, batch_pipeline.RESULTS_PREFIX)
    errors = _lines(run["written"].uri, batch_pipeline.ERRORS_PREFIX)
    inputs = run["clips"] + [run["copy"], run["long"], run["broken"]]
    assert sorted(line["instance"]["uri"] for line in results + errors) == sorted(inputs)
    assert run["written"].get_int_custom_property("results") == len(results) == len(inputs) - 1
    assert run["written"].get_int_custom_property("errors") == len(errors) == 1

    (error,) = errors
    assert error["instance"] == {"uri": run["broken"]}
    assert error["error"]["status"] == "INVALID_ARGUMENT" and "unreadable" in error["error"]["message"]

    # Each prediction is the model's timeline and overall answer for the ingested audio of the clip.
    audio = _ingested_audio(run["examples"])
    by_uri = {line["instance"]["uri"]: line for line in results}
    kept = sorted(audio)
    expected = serving_model_fixture.reference_timeline([audio[uri] for uri in kept])
    for uri, reference in zip(kept, expected):
        prediction = by_uri[uri]["prediction"]
        assert list(prediction["probabilities"]) == list(serving_model_fixture.EMOTIONS)
        np.testing.assert_allclose(list(prediction["probabilities"].values()), list(reference.overall.probabilities.values()),
                                   rtol=1e-5, atol=1e-6)
        assert prediction["label"] == reference.overall.label
        assert prediction["timeline"] == reference.to_batch_json()["timeline"]
        assert by_uri[uri]["instance"][example_features.DURATION_SECONDS] == pytest.approx(prediction["duration_seconds"], abs=0.01)
    assert [(window["start_seconds"], window["end_seconds"]) for window in by_uri[run["long"]]["prediction"]["timeline"]] == [
        (0.0, 3.0), (1.0, 4.0), (2.0, 5.0), (3.0, 6.0), (4.0, 7.0)]  # a window every second, the last ending with the clip
    # A clip shorter than a window is answered as serving_default answers it.
    for uri in run["clips"]:
        [reference] = serving_model_fixture.reference_probabilities([audio[uri]])
        np.testing.assert_allclose(list(by_uri[uri]["prediction"]["probabilities"].values()), reference, rtol=1e-6)
        assert by_uri[uri]["instance"]["speaker"].startswith("unlabelled:")


def test_an_identical_copy_gets_the_prediction_of_the_clip_ingestion_kept(run):
    results = {line["instance"]["uri"]: line for line in _lines(run["written"].uri, batch_pipeline.RESULTS_PREFIX)}
    copy = results[run["copy"]]
    assert copy["instance"] == {"uri": run["copy"], predictions.DUPLICATE_OF: run["clips"][0]}
    assert copy["prediction"] == results[run["clips"][0]]["prediction"]


def test_files_are_copied_to_the_output_dir_replacing_an_earlier_runs(run):
    names = sorted(os.listdir(run["output_dir"]))
    assert names == sorted(os.listdir(run["written"].uri))
    assert names == [f"{batch_pipeline.ERRORS_PREFIX}-00000-of-00001", f"{batch_pipeline.RESULTS_PREFIX}-00000-of-00001"]
    for name in names:
        with open(os.path.join(run["output_dir"], name)) as copied, open(os.path.join(run["written"].uri, name)) as original:
            assert copied.read() == original.read()


def test_without_a_blessed_model_every_clip_is_an_error(run):
    errors = _lines(run["refused"].uri, batch_pipeline.ERRORS_PREFIX)
    assert _lines(run["refused"].uri, batch_pipeline.RESULTS_PREFIX) == []
    assert sorted(line["instance"]["uri"] for line in errors) == sorted(run["clips"] + [run["copy"], run["long"], run["broken"]])
    statuses = {line["instance"]["uri"]: line["error"]["status"] for line in errors}
    assert statuses.pop(run["broken"]) == "INVALID_ARGUMENT"
    assert set(statuses.values()) == {"FAILED_PRECONDITION"}


def test_prediction_of_rejects_logs_of_another_signature():
    from tensorflow_serving.apis import prediction_log_pb2

    with pytest.raises(ValueError, match="timeline_examples"):
        predictions.prediction_of(prediction_log_pb2.PredictionLog(regress_log=prediction_log_pb2.RegressLog()))
