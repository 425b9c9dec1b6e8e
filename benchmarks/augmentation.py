"""Speed of audio augmentation: each transform on one clip, and the Beam component on the DirectRunner and on Beam's
DaskRunner with 1 and 2 workers.

    python benchmarks/augmentation.py [--clips 32 320] [--seconds 3] [--copies 2] [--workers 1 2]
        [--write-markdown [docs/benchmarks.md]]

Clips are synthetic speech (data/synthetic_speech.py). A pipeline's wall-clock time includes a fixed
cost: starting the worker processes (each imports TensorFlow, librosa and pyroomacoustics) and
simulating the rooms. Running two clip counts separates it from the throughput: clips/s is the
marginal rate (extra clips over extra seconds), fixed s the time left at zero clips. The DirectRunner rows use its
multi_processing mode, the DaskRunner rows a dask.distributed LocalCluster of worker processes started here.
"""
import speech_emotion  # noqa: F401  (must precede any TensorFlow import)

import argparse
import pathlib
import tempfile
import time

import numpy as np
import tensorflow as tf
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import standard_artifacts

from speech_emotion.audio import wav
from speech_emotion.components.augmentation import executor
from speech_emotion.components.augmentation import transforms
from speech_emotion.components.augmentation.config import AugmentationConfig
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import example_features
from speech_emotion.data import records
from speech_emotion.data import synthetic_speech
from speech_emotion.data import taxonomy
import markdown_report  # benchmarks/markdown_report.py
from beam_engines import ENGINES, engine  # benchmarks/beam_engines.py

SAMPLE_RATE = DEFAULT_FEATURE_CONFIG.sample_rate


def synthetic_clips(count: int, seconds: float):
    """(record, waveform) pairs of synthetic speech from four speakers in the canonical emotions."""
    emotions = [emotion for emotion in taxonomy.EMOTIONS if emotion in synthetic_speech.EMOTION_PROSODY]
    genders = (records.FEMALE, records.MALE)
    voices = [synthetic_speech.Voice.random(genders[index % 2], np.random.default_rng([7, index]))
              for index in range(4)]
    clips = []
    for index in range(count):
        emotion = emotions[index % len(emotions)]
        speaker = index % len(voices)
        waveform = synthetic_speech.synthesize(voices[speaker], synthetic_speech.expressed(emotion),
                                               np.random.default_rng([7, 100, index]), SAMPLE_RATE, seconds)
        record = records.AudioRecord(path=f"synthetic/clip{index:05d}.wav", corpus="synthetic", label=emotion,
                                     speaker=f"synthetic:{speaker}", gender=genders[speaker % 2])
        clips.append((record, waveform))
    return clips


def _milliseconds(function, repeats: int) -> float:
    function()  # the first call loads librosa's modules and fills caches
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return 1000 * (time.perf_counter() - start) / repeats


def transform_table(waveform: np.ndarray, talkers, repeats: int):
    rng = np.random.default_rng(0)
    num_samples = len(waveform)
    room = transforms.room_impulse_response([6.0, 5.0, 3.0], 0.5, [1.5, 1.5, 1.6], [4.0, 3.0, 1.4], SAMPLE_RATE)
    rows = [
        ("white noise at an SNR", lambda: transforms.mix_at_snr(waveform, transforms.white_noise(num_samples, rng), 10)),
        ("pink noise at an SNR", lambda: transforms.mix_at_snr(waveform, transforms.pink_noise(num_samples, rng), 10)),
        ("babble (4 talkers) at an SNR",
         lambda: transforms.mix_at_snr(waveform, transforms.babble_noise(talkers, num_samples, rng), 10)),
        ("time stretch x1.2 (librosa)", lambda: transforms.time_stretch(waveform, 1.2)),
        ("pitch shift +2 st (librosa)", lambda: transforms.pitch_shift(waveform, SAMPLE_RATE, 2.0)),
        ("time shift", lambda: transforms.time_shift(waveform, 1600, rollover=False)),
        ("echo, 3 repeats", lambda: transforms.echo(waveform, SAMPLE_RATE, 0.15, 0.4, 3)),
        ("reverb: convolve with a 0.5 s room", lambda: transforms.reverberate(waveform, room)),
    ]
    table = [(name, _milliseconds(function, repeats)) for name, function in rows]
    for rt60 in (0.2, 0.45, 0.7):
        table.append((f"simulate a 6x5x3 m room, RT60 {rt60} s (once per run)",
                      _milliseconds(lambda rt60=rt60: transforms.room_impulse_response(
                          [6.0, 5.0, 3.0], rt60, [1.5, 1.5, 1.6], [4.0, 3.0, 1.4], SAMPLE_RATE), 1)))
    return table


def write_examples(clips, uri: pathlib.Path) -> standard_artifacts.Examples:
    for split in ("train", "eval"):
        (uri / f"Split-{split}").mkdir(parents=True)
    with tf.io.TFRecordWriter(str(uri / "Split-train" / "data_tfrecord-00000-of-00001.gz"), options="GZIP") as writer:
        for record, waveform in clips:
            example = example_features.make_example(record, wav.encode_wav_pcm16(waveform, SAMPLE_RATE),
                                                    len(waveform) / SAMPLE_RATE)
            writer.write(example.SerializeToString())
    examples = standard_artifacts.Examples()
    examples.uri = str(uri)
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    examples_utils.set_payload_format(examples, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)
    return examples


def pipeline_seconds(examples, output_uri: pathlib.Path, config: AugmentationConfig, beam_args) -> float:
    augmented = standard_artifacts.Examples()
    augmented.uri = str(output_uri)
    context = base_beam_executor.BaseBeamExecutor.Context(beam_pipeline_args=beam_args,
                                                          tmp_dir=str(output_uri.parent / "tmp"))
    exec_properties = {executor.CONFIG_KEY: config.to_json(),
                       executor.FEATURE_CONFIG_KEY: DEFAULT_FEATURE_CONFIG.to_json()}
    start = time.perf_counter()
    executor.Executor(context).Do({executor.EXAMPLES_KEY: [examples]}, {executor.AUGMENTED_EXAMPLES_KEY: [augmented]},
                                  exec_properties)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, nargs=2, default=[32, 320], metavar=("FEW", "MANY"))
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=10)
    markdown_report.add_argument(parser)
    args = parser.parse_args()

    few, many = sorted(args.clips)
    if few == many:
        raise ValueError("--clips needs two different counts")
    clips = synthetic_clips(many, args.seconds)
    print(f"Transforms on one {args.seconds:g} s clip at {SAMPLE_RATE} Hz")
    print(f"{'transform':58s} {'ms':>9s}")
    transform_rows = transform_table(clips[0][1], [waveform for _, waveform in clips[1:5]], args.repeats)
    for name, milliseconds in transform_rows:
        print(f"{name:58s} {milliseconds:9.2f}")

    config = AugmentationConfig(copies_per_clip=args.copies)
    pipeline_setting = (f"AudioAugmentation: clips of {args.seconds:g} s, "
                        f"{args.copies} copies each, default config ({config.reverb.num_rooms} rooms)")
    print(f"\n{pipeline_setting}")
    print(f"{'engine':>12s} {'workers':>7s} {f'{few} clips s':>12s} {f'{many} clips s':>13s} {'clips/s':>9s} {'fixed s':>9s}")
    pipeline_rows = []
    with tempfile.TemporaryDirectory() as root:
        root = pathlib.Path(root)
        examples = {count: write_examples(clips[:count], root / f"examples{count}") for count in (few, many)}
        for name in ENGINES:
            for workers in args.workers:
                with engine(name, workers) as beam_args:
                    seconds = {count: pipeline_seconds(examples[count], root / f"{name}{workers}_{count}", config, beam_args)
                               for count in (few, many)}
                rate = (many - few) / (seconds[many] - seconds[few])
                fixed = seconds[few] - few / rate
                print(f"{name:>12s} {workers:7d} {seconds[few]:12.1f} {seconds[many]:13.1f} {rate:9.2f} {fixed:9.1f}", flush=True)
                pipeline_rows.append((name, workers, f"{seconds[few]:.1f}", f"{seconds[many]:.1f}", f"{rate:.1f}", f"{fixed:.1f}"))
    if args.write_markdown:
        markdown_report.write_section(args.write_markdown, __file__, markdown_report.section(
            "Augmentation (`benchmarks/augmentation.py`)",
            f"Each transform on one {args.seconds:g} s clip of synthetic speech at {SAMPLE_RATE} Hz:",
            markdown_report.table(["transform", "ms"], [(name, f"{ms:.2f}") for name, ms in transform_rows]),
            f"{pipeline_setting}. clips/s is the marginal rate (extra clips over extra seconds); fixed s is the time "
            "left at zero clips (starting the workers, simulating the rooms):",
            markdown_report.table(["engine", "workers", f"{few} clips: s", f"{many} clips: s", "clips/s", "fixed s"], pipeline_rows)))


if __name__ == "__main__":
    main()
