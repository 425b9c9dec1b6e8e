"""TrainingConfig: its JSON round trip and the ensemble's members."""
import dataclasses

import pytest

from speech_emotion.trainer import config as trainer_config

TUNED = trainer_config.ModelConfig(architecture=trainer_config.CNN_GRU, conv_filters=(12, 24), dropout=0.2, learning_rate=3e-3)


def test_members_are_the_model_then_each_other_architecture_once_with_its_settings():
    training_config = trainer_config.TrainingConfig(
        ensemble_architectures=(trainer_config.CNN_BILSTM, trainer_config.CNN_GRU, trainer_config.CNN_BILSTM)
    )
    members = training_config.member_configs(TUNED)
    assert [member.architecture for member in members] == [trainer_config.CNN_GRU, trainer_config.CNN_BILSTM]
    assert members[0] == TUNED
    assert members[1] == dataclasses.replace(TUNED, architecture=trainer_config.CNN_BILSTM)
    assert trainer_config.TrainingConfig().member_configs(TUNED) == (TUNED,)


def test_training_config_round_trips_through_json():
    training_config = trainer_config.TrainingConfig(epochs=7, model=TUNED, ensemble_architectures=(trainer_config.CNN,),
                                                    balance=trainer_config.BalanceConfig(corpus_speaker_exponent=1.0, balance_classes=False))
    assert trainer_config.TrainingConfig.from_json(training_config.to_json()) == training_config


def test_unknown_ensemble_architecture_is_rejected():
    with pytest.raises(ValueError, match="ensemble_architectures"):
        trainer_config.TrainingConfig(ensemble_architectures=("transformer",))


@pytest.mark.parametrize("exponent", [-0.1, 1.5])
def test_corpus_speaker_exponent_outside_zero_to_one_is_rejected(exponent):
    with pytest.raises(ValueError, match="corpus_speaker_exponent"):
        trainer_config.BalanceConfig(corpus_speaker_exponent=exponent)


def test_a_larger_training_set_gets_fewer_epochs_within_the_example_budget():
    config = trainer_config.TrainingConfig(epochs=40, max_examples=240_000)
    assert config.epochs_for(6000) == 40
    assert config.epochs_for(10_270) == 24
    assert config.epochs_for(1_000_000) == 1
    assert trainer_config.TrainingConfig(epochs=40, max_examples=0).epochs_for(10_270) == 40
    with pytest.raises(ValueError):
        trainer_config.TrainingConfig(max_examples=-1)


def test_tuning_trials_cut_their_epochs_short_only_on_a_larger_training_set():
    tuning = trainer_config.TuningConfig(trials=10, max_epoch_examples=3000)
    assert tuning.steps_per_epoch(3000, batch_size=32) is None
    assert tuning.steps_per_epoch(10_270, batch_size=32) == 94
    assert trainer_config.TuningConfig(trials=10, max_epoch_examples=0).steps_per_epoch(10_270, 32) is None
    assert trainer_config.TuningConfig.from_json(tuning.to_json()) == tuning
