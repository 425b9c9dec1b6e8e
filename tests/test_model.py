import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import model as model_lib
from speech_emotion.trainer import utterance_normalisation
from separable_log_mels import separable_log_mels

FRAMES, MELS, CLASSES = 48, 16, 4
SMALL = trainer_config.ModelConfig(conv_filters=(8, 16), recurrent_units=8, dense_units=16, dropout=0.1, learning_rate=3e-3,
                                   max_frequency_width=2, max_time_width=4, max_band_shift=1)


def _separable_log_mels(count, seed):
    return separable_log_mels(count, seed, FRAMES, MELS, CLASSES, lift=1.5)


def test_model_shapes_and_probabilities():
    model = model_lib.build_model(CLASSES, FRAMES, MELS, SMALL)
    probabilities = model.predict(np.zeros((3, FRAMES, MELS), "float32"), verbose=0)
    assert probabilities.shape == (3, CLASSES)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_trained_for_seconds_beats_chance_on_held_out_data():
    tf.keras.utils.set_random_seed(0)
    model = model_lib.build_model(CLASSES, FRAMES, MELS, SMALL)
    train_x, train_y = _separable_log_mels(256, seed=1)
    test_x, test_y = _separable_log_mels(128, seed=2)
    model.fit(train_x, train_y, epochs=6, batch_size=32, verbose=0)
    results = model.evaluate(test_x, test_y, verbose=0, return_dict=True)
    assert results["unweighted_accuracy"] > 0.6, results


@pytest.mark.parametrize("normalised", [True, False])
def test_utterance_normalisation_makes_predictions_blind_to_a_constant_offset_per_band(normalised):
    model = model_lib.build_model(CLASSES, FRAMES, MELS, dataclasses.replace(SMALL, utterance_normalisation=normalised))
    log_mels, _ = _separable_log_mels(8, seed=3)
    # What another microphone, room or gain does to a log spectrum: a fixed shift of each band.
    channel = np.random.default_rng(4).normal(0.0, 2.0, (1, 1, MELS)).astype("float32")

    before = model.predict(log_mels, verbose=0)
    after = model.predict(log_mels + channel, verbose=0)

    assert np.allclose(before, after, atol=1e-5) == normalised


def test_utterance_normalisation_ignores_how_much_of_a_clip_is_padding():
    layer = utterance_normalisation.UtteranceMeanNormalisation()
    speech = np.random.default_rng(5).normal(0.0, 1.0, (20, MELS)).astype("float32")
    floor = speech.min() - 1.0

    def padded(pad_frames):
        padding = np.full((pad_frames, MELS), floor, "float32")
        return np.concatenate([padding, speech, padding])[np.newaxis]

    short_padding, long_padding = layer(padded(2)).numpy()[0, 2:22], layer(padded(14)).numpy()[0, 14:34]
    np.testing.assert_allclose(short_padding, speech - speech.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(long_padding, short_padding, atol=1e-5)
    assert np.isfinite(layer(np.full((1, FRAMES, MELS), floor, "float32")).numpy()).all()
