"""Ingestion as a Beam pipeline: corpus folders in, speaker-independent TFRecord splits out.

Every file ends in exactly one place: an example in a split, the quarantine list (with the
reason) or the duplicate list (with the file it duplicates). The summary counts all three for
every corpus given; a corpus that yields no example stops ingestion with `empty_corpus.EmptyCorpusError`.
"""
import collections
import dataclasses
import hashlib
import json
import os
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import apache_beam as beam
import numpy as np

from speech_emotion.config import AudioLimitError
from speech_emotion.config import FeatureConfig
from speech_emotion.data import corpus_spec
from speech_emotion.data import empty_corpus
from speech_emotion.data.ingest_config import IngestConfig
from speech_emotion.data import readers
from speech_emotion.data import records
from speech_emotion.data import splits
from speech_emotion.data.readers import corpus_files

SUMMARY_FILE = "ingest_summary.json"
TFRECORD_PREFIX = "data_tfrecord"
# A clip whose loudest sample stays below this (-60 dBFS) carries no usable speech.
SILENCE_PEAK = 1e-3
MIN_SECONDS = 0.1

_QUARANTINED = "quarantined"


@dataclasses.dataclass(frozen=True)
class Plan:
    """The files found, with each one's split, before any audio is decoded."""

    records: Tuple[Tuple[records.AudioRecord, str], ...]
    rejected: Tuple[records.Rejected, ...]
    # Every corpus given, so the summary lists each one, whatever became of its files.
    corpus_names: Tuple[str, ...]

    @property
    def split_names(self) -> List[str]:
        present = {split for _, split in self.records}
        if any(split in (splits.TRAIN, splits.EVAL) for split in present):
            present |= {splits.TRAIN, splits.EVAL}
        return [split for split in splits.SPLITS if split in present]


def read_corpus(corpus: corpus_spec.CorpusSpec) -> tuple:
    """The corpus' (records, rejected); raises EmptyCorpusError when its reader accepts none of its files."""
    if not os.path.isdir(corpus.path):
        raise ValueError(f"corpus {corpus.name} at {corpus.path}: no such folder")
    corpus_records, corpus_rejected = readers.read_corpus(corpus.name, corpus.path)
    empty_corpus.check_listing(corpus, corpus_records, corpus_rejected)
    return corpus_records, corpus_rejected


def make_plan(config: IngestConfig) -> Plan:
    """Reads every corpus' file list and assigns each file a split by its speaker and corpus role."""
    found, rejected = [], []
    for corpus in config.corpora:
        corpus_records, corpus_rejected = read_corpus(corpus)
        found.extend((record, corpus.role) for record in corpus_records)
        rejected.extend(corpus_rejected)
    train_records = [record for record, role in found if role == corpus_spec.TRAIN_ROLE]
    speaker_splits = splits.assign_speakers(train_records, config.split) if train_records else {}
    role_splits = {corpus_spec.TEST_ROLE: splits.TEST, corpus_spec.UNLABELLED_ROLE: splits.UNLABELLED}
    planned = tuple(
        (record, speaker_splits[record.speaker] if role == corpus_spec.TRAIN_ROLE else role_splits[role])
        for record, role in found
    )
    corpus_names = tuple(dict.fromkeys(corpus.name for corpus in config.corpora))
    return Plan(records=planned, rejected=tuple(rejected), corpus_names=corpus_names)


def fingerprint(corpora: Sequence[corpus_spec.CorpusSpec]) -> str:
    """A digest of every file's path, size and modification time under the corpus folders, through symlinks."""
    digest = hashlib.sha256()
    for corpus in corpora:
        digest.update(f"{corpus.name}={corpus.path}:{corpus.role}\n".encode())
        if not os.path.isdir(corpus.path):
            # A cloud run's folders (/gcs/...) exist where it runs, not where it is compiled.
            continue
        for folder, names in corpus_files.walk(corpus.path):
            for name in names:
                path = os.path.join(folder, name)
                # A dangling link is hashed as the link: ingestion quarantines it as unreadable.
                stat = os.stat(path) if os.path.exists(path) else os.lstat(path)
                digest.update(f"{folder}/{name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class Clip:
    record: records.AudioRecord
    split: str
    wav_bytes: bytes
    duration_seconds: float
    content_hash: str


class LoadClip(beam.DoFn):
    """Decodes, mixes to mono and resamples one file; unusable files go to the quarantine output."""

    def __init__(self, feature_config: FeatureConfig):
        self._feature_config = feature_config
        self._resample = None

    def setup(self):
        import tensorflow as tf

        from speech_emotion.audio import resample

        target_rate = self._feature_config.sample_rate
        # Traced once per worker: eager resampling would cost a hundred op dispatches per clip.
        self._resample = tf.function(
            lambda waveform, rate: resample.resample(waveform, rate, target_rate),
            input_signature=[tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.int32)],
        )

    def process(self, planned):
        from speech_emotion.audio import wav
        from speech_emotion.data import audio_files

        record, split = planned
        try:
            samples, sample_rate = audio_files.decode_audio_file(record.path, self._feature_config)
        except (audio_files.AudioDecodeError, OSError) as error:
            yield beam.pvalue.TaggedOutput(_QUARANTINED, records.Rejected(record.path, record.corpus, "unreadable", str(error)))
            return
        except AudioLimitError as error:
            yield beam.pvalue.TaggedOutput(_QUARANTINED, records.Rejected(record.path, record.corpus, f"unsupported: {error}"))
            return
        mono = audio_files.to_mono(samples)
        problem = unusable_audio(mono, sample_rate)
        if problem:
            reason, detail = problem
            yield beam.pvalue.TaggedOutput(_QUARANTINED, records.Rejected(record.path, record.corpus, reason, detail))
            return
        pcm = np.clip(np.round(mono * 32767.0), -32768, 32767).astype("<i2")
        content_hash = hashlib.sha1(pcm.tobytes() + str(sample_rate).encode()).hexdigest()
        target_rate = self._feature_config.sample_rate
        waveform = self._resample(mono.astype(np.float32), np.int32(sample_rate)).numpy()
        yield Clip(
            record=record,
            split=split,
            wav_bytes=wav.encode_wav_pcm16(waveform, target_rate),
            duration_seconds=len(waveform) / target_rate,
            content_hash=content_hash,
        )


def unusable_audio(mono: np.ndarray, sample_rate: int) -> Optional[Tuple[str, str]]:
    """(reason, detail) when decoded mono audio cannot make an example, else None."""
    seconds = len(mono) / sample_rate
    if not len(mono):
        return "empty", "no audio samples"
    if seconds < MIN_SECONDS:
        return "too short", f"{seconds:.3f} s"
    if not np.all(np.isfinite(mono)):
        return "corrupt", "non-finite samples"
    peak = np.max(np.abs(mono))
    if peak < SILENCE_PEAK:
        return "silent", f"peak {20 * np.log10(max(peak, 1e-12)):.1f} dBFS"
    return None


def _keep_first(keyed_clips):
    """Keeps the clip with the first path among identical recordings; the rest are reported."""
    _, clips = keyed_clips
    ordered = sorted(clips, key=lambda clip: (clip.record.corpus, clip.record.path))
    yield ordered[0]
    for duplicate in ordered[1:]:
        yield beam.pvalue.TaggedOutput("duplicates", (duplicate.record, ordered[0].record.path))


def _serialize(clip: Clip) -> bytes:
    from speech_emotion.data import example_features

    return example_features.make_example(clip.record, clip.wav_bytes, clip.duration_seconds).SerializeToString()


def split_dir(output_dir: str, split: str) -> str:
    return os.path.join(output_dir, f"Split-{split}")


def summarize(examples: Iterable[Tuple[records.AudioRecord, str]], quarantined: Iterable[records.Rejected],
              duplicates: Iterable[Tuple[records.AudioRecord, str]], split_names: Sequence[str],
              corpus_names: Sequence[str]) -> Dict:
    """Builds the JSON summary: per corpus (every one in `corpus_names`) and per split counts, with every
    set-aside file listed."""
    corpora = {name: {"files": 0, "examples": 0, "by_label": collections.Counter(), "speakers": set(),
                      "quarantined": [], "quarantined_by_reason": collections.Counter(), "duplicates": []}
               for name in corpus_names}
    by_split = {name: {"examples": 0, "by_label": collections.Counter(), "speakers": set(), "corpora": set()}
                for name in split_names}
    for record, split in examples:
        corpus = corpora[record.corpus]
        corpus["files"] += 1
        corpus["examples"] += 1
        corpus["by_label"][record.label or "unlabelled"] += 1
        corpus["speakers"].add(record.speaker)
        split_summary = by_split[split]
        split_summary["examples"] += 1
        split_summary["by_label"][record.label or "unlabelled"] += 1
        split_summary["speakers"].add(record.speaker)
        split_summary["corpora"].add(record.corpus)
    for rejected in sorted(quarantined, key=lambda r: r.path):
        corpora[rejected.corpus]["files"] += 1
        corpora[rejected.corpus]["quarantined"].append({"path": rejected.path, "reason": rejected.description})
        corpora[rejected.corpus]["quarantined_by_reason"][rejected.reason] += 1
    for record, original in sorted(duplicates, key=lambda d: d[0].path):
        corpora[record.corpus]["files"] += 1
        corpora[record.corpus]["duplicates"].append({"path": record.path, "duplicate_of": original})

    def finish(summary):
        summary = dict(summary)
        summary["by_label"] = dict(sorted(summary["by_label"].items()))
        if "quarantined_by_reason" in summary:
            summary["quarantined_by_reason"] = dict(sorted(summary["quarantined_by_reason"].items()))
        summary["speakers"] = len(summary["speakers"])
        if "corpora" in summary:
            summary["corpora"] = sorted(summary["corpora"])
        return summary

    return {
        "corpora": {name: finish(summary) for name, summary in sorted(corpora.items())},
        "splits": {name: finish(summary) for name, summary in by_split.items()},
    }


class IngestCorpora(beam.PTransform):
    """Writes `Split-<name>/data_tfrecord-*.gz` under `output_dir` for each split, and the summary JSON."""

    def __init__(self, plan: Plan, feature_config: FeatureConfig, output_dir: str):
        super().__init__()
        self._plan = plan
        self._feature_config = feature_config
        self._output_dir = output_dir

    def expand(self, pipeline):
        loaded = (
            pipeline
            | "ListFiles" >> beam.Create(self._plan.records)
            | "Spread" >> beam.Reshuffle()
            | "Load" >> beam.ParDo(LoadClip(self._feature_config)).with_outputs(_QUARANTINED, main="clips")
        )
        deduplicated = (
            loaded.clips
            | "ByContent" >> beam.Map(lambda clip: (clip.content_hash, clip))
            | "GroupIdentical" >> beam.GroupByKey()
            | "KeepFirst" >> beam.FlatMap(_keep_first).with_outputs("duplicates", main="unique")
        )
        for split in self._plan.split_names:
            _ = (
                deduplicated.unique
                | f"Select{split}" >> beam.Filter(lambda clip, split=split: clip.split == split)
                | f"Serialize{split}" >> beam.Map(_serialize)
                | f"Write{split}" >> beam.io.WriteToTFRecord(
                    os.path.join(split_dir(self._output_dir, split), TFRECORD_PREFIX),
                    file_name_suffix=".gz",
                )
            )
        rejected = pipeline | "Rejected" >> beam.Create(self._plan.rejected)
        quarantined = (loaded[_QUARANTINED], rejected) | "AllQuarantined" >> beam.Flatten()
        examples = deduplicated.unique | "Metadata" >> beam.Map(lambda clip: (clip.record, clip.split))
        split_names, corpus_names = self._plan.split_names, self._plan.corpus_names
        summary_path = os.path.join(self._output_dir, SUMMARY_FILE)
        return (
            pipeline
            | "One" >> beam.Create([None])
            | "Summarize" >> beam.Map(
                lambda _, examples, quarantined, duplicates: summarize(
                    examples, quarantined, duplicates, split_names, corpus_names),
                examples=beam.pvalue.AsList(examples),
                quarantined=beam.pvalue.AsList(quarantined),
                duplicates=beam.pvalue.AsList(deduplicated.duplicates),
            )
            | "WriteSummary" >> beam.Map(_write_json, summary_path)
        )


def ensure_split_dirs(plan: Plan, output_dir: str) -> None:
    """Creates every planned split's folder: Beam writes no file for a split that got no example."""
    import tensorflow as tf

    for split in plan.split_names:
        tf.io.gfile.makedirs(split_dir(output_dir, split))


def _write_json(summary: Dict, path: str) -> Dict:
    import tensorflow as tf

    # A run that wrote no example has not created the output folder.
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as output:
        output.write(json.dumps(summary, indent=2, sort_keys=True))
    return summary


def read_summary(output_dir: str) -> Dict:
    import tensorflow as tf

    with tf.io.gfile.GFile(os.path.join(output_dir, SUMMARY_FILE)) as summary_file:
        return json.load(summary_file)


def run(config: IngestConfig, output_dir: str, beam_pipeline_args: Sequence[str] = ()) -> Dict:
    """Runs ingestion alone (outside TFX) and returns its summary; raises EmptyCorpusError, once the summary
    is written, when a corpus yielded no example."""
    from apache_beam.options.pipeline_options import PipelineOptions

    plan = make_plan(config)
    with beam.Pipeline(options=PipelineOptions(list(beam_pipeline_args))) as pipeline:
        _ = pipeline | IngestCorpora(plan, config.feature, output_dir)
    ensure_split_dirs(plan, output_dir)
    summary = read_summary(output_dir)
    empty_corpus.check_summary(config.corpora, summary)
    return summary
