"""Per-example weights that balance corpora, speakers and emotions in one loss (BalanceConfig).

Computed from how many examples each (corpus, speaker, emotion) has: a speaker's examples share its weight,
a corpus' speakers share the corpus' weight, and each emotion's total is then made equal. The weights are
normalised to mean 1, so the loss keeps its scale and the learning rate its meaning.
"""
import collections
from typing import Dict, Hashable, Mapping, Tuple

from speech_emotion.trainer import config as trainer_config

# (corpus, speaker, label): the key of one group of examples that share a weight.
GroupKey = Tuple[Hashable, Hashable, Hashable]


def group_weights(counts: Mapping[GroupKey, int], config: trainer_config.BalanceConfig) -> Dict[GroupKey, float]:
    """The weight of one example of each (corpus, speaker, label) group, given each group's example count."""
    counts = {key: count for key, count in counts.items() if count > 0}
    if not counts:
        return {}
    speaker_counts = collections.Counter()
    speakers_of_corpus = collections.defaultdict(set)
    for (corpus, speaker, _), count in counts.items():
        speaker_counts[(corpus, speaker)] += count
        speakers_of_corpus[corpus].add(speaker)
    # Before class balancing: corpus mass = speakers ** exponent, shared equally by its speakers, then by their examples.
    weights = {}
    for (corpus, speaker, label) in counts:
        speakers = len(speakers_of_corpus[corpus])
        speaker_mass = speakers ** config.corpus_speaker_exponent / speakers
        weights[(corpus, speaker, label)] = speaker_mass / speaker_counts[(corpus, speaker)]
    if config.balance_classes:
        class_mass = collections.Counter()
        for key, count in counts.items():
            class_mass[key[2]] += weights[key] * count
        weights = {key: weight / class_mass[key[2]] for key, weight in weights.items()}
    total_weight = sum(weights[key] * count for key, count in counts.items())
    total_examples = sum(counts.values())
    return {key: weight * total_examples / total_weight for key, weight in weights.items()}
