"""The Trainer's callbacks: training stops once validation loss has not improved for the patience, on the last epoch's weights."""
import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow loads)

import numpy as np
import tensorflow as tf

from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import task

FEATURES, CLASSES = 16, 4


def _noisy_split(rng, examples):
    """Labels half decided by the first feature, half random: a wide model soon fits the noise."""
    features = rng.normal(size=(examples, FEATURES)).astype("float32")
    labels = np.where(rng.random(examples) < 0.5, (features[:, 0] > 0).astype("int64"), rng.integers(0, CLASSES, examples))
    return features, labels


def test_training_stops_when_validation_loss_stops_improving_and_keeps_the_last_weights(tmp_path):
    rng = np.random.default_rng(0)
    (train_x, train_y), (eval_x, eval_y) = _noisy_split(rng, 64), _noisy_split(rng, 256)
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input(shape=(FEATURES,))
    hidden = tf.keras.layers.Dense(256, activation="relu")(inputs)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(CLASSES, activation="softmax")(hidden))
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    training_config = trainer_config.TrainingConfig(epochs=60, early_stopping_patience=5, reduce_lr_patience=3)

    history = model.fit(
        train_x, train_y, validation_data=(eval_x, eval_y), epochs=training_config.epochs, batch_size=16,
        callbacks=task.training_callbacks(training_config, str(tmp_path)), verbose=0,
    )

    validation_losses = history.history["val_loss"]
    assert len(validation_losses) == int(np.argmin(validation_losses)) + training_config.early_stopping_patience + 1
    assert min(validation_losses) < validation_losses[-1]
    assert abs(model.evaluate(eval_x, eval_y, verbose=0)[0] - validation_losses[-1]) < 1e-4
    assert tf.io.gfile.glob(str(tmp_path / "train" / "events.out.tfevents.*"))
