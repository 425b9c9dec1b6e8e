"""Input augmentations of the log-mel that act in training only; at inference they pass their input through unchanged.

SpecAugment-style masking (Park et al. 2019) sets random frequency bands and time spans to a constant;
RandomBandShift moves each example's spectrum up or down a few mel bands.
"""
import random

import tensorflow as tf


class TrainingOnlyAugmentation(tf.keras.layers.Layer):
    """Applies `_augmented` in training and the identity otherwise, drawing from its own seeded generator."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        # Without a seed, Python's generator picks one, so tf.keras.utils.set_random_seed makes training repeatable.
        self._random = tf.random.Generator.from_seed(random.randrange(2**31) if seed is None else seed)

    def call(self, inputs, training=None):
        if training is None:
            training = tf.keras.backend.learning_phase()
        if isinstance(training, (bool, int)):
            return self._augmented(inputs) if training else inputs
        return tf.cond(tf.cast(training, tf.bool), lambda: self._augmented(inputs), lambda: tf.identity(inputs))

    def _augmented(self, inputs):
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def _check_non_negative(**values):
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"{name} must be non-negative, got {value}")


@tf.keras.utils.register_keras_serializable(package="speech_emotion")
class SpecAugment(TrainingOnlyAugmentation):
    """Masks `frequency_masks` bands of up to `max_frequency_width` bins and `time_masks` spans of up to
    `max_time_width` frames of each [batch, frames, bins, ...] example, independently per example.

    `mask_value` 0 is the train-split mean of features normalised per band, as the Transform outputs are.
    """

    def __init__(
        self,
        frequency_masks: int = 2,
        max_frequency_width: int = 8,
        time_masks: int = 2,
        max_time_width: int = 20,
        mask_value: float = 0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        _check_non_negative(frequency_masks=frequency_masks, max_frequency_width=max_frequency_width,
                            time_masks=time_masks, max_time_width=max_time_width)
        self.frequency_masks = frequency_masks
        self.max_frequency_width = max_frequency_width
        self.time_masks = time_masks
        self.max_time_width = max_time_width
        self.mask_value = mask_value

    def _augmented(self, inputs):
        shape = tf.shape(inputs)
        keep = tf.logical_and(
            self._keep(shape[0], shape[1], self.time_masks, self.max_time_width)[:, :, tf.newaxis],
            self._keep(shape[0], shape[2], self.frequency_masks, self.max_frequency_width)[:, tf.newaxis, :],
        )
        # [batch, frames, bins] broadcast against any trailing channel axes.
        keep = tf.reshape(keep, tf.concat([shape[:3], tf.ones([tf.rank(inputs) - 3], tf.int32)], axis=0))
        return tf.where(keep, inputs, tf.cast(self.mask_value, inputs.dtype))

    def _keep(self, batch, size, count, max_width):
        """Boolean [batch, size]: False inside any of `count` random spans of up to `max_width`."""
        if count == 0 or max_width == 0:
            return tf.ones([batch, size], tf.bool)
        max_width = tf.minimum(max_width, size)
        widths = self._random.uniform([batch, count], 0, max_width + 1, dtype=tf.int32)
        starts = tf.cast(self._random.uniform([batch, count]) * tf.cast(size - widths + 1, tf.float32), tf.int32)
        positions = tf.range(size)[tf.newaxis, tf.newaxis, :]
        inside = (positions >= starts[..., tf.newaxis]) & (positions < (starts + widths)[..., tf.newaxis])
        return tf.logical_not(tf.reduce_any(inside, axis=1))

    def get_config(self):
        return {
            **super().get_config(),
            "frequency_masks": self.frequency_masks,
            "max_frequency_width": self.max_frequency_width,
            "time_masks": self.time_masks,
            "max_time_width": self.max_time_width,
            "mask_value": self.mask_value,
        }


@tf.keras.utils.register_keras_serializable(package="speech_emotion")
class RandomBandShift(TrainingOnlyAugmentation):
    """Shifts each [batch, frames, bins] example's spectrum by its own random whole number of bins, up to
    `max_shift` either way, repeating the edge bin into the space it leaves.

    One speaker's pitch and formants sit a few mel bands above or below another's, more so across genders and
    corpora; a model trained on a few dozen speakers otherwise learns where in frequency they were.
    """

    def __init__(self, max_shift: int, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        _check_non_negative(max_shift=max_shift)
        self.max_shift = max_shift

    def _augmented(self, inputs):
        shape = tf.shape(inputs)
        shifts = self._random.uniform([shape[0], 1], -self.max_shift, self.max_shift + 1, dtype=tf.int32)
        sources = tf.clip_by_value(tf.range(shape[2])[tf.newaxis, :] - shifts, 0, shape[2] - 1)
        return tf.gather(inputs, sources, axis=2, batch_dims=1)

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift}
