"""`ser predict FILE...`: emotions of audio files from a running model server, as a timeline and overall.

Files of any format the project reads (WAV, FLAC, OGG, MP3, AIFF) are decoded here, mixed to mono,
resampled to the model's rate, cut into windows and sent as 16-bit WAV clips, one prediction per
window. The overall result weights each window's probabilities by its duration.

A client, it never imports TensorFlow (seconds at start-up; gRPC's protos alone need it): libsndfile
decodes, and soxr resamples with the HQ filter the model's own resampler follows (speech_emotion.audio.resample).
"""
import argparse
import dataclasses
import io
import json
import sys
import typing

import numpy as np
import soundfile
import soxr

from speech_emotion import console
from speech_emotion import user_errors
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import audio_files
from speech_emotion.serving import clients

# Windows sent per request: within the batch limits a deployed server is configured with.
WINDOWS_PER_REQUEST = 32
# A trailing piece shorter than this share of a window is too short to judge; it is dropped unless it
# is the whole recording.
MIN_TRAILING_WINDOW_SHARE = 0.5


@dataclasses.dataclass(frozen=True)
class Window:
    start_seconds: float
    end_seconds: float
    wav_bytes: bytes


@dataclasses.dataclass(frozen=True)
class FilePrediction:
    path: str
    duration_seconds: float
    overall: clients.EmotionPrediction
    timeline: typing.List[typing.Tuple[Window, clients.EmotionPrediction]]

    def to_json(self) -> dict:
        return {
            "file": self.path,
            "duration_seconds": round(self.duration_seconds, 3),
            "overall": dataclasses.asdict(self.overall),
            "timeline": [{"start_seconds": round(window.start_seconds, 3), "end_seconds": round(window.end_seconds, 3),
                          **dataclasses.asdict(prediction)} for window, prediction in self.timeline],
        }


def audio_windows(path: str, window_seconds: float,
                  sample_rate: int = DEFAULT_FEATURE_CONFIG.sample_rate) -> typing.Tuple[typing.List[Window], float]:
    """Decodes `path`, cuts its mono waveform at `sample_rate` into WAV windows of `window_seconds`;
    returns them and the recording's duration in seconds."""
    return waveform_windows(mono_waveform(path, sample_rate), window_seconds, sample_rate)


def mono_waveform(path: str, sample_rate: int = DEFAULT_FEATURE_CONFIG.sample_rate) -> np.ndarray:
    """Decodes `path` within the model contract's limits (AudioLimitError, AudioDecodeError) and returns its
    float32 mono waveform resampled to `sample_rate`."""
    samples, file_rate = audio_files.decode_audio_file(path, DEFAULT_FEATURE_CONFIG, use_tensorflow_io=False)
    return soxr.resample(audio_files.to_mono(samples), file_rate, sample_rate, quality="HQ")


def waveform_windows(waveform: np.ndarray, window_seconds: float,
                     sample_rate: int = DEFAULT_FEATURE_CONFIG.sample_rate) -> typing.Tuple[typing.List[Window], float]:
    """Cuts a mono waveform at `sample_rate` into WAV windows of `window_seconds`; returns them and its duration."""
    if window_seconds <= 0:
        raise ValueError(f"window_seconds must be positive, got {window_seconds}")
    window_samples = max(1, int(round(window_seconds * sample_rate)))
    windows = []
    for start in range(0, len(waveform), window_samples):
        piece = waveform[start:start + window_samples]
        if windows and len(piece) < MIN_TRAILING_WINDOW_SHARE * window_samples:
            break
        windows.append(Window(start / sample_rate, (start + len(piece)) / sample_rate, _wav_bytes(piece, sample_rate)))
    return windows, len(waveform) / sample_rate


def _wav_bytes(waveform: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV bytes; libsndfile clips samples outside [-1, 1]."""
    buffer = io.BytesIO()
    soundfile.write(buffer, waveform, sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def predict_file(client, path: str, window_seconds: float) -> FilePrediction:
    return predict_windows(client, path, *audio_windows(path, window_seconds))


def predict_windows(client, path: str, windows: typing.Sequence[Window], duration_seconds: float) -> FilePrediction:
    predictions = []
    for first in range(0, len(windows), WINDOWS_PER_REQUEST):
        predictions += client.predict([window.wav_bytes for window in windows[first:first + WINDOWS_PER_REQUEST]])
    emotions = list(predictions[0].probabilities)
    durations = np.array([window.end_seconds - window.start_seconds for window in windows])
    table = np.array([[prediction.probabilities[emotion] for emotion in emotions] for prediction in predictions])
    mean = durations @ table / durations.sum()
    overall = clients.EmotionPrediction(emotions[int(np.argmax(mean))], dict(zip(emotions, mean.tolist())))
    return FilePrediction(path, duration_seconds, overall, list(zip(windows, predictions)))


def _format_table(results: typing.Sequence[FilePrediction]) -> str:
    lines = [f"{'file':<40} {'window (s)':>15}  {'emotion':<10} {'probability':>11}"]
    for result in results:
        for window, prediction in result.timeline:
            span = f"{window.start_seconds:.1f}-{window.end_seconds:.1f}"
            probability = prediction.probabilities[prediction.label]
            lines.append(f"{result.path:<40} {span:>15}  {prediction.label:<10} {probability:>11.3f}")
        lines.append(f"{result.path:<40} {'overall':>15}  {result.overall.label:<10} "
                     f"{result.overall.probabilities[result.overall.label]:>11.3f}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ser predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files (WAV, FLAC, OGG, MP3, AIFF)")
    parser.add_argument("--server", help=f"HOST:PORT of the server (default {clients.DEFAULT_REST_SERVER}, "
                                          f"or {clients.DEFAULT_GRPC_SERVER} with --grpc)")
    parser.add_argument("--grpc", action="store_true", help="use the gRPC API instead of REST")
    parser.add_argument("--model-name", default=clients.DEFAULT_MODEL_NAME)
    parser.add_argument("--window-seconds", type=float, default=DEFAULT_FEATURE_CONFIG.clip_seconds,
                        help="length of the windows a recording is cut into")
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
                        windows, duration_seconds = audio_windows(path, args.window_seconds)
                finally:
                    if args.verbose:
                        sys.stderr.write(decoder_messages.text)
                results.append(predict_windows(client, path, windows, duration_seconds))
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
