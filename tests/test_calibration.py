"""Temperature scaling and the expected calibration error, on synthetic logits and on hand-made cases."""
import numpy as np
import pytest

from speech_emotion.trainer import calibration


def _softmax(logits):
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def test_fitting_recovers_the_temperature_of_an_over_confident_model_and_lowers_ece():
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 2.0, size=(6000, 5))
    # Labels drawn from softmax(logits): the model that reports softmax(2 * logits) is over-confident by T = 2.
    labels = np.array([rng.choice(5, p=row) for row in _softmax(logits)])
    over_confident = _softmax(2.0 * logits)

    fitted = calibration.Calibration.fit(over_confident, labels, fitted_on="eval")
    assert fitted.temperature == pytest.approx(2.0, rel=0.05)
    np.testing.assert_allclose(calibration.rescaled(over_confident, fitted.temperature), _softmax(2.0 * logits / fitted.temperature),
                               atol=1e-9)
    assert fitted.negative_log_likelihood_after < fitted.negative_log_likelihood_before
    assert fitted.expected_calibration_error_before > 0.1
    assert fitted.expected_calibration_error_after < 0.03 < fitted.expected_calibration_error_before
    assert fitted.clips == len(labels)


def test_an_under_confident_model_gets_a_temperature_below_one():
    rng = np.random.default_rng(1)
    logits = rng.normal(0.0, 3.0, size=(4000, 4))
    labels = np.array([rng.choice(4, p=row) for row in _softmax(logits)])
    assert calibration.fit_temperature(_softmax(logits / 3.0), labels) == pytest.approx(1 / 3.0, rel=0.05)


def test_ece_of_a_hand_made_case():
    # Two clips at confidence 0.9 (one right), two at 0.55 (both right): 0.5 * |0.5 - 0.9| + 0.5 * |1.0 - 0.55|.
    probabilities = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.55, 0.25, 0.2], [0.2, 0.25, 0.55]])
    labels = [0, 2, 0, 2]
    assert calibration.expected_calibration_error(probabilities, labels) == pytest.approx(0.425)
    bins = calibration.reliability_bins(probabilities, labels)
    assert len(bins) == calibration.CALIBRATION_BINS == 15
    filled = [row for row in bins if row["clips"]]
    assert [(row["clips"], row["confidence"], row["accuracy"]) for row in filled] == [(2, 0.55, 1.0), (2, 0.9, 0.5)]
    assert filled[0]["lower"] < 0.55 <= filled[0]["upper"]


def test_confidence_on_a_bin_edge_belongs_to_the_bin_below_and_no_clips_score_zero():
    bins = calibration.reliability_bins(np.array([[0.6, 0.4], [1.0, 0.0]]), [0, 0])
    assert bins[8]["clips"] == 1 and bins[8]["upper"] == pytest.approx(0.6)
    assert bins[14]["clips"] == 1
    assert calibration.expected_calibration_error(np.zeros((0, 3)), []) == 0.0
    assert calibration.fit_temperature(np.zeros((0, 3)), []) == 1.0


def test_rescaling_by_one_over_t_undoes_it_and_measured_reports_both():
    probabilities = _softmax(np.random.default_rng(2).normal(size=(50, 3)))
    np.testing.assert_allclose(calibration.rescaled(calibration.rescaled(probabilities, 2.5), 1 / 2.5), probabilities, atol=1e-12)
    labels = probabilities.argmax(axis=1)
    measured = calibration.measured(calibration.rescaled(probabilities, 2.5), labels, 2.5)
    assert measured["expected_calibration_error_unscaled"] == pytest.approx(calibration.expected_calibration_error(probabilities, labels))
    assert sum(row["clips"] for row in measured["reliability"]) == 50


def test_calibration_round_trips_through_the_model_assets(tmp_path):
    assert calibration.Calibration.read(str(tmp_path)).temperature == 1.0
    fitted = calibration.Calibration(temperature=1.7, fitted_on="eval", clips=3)
    fitted.write(str(tmp_path))
    assert calibration.Calibration.read(str(tmp_path)) == fitted
