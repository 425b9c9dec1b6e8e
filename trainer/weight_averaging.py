"""Averaging a model's weights over its last epochs (stochastic weight averaging, Izmailov et al. 2018)."""
import collections

import numpy as np
import tensorflow as tf


class LastEpochsWeightAverage(tf.keras.callbacks.Callback):
    """Keeps the weights of the last `epochs` epochs and, when training ends, gives the model their mean.

    Trained on a few speakers, the model's held-out scores swing from epoch to epoch as it moves between
    nearby solutions, so the last epoch's weights are a lottery; their mean is one model that sits between
    them. Batch-norm moving statistics are averaged like the other weights.
    """

    def __init__(self, epochs: int):
        super().__init__()
        if epochs < 1:
            raise ValueError(f"epochs must be positive, got {epochs}")
        self._recent = collections.deque(maxlen=epochs)

    def on_train_begin(self, logs=None):
        self._recent.clear()

    def on_epoch_end(self, epoch, logs=None):
        self._recent.append(self.model.get_weights())

    def on_train_end(self, logs=None):
        if not self._recent:
            return
        self.model.set_weights([np.mean(values, axis=0) for values in zip(*self._recent)])
