"""One answer per recording: the centre clip against windows pooled, on a trained model's held-out speakers.

    python benchmarks/windowing.py --workdir workdir/accuracy [--hops 3 1 0.5] [--write-markdown [docs/benchmarks.md]]

Reads a pipeline work directory that benchmarks/accuracy.py (or `ser pipeline run`) left: its latest Trainer model
and AudioExampleGen examples. For every clip of the eval split (which selects, so the rule is chosen on it) and of
the test split (scored only), it compares the model's `serving_default` answer on the centre clip with the mean
of its answers on windows cut by the `timeline` signature's rule (trainer/timeline.window_bounds) at each hop:
a hop of clip_seconds gives consecutive windows, shorter hops overlapping ones. Each corpus is scored over the
emotions it shares with the model, EmoDB over angry, happy, neutral and sad as accuracy.py scores it.
Prints UA per split, corpus and rule.
"""
import speech_emotion  # noqa: F401  (must precede any TensorFlow import)

import argparse
import dataclasses
import glob
import io
import os

import numpy as np
import soundfile
import tensorflow as tf

import accuracy  # benchmarks/accuracy.py
import markdown_report  # benchmarks/markdown_report.py
from speech_emotion.audio import wav_encoding
from speech_emotion.components.cross_corpus import evaluate
from speech_emotion.config import FeatureConfig
from speech_emotion.data import example_features
from speech_emotion.data import splits
from speech_emotion.trainer import export
from speech_emotion.trainer import timeline

CENTRE = "centre clip"


def _latest(folder: str) -> str:
    return os.path.join(folder, str(max(int(name) for name in os.listdir(folder) if name.isdigit())))


@dataclasses.dataclass(frozen=True)
class Model:
    serve: object
    emotions: tuple
    feature_config: FeatureConfig

    @classmethod
    def load(cls, model_dir: str) -> "Model":
        with open(os.path.join(model_dir, "assets", export.FEATURE_CONFIG_ASSET)) as config_file:
            feature_config = FeatureConfig.from_json(config_file.read())
        with open(os.path.join(model_dir, "assets", export.LABELS_ASSET)) as labels_file:
            emotions = tuple(line.strip() for line in labels_file if line.strip())
        return cls(tf.saved_model.load(model_dir).signatures["serving_default"], emotions, feature_config)

    def clip_probabilities(self, wav_clips) -> np.ndarray:
        return self.serve(audio=tf.constant(list(wav_clips)))["probabilities"].numpy()

    def recording_probabilities(self, wav_bytes: bytes, hop_seconds: float) -> np.ndarray:
        """The mean of the model's answers on the windows the timeline rule cuts at `hop_seconds`."""
        waveform, rate = soundfile.read(io.BytesIO(wav_bytes), dtype="float32")
        config = dataclasses.replace(self.feature_config, window_hop_seconds=hop_seconds)
        starts, ends = timeline.window_bounds(tf.constant(len(waveform)), config)
        clips = [wav_encoding.encode_wav_pcm16(waveform[start:end], rate) for start, end in zip(starts.numpy(), ends.numpy())]
        return self.clip_probabilities(clips).mean(axis=0)


def split_examples(workdir: str, split: str):
    examples = _latest(os.path.join(workdir, "pipeline_root", "AudioExampleGen", "examples"))
    files = glob.glob(os.path.join(examples, f"Split-{split}", "*"))
    return list(tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator())


def scores(model: Model, serialized_examples, rule) -> dict:
    """UA per corpus under `rule` (CENTRE or a hop in seconds); EmoDB over accuracy.EMODB_CLASSES."""
    def probabilities(serialized_batch):
        if rule == CENTRE:
            audio = [tf.train.Example.FromString(serialized).features.feature[example_features.AUDIO].bytes_list.value[0]
                     for serialized in serialized_batch]
            return model.clip_probabilities(audio)
        return np.stack([model.recording_probabilities(
            tf.train.Example.FromString(serialized).features.feature[example_features.AUDIO].bytes_list.value[0], rule)
            for serialized in serialized_batch])

    emodb_columns = [model.emotions.index(emotion) for emotion in accuracy.EMODB_CLASSES]
    by_corpus = {corpus: result["unweighted_accuracy"]
                 for corpus, result in evaluate.scores_by_corpus(probabilities, serialized_examples, model.emotions).items()}
    if "emodb" in by_corpus:
        emodb = [serialized for serialized in serialized_examples
                 if tf.train.Example.FromString(serialized).features.feature[example_features.CORPUS].bytes_list.value[0] == b"emodb"]
        four_class = evaluate.scores_by_corpus(lambda batch: probabilities(batch)[:, emodb_columns], emodb, accuracy.EMODB_CLASSES)
        by_corpus["emodb"] = four_class["emodb"]["unweighted_accuracy"]
    return by_corpus


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="workdir/accuracy")
    parser.add_argument("--model", help="a SavedModel folder (default: the work directory's latest Trainer model)")
    parser.add_argument("--hops", nargs="*", type=float, default=[3.0, 1.0, 0.5], help="window hops in seconds")
    markdown_report.add_argument(parser)
    args = parser.parse_args(argv)
    model_dir = args.model or os.path.join(_latest(os.path.join(args.workdir, "pipeline_root", "Trainer", "model")), "Format-Serving")
    model = Model.load(model_dir)
    rules = [CENTRE] + args.hops
    rows = []
    for split in (splits.EVAL, splits.TEST):
        examples = split_examples(args.workdir, split)
        results = {rule: scores(model, examples, rule) for rule in rules}
        for corpus in sorted(results[CENTRE]):
            rows.append([split, corpus] + [f"{results[rule][corpus]:.3f}" for rule in rules])
            print(*rows[-1], sep="\t", flush=True)
    header = ["split", "corpus (UA)", CENTRE] + [f"windows every {hop:g} s" for hop in args.hops]
    print(markdown_report.table(header, rows))
    if args.write_markdown:
        markdown_report.write_section(args.write_markdown, __file__, markdown_report.section(
            "One answer per recording (`benchmarks/windowing.py`)",
            f"The model in `{model_dir}` (accuracy.py's four-corpus run), UA per corpus of the centre "
            f"{model.feature_config.clip_seconds:g} s clip against the mean over windows of "
            f"{model.feature_config.clip_seconds:g} s cut by the timeline rule at each hop (the last window ends with "
            "the recording; 3 s: consecutive windows). The eval split chose the rule; the test split is scored only. "
            "EmoDB's clips here are all exactly 2 s, so every rule gives it the same answer.",
            markdown_report.table(header, rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
