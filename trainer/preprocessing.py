"""tf.Transform preprocessing: WAV bytes to normalised audio features, labels to class indices.

The same graph is embedded in the served model, so training and serving share one front-end.
"""
import tensorflow as tf
import tensorflow_transform as tft

from speech_emotion.audio import features, frontend
from speech_emotion.config import FeatureConfig
from speech_emotion.data import example_features

LOG_MEL = features.LOG_MEL
LABEL_INDEX = "label_index"
# The example's corpus and speaker, passed through for the Trainer's balancing weights (example_weights); named
# apart from the raw features so the Evaluator's slices on `corpus` see one feature of that name.
EXAMPLE_CORPUS = "example_corpus"
EXAMPLE_SPEAKER = "example_speaker"
# The labels seen in the train split, most frequent first; recorded for reference, label_index uses `emotions`.
LABEL_VOCABULARY = "label"
# Keys of the Transform component's custom_config.
FEATURE_CONFIG_KEY = "feature_config"
EMOTIONS_KEY = "emotions"


def first_value(feature) -> tf.Tensor:
    """The first value of a single-valued feature as a [batch] tensor, however the schema parsed it."""
    if isinstance(feature, tf.SparseTensor):
        feature = tf.sparse.to_dense(feature)
    elif isinstance(feature, tf.RaggedTensor):
        feature = feature.to_tensor()
    feature = tf.reshape(feature, [tf.shape(feature)[0], -1])
    # Padding one column keeps a batch whose values are all missing well-formed (the default value).
    return tf.pad(feature, [[0, 0], [0, 1]])[:, 0]


def label_indices(labels: tf.Tensor, emotions) -> tf.Tensor:
    """Index of each label in `emotions`, -1 for labels outside it (no lookup table to initialise)."""
    matches = tf.equal(labels[:, tf.newaxis], tf.constant(list(emotions))[tf.newaxis, :])
    return tf.where(tf.reduce_any(matches, axis=1), tf.argmax(tf.cast(matches, tf.int64), axis=1), tf.constant(-1, tf.int64))


def normalised_per_coefficient(feature: tf.Tensor, name: str) -> tf.Tensor:
    """[batch, frames, k] scaled to zero mean and unit variance per coefficient over the train split.

    Clips have equal length, so the mean over clips of each clip's mean is the mean over all frames. The
    statistics are summed in float64: Beam combines batches in no fixed order, and float32 sums in another order
    differ in the last bits, which is enough to send a retrained model elsewhere.
    """
    mean = tft.mean(tf.cast(tf.reduce_mean(feature, axis=1), tf.float64), reduce_instance_dims=False, name=f"{name}_mean")
    mean_square = tft.mean(tf.cast(tf.reduce_mean(tf.square(feature), axis=1), tf.float64), reduce_instance_dims=False,
                           name=f"{name}_mean_square")
    std = tf.sqrt(tf.maximum(mean_square - tf.square(mean), 1e-6))
    return (feature - tf.cast(mean, tf.float32)) / tf.cast(std, tf.float32)


def preprocessing_fn(inputs, custom_config):
    feature_config = FeatureConfig.from_json(custom_config[FEATURE_CONFIG_KEY])
    waveforms = frontend.waveforms_from_wav_batch(first_value(inputs[example_features.AUDIO]), feature_config)
    outputs = {
        name: normalised_per_coefficient(value, name) for name, value in features.audio_features(waveforms, feature_config).items()
    }
    labels = first_value(inputs[example_features.LABEL])
    tft.vocabulary(labels, vocab_filename=LABEL_VOCABULARY)
    outputs[LABEL_INDEX] = label_indices(labels, custom_config[EMOTIONS_KEY])
    outputs[EXAMPLE_CORPUS] = first_value(inputs[example_features.CORPUS])
    outputs[EXAMPLE_SPEAKER] = first_value(inputs[example_features.SPEAKER])
    return outputs
