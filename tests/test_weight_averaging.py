"""The Trainer's weight averaging: the model ends training with the mean of its last epochs' weights."""
import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow loads)

import numpy as np
import pytest
import tensorflow as tf

from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import model as model_lib
from speech_emotion.trainer import weight_averaging
from separable_log_mels import separable_log_mels

FRAMES, MELS, CLASSES = 48, 16, 4


class _WeightsPerEpoch(tf.keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def _train(epochs: int, window: int):
    """A small classifier trained with the averaging, and every epoch's weights before it averages them."""
    tf.keras.utils.set_random_seed(0)
    config = trainer_config.ModelConfig(conv_filters=(8,), recurrent_units=8, dense_units=8, max_frequency_width=2, max_time_width=4)
    model = model_lib.build_model(CLASSES, FRAMES, MELS, config)
    features, labels = separable_log_mels(64, 0, FRAMES, MELS, CLASSES, lift=1.5)
    recorder = _WeightsPerEpoch()
    model.fit(features, labels, epochs=epochs, batch_size=16, verbose=0,
              callbacks=[recorder, weight_averaging.LastEpochsWeightAverage(window)])
    return model, recorder.weights


@pytest.mark.parametrize("epochs, window, averaged", [(8, 3, 3), (4, 10, 2), (9, 10, 4)])
def test_the_model_ends_with_the_mean_of_its_last_settled_epochs_weights(epochs, window, averaged):
    model, per_epoch = _train(epochs, window)

    # A window longer than half the epochs run (an early stop) shrinks to the later half: (9, 10) averages epochs 6-9.
    expected = [np.mean(values, axis=0) for values in zip(*per_epoch[-averaged:])]
    for actual, mean in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_allclose(actual, mean, rtol=1e-5, atol=1e-6)
    # Not simply the last epoch's weights: training moved them.
    assert any(not np.allclose(actual, last) for actual, last in zip(model.get_weights(), per_epoch[-1]))


def test_the_average_covers_at_most_the_later_half_of_the_epochs_run():
    assert [weight_averaging.settled_epochs(run, 10) for run in (1, 2, 3, 9, 19, 20, 21, 40)] == [1, 1, 1, 4, 9, 10, 10, 10]
    assert weight_averaging.settled_epochs(30, 3) == 3


def test_a_window_must_hold_an_epoch_and_the_config_rejects_a_negative_one():
    with pytest.raises(ValueError, match="epochs must be positive"):
        weight_averaging.LastEpochsWeightAverage(0)
    with pytest.raises(ValueError, match="average_last_epochs"):
        trainer_config.TrainingConfig(average_last_epochs=-1)
