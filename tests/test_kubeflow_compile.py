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
from speech_emotion.data import ingest_config  # noqa: E402
from speech_emotion.data import synthetic  # noqa: E402
from speech_emotion.kubeflow import runner  # noqa: E402
from speech_emotion.pipeline import config as pipeline_config  # noqa: E402
from speech_emotion.pipeline import config_file  # noqa: E402
from speech_emotion.pipeline import pipeline  # noqa: E402
from speech_emotion.trainer import preprocessing  # noqa: E402
from speech_emotion.trainer import task  # noqa: E402

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


def _config(workdir, corpus_path, **fields):
    return pipeline_config.resolved(pipeline_config.PipelineConfig(
        workdir=workdir, ingest=ingest_config.IngestConfig(corpora=(corpus_spec.CorpusSpec.parse(f"ravdess={corpus_path}"),)),
        **fields))


def _parameter(task, name):
    return task["inputs"]["parameters"][name]["runtimeValue"]["constantValue"]["stringValue"]


def test_spec_holds_every_component_running_in_the_image(corpus, tmp_path):
    config = _config("gs://bucket/ser", corpus)
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
    node_ids = {node.id for node in pipeline.create_pipeline(dataclasses.replace(config, workdir=str(tmp_path))).components}
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
    config = _config("gs://bucket/ser", corpus, unlabelled_clips="/gcs/bucket/new_clips")

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


def test_tfx_cli_compiles_the_runner_file_from_the_configuration_file(corpus, tmp_path):
    spec_path = tmp_path / "from_env.json"
    config_path = tmp_path / "pipeline.yaml"
    config_path.write_text(f"workdir: gs://bucket/env\nunlabelled_clips: /gcs/bucket/new_clips\n"
                           f"ingest: {{corpora: [{{name: ravdess, path: {corpus}}}]}}\n")
    environment = dict(os.environ, **{config_file.ENVIRONMENT_VARIABLE: str(config_path)}, SER_IMAGE=IMAGE, SER_PIPELINE_SPEC=str(spec_path),
                       # TFX's CLI looks for kfp in `pip freeze`: this environment's pip.
                       PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))

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


SAME_PIPELINE = """\
ingest:
  corpora: [{{name: ravdess, path: {corpus}}}]
  split: {{eval_speakers: ["ravdess:01"]}}
tuning: {{trials: 3, max_epochs: 4, algorithm: bayesian, architectures: [cnn, cnn_gru]}}
training: {{epochs: 6, ensemble_architectures: [cnn_bilstm]}}
augmentation: {{copies_per_clip: 1, target_examples: 0}}
blessing: {{min_unweighted_accuracy: 0.4, min_cross_corpus_unweighted_accuracy: 0.25}}
"""


def _kubeflow_value(parameter):
    [(kind, value)] = parameter["runtimeValue"]["constantValue"].items()
    return {"intValue": int, "doubleValue": float, "stringValue": str}[kind](value)


def test_one_configuration_file_compiles_for_vertex_the_pipeline_every_local_runner_runs(corpus, tmp_path, monkeypatch):
    config_path = tmp_path / "pipeline.yaml"
    config_path.write_text(SAME_PIPELINE.format(corpus=corpus))
    spec_path = tmp_path / "vertex.json"
    # One work directory for both: the local pipeline writes its metadata folder, which gs:// would not take.
    workdir = ["--workdir", str(tmp_path / "work")]
    monkeypatch.chdir(tmp_path)
    (tmp_path / config_file.DEFAULT_PATH).write_text(f"workdir: {tmp_path / 'work'}\n" + SAME_PIPELINE.format(corpus=corpus))

    assert cli.main(["pipeline", "compile", "--config", str(config_path), *workdir, "--output", str(spec_path), "--image", IMAGE]) == 0
    tasks = json.loads(spec_path.read_text())["pipelineSpec"]["root"]["dag"]["tasks"]
    # `ser pipeline run`'s configuration, and the tfx CLI's (pipeline/local_runner.py and kubeflow/runner.py read ./pipeline.yaml).
    run_config = pipeline_config.resolved(cli._pipeline_config(cli.build_parser().parse_args(
        ["pipeline", "run", "--config", str(config_path), *workdir])))
    assert config_file.from_environment({}) == run_config
    local = pipeline.create_pipeline(run_config).components

    def task_ids(node_id):
        return set(RESOLVER_TASKS) if node_id == RESOLVER_ID else {node_id}

    assert [node.id for node in local] == [
        "AudioExampleGen", RESOLVER_ID, "AudioAugmentation", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform",
        "Tuner", "Trainer", "Evaluator", "CrossCorpusGate", "Pusher"]
    assert set(tasks) == set().union(*(task_ids(node.id) for node in local))
    for position, node in enumerate(local):
        upstream = {upstream.id for upstream in node.upstream_nodes}
        # The local order is one Vertex may run them in, and both have the same edges.
        assert upstream <= {earlier.id for earlier in local[:position]}
        for task_id in task_ids(node.id):
            dependencies = tasks[task_id].get("dependentTasks", [])
            assert {RESOLVER_ID if name in RESOLVER_TASKS else name for name in dependencies} == upstream, task_id
        if node.id != RESOLVER_ID:
            compiled = {name: _kubeflow_value(value) for name, value in tasks[node.id]["inputs"]["parameters"].items()}
            assert compiled == {name: value for name, value in node.exec_properties.items() if value is not None}, node.id

    def custom_config(task, key):
        return json.loads(json.loads(_parameter(tasks[task], "custom_config"))[key])

    assert custom_config("Tuner", task.TUNING_CONFIG_KEY) == {
        "trials": 3, "max_epochs": 4, "max_epoch_examples": 3000, "algorithm": "bayesian", "architectures": ["cnn", "cnn_gru"],
        "seed": 0}
    assert custom_config("Trainer", task.TUNING_CONFIG_KEY)["trials"] == 3
    training = custom_config("Trainer", task.TRAINING_CONFIG_KEY)
    assert (training["epochs"], training["ensemble_architectures"]) == (6, ["cnn_bilstm"])
    augmentation = json.loads(_parameter(tasks["AudioAugmentation"], "config"))
    assert (augmentation["copies_per_clip"], augmentation["target_examples"]) == (1, 0)
    assert json.loads(_parameter(tasks["AudioExampleGen"], "split_config"))["eval_speakers"] == ["ravdess:01"]
    assert _kubeflow_value(tasks["CrossCorpusGate"]["inputs"]["parameters"]["min_unweighted_accuracy"]) == 0.25
    [gated] = [metric for spec in json.loads(_parameter(tasks["Evaluator"], "eval_config"))["metrics_specs"]
               for metric in spec["metrics"] if "per_slice_thresholds" in metric]
    assert gated["per_slice_thresholds"][0]["threshold"]["value_threshold"]["lower_bound"] == 0.4


def test_augmentation_beam_args_reach_that_stage_alone(corpus, tmp_path):
    dask = ("--runner=apache_beam.runners.dask.dask_runner.DaskRunner", "--dask_client_address=scheduler:8786")
    config = _config("gs://bucket/ser", corpus, augmentation_beam_pipeline_args=dask)

    spec = runner.compile_pipeline(config, str(tmp_path / "spec.json"), IMAGE)

    executors = spec["pipelineSpec"]["deploymentSpec"]["executors"]
    arguments = {name[: -len("_executor")]: " ".join(executor["container"]["args"]) for name, executor in executors.items()
                 if "container" in executor}
    assert all(option in arguments["AudioAugmentation"] for option in (*config.beam_pipeline_args, *dask))
    assert [name for name, text in arguments.items() if "dask" in text.lower()] == ["AudioAugmentation"]
