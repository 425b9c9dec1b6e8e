import pytest

from speech_emotion.data import records
from speech_emotion.data import splits


def _records(corpus, speakers, genders):
    return [
        records.AudioRecord(path=f"/{corpus}/{speaker}/{i}.wav", corpus=corpus, label="happy", speaker=f"{corpus}:{speaker}", gender=gender)
        for speaker, gender in zip(speakers, genders)
        for i in range(3)
    ]


def test_each_speaker_lands_in_one_split_with_both_genders_held_out():
    ravdess = _records("ravdess", [f"{n:02d}" for n in range(1, 21)], ["male", "female"] * 10)
    assignment = splits.assign_speakers(ravdess, splits.SplitConfig(eval_fraction=0.2))
    eval_speakers = {s for s, split in assignment.items() if split == splits.EVAL}
    assert len(assignment) == 20
    assert len(eval_speakers) == 4
    genders = {r.gender for r in ravdess if r.speaker in eval_speakers}
    assert genders == {"male", "female"}


def test_assignment_is_stable_and_depends_on_seed():
    ravdess = _records("ravdess", [f"{n:02d}" for n in range(1, 21)], ["male", "female"] * 10)
    first = splits.assign_speakers(ravdess, splits.SplitConfig(seed=1))
    assert first == splits.assign_speakers(list(reversed(ravdess)), splits.SplitConfig(seed=1))
    assert any(splits.assign_speakers(ravdess, splits.SplitConfig(seed=seed)) != first for seed in range(2, 6))


def test_explicit_eval_speakers_override_the_fraction():
    ravdess = _records("ravdess", [f"{n:02d}" for n in range(1, 21)], ["male", "female"] * 10)
    tess = _records("tess", ["OAF", "YAF"], ["female", "female"])
    held_out = tuple(f"ravdess:{n}" for n in range(17, 21))
    assignment = splits.assign_speakers(ravdess + tess, splits.SplitConfig(eval_speakers=held_out))
    assert {s for s, split in assignment.items() if split == splits.EVAL} == set(held_out)
    assert assignment["tess:OAF"] == assignment["tess:YAF"] == splits.TRAIN


def test_tiny_corpora_still_get_an_eval_speaker():
    tess = _records("tess", ["OAF", "YAF"], ["female", "female"])
    assignment = splits.assign_speakers(tess, splits.SplitConfig(eval_fraction=0.2))
    assert sorted(assignment.values()) == [splits.EVAL, splits.TRAIN]


@pytest.mark.parametrize("held_out", ["eval_speakers", "test_speakers"])
def test_bad_configurations_are_rejected(held_out):
    tess = _records("tess", ["OAF", "YAF"], ["female", "female"])
    with pytest.raises(ValueError, match="not found"):
        splits.assign_speakers(tess, splits.SplitConfig(**{held_out: ("ravdess:01",)}))
    with pytest.raises(ValueError, match="at least one must remain"):
        splits.assign_speakers(tess, splits.SplitConfig(**{held_out: ("tess:OAF", "tess:YAF")}))
    with pytest.raises(ValueError):
        splits.SplitConfig(eval_fraction=1.5)


def test_split_config_round_trips_through_json():
    config = splits.SplitConfig(eval_fraction=0.3, eval_speakers=("ravdess:17",), test_speakers=("ravdess:18",), seed=4)
    assert splits.SplitConfig.from_json(config.to_json()) == config


def test_test_speakers_are_held_out_of_train_and_eval():
    ravdess = _records("ravdess", [f"{n:02d}" for n in range(1, 21)], ["male", "female"] * 10)
    tess = _records("tess", ["OAF", "YAF"], ["female", "female"])
    test_speakers = tuple(f"ravdess:{n}" for n in range(17, 21))
    assignment = splits.assign_speakers(
        ravdess + tess, splits.SplitConfig(eval_speakers=("ravdess:15", "ravdess:16"), test_speakers=test_speakers)
    )
    assert {s for s, split in assignment.items() if split == splits.TEST} == set(test_speakers)
    assert {s for s, split in assignment.items() if split == splits.EVAL} == {"ravdess:15", "ravdess:16"}
    assert sum(split == splits.TRAIN for split in assignment.values()) == 16


def test_eval_fraction_is_taken_from_the_speakers_left_after_test():
    ravdess = _records("ravdess", [f"{n:02d}" for n in range(1, 21)], ["male", "female"] * 10)
    test_speakers = tuple(f"ravdess:{n:02d}" for n in range(1, 11))
    assignment = splits.assign_speakers(ravdess, splits.SplitConfig(eval_fraction=0.2, test_speakers=test_speakers))
    eval_speakers = {s for s, split in assignment.items() if split == splits.EVAL}
    assert len(eval_speakers) == 2 and not eval_speakers & set(test_speakers)


def test_a_speaker_cannot_be_in_both_eval_and_test():
    with pytest.raises(ValueError, match="both eval and test"):
        splits.SplitConfig(eval_speakers=("tess:OAF",), test_speakers=("tess:OAF",))
