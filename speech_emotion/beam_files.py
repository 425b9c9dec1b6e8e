"""Reading and writing files in a Beam pipeline in the way Beam 2.74's DaskRunner computes correctly.

The DaskRunner has no translation for Beam's file sources (ReadFromText, ReadFromTFRecord), and its file sinks hand
their temporary folder to the workers as a side input, which that runner recomputes, so a sink's last step looks in
another folder than the one written. On it, each input file is read whole by one worker (ReadFilesWhole) and each
bundle is written to a file of its own (WriteBundleFiles), named as Beam's sinks name their shards once the pipeline
has finished (name_bundle_files). What a DoFn emits in finish_bundle is dropped there too, so WriteBundleFiles emits
nothing: the write is a side effect.
"""
import uuid
from typing import Callable, Iterable, Sequence

import apache_beam as beam
import tensorflow as tf
from apache_beam.options import pipeline_options

DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"
BUNDLE_INFIX = ".bundle-"
_GZIP = tf.io.TFRecordOptions(compression_type="GZIP")


def runner_name(options: pipeline_options.PipelineOptions) -> str:
    """The runner's class name in lower case, "" for the default (the DirectRunner)."""
    runner = options.view_as(pipeline_options.StandardOptions).runner
    return "" if runner is None else str(runner).rsplit(".", 1)[-1].lower()


def on_dask(options: pipeline_options.PipelineOptions) -> bool:
    return runner_name(options) == DASK_RUNNER.rsplit(".", 1)[-1].lower()


def close_client(result) -> None:
    """The DaskRunner leaves its client connected, retrying once the cluster stops; other results have none."""
    client = getattr(result, "client", None)
    if client is not None:
        client.close()


def text_lines(path: str) -> Iterable[str]:
    """A text file's lines without their line ends, as ReadFromText gives them."""
    with tf.io.gfile.GFile(path) as file:
        for line in file:
            yield line.rstrip("\r\n")


def write_text_lines(path: str, lines: Sequence[str]) -> None:
    with tf.io.gfile.GFile(path, "w") as file:
        file.write("".join(line + "\n" for line in lines))


def gzip_tfrecords(path: str) -> Iterable[bytes]:
    """The records of a GZIP-compressed TFRecord file, as ReadFromTFRecord gives them."""
    for record in tf.data.TFRecordDataset(path, compression_type="GZIP").as_numpy_iterator():
        yield record


def write_gzip_tfrecords(path: str, records: Sequence[bytes]) -> None:
    with tf.io.TFRecordWriter(path, _GZIP) as writer:
        for record in records:
            writer.write(record)


class ReadFilesWhole(beam.PTransform):
    """Every record of `paths`, each file read whole by one worker with `read(path)` (an iterable of records)."""

    def __init__(self, paths: Sequence[str], read: Callable[[str], Iterable]):
        super().__init__()
        self._paths = list(paths)
        self._read = read

    def expand(self, begin):
        return begin | "ListFiles" >> beam.Create(self._paths) | "SpreadFiles" >> beam.Reshuffle() | "ReadFiles" >> beam.FlatMap(self._read)


class WriteBundleFiles(beam.DoFn):
    """Writes each bundle's elements to a file of its own, `PREFIX.bundle-<random>SUFFIX`, with `write(path, elements)`;
    name_bundle_files names them when the pipeline has finished."""

    def __init__(self, path_prefix: str, write: Callable[[str, Sequence], None], suffix: str = ""):
        self._path_prefix = path_prefix
        self._write = write
        self._suffix = suffix
        self._elements = []

    def start_bundle(self):
        self._elements = []

    def process(self, element):
        self._elements.append(element)

    def finish_bundle(self):
        if self._elements:
            self._write(f"{self._path_prefix}{BUNDLE_INFIX}{uuid.uuid4().hex}{self._suffix}", self._elements)


def name_bundle_files(path_prefix: str, suffix: str = "", write_empty: Callable[[str, Sequence], None] = None) -> int:
    """Renames WriteBundleFiles' files to the `PREFIX-SSSSS-of-NNNNNSUFFIX` shards Beam's sinks write; where there are
    none, `write_empty` (when given) writes one empty shard. Returns the number of shards."""
    bundles = sorted(tf.io.gfile.glob(f"{path_prefix}{BUNDLE_INFIX}*{suffix}"))
    if not bundles and write_empty is not None:
        write_empty(f"{path_prefix}-00000-of-00001{suffix}", [])
        return 1
    for index, bundle in enumerate(bundles):
        tf.io.gfile.rename(bundle, f"{path_prefix}-{index:05d}-of-{len(bundles):05d}{suffix}")
    return len(bundles)
