"""`ser batch-predict`: Vertex AI-style batch prediction with the pushed model, as an Apache Beam pipeline.

  ser batch-predict --model DIR --input FILE.jsonl|FOLDER --output DIR [--beam-arg=OPTION ...]

Reads instances as Vertex AI batch prediction sends them (batch_instances.py), one JSON object a
line, or every audio file under FOLDER, and writes Vertex's output files into the output folder:

  prediction.results-NNNNN-of-NNNNN       {"instance": ..., "prediction": {"label": ..., "probabilities": {...},
                                           "duration_seconds": ..., "timeline": [{"start_seconds": ..., "end_seconds": ...,
                                           "label": ..., "probabilities": {...}}, ...]}}
  prediction.errors_stats-NNNNN-of-NNNNN  {"instance": ..., "error": {"status": ..., "message": ...}}

A prediction is the model's `timeline` signature's answer for the whole recording: the label and probabilities are
the overall answer (its windows weighted by their duration), the timeline its windows' answers.

Every input line gets one output line, except blank lines: the summary printed at the end counts
them ("skipped_blank"), so results + errors + skipped_blank equals the input lines.

The DirectRunner runs it here; on Dataflow (--runner=DataflowRunner --project=... --region=...
--temp_location=gs://...) the workers need this package: add --setup_file=./setup.py, or
--sdk_container_image with the pipeline image (kubeflow/Dockerfile).
"""
import argparse
import dataclasses
import json


@dataclasses.dataclass(frozen=True)
class BatchPredictConfig:
    """`model` is a TF Serving model base path (its latest version is used) or one SavedModel folder;
    `input` a JSON Lines file (or glob of them) or a folder of audio files."""

    model: str
    input: str
    output_dir: str
    min_batch_size: int = 1
    max_batch_size: int = 32

    def __post_init__(self):
        if not 1 <= self.min_batch_size <= self.max_batch_size:
            raise ValueError(f"need 1 <= min_batch_size <= max_batch_size, got {self.min_batch_size}, {self.max_batch_size}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="the pushed model: a TF Serving model base path (latest version) or a SavedModel folder")
    parser.add_argument("--input", required=True,
                        help='a JSON Lines file of instances ({"audio": {"b64": ...}} or {"uri": ...}), or a folder of audio files')
    parser.add_argument("--output", required=True, help="an empty or new folder for prediction.results-* and prediction.errors_stats-*")
    parser.add_argument("--batch-size", type=int, default=BatchPredictConfig.max_batch_size, help="most recordings per model call")
    parser.add_argument("--beam-arg", action="append", default=[],
                        help="a Beam pipeline option, e.g. --beam-arg=--runner=DataflowRunner")


def run(args: argparse.Namespace) -> int:
    """Prints a JSON summary; returns 0, or 1 when some instance got no prediction (see the errors files)."""
    # Imported here: Beam and TensorFlow take seconds to import, and the parser is built for every `ser` command.
    from speech_emotion.serving import batch_pipeline

    config = BatchPredictConfig(model=args.model, input=args.input, output_dir=args.output,
                                max_batch_size=args.batch_size)
    summary = batch_pipeline.predict(config, args.beam_arg)
    print(json.dumps(dataclasses.asdict(summary), sort_keys=True))
    return 1 if summary.errors else 0
