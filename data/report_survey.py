"""Surveys corpora for the data report: every clip's label and duration, and every file that could not be used."""
import collections
import dataclasses
from typing import Dict, Sequence, Tuple

import numpy as np
import tqdm

from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import audio_files
from speech_emotion.data import corpus_spec
from speech_emotion.data import readers
from speech_emotion.data import records
from speech_emotion.data import taxonomy

UNLABELLED = "(unlabelled)"


@dataclasses.dataclass(frozen=True)
class Clip:
    record: records.AudioRecord
    duration_seconds: float


@dataclasses.dataclass(frozen=True)
class CorpusSurvey:
    """One corpus' readable clips, and its files set aside: rejected by the reader or decodable by no decoder."""

    corpus: corpus_spec.CorpusSpec
    clips: Tuple[Clip, ...]
    unreadable: Tuple[records.Rejected, ...]

    def label_counts(self) -> Dict[str, int]:
        return dict(collections.Counter(clip.record.label or UNLABELLED for clip in self.clips))

    def durations(self) -> np.ndarray:
        return np.array([clip.duration_seconds for clip in self.clips], dtype=np.float64)


def survey_corpora(corpora: Sequence[corpus_spec.CorpusSpec]) -> Tuple[CorpusSurvey, ...]:
    """Reads every corpus and decodes every clip (showing a progress bar); never raises for a bad file or folder."""
    listed = [_list_corpus(corpus) for corpus in corpora]
    all_records = [record for found, _ in listed for record in found]
    # One clip at a time: the first decode imports TensorFlow, which is not safe to do from several threads.
    outcomes = [_duration_or_reason(record) for record in tqdm.tqdm(all_records, desc="reading clips", unit="clip")]
    surveys, start = [], 0
    for corpus, (found, rejected) in zip(corpora, listed):
        clips, unreadable = [], list(rejected)
        for record, outcome in zip(found, outcomes[start : start + len(found)]):
            if isinstance(outcome, str):
                unreadable.append(records.Rejected(record.path, record.corpus, outcome))
            else:
                clips.append(Clip(record, outcome))
        start += len(found)
        surveys.append(CorpusSurvey(corpus, tuple(clips), tuple(sorted(unreadable, key=lambda item: item.path))))
    return tuple(surveys)


def emotions_present(surveys: Sequence[CorpusSurvey]) -> Tuple[str, ...]:
    """The labels of the surveyed clips in canonical order, unlabelled last."""
    labels = {clip.record.label for survey in surveys for clip in survey.clips}
    return taxonomy.ordered(labels - {""}) + ((UNLABELLED,) if "" in labels else ())


def example_clips(surveys: Sequence[CorpusSurvey]) -> Dict[str, Clip]:
    """One clip per emotion: the first readable one, corpora in the order given, files by path."""
    examples = {}
    for survey in surveys:
        for clip in survey.clips:
            if clip.record.label:
                examples.setdefault(clip.record.label, clip)
    return {emotion: examples[emotion] for emotion in taxonomy.ordered(examples)}


def _list_corpus(corpus: corpus_spec.CorpusSpec):
    try:
        return readers.read_corpus(corpus.name, corpus.path)
    except (ValueError, OSError) as error:
        return [], [records.Rejected(corpus.path, corpus.name, f"corpus not readable: {error}")]


def _duration_or_reason(record: records.AudioRecord):
    """The clip's duration in seconds, or why it cannot be decoded."""
    try:
        samples, sample_rate = audio_files.decode_audio_file(record.path, DEFAULT_FEATURE_CONFIG)
    except Exception as error:  # noqa: BLE001  A report lists a file no decoder can read; it never stops for one.
        return f"unreadable: {error}"
    return samples.shape[0] / sample_rate
