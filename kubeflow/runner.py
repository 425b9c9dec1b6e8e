"""Compiles the pipeline for Kubeflow Pipelines v2 and Vertex AI Pipelines with TFX's KubeflowV2DagRunner.

The pipeline is pipeline/pipeline.py's, as the local runner runs it; every component runs in the
pipeline image (kubeflow/Dockerfile). Also the pipeline file for TFX's own CLI, configured as
pipeline/local_runner.py is, by the file SER_PIPELINE_CONFIG names (./pipeline.yaml by default); SER_IMAGE
names the image and SER_PIPELINE_SPEC the spec file written:
  SER_PIPELINE_CONFIG=pipeline.yaml SER_IMAGE=REGION-docker.pkg.dev/PROJECT/REPOSITORY/speech-emotion-tfx:TAG \\
  tfx pipeline compile --engine vertex --pipeline_path kubeflow/runner.py
"""
import dataclasses
import os
import tempfile

import speech_emotion  # noqa: F401  (selects Keras 2 before TFX imports TensorFlow)
from tfx import v1 as tfx

from speech_emotion.kubeflow import compile_command
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import config_file
from speech_emotion.pipeline import pipeline

DEFAULT_SPEC_FILE = f"{pipeline_config.PIPELINE_NAME}_pipeline.json"


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


if __name__ == "__main__":
    compile_pipeline(config_file.from_environment(), os.environ.get("SER_PIPELINE_SPEC", DEFAULT_SPEC_FILE),
                     os.environ.get("SER_IMAGE", compile_command.DEFAULT_IMAGE))
