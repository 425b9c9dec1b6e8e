"""What the model card says: the sections of model-card-toolkit's default template, filled from the pipeline's outputs.

`pipeline_card` is the card CrossCorpusGate puts in the pushed model's `assets.extra/`; `evaluation_card` is
`ser evaluate`'s, its per-corpus sections the same as the pipeline card's.
"""
from typing import Mapping, Optional, Sequence

import numpy as np

from speech_emotion.trainer import calibration as calibration_lib
from speech_emotion.trainer import reports
from speech_emotion.trainer import tuning
from speech_emotion.trainer.card_document import Image, ModelCard, Section, Table
from speech_emotion.trainer.model_summary import ModelSummary

MODEL_NAME = "speech emotion recognition"
_INPUT_FORMAT = ("`serving_default` takes WAV file bytes (`audio`, a batch of strings), decoded, mixed to mono, resampled, "
                 "trimmed and turned into a log-mel spectrogram inside the model; `classify` and `serving_examples` take "
                 "serialized tf.Examples with the same `audio` feature.")
_OUTPUT_FORMAT = ("`probabilities` (one per class, temperature-scaled so that they mean what they say; see Calibration), "
                  "`classes` (the class names) and `label` (the most probable class).")


def _settings_text(settings: Mapping) -> str:
    return ", ".join(f"{name}={value}" for name, value in settings.items() if name != "architecture")


def model_parameters(model: ModelSummary, emotions: Sequence[str]) -> Section:
    blocks = [f"Classes ({len(emotions)}): {', '.join(emotions)}."]
    if model.members:
        kind = "one model" if len(model.members) == 1 else f"an ensemble averaging {len(model.members)} models' probabilities"
        blocks.append(f"The served model is {kind}, {model.parameters:,} parameters in all.")
        blocks.append(Table(
            ("architecture", "parameters", "epochs run", "epochs averaged", "settings"),
            [(member.architecture, member.parameters, member.epochs_run, member.averaged_epochs, _settings_text(member.settings))
             for member in model.members],
            caption="Model architecture",
        ))
    blocks += [Section("Input Format", [_INPUT_FORMAT]), Section("Output Format", [_OUTPUT_FORMAT])]
    return Section("Model Parameters", blocks)


def considerations() -> Section:
    return Section("Considerations", [
        Section("Use Cases", ["Research and prototyping of speech emotion recognition on short clips of one speaker."]),
        Section("Limitations", [
            "The training corpora are acted emotional speech; spontaneous speech, other languages, noisy channels and "
            "emotions outside the classes above score lower than the figures below (compare the test corpora with eval).",
            "The eval split selects the model (early stopping, tuning, blessing) and fits its temperature, so its scores "
            "are optimistic; the test split (held-out speakers and corpora) is the unbiased one.",
        ]),
        Section("Ethical Considerations", [
            "Risk: inferred emotions are read as facts about a person. Mitigation: do not use the output for decisions "
            "about people; report it with the slices below, which show where it is weaker.",
        ]),
    ])


def datasets(data_summary: Optional[Mapping]) -> Section:
    """Splits with their corpora, speakers and clips per emotion, from the ingestion summary (data/ingest.py)."""
    if not data_summary:
        return Section("Datasets", ["No ingestion summary was found beside the examples."])
    split_summaries = data_summary["splits"]
    emotions = list(dict.fromkeys(label for split in split_summaries.values() for label in split["by_label"]))
    rows = [(name, ", ".join(split["corpora"]), split["speakers"], split["examples"], *(split["by_label"].get(e, 0) for e in emotions))
            for name, split in split_summaries.items()]
    corpora = [(name, corpus["files"], corpus["examples"], corpus["speakers"], len(corpus["quarantined"]), len(corpus["duplicates"]))
               for name, corpus in data_summary["corpora"].items()]
    return Section("Datasets", [
        "Speakers never cross splits: train trains, eval selects and calibrates, test is scored only.",
        Table(("split", "corpora", "speakers", "clips", *emotions), rows, caption="Splits: speakers and clips per emotion"),
        Table(("corpus", "files", "clips", "speakers", "quarantined", "duplicates"), corpora, caption="Corpora"),
    ])


def summary_table(results_by_scope: Mapping[str, Mapping[str, dict]]) -> Table:
    rows = []
    for scope, results in results_by_scope.items():
        for corpus, result in results.items():
            measured = result["calibration"]
            rows.append((corpus, scope, result["examples"], len(result["classes"]), result["unweighted_accuracy"],
                         result["weighted_accuracy"], measured["expected_calibration_error_unscaled"],
                         measured["expected_calibration_error"]))
    return Table(("corpus", "split", "clips", "classes", "UA", "WA", "ECE before scaling", "ECE served"), rows,
                 caption=f"Per corpus: unweighted (UA) and weighted (WA) accuracy, expected calibration error "
                         f"({calibration_lib.CALIBRATION_BINS} bins)")


def confusion_table(confusion, classes: Sequence[str]) -> Table:
    """Row-normalised confusion matrix: each cell the share of the true label's clips (and their count)."""
    confusion = np.asarray(confusion)
    shares = reports.row_shares(confusion)
    rows = [(f"true {label}", *(f"{shares[i, j]:.2f} ({int(confusion[i, j])})" for j in range(len(classes))))
            for i, label in enumerate(classes)]
    return Table(("", *(f"predicted {label}" for label in classes)), rows, caption="Confusion matrix (row-normalised)",
                 shading=[[None, *row] for row in shares.tolist()])


def per_class_table(confusion, classes: Sequence[str]) -> Table:
    recall, precision = reports.recall_and_precision(confusion)
    support = np.asarray(confusion).sum(axis=1)
    return Table(("emotion", "clips", "recall", "precision"),
                 [(label, int(support[i]), _number(recall[i]), _number(precision[i])) for i, label in enumerate(classes)],
                 caption="Per emotion")


def _number(value) -> Optional[float]:
    return None if np.isnan(value) else float(value)


def corpus_sections(results: Mapping[str, dict], scope: str) -> list:
    """One section per corpus: its counts, per-emotion table, confusion matrix and reliability diagram."""
    sections = []
    for corpus, result in results.items():
        measured = result["calibration"]
        title = f"{corpus} ({scope})"
        excluded = f"; {result['excluded']} clips of other emotions left out" if result["excluded"] else ""
        sections.append(Section(title, [
            f"{result['examples']} clips scored over {len(result['classes'])} classes{excluded}. "
            f"UA {result['unweighted_accuracy']:.3f}, WA {result['weighted_accuracy']:.3f}; ECE "
            f"{measured['expected_calibration_error_unscaled']:.3f} before temperature scaling, "
            f"{measured['expected_calibration_error']:.3f} served (T = {measured['temperature']:.3f}).",
            per_class_table(result["confusion_matrix"], result["classes"]),
            confusion_table(result["confusion_matrix"], result["classes"]),
            Image(reports.reliability_diagram_png(
                {"before scaling": measured["reliability_unscaled"], "served": measured["reliability"]}, f"Reliability: {title}"),
                f"reliability diagram, {title}"),
        ]))
    return sections


def calibration_section(fitted: calibration_lib.Calibration) -> Section:
    if not fitted.clips:
        return Section("Calibration", ["The model was exported without temperature scaling (T = 1)."])
    return Section("Calibration", [
        f"The served probabilities are softmax(log p / T) with T = {fitted.temperature:.3f}, fitted on the "
        f"{fitted.fitted_on} split ({fitted.clips} clips) by minimising the negative log-likelihood: NLL "
        f"{fitted.negative_log_likelihood_before:.3f} -> {fitted.negative_log_likelihood_after:.3f}, expected calibration "
        f"error ({calibration_lib.CALIBRATION_BINS} bins) {fitted.expected_calibration_error_before:.3f} -> "
        f"{fitted.expected_calibration_error_after:.3f}. T > 1 softens an over-confident model; the argmax, hence UA and "
        "WA, is unchanged. Each corpus below has its reliability diagram, before scaling and served.",
    ])


def slices_section(slices: Sequence[Mapping]) -> Section:
    if not slices:
        return Section("Slices", ["The Evaluator's output had no slices."])
    return Section("Slices", [
        "Computed by the Evaluator (TFMA) on the eval split, over all the model's classes.",
        Table(("slice", "clips", "accuracy", "UA"),
              [(row["slice"], row["example_count"], row["accuracy"], row["unweighted_accuracy"]) for row in slices],
              caption="Evaluator slices by gender and by corpus"),
    ])


def tuning_section(trials: Sequence[Mapping]) -> Section:
    if not trials:
        return Section("Hyperparameter Search", ["No search ran: the Trainer trained the configured model."])
    return Section("Hyperparameter Search", [
        f"{len(trials)} trials; the Trainer retrained the best one in full.",
        Table(tuning.SUMMARY_HEADER, [tuning.summary_cells(trial) for trial in trials], caption="Trials"),
    ])


def pipeline_card(emotions: Sequence[str], verdict_text: str, results_by_scope: Mapping[str, Mapping[str, dict]],
                  data_summary: Optional[Mapping], model: ModelSummary, fitted: calibration_lib.Calibration,
                  slices: Sequence[Mapping], trials: Sequence[Mapping]) -> ModelCard:
    corpora = [section for scope, results in results_by_scope.items() for section in corpus_sections(results, scope)]
    return ModelCard(MODEL_NAME, [
        Section("Model Details", [Section("Overview", [
            f"Classifies the emotion spoken in a clip into one of {len(emotions)} classes. {verdict_text}"])]),
        model_parameters(model, emotions),
        considerations(),
        datasets(data_summary),
        Section("Quantitative Analysis", [
            summary_table(results_by_scope), calibration_section(fitted), slices_section(slices), *corpora,
            tuning_section(trials),
        ]),
    ])


def evaluation_card(model_dir: str, emotions: Sequence[str], results: Mapping[str, dict],
                    quarantined: Sequence[Mapping]) -> ModelCard:
    """`ser evaluate`'s card: the pipeline card's per-corpus analysis for the corpora given, and the files set aside."""
    set_aside = ([Table(("corpus", "file", "reason"), [(row["corpus"], row["path"], row["reason"]) for row in quarantined],
                        caption=f"Files that could not be scored ({len(quarantined)})")] if quarantined else [])
    return ModelCard(MODEL_NAME, [
        Section("Model Details", [Section("Overview", [f"The model at {model_dir}, classes: {', '.join(emotions)}."])]),
        Section("Quantitative Analysis", [
            "Each corpus is scored over the emotions it shares with the model (argmax and calibration over those).",
            summary_table({"evaluated": results}), *set_aside, *corpus_sections(results, "evaluated"),
        ]),
    ])
