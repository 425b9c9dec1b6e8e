"""The emotion classifier: one of the architectures' bodies under a shared dense softmax head."""
from typing import Sequence

import tensorflow as tf

from speech_emotion.trainer import architectures
from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import metrics
from speech_emotion.trainer import spec_augment
from speech_emotion.trainer import utterance_normalisation

LOG_MEL_INPUT = "log_mel"


def build_model(num_classes: int, num_frames: int, n_mels: int, config: trainer_config.ModelConfig) -> tf.keras.Model:
    regularizer = tf.keras.regularizers.l2(config.l2)
    log_mel = tf.keras.Input(shape=(num_frames, n_mels), name=LOG_MEL_INPUT)
    x = log_mel
    if config.max_band_shift:
        x = spec_augment.RandomBandShift(config.max_band_shift, name="band_shift")(x)
    if config.utterance_normalisation:
        x = utterance_normalisation.UtteranceMeanNormalisation(name="utterance_normalisation")(x)
    masked = spec_augment.SpecAugment(
        frequency_masks=config.frequency_masks, max_frequency_width=config.max_frequency_width,
        time_masks=config.time_masks, max_time_width=config.max_time_width, name="spec_augment",
    )(x)
    x = architectures.utterance_vector(masked, config, regularizer)
    x = tf.keras.layers.Dropout(config.dropout)(x)
    x = tf.keras.layers.Dense(config.dense_units, activation="relu", kernel_regularizer=regularizer)(x)
    x = tf.keras.layers.Dropout(config.dropout)(x)
    probabilities = tf.keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    model = tf.keras.Model(log_mel, probabilities, name=f"emotion_{config.architecture}")
    model.compile(
        optimizer=tf.keras.optimizers.Adam(config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy"), metrics.UnweightedAccuracy(num_classes)],
    )
    return model


def averaged(members: Sequence[tf.keras.Model]) -> tf.keras.Model:
    """One model whose probabilities are the mean of the members' (the member itself when there is one)."""
    if len(members) == 1:
        return members[0]
    log_mel = tf.keras.Input(shape=members[0].input_shape[1:], name=LOG_MEL_INPUT)
    probabilities = tf.keras.layers.Average(name="probabilities")([member(log_mel) for member in members])
    return tf.keras.Model(log_mel, probabilities, name="emotion_ensemble")
