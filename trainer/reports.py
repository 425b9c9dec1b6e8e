"""Human-readable reports written to the work directory: curves, confusion matrices, per-class tables, model card."""
import os
from typing import Dict, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from speech_emotion.trainer.metrics import UNWEIGHTED_ACCURACY  # noqa: E402

TRAINING_CURVES_PNG = "training_curves_{name}.png"
MODEL_CARD = "model_card.md"


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


def per_class_table(confusion: np.ndarray, classes: Sequence[str]) -> str:
    recall, precision = recall_and_precision(confusion)
    support = np.asarray(confusion).sum(axis=1)
    lines = ["| emotion | support | recall | precision |", "|---|---|---|---|"]
    for index, emotion in enumerate(classes):
        lines.append(f"| {emotion} | {int(support[index])} | {recall[index]:.3f} | {precision[index]:.3f} |")
    return "\n".join(lines) + "\n"


def write_confusion_matrix(confusion: np.ndarray, classes: Sequence[str], title: str, path: str) -> str:
    confusion = np.asarray(confusion, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        row_share = np.nan_to_num(confusion / confusion.sum(axis=1, keepdims=True))
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


def model_card(
    emotions: Sequence[str],
    data: Mapping[str, str],
    metrics_by_corpus: Mapping[str, Mapping[str, float]],
    tuning_summary_markdown: str = "",
    model_description: str = "",
) -> str:
    """Markdown model card: intended use, data and splits, metrics per corpus, and the tuning summary."""
    lines = [
        "# Model card: speech emotion recognition", "",
        "## Model", "", model_description or "See the Trainer's run directory for the architecture.", "",
        f"Classes ({len(emotions)}): {', '.join(emotions)}.", "",
        "## Intended use", "",
        "Research and prototyping on acted emotional speech. Acted corpora differ from spontaneous speech; "
        "do not use the output for decisions about people.", "",
        "## Data and splits", "",
    ]
    lines += [f"- **{name}**: {description}" for name, description in data.items()]
    lines += ["", "## Metrics per corpus", "", "| corpus | " + " | ".join(_metric_names(metrics_by_corpus)) + " |",
              "|---|" + "---|" * len(_metric_names(metrics_by_corpus))]
    for corpus, metrics in metrics_by_corpus.items():
        lines.append(f"| {corpus} | " + " | ".join(_format(metrics.get(name)) for name in _metric_names(metrics_by_corpus)) + " |")
    if tuning_summary_markdown:
        lines += ["", "## Hyperparameter search", "", tuning_summary_markdown]
    return "\n".join(lines) + "\n"


def _metric_names(metrics_by_corpus: Mapping[str, Mapping[str, float]]):
    names: Dict[str, None] = {}
    for metrics in metrics_by_corpus.values():
        names.update(dict.fromkeys(metrics))
    return list(names)


def _format(value) -> str:
    return "—" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))
