"""Human-readable reports: training curves, confusion matrices, per-class tables, reliability diagrams."""
import io
import os
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from speech_emotion.trainer.metrics import UNWEIGHTED_ACCURACY  # noqa: E402

TRAINING_CURVES_PNG = "training_curves_{name}.png"


def _save(figure, path: str) -> str:
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "wb") as image_file:
        figure.savefig(image_file, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path


def write_training_curves(history: Mapping[str, Sequence[float]], name: str, output_dir: str) -> str:
    """Loss and unweighted accuracy per epoch, train against validation."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", UNWEIGHTED_ACCURACY)):
        for prefix in ("", "val_"):
            if prefix + metric in history:
                axis.plot(history[prefix + metric], label=(prefix or "train_") + metric)
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.legend()
    figure.suptitle(name)
    return _save(figure, os.path.join(output_dir, TRAINING_CURVES_PNG.format(name=name)))


def recall_and_precision(confusion: np.ndarray):
    """Per-class recall (rows are true labels) and precision (columns are predictions); NaN where undefined."""
    confusion = np.asarray(confusion, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(confusion) / confusion.sum(axis=1), np.diag(confusion) / confusion.sum(axis=0)


def unweighted_and_weighted_accuracy(confusion: np.ndarray):
    """UA: mean recall over classes present in the labels; WA: overall accuracy."""
    confusion = np.asarray(confusion, dtype=float)
    recall, _ = recall_and_precision(confusion)
    present = confusion.sum(axis=1) > 0
    total = confusion.sum()
    return (float(np.mean(recall[present])) if present.any() else 0.0), (float(np.trace(confusion) / total) if total else 0.0)


def row_shares(confusion: np.ndarray) -> np.ndarray:
    """Each true label's row divided by its clips (recall on the diagonal); 0 for a label without clips."""
    confusion = np.asarray(confusion, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(confusion / confusion.sum(axis=1, keepdims=True))


def write_confusion_matrix(confusion: np.ndarray, classes: Sequence[str], title: str, path: str) -> str:
    confusion = np.asarray(confusion, dtype=float)
    row_share = row_shares(confusion)
    figure, axis = plt.subplots(figsize=(1.0 + 0.7 * len(classes), 0.8 + 0.7 * len(classes)))
    axis.imshow(row_share, cmap="Blues", vmin=0.0, vmax=1.0)
    for (row, column), count in np.ndenumerate(confusion):
        axis.text(column, row, int(count), ha="center", va="center", color="white" if row_share[row, column] > 0.5 else "black")
    axis.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    axis.set_yticks(range(len(classes)), classes)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    return _save(figure, path)


def reliability_diagram_png(bins_by_name: Mapping[str, Sequence[Mapping]], title: str) -> bytes:
    """Accuracy against mean confidence per confidence bin (calibration.reliability_bins), one series per name;
    a calibrated model's points lie on the diagonal. PNG bytes, for embedding."""
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
    for name, bins in bins_by_name.items():
        filled = [row for row in bins if row["clips"]]
        axis.plot([row["confidence"] for row in filled], [row["accuracy"] for row in filled], marker="o", label=name)
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.set_xlabel("confidence (top probability)")
    axis.set_ylabel("accuracy")
    axis.set_title(title)
    axis.legend(loc="upper left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()
