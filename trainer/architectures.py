"""The five classifier bodies: each maps the log-mel image to one utterance vector, sized by a ModelConfig.

All share the convolutional front-end (local spectro-temporal patterns); they differ in how the
resulting frame sequence is summarised over time.
"""
from typing import Callable, Dict

import tensorflow as tf

from speech_emotion.trainer import config as trainer_config

layers = tf.keras.layers


def conv_blocks(log_mel_image: tf.Tensor, config: trainer_config.ModelConfig, regularizer) -> tf.Tensor:
    """Conv-BN-ReLU-pool blocks over [batch, frames, mels, 1]; returns a [batch, frames', features] sequence."""
    x = log_mel_image
    for block, filters in enumerate(config.conv_filters):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_regularizer=regularizer, name=f"conv{block}")(x)
        x = layers.BatchNormalization(momentum=config.batch_norm_momentum, name=f"conv{block}_norm")(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(pool_size=2, name=f"conv{block}_pool")(x)
        x = layers.SpatialDropout2D(config.dropout / 2)(x)
    _, frames, bands, channels = x.shape
    return layers.Reshape((frames, bands * channels))(x)


def attention_pooling(sequence: tf.Tensor, name: str) -> tf.Tensor:
    """Weights each time step by a learned relevance score and sums: emotion is not spread evenly in time."""
    scores = layers.Dense(1, name=f"{name}_score")(sequence)
    weights = layers.Softmax(axis=1, name=f"{name}_weights")(scores)
    return layers.Flatten()(layers.Dot(axes=1, name=name)([weights, sequence]))


def _bilstm(sequence, config, regularizer):
    return layers.Bidirectional(
        layers.LSTM(config.recurrent_units, return_sequences=True, kernel_regularizer=regularizer), name="bilstm"
    )(sequence)


def _bigru(sequence, config, regularizer):
    return layers.Bidirectional(
        layers.GRU(config.recurrent_units, return_sequences=True, kernel_regularizer=regularizer), name="bigru"
    )(sequence)


def cnn(sequence, config, regularizer):
    """CNN only: mean and max over time of the convolutional features, batch-normalised for the dense head."""
    pooled = layers.Concatenate(name="time_pooling")(
        [layers.GlobalAveragePooling1D()(sequence), layers.GlobalMaxPooling1D()(sequence)]
    )
    return layers.BatchNormalization(momentum=config.batch_norm_momentum, name="time_pooling_norm")(pooled)


def cnn_bilstm(sequence, config, regularizer):
    return attention_pooling(_bilstm(sequence, config, regularizer), name="attention")


def cnn_gru(sequence, config, regularizer):
    gru = layers.GRU(config.recurrent_units, return_sequences=True, kernel_regularizer=regularizer, name="gru")(sequence)
    return attention_pooling(gru, name="attention")


def cnn_bilstm_bigru_attention(sequence, config, regularizer):
    return attention_pooling(_bigru(_bilstm(sequence, config, regularizer), config, regularizer), name="attention")


def cnn_self_attention_bilstm_bigru(sequence, config, regularizer):
    """Multi-head self-attention relates distant frames before the recurrent layers read them in order."""
    features = sequence.shape[-1]
    attended = layers.MultiHeadAttention(
        num_heads=config.attention_heads, key_dim=max(1, features // config.attention_heads), dropout=config.dropout / 2,
        kernel_regularizer=regularizer, name="self_attention",
    )(sequence, sequence)
    x = layers.LayerNormalization(name="self_attention_norm")(layers.Add()([sequence, attended]))
    return cnn_bilstm_bigru_attention(x, config, regularizer)


BODIES: Dict[str, Callable] = {
    trainer_config.CNN_BILSTM_BIGRU_ATTENTION: cnn_bilstm_bigru_attention,
    trainer_config.CNN: cnn,
    trainer_config.CNN_BILSTM: cnn_bilstm,
    trainer_config.CNN_GRU: cnn_gru,
    trainer_config.CNN_SELF_ATTENTION_BILSTM_BIGRU: cnn_self_attention_bilstm_bigru,
}


def utterance_vector(log_mel: tf.Tensor, config: trainer_config.ModelConfig, regularizer) -> tf.Tensor:
    """The chosen architecture's [batch, features] summary of a [batch, frames, mels] log-mel input."""
    _, frames, mels = log_mel.shape
    sequence = conv_blocks(layers.Reshape((frames, mels, 1))(log_mel), config, regularizer)
    return BODIES[config.architecture](sequence, config, regularizer)
