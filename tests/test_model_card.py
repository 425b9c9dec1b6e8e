"""The model card: its document renders to markdown and to HTML that parses, the Evaluator's slices reach it,
and `ser evaluate` writes the per-corpus card of a labelled folder."""
import html.parser
import json
import os
import shutil

import evaluation_fixture
import numpy as np
import pytest
import serving_model_fixture

from speech_emotion import cli
from speech_emotion.components.cross_corpus import slices
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import synthetic
from speech_emotion.data import taxonomy
from speech_emotion.trainer import calibration
from speech_emotion.trainer import card_document
from speech_emotion.trainer import export
from speech_emotion.trainer import model_card

_VOID_ELEMENTS = {"meta", "img", "br", "hr", "link", "input"}


class _StrictStructure(html.parser.HTMLParser):
    """Fails on an end tag that closes anything but the innermost open element; collects text and images."""

    def __init__(self):
        super().__init__()
        self.open, self.text, self.images, self.tables = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        if tag == "table":
            self.tables += 1
        if tag not in _VOID_ELEMENTS:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            raise AssertionError(f"unbalanced </{tag}>")

    def handle_data(self, data):
        self.text.append(data)


def parsed_html(text: str) -> _StrictStructure:
    parser = _StrictStructure()
    parser.feed(text)
    parser.close()
    assert parser.open == [], parser.open
    assert text.startswith("<!DOCTYPE html>")
    return parser


def test_a_card_renders_the_same_document_to_markdown_and_to_html_that_parses():
    card = card_document.ModelCard("test model", [
        card_document.Section("Model Details", ["Overview with <angle> & ampersand."]),
        card_document.Section("Quantitative Analysis", [
            card_document.Table(("corpus", "UA", "ECE"), [("ravdess", 0.51234, None), ("a|b", 3, 0.1)], caption="Scores"),
            model_card.confusion_table([[3, 1], [0, 2]], ["sad", "angry"]),
            card_document.Section("Reliability", [card_document.Image(b"\x89PNG fake", "diagram")]),
        ]),
    ])
    markdown = card.markdown()
    assert markdown.startswith("# Model Card for test model\n")
    assert "## Quantitative Analysis" in markdown and "### Reliability" in markdown
    assert "| ravdess | 0.512 | — |" in markdown and "| a\\|b | 3 | 0.100 |" in markdown
    assert "| true sad | 0.75 (3) | 0.25 (1) |" in markdown and "| true angry | 0.00 (0) | 1.00 (2) |" in markdown
    page = parsed_html(card.html())
    text = "".join(page.text)
    assert "Overview with <angle> & ampersand." in text and "0.75 (3)" in text and "ravdess" in text
    assert page.tables == 2 and page.images[0]["src"].startswith("data:image/png;base64,")


def test_the_evaluators_slices_by_gender_and_corpus_reach_the_card():
    emotions = ("angry", "happy", "sad")
    labels = [0, 0, 1, 1, 2, 2, 2, 0]
    argmax = [0, 1, 1, 1, 2, 0, 2, 0]
    genders = ["female", "female", "male", "male", "female", "male", "male", "female"]
    corpora = ["ravdess", "ravdess", "ravdess", "tess", "tess", "tess", "tess", "tess"]
    rows = slices.card_rows(evaluation_fixture.evaluator_result(emotions, labels, argmax, genders, corpora))
    by_slice = {row["slice"]: row for row in rows}
    assert [row["slice"] for row in rows] == ["overall", "gender = female", "gender = male", "corpus = ravdess", "corpus = tess"]
    assert by_slice["overall"]["example_count"] == 8 and by_slice["overall"]["accuracy"] == pytest.approx(6 / 8)
    # female: labels 0, 0, 2, 0 -> right 0, 2, 0 on clips 1, 5, 8; wrong on clip 2.
    assert by_slice["gender = female"]["example_count"] == 4 and by_slice["gender = female"]["accuracy"] == pytest.approx(3 / 4)
    assert by_slice["corpus = ravdess"]["unweighted_accuracy"] == pytest.approx((1 / 2 + 1) / 2)
    section = model_card.slices_section(rows)
    assert "gender = male" in card_document.ModelCard("m", [section]).markdown()


def _model_base_path(tmp_path, temperature):
    """The serving fixture's model with the assets the exporter writes beside it."""
    base = tmp_path / "models"
    version = serving_model_fixture.push_version(str(base), 3)
    os.makedirs(os.path.join(version, "assets"), exist_ok=True)
    with open(os.path.join(version, "assets", export.LABELS_ASSET), "w") as labels_file:
        labels_file.write("\n".join(taxonomy.EMOTIONS) + "\n")
    with open(os.path.join(version, "assets", export.FEATURE_CONFIG_ASSET), "w") as config_file:
        config_file.write(DEFAULT_FEATURE_CONFIG.to_json())
    calibration.Calibration(temperature=temperature, fitted_on="eval", clips=10).write(version)
    return str(base)


def test_ser_evaluate_scores_a_labelled_folder_and_writes_its_card(tmp_path, capsys):
    emotions = ("neutral", "happy", "sad")
    corpus = tmp_path / "ravdess"
    paths = synthetic.write_corpus("ravdess", str(corpus), speakers=2, utterances_per_emotion=2, seed=3, emotions=emotions, seconds=0.5)
    # Named as the reader wants, but no audio: set aside and listed, never scored.
    broken = os.path.join(os.path.dirname(paths[0]), "03-01-04-01-02-02-01.wav")
    with open(broken, "wb") as broken_file:
        broken_file.write(b"not audio" * 50)
    output = tmp_path / "card"
    assert cli.main(["evaluate", "--model", _model_base_path(tmp_path, 2.0), "--corpus", f"ravdess={corpus}",
                     "--output", str(output)]) == 0
    assert "ravdess: 12 clips" in capsys.readouterr().out

    evaluation = json.loads((output / "evaluation.json").read_text())
    result = evaluation["results"]["ravdess"]
    assert result["classes"] == list(emotions) and result["examples"] == 12 and result["excluded"] == 0
    assert np.asarray(result["confusion_matrix"]).sum(axis=1).tolist() == [4, 4, 4]
    assert [item["path"] for item in evaluation["quarantined"]] == [broken]
    assert result["calibration"]["temperature"] == 2.0
    assert sum(row["clips"] for row in result["calibration"]["reliability"]) == 12

    markdown = (output / card_document.MARKDOWN_FILE).read_text()
    assert "### ravdess (evaluated)" in markdown
    assert "| neutral | 4 |" in markdown and "| sad | 4 |" in markdown
    assert "12 clips scored over 3 classes" in markdown and broken in markdown
    page = parsed_html((output / card_document.HTML_FILE).read_text())
    text = "".join(page.text)
    assert "ECE served" in text and "predicted happy" in text
    assert len(page.images) == 1 and page.images[0]["alt"] == "reliability diagram, ravdess (evaluated)"


def test_ser_evaluate_names_a_model_folder_without_versions(tmp_path):
    corpus = tmp_path / "ravdess"
    synthetic.write_corpus("ravdess", str(corpus), speakers=1, utterances_per_emotion=1, seed=3, emotions=("sad", "happy"), seconds=0.5)
    assert cli.main(["evaluate", "--model", str(tmp_path / "nothing"), "--corpus", f"ravdess={corpus}"]) == 1
