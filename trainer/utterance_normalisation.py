"""Per-utterance mean normalisation of the log-mel input: cepstral mean normalisation on mel bands."""
import tensorflow as tf


@tf.keras.utils.register_keras_serializable(package="speech_emotion")
class UtteranceMeanNormalisation(tf.keras.layers.Layer):
    """Subtracts each example's mean over its sounding frames from every band of a [batch, frames, bands] input.

    A recording's microphone, room and level add a roughly constant offset per band in the log domain;
    removing it per utterance keeps the model from learning one speaker's or corpus's channel.
    Clips shorter than the clip length are centre-padded with zeros, whose frames sit at the log floor in
    every band; they are left out of the mean, or it would depend on how much of a clip is padding, which
    differs between corpora (EmoDB's clips here are cut to 2 s, RAVDESS's run past 3 s).
    """

    def call(self, inputs):
        band_floor = tf.reduce_min(inputs, axis=1, keepdims=True)
        sounding = tf.cast(tf.reduce_any(inputs > band_floor, axis=2, keepdims=True), inputs.dtype)
        frames = tf.maximum(tf.reduce_sum(sounding, axis=1, keepdims=True), 1.0)
        return inputs - tf.reduce_sum(inputs * sounding, axis=1, keepdims=True) / frames
