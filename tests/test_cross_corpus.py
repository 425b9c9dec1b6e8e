import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow loads)

import numpy as np
import tensorflow as tf

from speech_emotion.components.cross_corpus import evaluate
from speech_emotion.data import example_features
from speech_emotion.trainer import model_card
from speech_emotion.trainer import reports

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry")


def _example(corpus, label, value):
    feature = {
        example_features.CORPUS: tf.train.Feature(bytes_list=tf.train.BytesList(value=[corpus.encode()])),
        example_features.LABEL: tf.train.Feature(bytes_list=tf.train.BytesList(value=[label.encode()])),
        "score": tf.train.Feature(float_list=tf.train.FloatList(value=value)),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


@tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
def _softmax_of_scores(serialized):
    """A stand-in classifier: softmax over the per-class scores stored in each example."""
    scores = tf.io.parse_example(serialized, {"score": tf.io.FixedLenFeature([len(EMOTIONS)], tf.float32)})["score"]
    return tf.nn.softmax(scores)


def _predict(serialized):
    return _softmax_of_scores(tf.constant(serialized)).numpy()


def test_argmax_is_taken_over_the_shared_emotions_only():
    # The model's favourite is `calm`, which EmoDB lacks; among shared classes the clip's own label wins.
    examples = [
        _example("emodb", "sad", [0, 5, 0, 2, 1]),
        _example("emodb", "angry", [0, 5, 0, 1, 2]),
        _example("emodb", "boredom", [5, 0, 0, 0, 0]),
        _example("emodb", "neutral", [1, 5, 2, 0, 0]),
    ]
    result = evaluate.scores_by_corpus(_predict, examples, EMOTIONS)["emodb"]
    assert result["classes"] == ["neutral", "sad", "angry"]
    assert result["examples"] == 3 and result["excluded"] == 1
    # neutral's argmax over (neutral, sad, angry) is neutral (1 > 0): correct once calm and happy are left out.
    assert result["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert result["unweighted_accuracy"] == 1.0 and result["weighted_accuracy"] == 1.0
    # Calibration on the probabilities renormalised over the three scored classes: sad's are softmax(0, 2, 1).
    sad = np.exp([0.0, 2.0, 1.0]) / np.exp([0.0, 2.0, 1.0]).sum()
    assert result["calibration"]["reliability"][int(np.ceil(sad.max() * 15)) - 1]["clips"] >= 1
    assert 0.0 < result["calibration"]["expected_calibration_error"] < 1.0


def test_full_taxonomy_scoring_counts_out_of_shared_predictions_as_errors():
    examples = [_example("ravdess", "sad", [0, 5, 0, 2, 1]), _example("ravdess", "angry", [0, 0, 0, 1, 2])]
    result = evaluate.scores_by_corpus(_predict, examples, EMOTIONS, shared_only=False)["ravdess"]
    assert result["classes"] == list(EMOTIONS)
    assert result["unweighted_accuracy"] == 0.5 and result["weighted_accuracy"] == 0.5


def test_corpora_are_scored_separately_and_gated_on_the_floor():
    examples = [_example("emodb", "sad", [0, 0, 0, 3, 0]), _example("emodb", "angry", [0, 0, 0, 3, 0]),
                _example("cremad", "sad", [0, 0, 0, 3, 0]), _example("cremad", "happy", [0, 0, 3, 0, 0])]
    results = evaluate.scores_by_corpus(_predict, examples, EMOTIONS)
    assert results["emodb"]["unweighted_accuracy"] == 0.5 and results["cremad"]["unweighted_accuracy"] == 1.0
    assert evaluate.failing_corpora(results, 0.7) == {"emodb": 0.5}
    assert evaluate.failing_corpora(results, 0.5) == {}


def test_reports_unweighted_accuracy_ignores_absent_classes_and_tables_list_every_class(tmp_path):
    confusion = np.array([[3, 1, 0], [0, 0, 0], [1, 0, 1]])
    unweighted, weighted = reports.unweighted_and_weighted_accuracy(confusion)
    assert unweighted == (0.75 + 0.5) / 2 and weighted == 4 / 6
    table = model_card.per_class_table(confusion, ["angry", "calm", "sad"])
    assert table.rows[0] == ("angry", 4, 0.75, 0.75) and table.rows[1] == ("calm", 0, None, 0.0)
    png = reports.write_confusion_matrix(confusion, ["angry", "calm", "sad"], "test", str(tmp_path / "cm.png"))
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    curves = reports.write_training_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "unweighted_accuracy": [0.3, 0.6]}, "cnn", str(tmp_path))
    assert open(curves, "rb").read(4) == b"\x89PNG"
