"""Speaker-independent split assignment: every speaker's clips land in exactly one split."""
import collections
import dataclasses
import hashlib
import json
from typing import Dict, Iterable, Tuple

from speech_emotion.data import records

TRAIN = "train"
EVAL = "eval"
TEST = "test"
UNLABELLED = "unlabelled"
SPLITS = (TRAIN, EVAL, TEST, UNLABELLED)


@dataclasses.dataclass(frozen=True)
class SplitConfig:
    """How training-corpus speakers are divided between train, eval and test.

    `eval_speakers` (corpus-qualified, e.g. "ravdess:17") overrides `eval_fraction` when given.
    Otherwise each training corpus gives round(eval_fraction * speakers) of its remaining speakers to
    eval, alternating genders, chosen by a seeded hash so the choice is stable across runs and machines.
    Eval selects (early stopping, tuning, blessing), so its score is optimistic; `test_speakers` are
    held out of both and scored only in the test split, beside the cross-corpus test corpora.
    """

    eval_fraction: float = 0.2
    eval_speakers: Tuple[str, ...] = ()
    test_speakers: Tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self):
        if not 0.0 < self.eval_fraction < 1.0:
            raise ValueError(f"eval_fraction must be in (0, 1), got {self.eval_fraction}")
        both = set(self.eval_speakers) & set(self.test_speakers)
        if both:
            raise ValueError(f"speakers cannot be in both eval and test: {sorted(both)}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "SplitConfig":
        fields = json.loads(text)
        return cls(**{**fields, "eval_speakers": tuple(fields["eval_speakers"]), "test_speakers": tuple(fields["test_speakers"])})


def speaker_list(text: str) -> Tuple[str, ...]:
    """Corpus-qualified speakers from a comma-separated list, as flags and environment variables give them."""
    return tuple(speaker.strip() for speaker in text.split(",") if speaker.strip())


def _stable_order(speaker: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{speaker}".encode()).hexdigest()


def _eval_speakers_of_corpus(speaker_genders: Dict[str, str], config: SplitConfig) -> set:
    by_gender = collections.defaultdict(list)
    for speaker, gender in speaker_genders.items():
        by_gender[gender].append(speaker)
    queues = [sorted(group, key=lambda s: _stable_order(s, config.seed)) for _, group in sorted(by_gender.items())]
    wanted = round(config.eval_fraction * len(speaker_genders))
    chosen = []
    while len(chosen) < wanted:
        for queue in queues:
            if queue and len(chosen) < wanted:
                chosen.append(queue.pop(0))
    return set(chosen)


def assign_speakers(train_records: Iterable[records.AudioRecord], config: SplitConfig) -> Dict[str, str]:
    """Maps each speaker of the training corpora to TRAIN, EVAL or TEST."""
    train_records = list(train_records)
    unknown = set(config.eval_speakers + config.test_speakers) - {record.speaker for record in train_records}
    if unknown:
        raise ValueError(f"eval or test speakers not found in the training corpora: {sorted(unknown)}")
    genders_by_corpus = collections.defaultdict(dict)
    for record in train_records:
        if record.speaker not in config.test_speakers:
            genders_by_corpus[record.corpus][record.speaker] = record.gender
    all_speakers = {s for speakers in genders_by_corpus.values() for s in speakers}
    if not all_speakers:
        raise ValueError("every training speaker would be in test; at least one must remain for training")
    if config.eval_speakers:
        eval_speakers = set(config.eval_speakers)
    else:
        eval_speakers = set()
        for speaker_genders in genders_by_corpus.values():
            eval_speakers |= _eval_speakers_of_corpus(speaker_genders, config)
        if not eval_speakers:
            # Tiny corpora round down to no eval speaker; take one from the largest corpus.
            largest = max(genders_by_corpus.values(), key=len)
            eval_speakers = {min(largest, key=lambda s: _stable_order(s, config.seed))}
    if eval_speakers >= all_speakers:
        raise ValueError("every training speaker would be in eval or test; at least one must remain for training")
    assignment = {speaker: EVAL if speaker in eval_speakers else TRAIN for speaker in all_speakers}
    return {**assignment, **{speaker: TEST for speaker in config.test_speakers}}
