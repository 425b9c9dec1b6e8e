"""The Trainer's per-example weights: corpora, speakers and emotions balanced as BalanceConfig says."""
import collections

import pytest

from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import example_weights

# The shared corpora's shape in small: a corpus of two speakers with many clips (TESS), one of four speakers with a
# few clips each and an emotion only it has (RAVDESS' calm), one of one speaker (SAVEE).
COUNTS = {
    **{("tess", f"tess:{speaker}", label): 40 for speaker in ("OAF", "YAF") for label in ("angry", "sad")},
    **{("ravdess", f"ravdess:{actor}", label): 5 for actor in range(4) for label in ("angry", "sad", "calm")},
    **{("savee", "savee:DC", label): count for label, count in (("angry", 6), ("sad", 3))},
}


def _totals(weights, counts, position):
    totals = collections.Counter()
    for key, count in counts.items():
        totals[key[position]] += weights[key] * count
    return totals


def test_weights_have_mean_one_over_the_examples():
    weights = example_weights.group_weights(COUNTS, trainer_config.BalanceConfig())
    assert sum(weights[key] * count for key, count in COUNTS.items()) == pytest.approx(sum(COUNTS.values()))


def test_every_emotion_weighs_the_same_in_total():
    weights = example_weights.group_weights(COUNTS, trainer_config.BalanceConfig())
    totals = _totals(weights, COUNTS, 2)
    assert totals["calm"] == pytest.approx(totals["angry"]) and totals["sad"] == pytest.approx(totals["angry"])


def test_without_class_balancing_corpora_weigh_their_speakers_to_the_exponent_and_speakers_of_a_corpus_the_same():
    weights = example_weights.group_weights(COUNTS, trainer_config.BalanceConfig(corpus_speaker_exponent=0.5, balance_classes=False))
    corpora = _totals(weights, COUNTS, 0)
    # sqrt(4) : sqrt(2) : sqrt(1), whatever their clip counts (tess 160, ravdess 60, savee 9).
    assert corpora["ravdess"] / corpora["savee"] == pytest.approx(2.0)
    assert corpora["tess"] / corpora["savee"] == pytest.approx(2 ** 0.5)
    speakers = _totals(weights, COUNTS, 1)
    assert speakers["tess:OAF"] == pytest.approx(speakers["tess:YAF"])
    assert len({round(speakers[f"ravdess:{actor}"], 9) for actor in range(4)}) == 1
    # Within a speaker, each of its examples weighs the same: SAVEE's angry and sad clips alike.
    assert weights[("savee", "savee:DC", "angry")] == pytest.approx(weights[("savee", "savee:DC", "sad")])


@pytest.mark.parametrize("exponent, expected_ravdess_to_savee", [(1.0, 4.0), (0.0, 1.0)])
def test_exponent_one_weighs_every_speaker_the_same_and_zero_every_corpus(exponent, expected_ravdess_to_savee):
    weights = example_weights.group_weights(COUNTS, trainer_config.BalanceConfig(corpus_speaker_exponent=exponent, balance_classes=False))
    corpora = _totals(weights, COUNTS, 0)
    assert corpora["ravdess"] / corpora["savee"] == pytest.approx(expected_ravdess_to_savee)


def test_a_speaker_with_many_clips_weighs_less_per_clip_than_one_with_few():
    weights = example_weights.group_weights(COUNTS, trainer_config.BalanceConfig())
    assert weights[("tess", "tess:OAF", "angry")] < weights[("ravdess", "ravdess:0", "angry")] < weights[("savee", "savee:DC", "sad")]


def test_empty_groups_are_ignored_and_no_examples_give_no_weights():
    assert example_weights.group_weights({}, trainer_config.BalanceConfig()) == {}
    weights = example_weights.group_weights({**COUNTS, ("savee", "savee:JE", "angry"): 0}, trainer_config.BalanceConfig())
    assert weights == pytest.approx(example_weights.group_weights(COUNTS, trainer_config.BalanceConfig()))
