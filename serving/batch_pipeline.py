"""The batch prediction Beam pipeline: JSON lines of instances in, Vertex AI's results and errors files out.

Every non-blank input line lands in exactly one output line; blank lines are counted as skipped_blank,
so results + errors + skipped_blank is the number of input lines. See batch_predict.py for the command.
"""
import contextlib
import dataclasses
import json
import os
from typing import Optional, Sequence

import apache_beam as beam
import tensorflow as tf
from apache_beam.metrics import MetricsFilter
from apache_beam.ml.inference import base
from apache_beam.options import pipeline_options

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


def _error_record(instance, error: batch_instances.InstanceError) -> dict:
    return {"instance": instance, "error": dataclasses.asdict(error)}


class SkipBlankLines(beam.DoFn):
    """Drops lines of nothing but whitespace, counting them: they are no instance, hence no output line."""

    def __init__(self):
        self._skipped = beam.metrics.Metrics.counter(METRICS_NAMESPACE, SKIPPED_BLANK)

    def process(self, line):
        if line.strip():
            yield line
        else:
            self._skipped.inc()


class ParseLine(beam.DoFn):
    """A JSON line to its instance; a line that is not a JSON object is an error whose instance is the line."""

    def process(self, line):
        try:
            yield batch_instances.parse_instance(line)
        except ValueError as error:
            yield beam.pvalue.TaggedOutput(ERRORS, _error_record(line, batch_instances.InstanceError.of(error)))


class LoadAudio(beam.DoFn):
    """An instance to (instance, WAV bytes)."""

    def process(self, instance):
        try:
            yield instance, batch_instances.wav_bytes(instance)
        except Exception as error:  # noqa: BLE001  Whatever one file does wrong fails that instance alone.
            yield beam.pvalue.TaggedOutput(ERRORS, _error_record(instance, batch_instances.InstanceError.of(error)))


class SplitPredictions(beam.DoFn):
    def process(self, keyed_result):
        instance, result = keyed_result
        if isinstance(result.inference, batch_instances.InstanceError):
            yield beam.pvalue.TaggedOutput(ERRORS, _error_record(instance, result.inference))
        else:
            yield {"instance": instance, "prediction": result.inference}


def _failed_batch_records(failed_batch):
    """RunInference's dead letters: a batch of (instance, WAV bytes) and (exception type, repr, traceback)."""
    batch, (_, exception_repr, _) = failed_batch
    error = batch_instances.InstanceError(status="INTERNAL", message=exception_repr)
    return [_error_record(instance, error) for instance, _ in batch]


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


class BatchPredict(beam.PTransform):
    """JSON lines of instances to the results and errors files under `output_dir`."""

    def __init__(self, model_dir: str, output_dir: str, min_batch_size: int, max_batch_size: int,
                 counter: Optional[batch_progress.ItemCounter] = None):
        super().__init__()
        self._handler = base.KeyedModelHandler(batch_inference.WavSignatureModelHandler(
            model_dir, min_batch_size=min_batch_size, max_batch_size=max_batch_size))
        self._output_dir = output_dir
        self._counter = counter

    def expand(self, lines):
        parsed = lines | "Parse" >> beam.ParDo(ParseLine()).with_outputs(ERRORS, main="instances")
        loaded = parsed.instances | "LoadAudio" >> beam.ParDo(LoadAudio()).with_outputs(ERRORS, main="audio")
        predicted, failed = loaded.audio | "Predict" >> base.RunInference(self._handler).with_exception_handling()
        split = predicted | "Split" >> beam.ParDo(SplitPredictions()).with_outputs(ERRORS, main=RESULTS)
        failed_batches = failed.failed_inferences | "FailedBatches" >> beam.FlatMap(_failed_batch_records)
        errors = (parsed[ERRORS], loaded[ERRORS], split[ERRORS], failed_batches) | "AllErrors" >> beam.Flatten()
        write_prediction_files(split[RESULTS], errors, self._output_dir, self._counter)


def write_prediction_files(results, errors, output_dir: str, counter: Optional[batch_progress.ItemCounter] = None) -> None:
    """Writes result and error records as Vertex's prediction.results-* and prediction.errors_stats-* JSON lines."""
    for kind, records, prefix in ((RESULTS, results, RESULTS_PREFIX), (ERRORS, errors, ERRORS_PREFIX)):
        _ = (
            records
            | f"{kind.capitalize()}AsJson" >> beam.ParDo(ToJsonLine(kind, counter))
            | f"Write{kind.capitalize()}" >> beam.io.WriteToText(
                os.path.join(output_dir, prefix), shard_name_template=SHARD_NAME_TEMPLATE)
        )


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
    with contextlib.ExitStack() as stack:
        counter = None
        if _runs_locally(options):
            total = len(folder_lines) if folder_lines is not None else _count_instance_lines(config.input)
            counter = stack.enter_context(batch_progress.progress_bar(total, "batch prediction", unit="instance"))
        pipeline = beam.Pipeline(options=options)
        if folder_lines is not None:
            lines = pipeline | "ListFolder" >> beam.Create(folder_lines) | "Spread" >> beam.Reshuffle()
        else:
            lines = pipeline | "ReadLines" >> beam.io.ReadFromText(config.input)
        _ = (
            lines
            | "SkipBlankLines" >> beam.ParDo(SkipBlankLines())
            | "BatchPredict" >> BatchPredict(model_dir, config.output_dir, config.min_batch_size,
                                             config.max_batch_size, counter)
        )
        result = pipeline.run()
        result.wait_until_finish()
    return Summary(results=_counter_value(result, RESULTS), errors=_counter_value(result, ERRORS),
                   skipped_blank=_counter_value(result, SKIPPED_BLANK), output_dir=config.output_dir)


def _runs_locally(options: pipeline_options.PipelineOptions) -> bool:
    runner = options.view_as(pipeline_options.StandardOptions).runner
    return runner is None or str(runner).rsplit(".", 1)[-1].lower() in _LOCAL_RUNNERS


def _count_instance_lines(pattern: str) -> int:
    count = 0
    for path in tf.io.gfile.glob(pattern):
        with tf.io.gfile.GFile(path) as file:
            count += sum(1 for line in file if line.strip())
    return count


def _counter_value(result, name: str) -> int:
    counters = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE).with_name(name))["counters"]
    return sum(counter.result or 0 for counter in counters)
