"""The Evaluator's sliced metrics (TFMA), as rows for the model card: overall, by gender and by corpus."""
from typing import Dict, List, Sequence

import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.writers import eval_config_writer

from speech_emotion.data import example_features
from speech_emotion.trainer import metrics

CARD_SLICE_FEATURES = (example_features.GENDER, example_features.CORPUS)
OVERALL = "overall"


def load(evaluation_uri: str) -> tfma.EvalResult:
    """The Evaluator's result for the model it judged: with a baseline, TFMA names that one `candidate`."""
    _, _, _, model_locations = eval_config_writer.load_eval_run(evaluation_uri)
    return tfma.load_eval_result(evaluation_uri, model_name=tfma.CANDIDATE_KEY if tfma.CANDIDATE_KEY in model_locations else None)


def _value(values: Dict, name: str):
    value = values.get(name, {}).get("doubleValue")
    return None if value is None else float(value)


def card_rows(eval_result: tfma.EvalResult, features: Sequence[str] = CARD_SLICE_FEATURES) -> List[Dict]:
    """Overall, then each slice on one of `features`: clips, accuracy and unweighted accuracy, ordered by slice."""
    rows = []
    for slice_key, by_output in eval_result.slicing_metrics:
        if len(slice_key) > 1 or (slice_key and slice_key[0][0] not in features):
            continue
        values = by_output.get("", {}).get("", {})
        name = OVERALL if not slice_key else f"{slice_key[0][0]} = {_text(slice_key[0][1])}"
        rows.append({"slice": name, "example_count": int(_value(values, "example_count") or 0),
                     "accuracy": _value(values, "accuracy"), "unweighted_accuracy": _value(values, metrics.UNWEIGHTED_ACCURACY)})
    order = {feature: index for index, feature in enumerate(features)}
    return sorted(rows, key=lambda row: (row["slice"] != OVERALL, order.get(row["slice"].split(" = ")[0], -1), row["slice"]))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
