"""What an analysis means, in words: a summary written from the emotion timeline and the transcript, or an LLM's.

The summary is deterministic: the overall emotion and the runner-up, the emotion that is on top for the
longest time, and each place where the top emotion changes, quoted with the words spoken there. Windows
overlap, so each moment and each word (by its middle) belongs to one window's own part of the recording
(RecordingPrediction.own_spans). With an LLM configured (llm_client.py) its answer is used;
when the endpoint times out, fails or answers something other than the JSON the prompt asks for, the
summary is used instead, with a warning saying why.
"""
import dataclasses
import logging
import typing

from speech_emotion.serving import recording_predictions
from speech_emotion.serving.app import llm_client
from speech_emotion.serving.app import transcription

SUMMARY_SOURCE = "summary"
LLM_SOURCE = "llm"
# Words quoted for a stretch of speech at most.
_QUOTED_WORDS = 6


@dataclasses.dataclass(frozen=True)
class EmotionRun:
    """Consecutive windows with the same top emotion; the last run lasts to the end of the recording."""

    label: str
    start_seconds: float
    end_seconds: float
    windows: int


def emotion_runs(prediction: recording_predictions.RecordingPrediction) -> typing.List[EmotionRun]:
    runs: typing.List[EmotionRun] = []
    for window, (start_seconds, end_seconds) in zip(prediction.timeline, prediction.own_spans()):
        if runs and runs[-1].label == window.label:
            last = runs[-1]
            runs[-1] = EmotionRun(last.label, last.start_seconds, end_seconds, last.windows + 1)
        else:
            runs.append(EmotionRun(window.label, start_seconds, end_seconds, 1))
    if runs:
        runs[-1] = dataclasses.replace(runs[-1], end_seconds=max(runs[-1].end_seconds, prediction.duration_seconds))
    return runs


def _percent(probability: float) -> str:
    return f"{100 * probability:.0f}%"


def _quote(words: typing.Sequence[transcription.Word]) -> str:
    text = " ".join(word.word for word in words[:_QUOTED_WORDS])
    return f'"{text}…"' if len(words) > _QUOTED_WORDS else f'"{text}"'


def _run_words(run: EmotionRun, transcript: transcription.Transcript) -> str:
    words = transcript.words_between(run.start_seconds, run.end_seconds)
    return f" ({_quote(words)})" if words else ""


def summary(prediction: recording_predictions.RecordingPrediction, transcript: transcription.Transcript) -> str:
    ranked = sorted(prediction.overall.probabilities.items(), key=lambda item: -item[1])
    first = f"Overall the speech sounds {ranked[0][0]} ({_percent(ranked[0][1])}"
    sentences = [first + (f"; next comes {ranked[1][0]}, {_percent(ranked[1][1])})." if len(ranked) > 1 else ").")]
    runs = emotion_runs(prediction)
    if len(prediction.timeline) > 1:
        seconds_on_top: typing.Dict[str, float] = {}
        windows_on_top: typing.Dict[str, int] = {}
        for window, (start_seconds, end_seconds) in zip(prediction.timeline, prediction.own_spans()):
            label = window.label
            seconds_on_top[label] = seconds_on_top.get(label, 0.0) + end_seconds - start_seconds
            windows_on_top[label] = windows_on_top.get(label, 0) + 1
        longest = max(seconds_on_top, key=seconds_on_top.get)
        sentences.append(f"{longest.capitalize()} is the top emotion in {windows_on_top[longest]} of "
                         f"{len(prediction.timeline)} windows ({seconds_on_top[longest]:.1f} of "
                         f"{prediction.duration_seconds:.1f} s).")
    if len(runs) == 1:
        sentences.append(f"It stays {runs[0].label} throughout{_run_words(runs[0], transcript)}.")
    elif len(runs) > 1:
        changes = [f"It starts {runs[0].label}{_run_words(runs[0], transcript)}"]
        changes += [f"turns {run.label} at {run.start_seconds:.1f} s{_run_words(run, transcript)}" for run in runs[1:]]
        sentences.append(", then ".join(changes) + ".")
    if not transcript.words:
        sentences.append("No words were recognised.")
    return " ".join(sentences)


async def interpret(prediction: recording_predictions.RecordingPrediction, transcript: transcription.Transcript,
                    llm: typing.Optional[llm_client.LlmClient]) -> dict:
    """The interpretation of the analysis response: {"text", "source"}, plus "warning" when the LLM failed."""
    text = summary(prediction, transcript)
    if llm is None:
        return {"text": text, "source": SUMMARY_SOURCE}
    try:
        return {"text": await llm.interpret(prediction, transcript), "source": LLM_SOURCE}
    except llm_client.LlmError as error:
        logging.warning("LLM interpretation failed, answering the summary: %s", error)
        return {"text": text, "source": SUMMARY_SOURCE,
                "warning": f"The LLM endpoint failed ({error}); this is the summary instead."}
