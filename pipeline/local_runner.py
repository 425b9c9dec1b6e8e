"""Runs the pipeline locally with TFX's LocalDagRunner.

Also the pipeline file for TFX's own CLI, configured through the environment:
  SER_WORKDIR=DIR SER_CORPORA="ravdess=/data/ravdess,tess=/data/tess" SER_TEST_CORPORA="emodb=/data/emodb" \\
  SER_UNLABELLED_CLIPS=/data/new_clips SER_EVAL_SPEAKERS="ravdess:15,ravdess:16" SER_TEST_SPEAKERS="ravdess:17" \\
  tfx pipeline create --engine local --pipeline_path pipeline/local_runner.py
  tfx run create --engine local --pipeline_name speech-emotion
"""
import os

import speech_emotion  # noqa: F401  (selects Keras 2 before TFX imports TensorFlow)
from tfx import v1 as tfx

from speech_emotion.data import corpus_spec
from speech_emotion.data import ingest
from speech_emotion.data import splits
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import pipeline


def run(config: pipeline_config.PipelineConfig) -> None:
    tfx.orchestration.LocalDagRunner().run(pipeline.create_pipeline(config))


def config_from_environment(environ=os.environ) -> pipeline_config.PipelineConfig:
    def corpora(variable, role):
        return [corpus_spec.CorpusSpec.parse(item, role) for item in environ.get(variable, "").split(",") if item.strip()]

    if "SER_WORKDIR" not in environ or not environ.get("SER_CORPORA"):
        raise ValueError("set SER_WORKDIR and SER_CORPORA (NAME=PATH,...) to run this pipeline file")
    specs = corpora("SER_CORPORA", corpus_spec.TRAIN_ROLE) + corpora("SER_TEST_CORPORA", corpus_spec.TEST_ROLE)
    split_config = splits.SplitConfig(eval_speakers=splits.speaker_list(environ.get("SER_EVAL_SPEAKERS", "")),
                                      test_speakers=splits.speaker_list(environ.get("SER_TEST_SPEAKERS", "")))
    return pipeline_config.make_config(environ["SER_WORKDIR"], ingest.IngestConfig(corpora=tuple(specs), split=split_config),
                                       unlabelled_clips=environ.get("SER_UNLABELLED_CLIPS") or None)


if __name__ == "__main__":
    run(config_from_environment())
