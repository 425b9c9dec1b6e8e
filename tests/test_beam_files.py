"""beam_files: whole-file reads and per-bundle writes give the records Beam's file sources and sinks give."""
import speech_emotion  # noqa: F401  (must precede any TensorFlow import)
import apache_beam as beam
from apache_beam.options import pipeline_options

from speech_emotion import beam_files


def test_records_written_per_bundle_read_back_whole_under_shard_names(tmp_path):
    records = [f"record {index}".encode() for index in range(40)]
    beam_files.write_gzip_tfrecords(str(tmp_path / "a.gz"), records[:25])
    beam_files.write_gzip_tfrecords(str(tmp_path / "b.gz"), records[25:])
    prefix = str(tmp_path / "out" / "data")
    (tmp_path / "out").mkdir()

    with beam.Pipeline() as pipeline:
        _ = (pipeline | beam_files.ReadFilesWhole([str(tmp_path / "a.gz"), str(tmp_path / "b.gz")], beam_files.gzip_tfrecords)
             | beam.ParDo(beam_files.WriteBundleFiles(prefix, beam_files.write_gzip_tfrecords, ".gz")))
    shards = beam_files.name_bundle_files(prefix, ".gz")

    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert len(names) == shards >= 1
    assert names == [f"data-{index:05d}-of-{shards:05d}.gz" for index in range(shards)]
    read_back = [record for name in names for record in beam_files.gzip_tfrecords(str(tmp_path / "out" / name))]
    assert sorted(read_back) == sorted(records)


def test_no_bundle_gives_one_empty_shard_when_asked(tmp_path):
    prefix = str(tmp_path / "results")
    assert beam_files.name_bundle_files(prefix) == 0
    assert beam_files.name_bundle_files(prefix, write_empty=beam_files.write_text_lines) == 1
    assert (tmp_path / "results-00000-of-00001").read_text() == ""


def test_text_lines_round_trip_without_line_ends(tmp_path):
    path = str(tmp_path / "lines.txt")
    beam_files.write_text_lines(path, ["a", "", "b"])
    assert list(beam_files.text_lines(path)) == ["a", "", "b"]


def test_the_dask_runner_is_told_apart_by_its_class_name():
    assert beam_files.on_dask(pipeline_options.PipelineOptions([f"--runner={beam_files.DASK_RUNNER}"]))
    assert not beam_files.on_dask(pipeline_options.PipelineOptions(["--runner=DirectRunner"]))
    assert beam_files.runner_name(pipeline_options.PipelineOptions([])) == ""
