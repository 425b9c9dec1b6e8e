"""Unweighted accuracy (macro-averaged recall), the usual headline metric of speech emotion recognition."""
import tensorflow as tf

UNWEIGHTED_ACCURACY = "unweighted_accuracy"


class UnweightedAccuracy(tf.keras.metrics.Metric):
    """Mean over classes of per-class recall, with argmax predictions and integer labels.

    Classes absent from the labels seen so far are left out of the mean, so a split lacking an
    emotion is not scored as zero recall on it.
    """

    def __init__(self, num_classes: int, name: str = UNWEIGHTED_ACCURACY, **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.confusion = self.add_weight(name="confusion", shape=(num_classes, num_classes), initializer="zeros", dtype=tf.float32)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = tf.reshape(tf.cast(y_true, tf.int64), [-1])
        predictions = tf.argmax(tf.reshape(y_pred, [-1, self.num_classes]), axis=-1)
        valid = tf.logical_and(labels >= 0, labels < self.num_classes)
        weights = None if sample_weight is None else tf.boolean_mask(tf.reshape(sample_weight, [-1]), valid)
        batch_confusion = tf.math.confusion_matrix(
            tf.boolean_mask(labels, valid), tf.boolean_mask(predictions, valid),
            num_classes=self.num_classes, weights=weights, dtype=tf.float32,
        )
        self.confusion.assign_add(batch_confusion)

    def result(self):
        support = tf.reduce_sum(self.confusion, axis=1)
        recall = tf.math.divide_no_nan(tf.linalg.diag_part(self.confusion), support)
        present = tf.cast(support > 0, tf.float32)
        return tf.math.divide_no_nan(tf.reduce_sum(recall * present), tf.reduce_sum(present))

    def reset_state(self):
        self.confusion.assign(tf.zeros_like(self.confusion))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
