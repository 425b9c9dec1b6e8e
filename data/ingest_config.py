"""What ingestion reads and how it splits it: light to import (no Beam), so configuration files load fast."""
import dataclasses
from typing import Tuple

from speech_emotion.config import FeatureConfig
from speech_emotion.data import corpus_spec
from speech_emotion.data import splits


@dataclasses.dataclass(frozen=True)
class IngestConfig:
    corpora: Tuple[corpus_spec.CorpusSpec, ...]
    split: splits.SplitConfig = splits.SplitConfig()
    feature: FeatureConfig = FeatureConfig()

    def __post_init__(self):
        if not any(corpus.role == corpus_spec.TRAIN_ROLE for corpus in self.corpora) and any(
            corpus.role == corpus_spec.TEST_ROLE for corpus in self.corpora
        ):
            raise ValueError("test corpora need at least one training corpus")
