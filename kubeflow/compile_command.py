"""`ser pipeline compile --engine kubeflow`: writes the PipelineJob spec that Vertex AI Pipelines runs.

The pipeline is configured as `ser pipeline run`'s is (--config FILE and the same flags), so both run the same
components with the same settings; the corpora's paths are those the pipeline image sees (on Vertex AI, Cloud
Storage mounted under /gcs/BUCKET).
"""
import argparse
import typing

if typing.TYPE_CHECKING:
    from speech_emotion.pipeline import config as pipeline_config

KUBEFLOW_ENGINE = "kubeflow"
# What `docker build -f kubeflow/Dockerfile -t speech-emotion-tfx .` tags; Vertex AI needs a pushed image instead.
DEFAULT_IMAGE = "speech-emotion-tfx:latest"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=[KUBEFLOW_ENGINE], default=KUBEFLOW_ENGINE,
                        help="kubeflow: a Kubeflow Pipelines v2 spec, as Vertex AI Pipelines runs it")
    parser.add_argument("--output", required=True, metavar="FILE.json", help="where to write the pipeline spec")
    parser.add_argument("--image", default=DEFAULT_IMAGE,
                        help="the pipeline image every component runs in (kubeflow/Dockerfile), as pushed to a registry")


def run(args: argparse.Namespace, config: "pipeline_config.PipelineConfig") -> int:
    # Imported here: TFX takes seconds to import, and the parser is built for every `ser` command.
    from speech_emotion.kubeflow import runner
    from speech_emotion.pipeline import config as pipeline_config

    config = pipeline_config.resolved(config)
    runner.compile_pipeline(config, args.output, args.image)
    print(f"pipeline spec: {args.output} (image {args.image}, pipeline root {config.pipeline_root}, "
          f"{config.tuning.trials} tuning trials)")
    return 0
