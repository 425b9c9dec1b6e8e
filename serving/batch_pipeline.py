"""The batch prediction Beam pipeline: JSON lines of instances in, Vertex AI's results and errors files out.

Every non-blank input line lands in exactly one output line; blank lines are counted as skipped_blank,
so results + errors + skipped_blank is the number of input lines. See batch_predict.py for the command.

It uses only what Beam's DaskRunner (2.74) computes correctly as well as the other runners: no multi-output ParDo
(a failure travels with the good elements as a Failed record and is split off by two Filters), one last transform
that depends on both writes (the DaskRunner computes only the pipeline's last one), and counts read back from the
written files and the input where the runner keeps no metrics. On the DaskRunner the input files are read whole and
the output written a file per bundle (beam_files); that runner also drops what a DoFn emits in finish_bundle, where
RunInference's batching (BatchElements) hands over each bundle's last batch, so there PredictEach calls the model
once per clip instead.
"""
import contextlib
import dataclasses
import json
import os
from typing import NamedTuple, Optional, Sequence

import apache_beam as beam
import tensorflow as tf
from apache_beam.metrics import MetricsFilter
from apache_beam.ml.inference import base
from apache_beam.options import pipeline_options

from speech_emotion import beam_files
from speech_emotion.serving import batch_inference
from speech_emotion.serving import batch_instances
from speech_emotion.serving import batch_predict
from speech_emotion.serving import batch_progress
from speech_emotion.serving import saved_model_predict

RESULTS_PREFIX = "prediction.results"
ERRORS_PREFIX = "prediction.errors_stats"
SHARD_NAME_TEMPLATE = "-SSSSS-of-NNNNN"
RESULTS = "results"
ERRORS = "errors"
SKIPPED_BLANK = "skipped_blank"
METRICS_NAMESPACE = "batch_predict"
# Runners whose workers share this machine's disk, so the driver can show their progress.
_LOCAL_RUNNERS = frozenset({"direct", "directrunner", "bundlebaseddirectrunner", "prism", "prismrunner"})


@dataclasses.dataclass(frozen=True)
class Summary:
    results: int
    errors: int
    skipped_blank: int
    output_dir: str


class Failed(NamedTuple):
    """An error record travelling with the good elements until split_failed sets it aside."""

    record: dict


def _failed(instance, error: batch_instances.InstanceError) -> Failed:
    return Failed({"instance": instance, "error": dataclasses.asdict(error)})


def _is_failed(element) -> bool:
    return isinstance(element, Failed)


def split_failed(elements, label: str):
    """(the good elements, the error records) of a PCollection that carries Failed records among them."""
    good = elements | f"{label}Good" >> beam.Filter(lambda element: not _is_failed(element))
    records = elements | f"{label}Failed" >> beam.Filter(_is_failed) | f"{label}Records" >> beam.Map(lambda failed: failed.record)
    return good, records


class SkipBlankLines(beam.DoFn):
    """Drops lines of nothing but whitespace, counting them: they are no instance, hence no output line."""

    def __init__(self):
        self._skipped = beam.metrics.Metrics.counter(METRICS_NAMESPACE, SKIPPED_BLANK)

    def process(self, line):
        if line.strip():
            yield line
        else:
            self._skipped.inc()


def parse_line(line):
    """A JSON line to its instance; a line that is not a JSON object fails, its instance the line."""
    try:
        return batch_instances.parse_instance(line)
    except ValueError as error:
        return _failed(line, batch_instances.InstanceError.of(error))


def load_audio(instance):
    """An instance to (instance, WAV bytes)."""
    try:
        return instance, batch_instances.wav_bytes(instance)
    except Exception as error:  # noqa: BLE001  Whatever one file does wrong fails that instance alone.
        return _failed(instance, batch_instances.InstanceError.of(error))


def prediction_record(keyed_result):
    """(instance, PredictionResult) to its results record, or a Failed one when its inference is an InstanceError."""
    instance, result = keyed_result
    if isinstance(result.inference, batch_instances.InstanceError):
        return _failed(instance, result.inference)
    return {"instance": instance, "prediction": result.inference}


class ToJsonLine(beam.DoFn):
    """Counts a record in the `kind` metric (and the local progress counter) and writes it as one JSON line."""

    def __init__(self, kind: str, counter: Optional[batch_progress.ItemCounter]):
        self._records = beam.metrics.Metrics.counter(METRICS_NAMESPACE, kind)
        self._counter = counter

    def process(self, record):
        self._records.inc()
        if self._counter is not None:
            self._counter.add()
        yield json.dumps(record)


class PredictEach(beam.DoFn):
    """(instance, WAV bytes) to (instance, PredictionResult) as RunInference gives them, one model call per clip."""

    def __init__(self, handler: batch_inference.WavSignatureModelHandler):
        self._handler = handler
        self._model = None

    def setup(self):
        self._model = self._handler.load_model()

    def process(self, keyed_audio):
        instance, audio = keyed_audio
        [result] = self._handler.run_inference([audio], self._model)
        yield instance, result


class BatchPredict(beam.PTransform):
    """JSON lines of instances to the results and errors files under `output_dir`; `on_dask`: in the way the
    DaskRunner computes correctly (PredictEach, beam_files' bundle files, named after the run)."""

    def __init__(self, model_dir: str, output_dir: str, min_batch_size: int, max_batch_size: int,
                 counter: Optional[batch_progress.ItemCounter] = None, on_dask: bool = False):
        super().__init__()
        self._handler = batch_inference.WavSignatureModelHandler(
            model_dir, min_batch_size=min_batch_size, max_batch_size=max_batch_size)
        self._output_dir = output_dir
        self._counter = counter
        self._on_dask = on_dask

    def expand(self, lines):
        loaded = lines | "Parse" >> beam.Map(parse_line) | "LoadAudio" >> beam.Map(
            lambda element: element if _is_failed(element) else load_audio(element))
        audio, unreadable = split_failed(loaded, "Loaded")
        # The handler turns each clip's failure into its own InstanceError, so RunInference needs no dead letters.
        predict = (beam.ParDo(PredictEach(self._handler)) if self._on_dask
                   else base.RunInference(base.KeyedModelHandler(self._handler)))
        predicted = audio | "Predict" >> predict
        results, not_predicted = split_failed(predicted | "Records" >> beam.Map(prediction_record), "Predicted")
        errors = (unreadable, not_predicted) | "AllErrors" >> beam.Flatten()
        return write_prediction_files(results, errors, self._output_dir, self._counter, bundle_files=self._on_dask)


def write_prediction_files(results, errors, output_dir: str, counter: Optional[batch_progress.ItemCounter] = None,
                           bundle_files: bool = False):
    """Writes result and error records as Vertex's prediction.results-* and prediction.errors_stats-* JSON lines;
    returns a PCollection that needs both writes."""
    written = []
    for kind, records, prefix in ((RESULTS, results, RESULTS_PREFIX), (ERRORS, errors, ERRORS_PREFIX)):
        path_prefix = os.path.join(output_dir, prefix)
        write = (beam.ParDo(beam_files.WriteBundleFiles(path_prefix, beam_files.write_text_lines)) if bundle_files
                 else beam.io.WriteToText(path_prefix, shard_name_template=SHARD_NAME_TEMPLATE))
        written.append(records | f"{kind.capitalize()}AsJson" >> beam.ParDo(ToJsonLine(kind, counter))
                       | f"Write{kind.capitalize()}" >> write)
    return tuple(written) | "Written" >> beam.Flatten()


def predict(config: batch_predict.BatchPredictConfig, beam_args: Sequence[str] = ()) -> Summary:
    """Runs the batch prediction pipeline to completion; shows a progress bar when it runs on this machine."""
    model_dir = saved_model_predict.resolve_model_dir(config.model)
    if tf.io.gfile.glob(os.path.join(config.output_dir, "prediction.*")):
        raise ValueError(f"{config.output_dir} already holds prediction files; give an empty or new output folder")
    if tf.io.gfile.isdir(config.input):
        folder_lines = [json.dumps(instance) for instance in batch_instances.folder_instances(config.input)]
    elif tf.io.gfile.glob(config.input):
        folder_lines = None
    else:
        raise ValueError(f"no input file or folder matches {config.input}")
    tf.io.gfile.makedirs(config.output_dir)

    options = pipeline_options.PipelineOptions(list(beam_args))
    on_dask = beam_files.on_dask(options)
    with contextlib.ExitStack() as stack:
        counter = None
        if _runs_locally(options):
            total = len(folder_lines) if folder_lines is not None else _count_lines(config.input)
            counter = stack.enter_context(batch_progress.progress_bar(total, "batch prediction", unit="instance"))
        pipeline = beam.Pipeline(options=options)
        if folder_lines is not None:
            lines = pipeline | "ListFolder" >> beam.Create(folder_lines) | "Spread" >> beam.Reshuffle()
        elif on_dask:
            lines = pipeline | "ReadLines" >> beam_files.ReadFilesWhole(tf.io.gfile.glob(config.input), beam_files.text_lines)
        else:
            lines = pipeline | "ReadLines" >> beam.io.ReadFromText(config.input)
        _ = (
            lines
            | "SkipBlankLines" >> beam.ParDo(SkipBlankLines())
            | "BatchPredict" >> BatchPredict(model_dir, config.output_dir, config.min_batch_size, config.max_batch_size,
                                             counter, on_dask)
        )
        result = pipeline.run()
        result.wait_until_finish()
    if on_dask:
        for prefix in (RESULTS_PREFIX, ERRORS_PREFIX):
            beam_files.name_bundle_files(os.path.join(config.output_dir, prefix), write_empty=beam_files.write_text_lines)
    beam_files.close_client(result)
    return Summary(
        results=_counter_value(result, RESULTS, lambda: _count_lines(os.path.join(config.output_dir, RESULTS_PREFIX + "-*"))),
        errors=_counter_value(result, ERRORS, lambda: _count_lines(os.path.join(config.output_dir, ERRORS_PREFIX + "-*"))),
        skipped_blank=0 if folder_lines is not None else _counter_value(
            result, SKIPPED_BLANK, lambda: _count_lines(config.input, blank=True)),
        output_dir=config.output_dir)


def _runs_locally(options: pipeline_options.PipelineOptions) -> bool:
    return beam_files.runner_name(options) in _LOCAL_RUNNERS | {""}


def _count_lines(pattern: str, blank: bool = False) -> int:
    """Non-blank (or, with `blank`, blank) lines of the files matching `pattern`."""
    count = 0
    for path in tf.io.gfile.glob(pattern):
        with tf.io.gfile.GFile(path) as file:
            count += sum(1 for line in file if bool(line.strip()) != blank)
    return count


def _counter_value(result, name: str, count_without_metrics) -> int:
    """The pipeline's `name` counter; where the runner keeps no metrics (the DaskRunner), count_without_metrics()."""
    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE).with_name(name))["counters"]
    except NotImplementedError:
        return count_without_metrics()
    return sum(counter.result or 0 for counter in counters)
