"""Compiling the pipeline for Kubeflow Pipelines v2 / Vertex AI Pipelines, and reading back the spec."""
import dataclasses
import json
import os
import pathlib
import subprocess
import sys

import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow is imported)
import pytest

pytest.importorskip("kfp.pipeline_spec", reason="TFX's KubeflowV2DagRunner needs the kfp-pipeline-spec package")

# After the skip, which spares importing TFX when the test cannot run.
from speech_emotion import cli  # noqa: E402
from speech_emotion.data import corpus_spec  # noqa: E402
from speech_emotion.data import ingest  # noqa: E402
from speech_emotion.data import synthetic  # noqa: E402
from speech_emotion.kubeflow import runner  # noqa: E402
from speech_emotion.pipeline import pipeline  # noqa: E402
from speech_emotion.trainer import preprocessing  # noqa: E402

RUNNER_FILE = pathlib.Path(__file__).resolve().parents[1] / "kubeflow" / "runner.py"
IMAGE = "europe-west4-docker.pkg.dev/project/ser/speech-emotion-tfx:test"
RESOLVER_ID = "latest_blessed_model_resolver"
# Kubeflow V2 splits the resolver node into one task per resolved channel.
RESOLVER_TASKS = (f"{RESOLVER_ID}-model-resolver", f"{RESOLVER_ID}-model-blessing-resolver")
COMPONENT_TASKS = ("AudioExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Trainer",
                   "Evaluator", "Pusher")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("ravdess")
    synthetic.write_corpus("ravdess", str(root), speakers=2, utterances_per_emotion=1, seed=0, seconds=0.3,
                           emotions=["neutral", "happy", "angry"])
    return str(root)


def _ingest_config(corpus_path):
    return ingest.IngestConfig(corpora=(corpus_spec.CorpusSpec.parse(f"ravdess={corpus_path}"),))


def _parameter(task, name):
    return task["inputs"]["parameters"][name]["runtimeValue"]["constantValue"]["stringValue"]


def test_spec_holds_every_component_running_in_the_image(corpus, tmp_path):
    config = runner.vertex_config("gs://bucket/ser", _ingest_config(corpus))
    spec_path = tmp_path / "spec.json"

    returned = runner.compile_pipeline(config, str(spec_path), IMAGE)

    spec = json.loads(spec_path.read_text())
    assert spec == returned
    pipeline_spec = spec["pipelineSpec"]
    assert pipeline_spec["pipelineInfo"]["name"] == "speech-emotion"
    assert spec["runtimeConfig"]["gcsOutputDirectory"] == "gs://bucket/ser/pipeline_root"
    tasks = pipeline_spec["root"]["dag"]["tasks"]
    assert set(COMPONENT_TASKS + RESOLVER_TASKS) <= set(tasks)
    # Whatever else pipeline.py holds (components added later) is compiled too.
    node_ids = {node.id for node in pipeline.create_pipeline(runner.vertex_config(str(tmp_path), config.ingest)).components}
    assert set(tasks) == (node_ids - {RESOLVER_ID}) | set(RESOLVER_TASKS)

    executors = pipeline_spec["deploymentSpec"]["executors"]
    containers = {name[: -len("_executor")]: executor["container"] for name, executor in executors.items()
                  if "container" in executor}
    assert set(containers) == set(tasks) - set(RESOLVER_TASKS)
    assert {container["image"] for container in containers.values()} == {IMAGE}
    example_gen_args = containers["AudioExampleGen"]["args"]
    assert example_gen_args[example_gen_args.index("--executor_class_path") + 1] == (
        "speech_emotion.components.audio_example_gen.executor.Executor")
    assert {"resolver"} == {key for name in RESOLVER_TASKS for key in executors[f"{name}_executor"]}

    assert {"Trainer", RESOLVER_TASKS[0]} <= set(tasks["Evaluator"]["dependentTasks"])
    # The Pusher reads the CrossCorpusGate's blessing, which folds in the Evaluator's.
    assert set(tasks["Pusher"]["dependentTasks"]) == {"CrossCorpusGate", "Trainer"}
    assert "Evaluator" in tasks["CrossCorpusGate"]["dependentTasks"]
    assert _parameter(tasks["Trainer"], "run_fn") == "speech_emotion.trainer.task.run_fn"
    assert json.loads(_parameter(tasks["Trainer"], "custom_config"))[preprocessing.EMOTIONS_KEY] == ["neutral", "happy", "angry"]
    assert json.loads(_parameter(tasks["AudioExampleGen"], "corpora"))[0]["path"] == corpus
    assert "gs://bucket/ser/serving_model/emotion" in _parameter(tasks["Pusher"], "push_destination")


def test_unlabelled_clips_add_bulk_inference_by_the_gated_model_and_prediction_files(corpus, tmp_path):
    config = dataclasses.replace(runner.vertex_config("gs://bucket/ser", _ingest_config(corpus)),
                                 unlabelled_clips="/gcs/bucket/new_clips")

    tasks = runner.compile_pipeline(config, str(tmp_path / "spec.json"), IMAGE)["pipelineSpec"]["root"]["dag"]["tasks"]

    assert set(tasks["BulkInferrer"]["dependentTasks"]) == {"UnlabelledExampleGen", "Trainer", "CrossCorpusGate"}
    assert set(tasks["BatchPredictionWriter"]["dependentTasks"]) == {"UnlabelledExampleGen", "BulkInferrer", "CrossCorpusGate"}
    assert json.loads(_parameter(tasks["UnlabelledExampleGen"], "corpora")) == [
        {"name": "unlabelled", "path": "/gcs/bucket/new_clips", "role": corpus_spec.UNLABELLED_ROLE}]
    assert _parameter(tasks["BatchPredictionWriter"], "output_dir") == "gs://bucket/ser/predictions"


def test_command_compiles_with_given_emotions_and_unreadable_corpora(tmp_path):
    spec_path = tmp_path / "vertex.json"

    # Corpora as the pipeline image sees them on Vertex AI: not readable on this machine.
    assert cli.main(["pipeline", "compile", "--engine", "kubeflow", "--output", str(spec_path), "--image", IMAGE,
                     "--workdir", "gs://bucket/cmd", "--emotions", "sad, neutral", "--corpus", "ravdess=/gcs/bucket/ravdess",
                     "--unlabelled-clips", "/gcs/bucket/new_clips"]) == 0

    tasks = json.loads(spec_path.read_text())["pipelineSpec"]["root"]["dag"]["tasks"]
    assert json.loads(_parameter(tasks["Trainer"], "custom_config"))[preprocessing.EMOTIONS_KEY] == ["neutral", "sad"]
    assert json.loads(_parameter(tasks["AudioExampleGen"], "corpora"))[0]["path"] == "/gcs/bucket/ravdess"
    assert json.loads(_parameter(tasks["UnlabelledExampleGen"], "corpora"))[0]["path"] == "/gcs/bucket/new_clips"


def test_tfx_cli_compiles_the_runner_file_from_the_environment(corpus, tmp_path):
    spec_path = tmp_path / "from_env.json"
    environment = dict(os.environ, SER_WORKDIR="gs://bucket/env", SER_CORPORA=f"ravdess={corpus}", SER_IMAGE=IMAGE,
                       SER_UNLABELLED_CLIPS="/gcs/bucket/new_clips", SER_PIPELINE_SPEC=str(spec_path),
                       # TFX's CLI looks for kfp in `pip freeze`: this environment's pip.
                       PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    environment.pop("SER_TEST_CORPORA", None)

    completed = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "tfx"), "pipeline", "compile", "--engine", "vertex",
         "--pipeline_path", str(RUNNER_FILE)],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300,
    )

    assert completed.returncode == 0 and "compiled successfully" in completed.stdout, completed.stdout + completed.stderr

    spec = json.loads(spec_path.read_text())
    assert spec["runtimeConfig"]["gcsOutputDirectory"] == "gs://bucket/env/pipeline_root"
    tasks = spec["pipelineSpec"]["root"]["dag"]["tasks"]
    assert json.loads(_parameter(tasks["UnlabelledExampleGen"], "corpora"))[0]["path"] == "/gcs/bucket/new_clips"
    images = {executor["container"]["image"] for executor in spec["pipelineSpec"]["deploymentSpec"]["executors"].values()
              if "container" in executor}
    assert images == {IMAGE}
