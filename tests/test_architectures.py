import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow loads)

import dataclasses

import keras_tuner
import numpy as np
import pytest
import tensorflow as tf

from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import model as model_lib
from separable_log_mels import separable_log_mels
from speech_emotion.trainer import search_space

FRAMES, MELS, CLASSES = 32, 16, 4
SMALL = trainer_config.ModelConfig(conv_filters=(8, 16), recurrent_units=8, attention_heads=2, dense_units=16, dropout=0.1, learning_rate=3e-3,
                                   max_frequency_width=2, max_time_width=4, max_band_shift=1)


def _separable_log_mels(count, seed):
    return separable_log_mels(count, seed, FRAMES, MELS, CLASSES, lift=2.0)


@pytest.mark.parametrize("architecture", trainer_config.ARCHITECTURES)
def test_architecture_trains_and_reloads_with_the_same_predictions(architecture, tmp_path):
    tf.keras.utils.set_random_seed(0)
    model = model_lib.build_model(CLASSES, FRAMES, MELS, dataclasses.replace(SMALL, architecture=architecture))
    features, labels = _separable_log_mels(64, seed=1)
    before = model.evaluate(features, labels, verbose=0, return_dict=True)["loss"]
    model.fit(features, labels, epochs=2, batch_size=16, verbose=0)
    after = model.evaluate(features, labels, verbose=0, return_dict=True)["loss"]
    assert after < before, (before, after)
    # The Keras format (no graph tracing) keeps this fast; test_export.py covers the served SavedModel.
    model.save(tmp_path / "model.keras")
    # The custom layers are registered with Keras, so no custom_objects are needed.
    reloaded = tf.keras.models.load_model(tmp_path / "model.keras", compile=False)
    np.testing.assert_allclose(reloaded.predict(features[:4], verbose=0), model.predict(features[:4], verbose=0), rtol=1e-4, atol=1e-5)


def test_cnn_only_learns_at_its_default_sizes():
    """Mean and max over time of ReLU features are all positive and, at the default widths, barely differ between
    clips; fed unnormalised to the dense head, they left CNN only giving every clip about the same probabilities,
    at chance, on real corpora too."""
    tf.keras.utils.set_random_seed(0)
    model = model_lib.build_model(CLASSES, 96, 32, trainer_config.ModelConfig(architecture=trainer_config.CNN))
    features, labels = separable_log_mels(256, 0, 96, 32, CLASSES, lift=1.0)
    held_out_features, held_out_labels = separable_log_mels(128, 10, 96, 32, CLASSES, lift=1.0)
    model.fit(features, labels, epochs=8, batch_size=32, verbose=0)
    accuracy = model.evaluate(held_out_features, held_out_labels, verbose=0, return_dict=True)["accuracy"]
    assert accuracy > 1.8 / CLASSES, accuracy


def test_architectures_differ_in_their_layers():
    layer_types = {
        architecture: {type(layer).__name__ for layer in model_lib.build_model(CLASSES, FRAMES, MELS, dataclasses.replace(SMALL, architecture=architecture)).layers}
        for architecture in trainer_config.ARCHITECTURES
    }
    assert not layer_types[trainer_config.CNN] & {"Bidirectional", "GRU", "LSTM"}
    assert "GRU" in layer_types[trainer_config.CNN_GRU] and "Bidirectional" not in layer_types[trainer_config.CNN_GRU]
    assert "MultiHeadAttention" in layer_types[trainer_config.CNN_SELF_ATTENTION_BILSTM_BIGRU]
    assert "MultiHeadAttention" not in layer_types[trainer_config.CNN_BILSTM_BIGRU_ATTENTION]
    assert all("SpecAugment" in types and "RandomBandShift" in types for types in layer_types.values())


def test_unknown_architecture_and_negative_band_shift_are_rejected():
    with pytest.raises(ValueError, match="architecture"):
        trainer_config.ModelConfig(architecture="transformer")
    with pytest.raises(ValueError, match="max_band_shift"):
        trainer_config.ModelConfig(max_band_shift=-1)


def test_search_space_activates_only_the_chosen_architectures_knobs():
    hp = keras_tuner.HyperParameters()
    hp.Fixed(search_space.ARCHITECTURE, trainer_config.CNN_SELF_ATTENTION_BILSTM_BIGRU)
    config = search_space.model_config(hp, trainer_config.ARCHITECTURES, trainer_config.ModelConfig())
    assert config.architecture == trainer_config.CNN_SELF_ATTENTION_BILSTM_BIGRU
    active = {name for name in hp.values if hp.is_active(name)}
    assert active == {search_space.ARCHITECTURE} | {
        search_space.knob(trainer_config.CNN_SELF_ATTENTION_BILSTM_BIGRU, knob)
        for knob in ("filters", "dropout", "learning_rate", "units", "heads")
    }
    # A Choice starts at its first value; the later blocks keep the base's 1:2:3 proportions.
    first = search_space.FILTER_CHOICES[0]
    assert config.conv_filters == (first, 2 * first, 3 * first)


def test_stored_hyperparameters_rebuild_the_same_model_config():
    hp = keras_tuner.HyperParameters()
    hp.Fixed(search_space.ARCHITECTURE, trainer_config.CNN_GRU)
    sampled = search_space.model_config(hp, trainer_config.ARCHITECTURES, trainer_config.ModelConfig())
    hp.values[search_space.knob(trainer_config.CNN_GRU, "units")] = 128
    hp.values[search_space.knob(trainer_config.CNN_GRU, "learning_rate")] = 2e-3
    stored = keras_tuner.HyperParameters.from_config(hp.get_config())
    rebuilt = search_space.model_config(stored, trainer_config.ARCHITECTURES, trainer_config.ModelConfig())
    assert rebuilt == dataclasses.replace(sampled, recurrent_units=128, learning_rate=2e-3)
