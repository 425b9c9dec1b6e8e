"""Compiles the pipeline for Kubeflow Pipelines v2 and Vertex AI Pipelines with TFX's KubeflowV2DagRunner.

The pipeline is pipeline/pipeline.py's, as the local runner runs it; every component runs in the
pipeline image (kubeflow/Dockerfile). Also the pipeline file for TFX's own CLI, configured through
the environment as pipeline/local_runner.py is, plus SER_IMAGE and SER_PIPELINE_SPEC:
  SER_WORKDIR=gs://BUCKET/ser SER_CORPORA="ravdess=/gcs/BUCKET/ravdess" \\
  SER_IMAGE=REGION-docker.pkg.dev/PROJECT/REPOSITORY/speech-emotion-tfx:TAG \\
  tfx pipeline compile --engine vertex --pipeline_path kubeflow/runner.py
"""
import dataclasses
import os
import tempfile
from typing import Optional, Sequence

import speech_emotion  # noqa: F401  (selects Keras 2 before TFX imports TensorFlow)
from tfx import v1 as tfx

from speech_emotion.data import ingest
from speech_emotion.data import taxonomy
from speech_emotion.kubeflow import compile_command
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import local_runner
from speech_emotion.pipeline import pipeline

DEFAULT_SPEC_FILE = f"{pipeline_config.PIPELINE_NAME}_pipeline.json"


def vertex_config(workdir: str, ingest_config: ingest.IngestConfig, emotions: Sequence[str] = (),
                  unlabelled_clips: Optional[str] = None) -> pipeline_config.PipelineConfig:
    """Like pipeline_config.make_config, for a cloud run: a gs:// workdir stays as given, and `emotions`
    (the model's classes), when given, spare reading the training corpora on this machine."""
    emotions = taxonomy.ordered(emotions) if emotions else pipeline_config.training_emotions(ingest_config.corpora)
    return pipeline_config.PipelineConfig(workdir=_workdir(workdir), ingest=ingest_config, emotions=emotions,
                                          unlabelled_clips=unlabelled_clips)


def _workdir(path: str) -> str:
    return path if "://" in path else os.path.abspath(path)


@dataclasses.dataclass(frozen=True)
class _KubeflowPipelineConfig(pipeline_config.PipelineConfig):
    """Kubeflow and Vertex AI keep ML metadata in their own store and ignore the pipeline's sqlite
    connection config, but create_pipeline makes that file's folder: keep it off a gs:// workdir."""

    @property
    def metadata_path(self) -> str:
        return os.path.join(tempfile.gettempdir(), "unused_by_kubeflow", "metadata.sqlite")


def compile_pipeline(config: pipeline_config.PipelineConfig, output_path: str, image: str) -> dict:
    """Writes the pipeline's Kubeflow V2 / Vertex AI PipelineJob spec as JSON to `output_path`; returns it."""
    experimental = tfx.orchestration.experimental
    if not hasattr(experimental, "KubeflowV2DagRunner"):
        raise RuntimeError("compiling for Kubeflow needs the kfp-pipeline-spec package (pip install kfp-pipeline-spec)")
    runner = experimental.KubeflowV2DagRunner(
        config=experimental.KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=os.path.dirname(output_path),  # "" is the working directory
        output_filename=os.path.basename(output_path),
    )
    fields = {field.name: getattr(config, field.name) for field in dataclasses.fields(config)}
    return runner.run(pipeline.create_pipeline(_KubeflowPipelineConfig(**fields)))


def config_from_environment(environ=os.environ) -> pipeline_config.PipelineConfig:
    config = local_runner.config_from_environment(environ)
    # The local runner makes the workdir an absolute local path, which would turn gs://BUCKET into one.
    return dataclasses.replace(config, workdir=_workdir(environ["SER_WORKDIR"]))


if __name__ == "__main__":
    compile_pipeline(config_from_environment(), os.environ.get("SER_PIPELINE_SPEC", DEFAULT_SPEC_FILE),
                     os.environ.get("SER_IMAGE", compile_command.DEFAULT_IMAGE))
