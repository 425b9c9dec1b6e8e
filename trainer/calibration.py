"""Temperature scaling (Guo et al. 2017) and the calibration measures the model card reports.

The served probabilities are softmax(log p / T): for one model that is softmax(logits / T), and for an
ensemble, whose averaged probabilities have no logits, the same rescaling of its log-probabilities. T is
fitted on the eval split by minimising the negative log-likelihood; T > 1 softens an over-confident model.
"""
import dataclasses
from typing import Dict, List, Sequence

import numpy as np
import scipy.optimize

from speech_emotion.trainer import model_assets

CALIBRATION_BINS = 15
# Written beside feature_config.json in the SavedModel's assets by the Trainer.
CALIBRATION_ASSET = "calibration.json"
# The fitted temperature lies in [1/20, 20]: a temperature outside it says the eval split is degenerate
# (one class, or every clip right with certainty), not that the model needs it.
_LOG_TEMPERATURE_BOUNDS = (-np.log(20.0), np.log(20.0))
# log(0) is -inf; the smallest normal float32 keeps a vanishing probability finite and vanishing.
_TINY = float(np.finfo(np.float32).tiny)


def rescaled(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T) per row; `rescaled(rescaled(p, T), 1 / T)` gives p back."""
    logits = np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), _TINY)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    exponentials = np.exp(logits)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def scale_probabilities(probabilities, temperature: float):
    """The TensorFlow twin of `rescaled`, for the exported graph."""
    import tensorflow as tf

    return tf.nn.softmax(tf.math.log(tf.maximum(probabilities, _TINY)) / temperature, axis=-1)


def negative_log_likelihood(probabilities: np.ndarray, labels: Sequence[int]) -> float:
    labels = np.asarray(labels, dtype=np.int64)
    chosen = np.asarray(probabilities, dtype=np.float64)[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.maximum(chosen, _TINY))))


def fit_temperature(probabilities: np.ndarray, labels: Sequence[int]) -> float:
    """The T > 0 that minimises the NLL of `rescaled(probabilities, T)` on the labels (1.0 without clips)."""
    if not len(labels):
        return 1.0
    found = scipy.optimize.minimize_scalar(
        lambda log_temperature: negative_log_likelihood(rescaled(probabilities, np.exp(log_temperature)), labels),
        bounds=_LOG_TEMPERATURE_BOUNDS, method="bounded", options={"xatol": 1e-6},
    )
    return float(np.exp(found.x))


def reliability_bins(probabilities: np.ndarray, labels: Sequence[int], bins: int = CALIBRATION_BINS) -> List[Dict]:
    """Per equal-width confidence bin ((k/bins, (k+1)/bins], the first closed): clips, mean confidence, accuracy.

    Confidence is the top probability, and a clip is right when its argmax is its label.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    confidence = probabilities.max(axis=-1) if len(labels) else np.zeros(0)
    correct = (probabilities.argmax(axis=-1) == labels) if len(labels) else np.zeros(0, bool)
    # A confidence on an edge belongs to the bin below it.
    index = np.searchsorted(np.linspace(0.0, 1.0, bins + 1)[1:-1], confidence, side="left")
    rows = []
    for k in range(bins):
        members = index == k
        count = int(members.sum())
        rows.append({
            "lower": k / bins, "upper": (k + 1) / bins, "clips": count,
            "confidence": float(confidence[members].mean()) if count else None,
            "accuracy": float(correct[members].mean()) if count else None,
        })
    return rows


def expected_calibration_error(probabilities: np.ndarray, labels: Sequence[int], bins: int = CALIBRATION_BINS) -> float:
    """Sum over confidence bins of (share of clips) x |accuracy - mean confidence|; 0.0 without clips."""
    rows = reliability_bins(probabilities, labels, bins)
    total = sum(row["clips"] for row in rows)
    if not total:
        return 0.0
    return float(sum(row["clips"] / total * abs(row["accuracy"] - row["confidence"]) for row in rows if row["clips"]))



@dataclasses.dataclass(frozen=True)
class Calibration:
    """The temperature the served model applies, and what it did on the split it was fitted on."""

    temperature: float = 1.0
    fitted_on: str = ""
    clips: int = 0
    negative_log_likelihood_before: float = 0.0
    negative_log_likelihood_after: float = 0.0
    expected_calibration_error_before: float = 0.0
    expected_calibration_error_after: float = 0.0

    @classmethod
    def fit(cls, probabilities: np.ndarray, labels: Sequence[int], fitted_on: str) -> "Calibration":
        temperature = fit_temperature(probabilities, labels)
        after = rescaled(probabilities, temperature)
        return cls(
            temperature=temperature, fitted_on=fitted_on, clips=len(labels),
            negative_log_likelihood_before=negative_log_likelihood(probabilities, labels) if len(labels) else 0.0,
            negative_log_likelihood_after=negative_log_likelihood(after, labels) if len(labels) else 0.0,
            expected_calibration_error_before=expected_calibration_error(probabilities, labels),
            expected_calibration_error_after=expected_calibration_error(after, labels),
        )

    def write(self, serving_dir: str) -> str:
        return model_assets.write_json_asset(serving_dir, CALIBRATION_ASSET, dataclasses.asdict(self))

    @classmethod
    def read(cls, serving_dir: str) -> "Calibration":
        """The model's calibration; T = 1 (none) for a model exported without one."""
        return cls(**(model_assets.read_json_asset(serving_dir, CALIBRATION_ASSET) or {}))


def measured(probabilities: np.ndarray, labels: Sequence[int], temperature: float) -> Dict:
    """ECE and reliability bins of served (temperature-scaled) probabilities, and of the model's own before the
    scaling, recovered with 1 / T."""
    unscaled = rescaled(probabilities, 1.0 / temperature) if len(labels) else probabilities
    return {
        "temperature": temperature,
        "expected_calibration_error": expected_calibration_error(probabilities, labels),
        "expected_calibration_error_unscaled": expected_calibration_error(unscaled, labels),
        "reliability": reliability_bins(probabilities, labels),
        "reliability_unscaled": reliability_bins(unscaled, labels),
    }
