"""What `ser pipeline run` and `ser demo` print: a line per pipeline component as it ends, then the results.

TFX's LocalDagRunner logs (through absl) when each component starts and finishes; a logging handler
turns that into a line with the component's name, its time and one figure read from what it wrote.
Everything else (TFX's, Beam's and TensorFlow's logs, Keras's epoch lines, KerasTuner's search-space
dumps) goes to WORKDIR/logs/, file descriptors 1 and 2 included, so native code's output goes there too.
"""
import contextlib
import dataclasses
import glob
import json
import logging
import os
import sys
import time
import typing

from speech_emotion.pipeline import config as pipeline_config

LOGS_DIR = "logs"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The messages tfx.orchestration.local.local_dag_runner and portable.launcher (TFX 1.16) log around each component.
_COMPONENT_RUNNING = "Component %s is running."
_CACHED_EXECUTION = "A cached execution %d is used."
_COMPONENT_FINISHED = "Component %s is finished."


def _duration(seconds: float) -> str:
    return f"{seconds:.0f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def _read_json(path: str):
    with open(path) as json_file:
        return json.load(json_file)


def _newest_output(config: pipeline_config.PipelineConfig, component: str, output: str) -> typing.Optional[str]:
    """The folder of `component`'s newest `output` artifact: pipeline_root/<component>/<output>/<execution id>."""
    folders = [path for path in glob.glob(os.path.join(config.pipeline_root, component, output, "*"))
               if os.path.basename(path).isdigit()]
    return max(folders, key=lambda path: int(os.path.basename(path))) if folders else None


def _ingestion_figure(config, component):
    from speech_emotion.data import ingest

    summary = _read_json(os.path.join(_newest_output(config, component, "examples"), ingest.SUMMARY_FILE))
    quarantined = sum(len(corpus["quarantined"]) for corpus in summary["corpora"].values())
    by_split = ", ".join(f"{split} {counts['examples']}" for split, counts in summary["splits"].items() if counts["examples"])
    return f"{sum(counts['examples'] for counts in summary['splits'].values())} clips ({by_split}), {quarantined} quarantined"


def _tuner_figure(config, component):
    from speech_emotion.trainer import tuning

    scores = [trial["val_unweighted_accuracy"] for trial in _read_json(os.path.join(config.reports_dir, tuning.SUMMARY_JSON))]
    return f"{len(scores)} trials, best eval UA {max(score for score in scores if score is not None):.3f}"


def _evaluator_figure(config, component):
    blessing = _newest_output(config, component, "blessing")
    return "blessed" if os.path.exists(os.path.join(blessing, "BLESSED")) else "not blessed"


def scores_line(config: pipeline_config.PipelineConfig) -> str:
    """Unweighted accuracy per split and corpus, from the CrossCorpusGate's report."""
    from speech_emotion.components.cross_corpus import component as cross_corpus

    report = _read_json(os.path.join(config.reports_dir, cross_corpus.REPORT_JSON))
    return "; ".join(f"{split} {corpus} {result['unweighted_accuracy']:.3f}"
                     for split, corpora in report["results"].items() for corpus, result in corpora.items())


def _gate_figure(config, component):
    from speech_emotion.components.cross_corpus import component as cross_corpus

    blessed = _read_json(os.path.join(config.reports_dir, cross_corpus.REPORT_JSON))["blessed"]
    return f"UA {scores_line(config)}; {'blessed' if blessed else 'not blessed'}"


def _pusher_figure(config, component):
    pushed = _newest_output(config, component, "pushed_model")
    return f"pushed to {config.serving_model_dir}" if pushed and os.listdir(pushed) else "not pushed"


def _batch_predictions_figure(config, component):
    from speech_emotion.serving import batch_pipeline

    def count(prefix):
        return sum(1 for path in glob.glob(os.path.join(config.predictions_dir, f"{prefix}-*")) for _ in open(path))

    return f"{count(batch_pipeline.RESULTS_PREFIX)} clips classified, {count(batch_pipeline.ERRORS_PREFIX)} unreadable"


# Component id -> its key figure, read from what it wrote.
_FIGURES = {
    "AudioExampleGen": _ingestion_figure,
    "UnlabelledExampleGen": _ingestion_figure,
    "Tuner": _tuner_figure,
    "Evaluator": _evaluator_figure,
    "CrossCorpusGate": _gate_figure,
    "Pusher": _pusher_figure,
    "BatchPredictionWriter": _batch_predictions_figure,
}


@dataclasses.dataclass
class Step:
    """A step's figure, which the step itself sets."""

    figure: str = ""


class Progress:
    """Writes one line per component, or per step of a command, to `terminal`; the components' figures
    need `config`, the run's configuration."""

    def __init__(self, terminal: typing.TextIO):
        self.config: typing.Optional[pipeline_config.PipelineConfig] = None
        self._terminal = terminal
        self._component = None
        self._started = 0.0
        self._cached = False

    def line(self, text: str) -> None:
        self._terminal.write(text + "\n")
        self._terminal.flush()

    def _step_line(self, name: str, seconds: float, figure: str) -> None:
        self.line(f"  {name:<28} {_duration(seconds):>6}  {figure}".rstrip())

    @contextlib.contextmanager
    def step(self, name: str):
        """A line for a step outside the pipeline, when it ends; it sets the yielded Step's figure."""
        started, step = time.monotonic(), Step()
        yield step
        self._step_line(name, time.monotonic() - started, step.figure)

    def component_running(self, component: str) -> None:
        self._component, self._started, self._cached = component, time.monotonic(), False

    def component_cached(self) -> None:
        self._cached = True

    def component_finished(self, component: str) -> None:
        try:
            figure = _FIGURES[component](self.config, component) if component in _FIGURES else ""
        # A figure the component's output does not give is left out; the run goes on.
        except (OSError, ValueError, KeyError, TypeError):
            figure = ""
        self._step_line(component, time.monotonic() - self._started, f"(cached) {figure}" if self._cached else figure)
        self._component = None

    def failed(self, log_path: typing.Optional[str]) -> None:
        where = f"; full log: {log_path}" if log_path else ""
        if self._component:
            self.line(f"  {self._component} failed after {_duration(time.monotonic() - self._started)}{where}")
        elif log_path:
            self.line(f"  failed{where}")


class _ComponentLines(logging.Handler):
    """Turns LocalDagRunner's log records about components into Progress lines."""

    def __init__(self, progress: Progress):
        super().__init__(logging.INFO)
        self._progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == _COMPONENT_RUNNING:
            self._progress.component_running(record.args[0])
        elif record.msg == _CACHED_EXECUTION:
            self._progress.component_cached()
        elif record.msg == _COMPONENT_FINISHED:
            self._progress.component_finished(record.args[0])


def new_log_path(workdir: str) -> str:
    return os.path.join(workdir, LOGS_DIR, time.strftime("%Y%m%d-%H%M%S") + ".log")


@contextlib.contextmanager
def _output_to(path: str):
    """Points sys.stdout, sys.stderr and file descriptors 1 and 2 (native code's output) at the file `path`;
    yields its stream."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    saved_streams, saved_descriptors = (sys.stdout, sys.stderr), (os.dup(1), os.dup(2))
    with open(path, "a", buffering=1) as log_stream:
        for stream in saved_streams:
            stream.flush()
        os.dup2(log_stream.fileno(), 1)
        os.dup2(log_stream.fileno(), 2)
        sys.stdout = sys.stderr = log_stream
        try:
            yield log_stream
        finally:
            sys.stdout, sys.stderr = saved_streams
            log_stream.flush()
            for descriptor, original in zip((1, 2), saved_descriptors):
                os.dup2(original, descriptor)
                os.close(original)


@contextlib.contextmanager
def reported_run(workdir: str, verbose: bool, terminal: typing.Optional[typing.TextIO] = None):
    """Runs the block with a Progress line per component on `terminal` (the terminal by default) and all logs
    at INFO level in a new file under `workdir`/logs, or, `verbose`, on the terminal too; yields (Progress,
    log path or None). The block sets the Progress's config before it runs the pipeline."""
    from absl import logging as absl_logging

    own_terminal = terminal is None
    terminal = os.fdopen(os.dup(1), "w", buffering=1) if own_terminal else terminal
    progress = Progress(terminal)
    log_path = None if verbose else new_log_path(workdir)
    component_lines = _ComponentLines(progress)
    root, absl_logger = logging.getLogger(), absl_logging.get_absl_logger()
    saved_levels = (root.level, absl_logging.get_verbosity())
    root.setLevel(logging.INFO)
    absl_logging.set_verbosity(absl_logging.INFO)
    absl_logger.addHandler(component_lines)
    try:
        with _output_to(log_path) if log_path else contextlib.nullcontext(sys.stderr) as log_stream:
            log_lines = logging.StreamHandler(log_stream)
            log_lines.setFormatter(logging.Formatter(LOG_FORMAT))
            root.addHandler(log_lines)
            if log_path:
                progress.line(f"Full logs: {log_path}")
            try:
                yield progress, log_path
            except BaseException:
                if log_path:
                    logging.exception("the run failed")
                raise
            finally:
                root.removeHandler(log_lines)
    except BaseException:
        progress.failed(log_path)
        raise
    finally:
        absl_logger.removeHandler(component_lines)
        root.setLevel(saved_levels[0])
        absl_logging.set_verbosity(saved_levels[1])
        if own_terminal:
            terminal.close()


def result_lines(config: pipeline_config.PipelineConfig, log_path: typing.Optional[str]) -> typing.List[str]:
    """The short block a finished run ends with: the scores, the pushed model, the reports and the log."""
    from speech_emotion.components.cross_corpus import component as cross_corpus

    lines = []
    if os.path.exists(os.path.join(config.reports_dir, cross_corpus.REPORT_JSON)):
        lines.append(f"Unweighted accuracy: {scores_line(config)}")
    if os.path.isdir(config.serving_model_dir) and os.listdir(config.serving_model_dir):
        lines.append(f"Pushed models: {config.serving_model_dir}")
    else:
        lines.append("No model pushed: none passed the Evaluator's and the cross-corpus gate's thresholds")
    lines.append(f"Reports: {config.reports_dir} (model_card.html and .md, also in each pushed version's "
                 f"assets.extra; cross_corpus.json, confusion matrices, training curves)")
    if config.unlabelled_clips:
        lines.append(f"Predictions for {config.unlabelled_clips}: {config.predictions_dir}")
    if log_path:
        lines.append(f"Full logs: {log_path}")
    return lines
