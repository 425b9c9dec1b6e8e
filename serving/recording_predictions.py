"""The `timeline` signature's contract for its clients: its names, and its answers as RecordingPrediction.

Every client (`ser predict`, `ser batch-predict`, BulkInferrer's writer, saved_model_predict, speech_emotion.Classifier)
reads the model's one answer per recording through `from_outputs`; the windowing rule itself lives in the model
(trainer/timeline.py). No TensorFlow here: `ser predict` must start without it.
"""
import dataclasses
import typing

SIGNATURE_NAME = "timeline"
# The same outputs from serialized tf.Examples with an `audio` feature, for BulkInferrer.
EXAMPLES_SIGNATURE_NAME = "timeline_examples"
AUDIO_INPUT = "audio"
EXAMPLES_INPUT = "examples"

PROBABILITIES = "probabilities"
LABEL = "label"
START_SECONDS = "start_seconds"
END_SECONDS = "end_seconds"
WINDOW_COUNT = "window_count"
OVERALL_PROBABILITIES = "overall_probabilities"
OVERALL_LABEL = "overall_label"
DURATION_SECONDS = "duration_seconds"
CLASSES = "classes"
OUTPUTS = (PROBABILITIES, LABEL, START_SECONDS, END_SECONDS, WINDOW_COUNT, OVERALL_PROBABILITIES, OVERALL_LABEL,
           DURATION_SECONDS, CLASSES)
# Seconds are reported to the millisecond: the model's float32 seconds put 7.6 s at 7.599999904632568.
_SECONDS_DECIMALS = 3


@dataclasses.dataclass(frozen=True)
class EmotionPrediction:
    label: str
    probabilities: typing.Dict[str, float]  # emotion -> probability, in the model's class order


@dataclasses.dataclass(frozen=True)
class WindowPrediction:
    start_seconds: float
    end_seconds: float
    label: str
    probabilities: typing.Dict[str, float]


@dataclasses.dataclass(frozen=True)
class RecordingPrediction:
    """The model's answer for one recording: `overall` is the mean of the windows of `timeline`."""

    duration_seconds: float
    overall: EmotionPrediction
    timeline: typing.List[WindowPrediction]

    def to_json(self) -> dict:
        """As `ser predict --json` prints it (without the file)."""
        return {"duration_seconds": self.duration_seconds, "overall": dataclasses.asdict(self.overall),
                "timeline": self._timeline_json()}

    def to_batch_json(self) -> dict:
        """As `ser batch-predict` writes a prediction: the overall answer first, then its timeline."""
        return {**dataclasses.asdict(self.overall), "duration_seconds": self.duration_seconds,
                "timeline": self._timeline_json()}

    def own_spans(self) -> typing.List[typing.Tuple[float, float]]:
        """Each window's own part of the recording: windows overlap, so each one's lasts until the next one
        starts, the last one's to its end. Where a moment is attributed to one window (the page's timeline,
        the app's words and emotion runs), it is to the window whose own part holds it."""
        starts = [window.start_seconds for window in self.timeline]
        return list(zip(starts, starts[1:] + [self.timeline[-1].end_seconds])) if self.timeline else []

    def _timeline_json(self) -> typing.List[dict]:
        return [dataclasses.asdict(window) for window in self.timeline]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _seconds(value) -> float:
    return round(float(value), _SECONDS_DECIMALS)


def _probabilities(classes: typing.Sequence[str], values) -> typing.Dict[str, float]:
    return {emotion: float(probability) for emotion, probability in zip(classes, values)}


def from_outputs(outputs: typing.Mapping[str, typing.Any]) -> typing.List[RecordingPrediction]:
    """One RecordingPrediction per row of the signature's outputs, given as nested lists (REST) or arrays."""
    missing = [name for name in OUTPUTS if name not in outputs]
    if missing:
        raise ValueError(f"not the {SIGNATURE_NAME!r} signature's outputs: {missing} missing, got {sorted(outputs)}")
    predictions = []
    for row in range(len(outputs[WINDOW_COUNT])):
        classes = [_text(emotion) for emotion in outputs[CLASSES][row]]
        timeline = [
            WindowPrediction(_seconds(outputs[START_SECONDS][row][window]), _seconds(outputs[END_SECONDS][row][window]),
                             _text(outputs[LABEL][row][window]),
                             _probabilities(classes, outputs[PROBABILITIES][row][window]))
            for window in range(int(outputs[WINDOW_COUNT][row]))
        ]
        overall = EmotionPrediction(_text(outputs[OVERALL_LABEL][row]),
                                    _probabilities(classes, outputs[OVERALL_PROBABILITIES][row]))
        predictions.append(RecordingPrediction(_seconds(outputs[DURATION_SECONDS][row]), overall, timeline))
    return predictions
