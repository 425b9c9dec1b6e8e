"""Minutes per component of the whole default pipeline on the four training corpora at the size users download them.

    python benchmarks/pipeline_timing.py [--scale 1.0] [--workdir workdir/pipeline_timing] [--write-markdown [PATH]]
    python benchmarks/pipeline_timing.py --corpora ../shared/corpora      # the real subset instead
    python benchmarks/pipeline_timing.py --report-only                     # what a run (finished or stopped) took

Generates RAVDESS, TESS, CREMA-D and SAVEE in their own layouts with the full corpora's speakers, clip counts
(1440, 2800, 7442, 480: 12 162 clips), sample rates (48 000, 24 414, 16 000, 44 100 Hz) and mean durations (measured
on ../shared/corpora: 3.7, 2.0, 2.7, 4.0 s), then runs the pipeline exactly as `ser pipeline run` runs it with the
four `--corpus` flags and nothing else: default splits, augmentation, a 10-trial Hyperband search, training,
evaluation, push. `--scale` shrinks every corpus's clip count (speakers kept) for a quick look. Reports each
component's wall minutes from ML Metadata, the whole run's wall and CPU minutes and its peak resident memory; rows
accumulate in WORKDIR/pipeline_timing.json, one per data set. Stopped runs are reported too: `--report-only` reads
the ML Metadata a run left and marks the components that had not finished.
Targets: the full-size run within 60 minutes on 2 CPU cores, and within 24 GiB of memory.
"""
import speech_emotion  # noqa: F401  (must precede any TensorFlow import)

import argparse
import dataclasses
import json
import os
import resource
import time

import accuracy
import markdown_report
from speech_emotion.data import corpus_spec
from speech_emotion.data import ingest
from speech_emotion.data import synthetic
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import local_runner
from speech_emotion.trainer import tuning

TARGET_MINUTES = 60
TARGET_MEMORY_GIB = 24


@dataclasses.dataclass(frozen=True)
class CorpusSize:
    speakers: int
    utterances_per_emotion: int  # enough that speakers x emotions x utterances covers `clips`
    clips: int
    sample_rate: int
    seconds: float


FULL_SIZE = {
    "ravdess": CorpusSize(speakers=24, utterances_per_emotion=8, clips=1440, sample_rate=48000, seconds=3.7),
    "tess": CorpusSize(speakers=2, utterances_per_emotion=200, clips=2800, sample_rate=24414, seconds=2.0),
    "cremad": CorpusSize(speakers=91, utterances_per_emotion=14, clips=7442, sample_rate=16000, seconds=2.7),
    "savee": CorpusSize(speakers=4, utterances_per_emotion=18, clips=480, sample_rate=44100, seconds=4.0),
}


def generated_corpora(root: str, scale: float) -> dict:
    """Writes the four corpora under `root` (once: a finished corpus is kept for later runs); returns name -> path."""
    paths = {}
    for index, (name, size) in enumerate(FULL_SIZE.items()):
        clips = max(size.speakers, round(size.clips * scale))
        path = os.path.join(root, f"{name}-{clips}")
        done = os.path.join(path, ".complete")
        if not os.path.exists(done):
            started = time.monotonic()
            synthetic.write_corpus(name, path, speakers=size.speakers, utterances_per_emotion=size.utterances_per_emotion,
                                   seed=index, sample_rate=size.sample_rate, seconds=size.seconds, max_clips=clips)
            open(done, "w").close()
            print(f"generated {name}: {clips} clips in {time.monotonic() - started:.0f} s", flush=True)
        paths[name] = path
    return paths


def tuning_trials(reports_dir: str) -> list:
    """(epochs, minutes) of each finished tuning trial, from the Tuner's summary."""
    path = os.path.join(reports_dir, tuning.SUMMARY_JSON)
    if not os.path.exists(path):
        return []
    with open(path) as summary_file:
        return [(row["epochs"], row["seconds"] / 60) for row in json.load(summary_file)]


def peak_memory_gib() -> float:
    """This process's peak resident memory (the local runner runs every component in it), or a child's if larger."""
    return max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 2**20


def component_cells(row) -> str:
    cells = [f"{name} {minutes:.1f}" if done else f"{name} unfinished" for name, minutes, done in row["components"]]
    trials = row.get("tuning_trials", [])
    if trials:
        cells.append(f"(tuning: {len(trials)} trials finished, {sum(epochs for epochs, _ in trials)} epochs in "
                     f"{sum(minutes for _, minutes in trials):.1f} min)")
    return ", ".join(cells)


def markdown_body(rows: dict) -> str:
    header = ["data", "clips", "wall min", "CPU min", "peak GiB", "minutes per component (ML Metadata)"]
    table = markdown_report.table(header, [
        [name, row["clips"], "—" if row["wall_minutes"] is None else f"{row['wall_minutes']:.1f}",
         "—" if row["cpu_minutes"] is None else f"{row['cpu_minutes']:.1f}",
         "—" if row["peak_gib"] is None else f"{row['peak_gib']:.1f}", component_cells(row)]
        for name, row in rows.items()])
    return markdown_report.section(
        "The whole default pipeline at full size (`benchmarks/pipeline_timing.py`)",
        "`ser pipeline run` with the four training corpora and no other flag (10-trial Hyperband search included). "
        "The full-size row is a generated corpus with the real corpora's speakers, clip counts, sample rates and mean "
        "durations; the subset row is ../shared/corpora. A row whose run was stopped shows what had finished; "
        "its wall and CPU minutes are then unknown (—).",
        table,
        f"Targets: the full-size run within {TARGET_MINUTES} minutes on 2 CPU cores and {TARGET_MEMORY_GIB} GiB.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="workdir/pipeline_timing")
    parser.add_argument("--corpora", help="time these real corpora (folders ravdess, tess, cremad, savee) instead")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of every generated corpus's clips")
    parser.add_argument("--report-only", action="store_true", help="report the runs in WORKDIR without running")
    markdown_report.add_argument(parser)
    args = parser.parse_args(argv)
    if not 0.0 < args.scale <= 1.0:
        parser.error("--scale must be in (0, 1]")

    if args.corpora:
        name, paths = "shared subset", {corpus: os.path.join(args.corpora, corpus) for corpus in FULL_SIZE}
    else:
        name = "generated, full size" if args.scale == 1.0 else f"generated, scale {args.scale:g}"
        paths = generated_corpora(os.path.join(args.workdir, "corpora"), args.scale)
    slug = name.replace(" ", "-").replace(",", "")
    corpora = tuple(corpus_spec.CorpusSpec(corpus, path, corpus_spec.TRAIN_ROLE) for corpus, path in paths.items())
    config = pipeline_config.make_config(os.path.join(args.workdir, slug), ingest.IngestConfig(corpora=corpora))
    os.makedirs(args.workdir, exist_ok=True)
    results_path = os.path.join(args.workdir, "pipeline_timing.json")
    rows = json.load(open(results_path)) if os.path.exists(results_path) else {}
    clips = sum(len(ingest.read_corpus(corpus)[0]) for corpus in corpora)

    if args.report_only:
        rows.setdefault(name, {"clips": clips, "wall_minutes": None, "cpu_minutes": None, "peak_gib": None})
    else:
        if os.path.exists(config.metadata_path):
            parser.error(f"{config.workdir} holds an earlier run (its components would be cached): remove it first")
        cpu_start, wall_start = accuracy.cpu_seconds(), time.monotonic()
        local_runner.run(config)
        rows[name] = {"clips": clips, "wall_minutes": (time.monotonic() - wall_start) / 60,
                      "cpu_minutes": (accuracy.cpu_seconds() - cpu_start) / 60, "peak_gib": peak_memory_gib()}
    rows[name].update(components=accuracy.executions(config.metadata_path), tuning_trials=tuning_trials(config.reports_dir))
    with open(results_path, "w") as results_file:
        json.dump(rows, results_file, indent=2)
    body = markdown_body(rows)
    print(body)
    if args.write_markdown:
        markdown_report.write_section(args.write_markdown, __file__, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
