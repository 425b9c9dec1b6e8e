"""Runs the pipeline locally with TFX's LocalDagRunner.

Also the pipeline file for TFX's own CLI, configured by the file SER_PIPELINE_CONFIG names (./pipeline.yaml by
default), the file `ser pipeline run --config` and `ser pipeline compile --config` read:
  SER_PIPELINE_CONFIG=pipeline.yaml tfx pipeline create --engine local --pipeline_path pipeline/local_runner.py
  tfx run create --engine local --pipeline_name speech-emotion
"""
import speech_emotion  # noqa: F401  (selects Keras 2 before TFX imports TensorFlow)
from tfx import v1 as tfx

from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import config_file
from speech_emotion.pipeline import pipeline


def run(config: pipeline_config.PipelineConfig) -> None:
    tfx.orchestration.LocalDagRunner().run(pipeline.create_pipeline(config))


if __name__ == "__main__":
    run(config_file.from_environment())
