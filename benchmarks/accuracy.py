"""Accuracy of the five architectures and of the tuned model on four real corpora, and the CPU time each costs.

    python benchmarks/accuracy.py [--corpora ../shared/corpora] [--workdir workdir/accuracy]
        [--architectures cnn cnn_bilstm ...] [--tuning-trials 6] [--max-epochs 6] [--algorithm bayesian]
        [--ensemble cnn_bilstm cnn_gru ...] [--seed 0] [--write-markdown [docs/benchmarks.md]]

Trains one model on the four training corpora of the shared set: RAVDESS actors 01-14, TESS (both speakers),
CREMA-D actors 1001-1014 and SAVEE DC. RAVDESS actors 15-16 and CREMA-D actors 1015-1016 are the eval split that
selects (early stopping, tuning, blessing) and are not fitted. Scored, on speakers never used for any choice:
RAVDESS actors 17-20 (8 classes), CREMA-D actors 1017-1020 (6 classes), SAVEE JE (7 classes), and cross-corpus
EmoDB over 4 classes (angry, happy, neutral, sad; argmax over those four), with the CrossCorpusGate's UA over all
the emotions EmoDB shares with training beside it. The speakers were fixed before any run (the last actors of
each corpus to test, the two before them to select) and were never changed after seeing a score.
Every run goes through the whole TFX pipeline in one work directory, so ingest and Transform run once and are cached
afterwards: the first row's CPU minutes include them, and the tuned model runs first, so its row is the
whole pipeline's cost, tuning included (target: 60 minutes on 2 CPU cores). Minutes per component come from
ML Metadata (each execution's start to its last update). `--ensemble` trains the listed architectures one after
another and serves them as one model averaging their probabilities: with tuning, after the tuned model and with its
settings, in the tuned row (the whole pipeline a user runs with `--ensemble`); with `--tuning-trials 0`, as a row of
its own that runs first. Rerun in the same work directory with another `--seed` for the spread over seeds: rows
accumulate in WORKDIR/accuracy.json, and `--write-markdown` writes all of them, with the mean and spread per model,
into its own section of docs/benchmarks.md (between the markers below; the file is created when missing).
Targets: RAVDESS UA >= 0.65, CREMA-D UA >= 0.65, EmoDB 4-class UA >= 0.70, as means over seeds.
"""
import speech_emotion  # noqa: F401  (must precede any TensorFlow import)

import argparse
import collections
import dataclasses
import datetime
import json
import os
import platform
import resource
import statistics
import time

import tensorflow as tf
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tensorflow.python.util import _pywrap_util_port
from tfx.orchestration import metadata

from speech_emotion.components.cross_corpus import component as cross_corpus
from speech_emotion.components.cross_corpus import evaluate
from speech_emotion.data import corpus_spec
from speech_emotion.data import ingest
from speech_emotion.data import splits
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import local_runner
from speech_emotion.trainer import config as trainer_config

TRAINING_CORPORA = ("ravdess", "tess", "cremad", "savee")
EVAL_SPEAKERS = ("ravdess:15", "ravdess:16", "cremad:1015", "cremad:1016")
TEST_SPEAKERS = tuple(f"ravdess:{actor}" for actor in range(17, 21)) + tuple(f"cremad:{actor}" for actor in range(1017, 1021)) + ("savee:JE",)
# Corpora scored on their held-out speakers, each over its own emotions (argmax over them).
SCORED_CORPORA = ("ravdess", "cremad", "savee")
EMODB_CLASSES = ("angry", "happy", "neutral", "sad")
TARGETS = {"ravdess": 0.65, "cremad": 0.65, "emodb": 0.70}
MARKDOWN_BEGIN = "<!-- accuracy.py begin -->"
MARKDOWN_END = "<!-- accuracy.py end -->"
DEFAULT_MARKDOWN = os.path.join(os.path.dirname(__file__), "..", "docs", "benchmarks.md")
def cpu_seconds() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(item.ru_utime + item.ru_stime for item in usage)


def machine() -> dict:
    """What the minutes depend on: the tuning search ran 1.5x slower on an AVX2 AMD EPYC than on the machine of
    the earlier rows, and training 2.5-3.2x slower again there with TensorFlow's oneDNN kernels off. Machines
    that all call themselves "AMD EPYC" differ in their widest vector instructions, so those are kept too."""
    fields = {}
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    vector = next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2")) if flag in flags), "no AVX2")
    return {"cpu": fields.get("model name", platform.processor()), "vector": vector, "cores": os.cpu_count(),
            "onednn": bool(_pywrap_util_port.IsMklEnabled())}


def _latest(folder: str) -> str:
    return os.path.join(folder, str(max(int(name) for name in os.listdir(folder) if name.isdigit())))


def emodb_four_class_scores(config: pipeline_config.PipelineConfig) -> dict:
    """This run's trained model on EmoDB's angry, happy, neutral and sad clips, argmax over those four only:
    the usual cross-corpus protocol (the CrossCorpusGate scores all the emotions EmoDB shares with training).
    The Trainer's output, not the pushed model: a run that does not beat the last blessed one is not pushed."""
    model = tf.saved_model.load(os.path.join(_latest(os.path.join(config.pipeline_root, "Trainer", "model")), "Format-Serving"))
    columns = [config.emotions.index(emotion) for emotion in EMODB_CLASSES]

    def predict(serialized):
        probabilities = model.signatures["serving_examples"](examples=tf.constant(list(serialized)))["probabilities"]
        return probabilities.numpy()[:, columns]

    test_split = os.path.join(_latest(os.path.join(config.pipeline_root, "AudioExampleGen", "examples")), f"Split-{splits.TEST}")
    files = tf.io.gfile.glob(os.path.join(test_split, "*"))
    serialized_examples = tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator()
    return evaluate.scores_by_corpus(predict, serialized_examples, EMODB_CLASSES)["emodb"]


def executions(metadata_path: str, since_seconds: float = 0.0) -> list:
    """(component, wall minutes, finished) of each execution in ML Metadata that started after `since_seconds`
    (epoch), in the order they started: its creation to its last update. Cached executions take about no time."""
    store = metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(metadata_path))
    names = {execution_type.id: execution_type.name.split(".")[-1] for execution_type in store.get_execution_types()}
    finished = {metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED}
    return [(names[execution.type_id], (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 60000,
             execution.last_known_state in finished)
            for execution in sorted(store.get_executions(), key=lambda execution: execution.create_time_since_epoch)
            if execution.create_time_since_epoch / 1000 >= since_seconds]


def component_minutes(config: pipeline_config.PipelineConfig, since_seconds: float) -> dict:
    """Wall minutes of each component over its executions that started after `since_seconds` (epoch)."""
    minutes = collections.defaultdict(float)
    for name, execution_minutes, _ in executions(config.metadata_path, since_seconds):
        minutes[name] += execution_minutes
    return dict(minutes)


def run_once(config: pipeline_config.PipelineConfig) -> dict:
    cpu_start, wall_start, started = cpu_seconds(), time.monotonic(), time.time()
    local_runner.run(config)
    cpu_minutes, wall_minutes = (cpu_seconds() - cpu_start) / 60, (time.monotonic() - wall_start) / 60
    with open(os.path.join(config.reports_dir, cross_corpus.REPORT_JSON)) as report_file:
        report = json.load(report_file)
    selection = report["results"][splits.EVAL]
    tested = report["results"][splits.TEST]
    emodb_shared = tested.get("emodb", {})
    emodb = emodb_four_class_scores(config)
    row = {
        # The mean over the eval split's corpora of their UA: what selected, optimistic by construction.
        "selection_ua": statistics.mean(result["unweighted_accuracy"] for result in selection.values()) if selection else None,
        "selection_by_corpus": {corpus: result["unweighted_accuracy"] for corpus, result in selection.items()},
        "emodb_ua": emodb["unweighted_accuracy"], "emodb_wa": emodb["weighted_accuracy"],
        "emodb_shared_ua": emodb_shared.get("unweighted_accuracy"), "emodb_shared_classes": emodb_shared.get("classes"),
        "emodb_classes": emodb["classes"], "emodb_confusion_matrix": emodb["confusion_matrix"],
        "cpu_minutes": cpu_minutes, "wall_minutes": wall_minutes,
        "component_minutes": component_minutes(config, started),
    }
    for corpus in SCORED_CORPORA:
        result = tested.get(corpus, {})
        row[f"{corpus}_ua"], row[f"{corpus}_wa"] = result.get("unweighted_accuracy"), result.get("weighted_accuracy")
        row[f"{corpus}_classes"] = len(result.get("classes", ()))
    return row


_COLUMNS = (("selection_ua", "selection UA (eval)"), ("ravdess_ua", "RAVDESS UA (8)"), ("ravdess_wa", "RAVDESS WA"),
            ("cremad_ua", "CREMA-D UA (6)"), ("cremad_wa", "CREMA-D WA"), ("savee_ua", "SAVEE UA (7)"), ("savee_wa", "SAVEE WA"),
            ("emodb_ua", "EmoDB UA (4)"), ("emodb_wa", "EmoDB WA (4)"), ("emodb_shared_ua", "EmoDB UA (shared)"))


def _cell(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(rows) -> str:
    lines = ["| model | " + " | ".join(title for _, title in _COLUMNS) + " | CPU min | wall min |",
             "|---|" + "---|" * (len(_COLUMNS) + 2)]
    for name, row in rows.items():
        cells = " | ".join(_cell(row[key]) for key, _ in _COLUMNS)
        lines.append(f"| {name} | {cells} | {row['cpu_minutes']:.1f} | {row['wall_minutes']:.1f} |")
    return "\n".join(lines)


def spread_table(rows) -> str:
    """Mean ± standard deviation over the seeds of each model that ran with more than one."""
    by_model = collections.defaultdict(list)
    for row in rows.values():
        by_model[row["model"]].append(row)
    lines = ["| model (seeds) | " + " | ".join(title for _, title in _COLUMNS) + " |", "|---|" + "---|" * len(_COLUMNS)]
    for model, model_rows in by_model.items():
        if len(model_rows) < 2:
            continue
        cells = []
        for key, _ in _COLUMNS:
            values = [row[key] for row in model_rows if row[key] is not None]
            cells.append(f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else "—")
        lines.append(f"| {model} ({len(model_rows)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) if len(lines) > 2 else ""


def component_table(rows) -> str:
    """Wall minutes per component, per row: cached components of later rows take about none."""
    components = list(dict.fromkeys(name for row in rows.values() for name in row["component_minutes"]))
    lines = ["| model | " + " | ".join(components) + " |", "|---|" + "---|" * len(components)]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{row['component_minutes'].get(component, 0.0):.1f}" for component in components) + " |")
    return "\n".join(lines)


def emodb_confusion_table(rows) -> str:
    """Where EmoDB's clips go, per row: its errors are the gap to the target, and UA alone does not say which."""
    lines = [f"EmoDB {len(EMODB_CLASSES)}-class confusion (per true emotion: clips predicted as each class, in the same order)"]
    for name, row in rows.items():
        lines.append(f"  {name}: " + "; ".join(f"{true} {counts}" for true, counts in zip(row["emodb_classes"], row["emodb_confusion_matrix"])))
    return "\n".join(lines)


def markdown_section(rows, host: dict) -> str:
    spread = spread_table(rows)
    return "\n".join(line for line in [
        MARKDOWN_BEGIN,
        "## Accuracy on four corpora (`benchmarks/accuracy.py`)",
        "",
        f"Written by `python benchmarks/accuracy.py --write-markdown` on {datetime.date.today().isoformat()}; "
        f"machine: {host['cpu']}, {host['vector']}, {host['cores']} cores, oneDNN {'on' if host['onednn'] else 'off'}. "
        "Trained on RAVDESS actors 01-14, TESS, CREMA-D actors 1001-1014 and SAVEE DC; selected on RAVDESS 15-16 and "
        "CREMA-D 1015-1016 (eval, not fitted); scored on RAVDESS 17-20, CREMA-D 1017-1020, SAVEE JE and EmoDB "
        "(4 classes, cross-corpus), none of them used for any choice. Minutes are upper bounds when the machine is shared.",
        "",
        table(rows),
        "",
        ("Mean ± standard deviation over seeds:\n\n" + spread + "\n") if spread else None,
        "Wall minutes per component (ML Metadata):",
        "",
        component_table(rows),
        "",
        f"Targets (means over seeds): RAVDESS UA >= {TARGETS['ravdess']}, CREMA-D UA >= {TARGETS['cremad']}, "
        f"EmoDB {len(EMODB_CLASSES)}-class UA >= {TARGETS['emodb']}.",
        MARKDOWN_END,
    ] if line is not None)


def write_markdown(path: str, section: str) -> None:
    """Replaces this script's section of `path` (between its markers), appends it when absent, creates the file
    when missing; the rest of the file is left as it was."""
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if MARKDOWN_BEGIN in text and MARKDOWN_END in text:
        before, _, after = text.partition(MARKDOWN_BEGIN)
        _, _, after = after.partition(MARKDOWN_END)
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as markdown_file:
        markdown_file.write(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpora"))
    parser.add_argument("--workdir", default="workdir/accuracy")
    parser.add_argument("--architectures", nargs="*", default=list(trainer_config.ARCHITECTURES), choices=trainer_config.ARCHITECTURES)
    # A budget that fits the 60-minute target on 2 CPU cores; Hyperband's 20-epoch brackets start with 3-epoch trials.
    parser.add_argument("--tuning-trials", type=int, default=6, help="0 skips the tuned model")
    parser.add_argument("--max-epochs", type=int, default=6)
    parser.add_argument("--algorithm", default=trainer_config.BAYESIAN, choices=trainer_config.SEARCH_ALGORITHMS)
    parser.add_argument("--ensemble", nargs="*", default=[], choices=trainer_config.ARCHITECTURES,
                        help="a row for these architectures served as one averaged model")
    parser.add_argument("--seed", type=int, default=trainer_config.TrainingConfig.seed,
                        help="seeds tuning and training, not augmentation: rerun in the same work directory with "
                             "another seed to see the spread from training alone (ingestion to Transform is cached)")
    parser.add_argument("--write-markdown", nargs="?", const=DEFAULT_MARKDOWN, default=None, metavar="PATH",
                        help=f"write every row of WORKDIR/accuracy.json into this script's section of PATH (default {DEFAULT_MARKDOWN})")
    args = parser.parse_args(argv)

    corpora = tuple(corpus_spec.CorpusSpec(name, os.path.join(args.corpora, name), corpus_spec.TRAIN_ROLE) for name in TRAINING_CORPORA)
    corpora += (corpus_spec.CorpusSpec("emodb", os.path.join(args.corpora, "emodb"), corpus_spec.TEST_ROLE),)
    base = pipeline_config.make_config(
        args.workdir, ingest.IngestConfig(corpora=corpora, split=splits.SplitConfig(eval_speakers=EVAL_SPEAKERS, test_speakers=TEST_SPEAKERS)),
        # The architecture rows train their configured model; the tuned row sets its own search below.
        tuning=trainer_config.TuningConfig(trials=0),
    )
    base = dataclasses.replace(base, training=dataclasses.replace(base.training, seed=args.seed))
    runs = {}
    ensemble_name = "ensemble: " + " + ".join(args.ensemble)
    if args.tuning_trials:
        # First: in a fresh work directory its CPU minutes are then the whole pipeline's, tuning included.
        tuning = trainer_config.TuningConfig(trials=args.tuning_trials, max_epochs=args.max_epochs, algorithm=args.algorithm,
                                             seed=args.seed)
        name = f"tuned ({args.tuning_trials} {args.algorithm} trials)"
        if args.ensemble:
            name = f"{name} + {ensemble_name}"
        tuned_training = dataclasses.replace(base.training, ensemble_architectures=tuple(args.ensemble))
        runs[name] = dataclasses.replace(base, tuning=tuning, training=tuned_training)

    def training(architecture, ensemble_architectures=()):
        return dataclasses.replace(base.training, model=dataclasses.replace(base.training.model, architecture=architecture),
                                   ensemble_architectures=tuple(ensemble_architectures))

    if args.ensemble and not args.tuning_trials:
        runs[ensemble_name] = dataclasses.replace(base, training=training(args.ensemble[0], args.ensemble[1:]))
    for architecture in args.architectures:
        runs[architecture] = dataclasses.replace(base, training=training(architecture))
    host = machine()
    print(f"Machine: {host['cpu']}, {host['vector']}, {host['cores']} cores, TensorFlow oneDNN {'on' if host['onednn'] else 'off'}",
          flush=True)
    results_path = os.path.join(base.workdir, "accuracy.json")
    # Rows of earlier runs in this work directory (other seeds) stay, so the spread over seeds can be shown.
    rows = json.load(open(results_path))["runs"] if os.path.exists(results_path) else {}
    for model, config in runs.items():
        name = f"{model} (seed {args.seed})"
        rows[name] = {"model": model, "seed": args.seed, **run_once(config)}
        print(table(rows), spread_table(rows), component_table(rows), emodb_confusion_table(rows), sep="\n\n", flush=True)
        with open(results_path, "w") as results_file:
            json.dump({"targets_ua": TARGETS, "machine": host, "runs": rows}, results_file, indent=2)
    if args.write_markdown:
        write_markdown(args.write_markdown, markdown_section(rows, host))
    print(f"\nTargets: RAVDESS 8-class UA >= {TARGETS['ravdess']}, CREMA-D 6-class UA >= {TARGETS['cremad']}, "
          f"EmoDB {len(EMODB_CLASSES)}-class UA >= {TARGETS['emodb']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
