"""CrossCorpusGate: the cross-corpus check between the Evaluator and the Pusher.

The Pusher takes one blessing, so this component folds two checks into the one it hands on: the
Evaluator's (absolute floor and no regression on the eval split) and its own (unweighted accuracy on
every test corpus, over the emotions shared with the training taxonomy, at least `min_unweighted_accuracy`).
Without a `test` split it passes the Evaluator's verdict on. It also writes per-corpus reports
(JSON, confusion-matrix PNGs) and the model card (markdown and HTML, trainer/model_card.py).

The card goes into the model's `assets.extra/` too, so every pushed version carries its own. The Pusher copies
the Trainer's model directory as it is and takes nothing else from upstream but this component's blessing, so
the card has to be in that directory before the Pusher runs; this is the last component before it and the one
that holds every figure the card reports (its own scores, the Evaluator's slices, the verdict). A separate
card component would need either a copy of the SavedModel as a second Model artifact (which the blessing and
the baseline resolver do not name) or an ordering edge outside the artifacts; MCT's ModelCardGenerator, which
runs after the Pusher, cannot put the card in the pushed version at all. The card is also kept in this
component's own report artifact. Writing into the Trainer's artifact is idempotent (a re-run writes the same
files), and TF Serving reads nothing in `assets.extra/` but its warm-up requests.
"""
import json
import os

import tensorflow as tf
from tfx import v1 as tfx
from tfx.components.evaluator import constants as evaluator_constants
from tfx.types import artifact_utils
from tfx.types import standard_artifacts
from tfx.utils import path_utils

from speech_emotion.components.cross_corpus import evaluate
from speech_emotion.components.cross_corpus import slices
from speech_emotion.data import ingest
from speech_emotion.data import splits
from speech_emotion.trainer import calibration
from speech_emotion.trainer import model_card
from speech_emotion.trainer import model_summary
from speech_emotion.trainer import reports
from speech_emotion.trainer import tuning

REPORT_JSON = "cross_corpus.json"
# Beside TF Serving's warm-up requests in the SavedModel: copied by the Pusher, ignored by the server.
MODEL_CARD_DIR = "assets.extra"
OutputArtifact = tfx.dsl.components.OutputArtifact
InputArtifact = tfx.dsl.components.InputArtifact
Parameter = tfx.dsl.components.Parameter


class CrossCorpusReport(tfx.dsl.Artifact):
    """Per-corpus scores of a model: cross_corpus.json, tables and confusion-matrix PNGs."""

    # <namespace>.<Name>, the form the Kubeflow V2 compiler requires of custom artifact types.
    TYPE_NAME = "speech_emotion.CrossCorpusReport"


def _serialized_examples(examples: standard_artifacts.Examples, split: str):
    split_uri = artifact_utils.get_split_uri([examples], split)
    files = tf.io.gfile.glob(os.path.join(split_uri, "*"))
    return tf.data.TFRecordDataset(files, compression_type="GZIP" if files and files[0].endswith(".gz") else "").as_numpy_iterator()


def write_confusion_matrices(results: dict, scope: str, output_dirs) -> None:
    for corpus, result in results.items():
        for output_dir in output_dirs:
            reports.write_confusion_matrix(
                result["confusion_matrix"], result["classes"], f"{corpus} ({scope})",
                os.path.join(output_dir, f"confusion_{scope}_{corpus}.png"),
            )


def _json_or(path: str, default):
    if not path or not tf.io.gfile.exists(path):
        return default
    with tf.io.gfile.GFile(path) as json_file:
        return json.load(json_file)


@tfx.dsl.components.component
def CrossCorpusGate(  # noqa: N802  (TFX components are named as classes)
    examples: InputArtifact[standard_artifacts.Examples],
    model: InputArtifact[standard_artifacts.Model],
    evaluator_blessing: InputArtifact[standard_artifacts.ModelBlessing],
    evaluation: InputArtifact[standard_artifacts.ModelEvaluation],
    blessing: OutputArtifact[standard_artifacts.ModelBlessing],
    report: OutputArtifact[CrossCorpusReport],
    min_unweighted_accuracy: Parameter[float] = 0.0,
    reports_dir: Parameter[str] = "",
):
    serving_dir = path_utils.serving_model_path(model.uri)
    emotions = evaluate.served_emotions(serving_dir)
    fitted = calibration.Calibration.read(serving_dir)
    served = tf.saved_model.load(serving_dir).signatures["serving_examples"]

    def predict(serialized):
        return served(examples=tf.constant(serialized))["probabilities"].numpy()

    available = artifact_utils.decode_split_names(examples.split_names)
    results = {
        splits.EVAL: evaluate.scores_by_corpus(predict, _serialized_examples(examples, splits.EVAL), emotions, shared_only=False,
                                               temperature=fitted.temperature),
        splits.TEST: (
            evaluate.scores_by_corpus(predict, _serialized_examples(examples, splits.TEST), emotions, temperature=fitted.temperature)
            if splits.TEST in available else {}
        ),
    }
    failing = evaluate.failing_corpora(results[splits.TEST], min_unweighted_accuracy)
    evaluator_blessed = evaluator_blessing.get_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY) == 1
    blessed = evaluator_blessed and not failing
    verdict = {
        "blessed": blessed, "evaluator_blessed": evaluator_blessed, "min_unweighted_accuracy": min_unweighted_accuracy,
        "failing_corpora": failing, "emotions": emotions, "results": results,
    }

    output_dirs = [report.uri] + ([reports_dir] if reports_dir else [])
    for split in (splits.EVAL, splits.TEST):
        write_confusion_matrices(results[split], split, output_dirs)
    card = model_card.pipeline_card(
        emotions,
        verdict_text=f"Blessed for push: {blessed} (Evaluator: {evaluator_blessed}; cross-corpus floor "
                     f"{min_unweighted_accuracy}, failing: {failing or 'none'}).",
        results_by_scope={split: results[split] for split in (splits.EVAL, splits.TEST) if results[split]},
        data_summary=_json_or(os.path.join(examples.uri, ingest.SUMMARY_FILE), None),
        model=model_summary.ModelSummary.read(serving_dir),
        fitted=fitted,
        slices=slices.card_rows(slices.load(evaluation.uri)),
        trials=_json_or(os.path.join(reports_dir, tuning.SUMMARY_JSON) if reports_dir else "", []),
    )
    for output_dir in output_dirs:
        tf.io.gfile.makedirs(output_dir)
        with tf.io.gfile.GFile(os.path.join(output_dir, REPORT_JSON), "w") as report_file:
            json.dump(verdict, report_file, indent=2)
    for output_dir in output_dirs + [os.path.join(serving_dir, MODEL_CARD_DIR)]:
        card.write(output_dir)

    # What the Pusher and the LatestBlessedModelStrategy resolver read from a blessing, as the Evaluator writes it.
    blessing.set_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY, int(blessed))
    blessing.set_string_custom_property(evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri)
    blessing.set_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
    with tf.io.gfile.GFile(os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), "w") as marker:
        marker.write("")
