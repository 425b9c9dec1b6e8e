"""Ingestion as a Beam pipeline: corpus folders in, speaker-independent TFRecord splits out.

Every file ends in exactly one place: an example in a split, the quarantine list (with the
reason) or the duplicate list (with the file it duplicates). The summary counts all three.
"""
import collections
import dataclasses
import hashlib
import json
import os
from typing import Dict, Iterable, List, Sequence, Tuple

import apache_beam as beam
import numpy as np

from speech_emotion.config import AudioLimitError
from speech_emotion.config import FeatureConfig
from speech_emotion.data import corpus_spec
from speech_emotion.data import readers
from speech_emotion.data import records
from speech_emotion.data import splits

SUMMARY_FILE = "ingest_summary.json"
TFRECORD_PREFIX = "data_tfrecord"
# A clip whose loudest sample stays below this (-60 dBFS) carries no usable speech.
SILENCE_PEAK = 1e-3
MIN_SECONDS = 0.1

_QUARANTINED = "quarantined"


@dataclasses.dataclass(frozen=True)
class IngestConfig:
    corpora: Tuple[corpus_spec.CorpusSpec, ...]
    split: splits.SplitConfig = splits.SplitConfig()
    feature: FeatureConfig = FeatureConfig()

    def __post_init__(self):
        if not any(corpus.role == corpus_spec.TRAIN_ROLE for corpus in self.corpora) and any(
            corpus.role == corpus_spec.TEST_ROLE for corpus in self.corpora
        ):
            raise ValueError("test corpora need at least one training corpus")


@dataclasses.dataclass(frozen=True)
class Plan:
    """The files found, with each one's split, before any audio is decoded."""

    records: Tuple[Tuple[records.AudioRecord, str], ...]
    rejected: Tuple[records.Rejected, ...]

    @property
    def split_names(self) -> List[str]:
        present = {split for _, split in self.records}
        if any(split in (splits.TRAIN, splits.EVAL) for split in present):
            present |= {splits.TRAIN, splits.EVAL}
        return [split for split in splits.SPLITS if split in present]


def make_plan(config: IngestConfig) -> Plan:
    """Reads every corpus' file list and assigns each file a split by its speaker and corpus role."""
    found, rejected = [], []
    for corpus in config.corpora:
        if not os.path.isdir(corpus.path):
            raise ValueError(f"{corpus.name}: no such folder {corpus.path}")
        corpus_records, corpus_rejected = readers.read_corpus(corpus.name, corpus.path)
        found.extend((record, corpus.role) for record in corpus_records)
        rejected.extend(corpus_rejected)
    train_records = [record for record, role in found if role == corpus_spec.TRAIN_ROLE]
    speaker_splits = splits.assign_speakers(train_records, config.split) if train_records else {}
    role_splits = {corpus_spec.TEST_ROLE: splits.TEST, corpus_spec.UNLABELLED_ROLE: splits.UNLABELLED}
    planned = tuple(
        (record, speaker_splits[record.speaker] if role == corpus_spec.TRAIN_ROLE else role_splits[role])
        for record, role in found
    )
    return Plan(records=planned, rejected=tuple(rejected))


def fingerprint(corpora: Sequence[corpus_spec.CorpusSpec]) -> str:
    """A digest of every file's path, size and modification time under the corpus folders."""
    digest = hashlib.sha256()
    for corpus in corpora:
        digest.update(f"{corpus.name}={corpus.path}:{corpus.role}\n".encode())
        for folder, _, names in sorted(os.walk(corpus.path)):
            for name in sorted(names):
                stat = os.stat(os.path.join(folder, name))
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
            yield beam.pvalue.TaggedOutput(_QUARANTINED, records.Rejected(record.path, record.corpus, f"unreadable: {error}"))
            return
        except AudioLimitError as error:
            yield beam.pvalue.TaggedOutput(_QUARANTINED, records.Rejected(record.path, record.corpus, f"unsupported: {error}"))
            return
        mono = audio_files.to_mono(samples)
        seconds = len(mono) / sample_rate
        problem = None
        if not len(mono):
            problem = "empty: no audio samples"
        elif seconds < MIN_SECONDS:
            problem = f"too short: {seconds:.3f} s"
        elif not np.all(np.isfinite(mono)):
            problem = "corrupt: non-finite samples"
        elif np.max(np.abs(mono)) < SILENCE_PEAK:
            problem = f"silent: peak {20 * np.log10(max(np.max(np.abs(mono)), 1e-12)):.1f} dBFS"
        if problem:
            yield beam.pvalue.TaggedOutput(_QUARANTINED, records.Rejected(record.path, record.corpus, problem))
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
              duplicates: Iterable[Tuple[records.AudioRecord, str]], split_names: Sequence[str]) -> Dict:
    """Builds the JSON summary: per corpus and per split counts, with every set-aside file listed."""
    corpora = collections.defaultdict(lambda: {"files": 0, "examples": 0, "by_label": collections.Counter(),
                                               "speakers": set(), "quarantined": [], "duplicates": []})
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
        corpora[rejected.corpus]["quarantined"].append({"path": rejected.path, "reason": rejected.reason})
    for record, original in sorted(duplicates, key=lambda d: d[0].path):
        corpora[record.corpus]["files"] += 1
        corpora[record.corpus]["duplicates"].append({"path": record.path, "duplicate_of": original})

    def finish(summary):
        summary = dict(summary)
        summary["by_label"] = dict(sorted(summary["by_label"].items()))
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
        split_names = self._plan.split_names
        summary_path = os.path.join(self._output_dir, SUMMARY_FILE)
        return (
            pipeline
            | "One" >> beam.Create([None])
            | "Summarize" >> beam.Map(
                lambda _, examples, quarantined, duplicates: summarize(examples, quarantined, duplicates, split_names),
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

    with tf.io.gfile.GFile(path, "w") as output:
        output.write(json.dumps(summary, indent=2, sort_keys=True))
    return summary


def read_summary(output_dir: str) -> Dict:
    import tensorflow as tf

    with tf.io.gfile.GFile(os.path.join(output_dir, SUMMARY_FILE)) as summary_file:
        return json.load(summary_file)


def run(config: IngestConfig, output_dir: str, beam_pipeline_args: Sequence[str] = ()) -> Dict:
    """Runs ingestion alone (outside TFX) and returns its summary."""
    from apache_beam.options.pipeline_options import PipelineOptions

    plan = make_plan(config)
    with beam.Pipeline(options=PipelineOptions(list(beam_pipeline_args))) as pipeline:
        _ = pipeline | IngestCorpora(plan, config.feature, output_dir)
    ensure_split_dirs(plan, output_dir)
    return read_summary(output_dir)
