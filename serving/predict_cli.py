"""`ser predict FILE...`: emotions of audio files from a running model server, as a timeline and overall.

Each file goes to the model's `timeline` signature as one WAV: a WAV file as it is, any other format the
project reads (FLAC, OGG, MP3, AIFF) decoded here and sent as 16-bit WAV. The model cuts the recording into
its windows, judges each, and weights their probabilities by their duration for the overall answer
(trainer/timeline.py), as it does for `ser batch-predict`, BulkInferrer and speech_emotion.Classifier.

A client, it never imports TensorFlow (seconds at start-up; gRPC's protos alone need it): libsndfile decodes.
"""
import argparse
import dataclasses
import json
import sys
import typing

from speech_emotion import console
from speech_emotion import user_errors
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import audio_files
from speech_emotion.serving import clients
from speech_emotion.serving import recording_predictions


@dataclasses.dataclass(frozen=True)
class FilePrediction:
    path: str
    prediction: recording_predictions.RecordingPrediction

    def to_json(self) -> dict:
        return {"file": self.path, **self.prediction.to_json()}


def predict_file(client, path: str) -> FilePrediction:
    """The model's answer for the audio file at `path`, from `client` (clients.RestClient or GrpcClient)."""
    [prediction] = client.timeline([audio_files.wav_bytes_of_file(path, DEFAULT_FEATURE_CONFIG)])
    return FilePrediction(path, prediction)


def _format_table(results: typing.Sequence[FilePrediction]) -> str:
    lines = [f"{'file':<40} {'window (s)':>15}  {'emotion':<10} {'probability':>11}"]
    for result in results:
        for window in result.prediction.timeline:
            span = f"{window.start_seconds:.1f}-{window.end_seconds:.1f}"
            lines.append(f"{result.path:<40} {span:>15}  {window.label:<10} {window.probabilities[window.label]:>11.3f}")
        overall = result.prediction.overall
        lines.append(f"{result.path:<40} {'overall':>15}  {overall.label:<10} {overall.probabilities[overall.label]:>11.3f}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ser predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files (WAV, FLAC, OGG, MP3, AIFF)")
    parser.add_argument("--server", help=f"HOST:PORT of the server (default {clients.DEFAULT_REST_SERVER}, "
                                          f"or {clients.DEFAULT_GRPC_SERVER} with --grpc)")
    parser.add_argument("--grpc", action="store_true", help="use the gRPC API instead of REST")
    parser.add_argument("--model-name", default=clients.DEFAULT_MODEL_NAME)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the decoders' own messages")
    return parser


def main(argv: typing.Optional[typing.Sequence[str]] = None) -> int:
    """Prints the predictions; returns 0, or 1 when some file could not be predicted (reported on stderr)."""
    args = build_parser().parse_args(argv)
    if args.grpc:
        console.import_tensorflow()
        client = clients.GrpcClient(args.server or clients.DEFAULT_GRPC_SERVER, args.model_name)
    else:
        client = clients.RestClient(args.server or clients.DEFAULT_REST_SERVER, args.model_name)
    results, failed = [], False
    try:
        for path in args.files:
            try:
                # libmpg123 prints notes of its own on a damaged MP3, as the decoders' reasons say again.
                try:
                    with console.captured_stderr() as decoder_messages:
                        results.append(predict_file(client, path))
                finally:
                    if args.verbose:
                        sys.stderr.write(decoder_messages.text)
            except (*user_errors.USER_ERRORS, clients.PredictionError) as error:
                print(f"ser: {user_errors.message(error, path)}", file=sys.stderr)
                failed = True
    finally:
        client.close()
    if args.json:
        print(json.dumps([result.to_json() for result in results], indent=2))
    elif results:
        print(_format_table(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
