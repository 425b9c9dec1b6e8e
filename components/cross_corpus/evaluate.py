"""Scores a served model per corpus; on cross-corpus data only over the emotions both taxonomies share.

A test corpus rarely has the training taxonomy's classes (EmoDB has no `calm`), so its clips are
classified by the argmax over the shared classes only, and UA, WA and the confusion matrix use them; its
calibration is measured on the probabilities renormalised over those classes.
"""
import collections
import os
from typing import Callable, Dict, Iterable, Sequence

import numpy as np
import tensorflow as tf

from speech_emotion.data import example_features
from speech_emotion.trainer import calibration
from speech_emotion.trainer import export
from speech_emotion.trainer import reports

BATCH_SIZE = 32


def served_emotions(serving_dir: str) -> list:
    """The exported model's classes, in its output order (assets/labels.txt)."""
    with tf.io.gfile.GFile(os.path.join(serving_dir, "assets", export.LABELS_ASSET)) as labels_file:
        return [line.strip() for line in labels_file if line.strip()]


def _text(example: tf.train.Example, name: str) -> str:
    values = example.features.feature[name].bytes_list.value
    return values[0].decode() if values else ""


def scores_by_corpus(
    predict: Callable[[Sequence[bytes]], np.ndarray], serialized_examples: Iterable[bytes], emotions: Sequence[str],
    shared_only: bool = True, temperature: float = 1.0,
) -> Dict[str, dict]:
    """Per corpus: the classes scored, confusion matrix over them, UA, WA, counts, calibration.

    `predict` maps serialized tf.Examples to [batch, len(emotions)] probabilities. With `shared_only`,
    each corpus is scored over the emotions its clips carry that `emotions` also has; otherwise over
    all of `emotions`. Clips whose label is outside the scored classes are counted as `excluded`.
    `temperature` is the one the served model applies (calibration.measured undoes it for the unscaled ECE).
    """
    by_corpus = collections.defaultdict(list)
    for serialized in serialized_examples:
        example = tf.train.Example.FromString(serialized)
        by_corpus[_text(example, example_features.CORPUS)].append((serialized, _text(example, example_features.LABEL)))
    results = {}
    for corpus, items in sorted(by_corpus.items()):
        present = {label for _, label in items}
        classes = [emotion for emotion in emotions if emotion in present] if shared_only else list(emotions)
        scored = [(serialized, label) for serialized, label in items if label in classes]
        columns = [list(emotions).index(emotion) for emotion in classes]
        batches = [np.asarray(predict([serialized for serialized, _ in scored[start:start + BATCH_SIZE]]))[:, columns]
                   for start in range(0, len(scored), BATCH_SIZE)]
        probabilities = np.concatenate(batches) if batches else np.zeros((0, len(classes)))
        with np.errstate(invalid="ignore", divide="ignore"):
            probabilities = np.nan_to_num(probabilities / probabilities.sum(axis=1, keepdims=True))
        labels = np.array([classes.index(label) for _, label in scored], dtype=np.int64)
        confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
        np.add.at(confusion, (labels, probabilities.argmax(axis=1) if len(labels) else labels), 1)
        unweighted, weighted = reports.unweighted_and_weighted_accuracy(confusion)
        results[corpus] = {
            "classes": classes, "confusion_matrix": confusion.tolist(), "unweighted_accuracy": unweighted,
            "weighted_accuracy": weighted, "examples": len(scored), "excluded": len(items) - len(scored),
            "calibration": calibration.measured(probabilities, labels, temperature),
        }
    return results


def failing_corpora(results: Dict[str, dict], min_unweighted_accuracy: float) -> Dict[str, float]:
    """Corpora with scored clips whose UA falls below the floor."""
    return {
        corpus: result["unweighted_accuracy"] for corpus, result in results.items()
        if result["examples"] and result["unweighted_accuracy"] < min_unweighted_accuracy
    }
