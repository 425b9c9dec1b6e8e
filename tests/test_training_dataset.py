"""The Trainer's input pipeline over a real TFX DataAccessor: every example once per epoch, parsed once, weighted
so that corpora, speakers and emotions balance."""
import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow loads)

import collections
import os

import numpy as np
import tensorflow as tf
from tensorflow_transform.tf_metadata import schema_utils
from tfx import v1 as tfx
from tfx.components.trainer import fn_args_utils
from tfx.components.util import tfxio_utils

from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import example_weights
from speech_emotion.trainer import preprocessing
from speech_emotion.trainer import task

FRAMES, MELS, EXAMPLES = 4, 3, 50


def _corpus_and_speaker(index):
    """Examples 0-9 from one speaker of a small corpus, the rest from three speakers of another."""
    return (b"small", b"small:1") if index < 10 else (b"large", f"large:{index % 3}".encode())


def _write_transformed_examples(split_dir):
    os.makedirs(split_dir)
    with tf.io.TFRecordWriter(os.path.join(split_dir, "data.gz"), options="GZIP") as writer:
        for index in range(EXAMPLES):
            example = tf.train.Example(features=tf.train.Features(feature={
                preprocessing.LOG_MEL: tf.train.Feature(float_list=tf.train.FloatList(value=np.full(FRAMES * MELS, index, "float32"))),
                preprocessing.LABEL_INDEX: tf.train.Feature(int64_list=tf.train.Int64List(value=[index % 3])),
                preprocessing.EXAMPLE_CORPUS: tf.train.Feature(bytes_list=tf.train.BytesList(value=[_corpus_and_speaker(index)[0]])),
                preprocessing.EXAMPLE_SPEAKER: tf.train.Feature(bytes_list=tf.train.BytesList(value=[_corpus_and_speaker(index)[1]])),
            }))
            writer.write(example.SerializeToString())


def _epoch(dataset):
    return [(int(log_mel[0, 0]), int(label), float(weight)) for log_mels, labels, weights in dataset
            for log_mel, label, weight in zip(log_mels.numpy(), labels.numpy(), weights.numpy())]


def test_each_epoch_holds_every_example_once_reshuffled_without_rereading_the_files_with_its_balancing_weight(tmp_path):
    examples = tfx.types.standard_artifacts.Examples()
    examples.uri = str(tmp_path)
    split_dir = os.path.join(str(tmp_path), "Split-train")
    _write_transformed_examples(split_dir)
    data_accessor = fn_args_utils.DataAccessor(
        tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact([examples], []),
        record_batch_factory=None, data_view_decode_fn=None,
    )
    schema = schema_utils.schema_from_feature_spec({
        preprocessing.LOG_MEL: tf.io.FixedLenFeature([FRAMES, MELS], tf.float32),
        preprocessing.LABEL_INDEX: tf.io.FixedLenFeature([1], tf.int64),
        preprocessing.EXAMPLE_CORPUS: tf.io.FixedLenFeature([], tf.string),
        preprocessing.EXAMPLE_SPEAKER: tf.io.FixedLenFeature([], tf.string),
    })
    tf.keras.utils.set_random_seed(0)
    balance = trainer_config.BalanceConfig()
    dataset, examples = task.make_dataset([os.path.join(split_dir, "*")], data_accessor, schema, batch_size=8, shuffle=True, balance=balance)

    assert examples == EXAMPLES

    first = _epoch(dataset)
    counts = collections.Counter((*_corpus_and_speaker(index), index % 3) for index in range(EXAMPLES))
    weights = example_weights.group_weights(counts, balance)
    expected = [(index, index % 3, weights[(*_corpus_and_speaker(index), index % 3)]) for index in range(EXAMPLES)]
    assert [item[:2] for item in sorted(first)] == [item[:2] for item in sorted(expected)]
    np.testing.assert_allclose([item[2] for item in sorted(first)], [item[2] for item in sorted(expected)], rtol=1e-6)
    # The small corpus' one speaker weighs more per example than the large corpus' three.
    assert weights[(b"small", b"small:1", 0)] > weights[(b"large", b"large:0", 0)]
    os.remove(os.path.join(split_dir, "data.gz"))
    second = _epoch(dataset)
    assert collections.Counter(second) == collections.Counter(first)
    assert second != first
    for log_mels, labels, weights in dataset.take(1):
        assert log_mels.shape[1:] == (FRAMES, MELS) and labels.shape.rank == 1 and weights.shape == labels.shape
