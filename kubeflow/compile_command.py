"""`ser pipeline compile --engine kubeflow`: writes the PipelineJob spec that Vertex AI Pipelines runs.

The corpora come from the same flags as `ser pipeline run`; their paths are those the pipeline
image sees (on Vertex AI, Cloud Storage mounted under /gcs/BUCKET).
"""
import argparse
import typing

if typing.TYPE_CHECKING:
    from speech_emotion.data import ingest

KUBEFLOW_ENGINE = "kubeflow"
# What `docker build -f kubeflow/Dockerfile -t speech-emotion-tfx .` tags; Vertex AI needs a pushed image instead.
DEFAULT_IMAGE = "speech-emotion-tfx:latest"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=[KUBEFLOW_ENGINE], default=KUBEFLOW_ENGINE,
                        help="kubeflow: a Kubeflow Pipelines v2 spec, as Vertex AI Pipelines runs it")
    parser.add_argument("--output", required=True, metavar="FILE.json", help="where to write the pipeline spec")
    parser.add_argument("--image", default=DEFAULT_IMAGE,
                        help="the pipeline image every component runs in (kubeflow/Dockerfile), as pushed to a registry")
    parser.add_argument("--workdir", default="workdir/kubeflow",
                        help="pipeline root, metadata and pushed models; gs://BUCKET/PATH for Vertex AI")
    parser.add_argument("--emotions", default="", metavar="EMOTION,...",
                        help="the model's classes; given, the training corpora need not be readable here")


def run(args: argparse.Namespace, ingest_config: "ingest.IngestConfig") -> int:
    # Imported here: TFX takes seconds to import, and the parser is built for every `ser` command.
    from speech_emotion.kubeflow import runner

    emotions = [emotion.strip() for emotion in args.emotions.split(",") if emotion.strip()]
    config = runner.vertex_config(args.workdir, ingest_config, emotions, args.unlabelled_clips)
    runner.compile_pipeline(config, args.output, args.image)
    print(f"pipeline spec: {args.output} (image {args.image}, pipeline root {config.pipeline_root})")
    return 0
