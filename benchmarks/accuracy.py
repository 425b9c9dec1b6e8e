"""Accuracy of the five architectures and of the tuned model on real corpora, and the CPU time each costs.

    python benchmarks/accuracy.py [--corpora ../shared/corpora] [--workdir workdir/accuracy]
        [--architectures cnn cnn_bilstm ...] [--tuning-trials 6] [--max-epochs 6] [--algorithm bayesian]
        [--ensemble cnn_bilstm cnn_gru ...] [--seed 0]

Trains on RAVDESS actors 01-16 and TESS, of which actors 15 and 16 are the eval split that selects
(early stopping, tuning, blessing) and are not fitted; scores RAVDESS actors 17-20 (8 classes, never
used for any choice) and cross-corpus EmoDB over 4 classes (angry, happy, neutral, sad; argmax over
those four), and shows the CrossCorpusGate's UA over all the emotions EmoDB shares with training. Every run goes
through the whole TFX pipeline in one work directory, so ingest and Transform run once and are cached
afterwards: the first row's CPU minutes include them, and the tuned model runs first, so its row is the
whole pipeline's cost, tuning included (target: 60 minutes on 2 CPU cores). `--ensemble` trains the listed
architectures one after another and serves them as one model averaging their probabilities: with tuning, after
the tuned model and with its settings, in the tuned row (the whole pipeline a user runs with `--ensemble`);
with `--tuning-trials 0`, as a row of its own that runs first. Targets: RAVDESS UA >= 0.60, EmoDB UA >= 0.70.
"""
import speech_emotion  # noqa: F401  (must precede any TensorFlow import)

import argparse
import dataclasses
import json
import os
import platform
import resource
import time

import tensorflow as tf
from tensorflow.python.util import _pywrap_util_port

from speech_emotion.components.cross_corpus import component as cross_corpus
from speech_emotion.components.cross_corpus import evaluate
from speech_emotion.data import corpus_spec
from speech_emotion.data import ingest
from speech_emotion.data import splits
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import local_runner
from speech_emotion.trainer import config as trainer_config

EVAL_SPEAKERS = ("ravdess:15", "ravdess:16")
TEST_SPEAKERS = tuple(f"ravdess:{actor}" for actor in range(17, 21))
EMODB_CLASSES = ("angry", "happy", "neutral", "sad")
TARGETS = {"ravdess": 0.60, "emodb": 0.70}


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


def run_once(config: pipeline_config.PipelineConfig) -> dict:
    cpu_start, wall_start = cpu_seconds(), time.monotonic()
    local_runner.run(config)
    cpu_minutes, wall_minutes = (cpu_seconds() - cpu_start) / 60, (time.monotonic() - wall_start) / 60
    with open(os.path.join(config.reports_dir, cross_corpus.REPORT_JSON)) as report_file:
        report = json.load(report_file)
    selection = report["results"][splits.EVAL].get("ravdess", {})
    ravdess = report["results"][splits.TEST].get("ravdess", {})
    emodb_shared = report["results"][splits.TEST].get("emodb", {})
    emodb = emodb_four_class_scores(config)
    return {
        "selection_ua": selection.get("unweighted_accuracy"),
        "ravdess_ua": ravdess.get("unweighted_accuracy"), "ravdess_wa": ravdess.get("weighted_accuracy"),
        "emodb_ua": emodb["unweighted_accuracy"], "emodb_wa": emodb["weighted_accuracy"],
        "emodb_shared_ua": emodb_shared.get("unweighted_accuracy"), "emodb_shared_classes": emodb_shared.get("classes"),
        "emodb_classes": emodb["classes"], "emodb_confusion_matrix": emodb["confusion_matrix"],
        "cpu_minutes": cpu_minutes, "wall_minutes": wall_minutes,
    }


def table(rows) -> str:
    def cell(value):
        return "—" if value is None else f"{value:.3f}"

    lines = ["| model | selection UA (actors 15-16) | RAVDESS UA (8) | RAVDESS WA | EmoDB UA (4) | EmoDB WA (4) | EmoDB UA (shared) | CPU min | wall min |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {cell(row['selection_ua'])} | {cell(row['ravdess_ua'])} | {cell(row['ravdess_wa'])} | {cell(row['emodb_ua'])} | "
            f"{cell(row['emodb_wa'])} | {cell(row['emodb_shared_ua'])} | {row['cpu_minutes']:.1f} | {row['wall_minutes']:.1f} |"
        )
    return "\n".join(lines)


def emodb_confusion_table(rows) -> str:
    """Where EmoDB's clips go, per row: its errors are the gap to the target, and UA alone does not say which."""
    lines = [f"EmoDB {len(EMODB_CLASSES)}-class confusion (per true emotion: clips predicted as each class, in the same order)"]
    for name, row in rows.items():
        lines.append(f"  {name}: " + "; ".join(f"{true} {counts}" for true, counts in zip(row["emodb_classes"], row["emodb_confusion_matrix"])))
    return "\n".join(lines)


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
    args = parser.parse_args(argv)

    corpora = (
        corpus_spec.CorpusSpec("ravdess", os.path.join(args.corpora, "ravdess"), corpus_spec.TRAIN_ROLE),
        corpus_spec.CorpusSpec("tess", os.path.join(args.corpora, "tess"), corpus_spec.TRAIN_ROLE),
        corpus_spec.CorpusSpec("emodb", os.path.join(args.corpora, "emodb"), corpus_spec.TEST_ROLE),
    )
    base = pipeline_config.make_config(
        args.workdir, ingest.IngestConfig(corpora=corpora, split=splits.SplitConfig(eval_speakers=EVAL_SPEAKERS, test_speakers=TEST_SPEAKERS))
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
    rows = {}
    for name, config in runs.items():
        if args.seed != trainer_config.TrainingConfig.seed:
            name = f"{name} (seed {args.seed})"
        rows[name] = run_once(config)
        print(table(rows), emodb_confusion_table(rows), sep="\n", flush=True)
    with open(os.path.join(base.workdir, "accuracy.json"), "w") as results_file:
        json.dump({"targets_ua": TARGETS, "machine": host, "runs": rows}, results_file, indent=2)
    print(f"\nTargets: RAVDESS 8-class UA >= {TARGETS['ravdess']}, EmoDB {len(EMODB_CLASSES)}-class UA >= {TARGETS['emodb']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
