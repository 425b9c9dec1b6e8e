"""Averaging a model's weights over its last epochs (stochastic weight averaging, Izmailov et al. 2018)."""
import collections

import numpy as np
import tensorflow as tf


def settled_epochs(epochs_run: int, window: int) -> int:
    """How many of the last epochs to average: `window`, but at most the later half of the epochs run (at least one).

    The first epochs are far from any solution the model settles in; a run that early-stops at epoch 9 with a
    10-epoch window would otherwise average every epoch from the first.
    """
    return max(1, min(window, epochs_run // 2))


class LastEpochsWeightAverage(tf.keras.callbacks.Callback):
    """Keeps the weights of the last `epochs` epochs and, when training ends, gives the model the mean of those
    that fall in the later half of the epochs run (`settled_epochs`).

    Trained on a few speakers, the model's held-out scores swing from epoch to epoch as it moves between
    nearby solutions, so the last epoch's weights are a lottery; their mean is one model that sits between
    them. Batch-norm moving statistics are averaged like the other weights.
    """

    def __init__(self, epochs: int):
        super().__init__()
        if epochs < 1:
            raise ValueError(f"epochs must be positive, got {epochs}")
        self._window = epochs
        self._recent = collections.deque(maxlen=epochs)
        self._epochs_run = 0
        self.averaged_epochs = 0

    def on_train_begin(self, logs=None):
        self._recent.clear()
        self._epochs_run = 0
        self.averaged_epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self._recent.append(self.model.get_weights())
        self._epochs_run += 1

    def on_train_end(self, logs=None):
        if not self._recent:
            return
        self.averaged_epochs = settled_epochs(self._epochs_run, self._window)
        settled = list(self._recent)[-self.averaged_epochs:]
        self.model.set_weights([np.mean(values, axis=0) for values in zip(*settled)])
