"""AudioAugmentation's executor run through Beam on a small Examples artifact of generated clips."""
import speech_emotion  # noqa: F401  (must precede any TensorFlow import)

import collections
import dataclasses
import io
import pathlib
import re

import numpy as np
import pytest
import soundfile
import tensorflow as tf
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import channel_utils
from tfx.types import standard_artifacts

from speech_emotion.audio import wav
from speech_emotion.components.augmentation import augment
from speech_emotion.components.augmentation import executor
from speech_emotion.components.augmentation.component import AudioAugmentation
from speech_emotion.components.augmentation.config import (AugmentationConfig, EchoConfig, NoiseConfig,
                                                           PitchShiftConfig, ReverbConfig, TimeShiftConfig,
                                                           TimeStretchConfig)
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import example_features
from speech_emotion.data import records

SAMPLE_RATE = DEFAULT_FEATURE_CONFIG.sample_rate
SPLIT_SIZES = {"train": 6, "eval": 2, "test": 2}
CONFIG = AugmentationConfig(
    copies_per_clip=2,
    seed=11,
    babble_pool_size=4,
    noise=NoiseConfig(probability=0.6),
    time_stretch=TimeStretchConfig(probability=0.4),
    pitch_shift=PitchShiftConfig(probability=0.4),
    time_shift=TimeShiftConfig(probability=0.4),
    echo=EchoConfig(probability=0.4),
    # Two short, small rooms keep the simulation to a fraction of a second.
    reverb=ReverbConfig(probability=0.4, min_rt60=0.2, max_rt60=0.3, num_rooms=2),
)


def _clip(index: int) -> np.ndarray:
    rng = np.random.default_rng(index)
    seconds = 0.6 + 0.1 * index
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 100.0 + 25.0 * index
    voiced = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 4)) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return (0.2 * voiced / np.max(np.abs(voiced)) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def _write_examples(uri: pathlib.Path, corpus_root: str = "corpus") -> standard_artifacts.Examples:
    index = 0
    for split, size in SPLIT_SIZES.items():
        split_dir = uri / f"Split-{split}"
        split_dir.mkdir(parents=True)
        # Two files per split, as a sharded ExampleGen writes them.
        for shard in range(2):
            path = split_dir / f"data_tfrecord-0000{shard}-of-00002.gz"
            with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
                for _ in range(size // 2):
                    waveform = _clip(index)
                    record = records.AudioRecord(path=f"{corpus_root}/{split}/clip{index}.wav", corpus="synthetic",
                                                 label=("neutral", "angry", "happy")[index % 3],
                                                 speaker=f"synthetic:{index % 4}", gender=records.FEMALE)
                    example = example_features.make_example(record, wav.encode_wav_pcm16(waveform, SAMPLE_RATE),
                                                            len(waveform) / SAMPLE_RATE)
                    writer.write(example.SerializeToString())
                    index += 1
    examples = standard_artifacts.Examples()
    examples.uri = str(uri)
    examples.split_names = artifact_utils.encode_split_names(list(SPLIT_SIZES))
    examples_utils.set_payload_format(examples, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)
    return examples


def _run(examples, output_uri: pathlib.Path, beam_pipeline_args, config: AugmentationConfig = CONFIG) -> standard_artifacts.Examples:
    augmented = standard_artifacts.Examples()
    augmented.uri = str(output_uri)
    context = base_beam_executor.BaseBeamExecutor.Context(beam_pipeline_args=beam_pipeline_args,
                                                          tmp_dir=str(output_uri.parent / "tmp"))
    exec_properties = {executor.CONFIG_KEY: config.to_json(),
                       executor.FEATURE_CONFIG_KEY: DEFAULT_FEATURE_CONFIG.to_json()}
    executor.Executor(context).Do({executor.EXAMPLES_KEY: [examples]}, {executor.AUGMENTED_EXAMPLES_KEY: [augmented]},
                                  exec_properties)
    return augmented


def _records(split_dir: pathlib.Path):
    return sorted(record.numpy() for record in tf.data.TFRecordDataset(sorted(map(str, split_dir.glob("*"))),
                                                                       compression_type="GZIP"))


# Beam arguments as a local pipeline passes them. The setup file is what a remote runner's workers
# install; given it, TFX also skips packaging its own installation for them.
_TWO_WORKER_ARGS = [f"--setup_file={pathlib.Path(__file__).parents[1] / 'setup.py'}",
                    "--direct_running_mode=multi_processing", "--direct_num_workers=2"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("augmentation")
    examples = _write_examples(root / "examples")
    in_process = _run(examples, root / "in_process", [])
    two_workers = _run(examples, root / "two_workers", _TWO_WORKER_ARGS)
    moved = _run(_write_examples(root / "moved_examples", "/elsewhere/corpus"), root / "moved", [])
    return examples, in_process, two_workers, moved


def test_output_artifact_has_the_input_splits_and_tf_example_payloads(runs):
    examples, augmented, _, _ = runs
    assert artifact_utils.decode_split_names(augmented.split_names) == list(SPLIT_SIZES)
    assert examples_utils.get_payload_format(augmented) == example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE


@pytest.mark.parametrize("split", ["eval", "test"])
def test_other_splits_are_copied_byte_for_byte(runs, split):
    examples, augmented, _, _ = runs
    source = pathlib.Path(artifact_utils.get_split_uri([examples], split))
    target = pathlib.Path(artifact_utils.get_split_uri([augmented], split))
    assert sorted(path.name for path in target.iterdir()) == sorted(path.name for path in source.iterdir())
    for path in source.iterdir():
        assert (target / path.name).read_bytes() == path.read_bytes()


def _feature(example, name):
    feature = example.features.feature[name]
    return list(feature.bytes_list.value) or list(feature.float_list.value)


def test_train_holds_every_original_and_named_augmented_copies(runs):
    examples, augmented, _, _ = runs
    originals = _records(pathlib.Path(artifact_utils.get_split_uri([examples], "train")))
    outputs = _records(pathlib.Path(artifact_utils.get_split_uri([augmented], "train")))
    assert len(outputs) == SPLIT_SIZES["train"] * (1 + CONFIG.copies_per_clip)
    assert set(originals) <= set(outputs)
    by_path = {_feature(example, example_features.SOURCE_PATH)[0]: example
               for example in map(tf.train.Example.FromString, originals)}
    copies = [tf.train.Example.FromString(record) for record in outputs if record not in set(originals)]
    copies_per_path = collections.Counter(_feature(copy, example_features.SOURCE_PATH)[0] for copy in copies)
    assert copies_per_path == {path: CONFIG.copies_per_clip for path in by_path}
    applied = set()
    for copy in copies:
        original = by_path[_feature(copy, example_features.SOURCE_PATH)[0]]
        for name in example_features.METADATA_FEATURES:
            assert _feature(copy, name) == _feature(original, name)
        names = [name.decode() for name in _feature(copy, example_features.AUGMENTATIONS)]
        assert names
        applied.update(names)
        waveform, rate = soundfile.read(io.BytesIO(_feature(copy, example_features.AUDIO)[0]), dtype="float32")
        info = soundfile.info(io.BytesIO(_feature(copy, example_features.AUDIO)[0]))
        assert (rate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
        duration = _feature(copy, example_features.DURATION_SECONDS)[0]
        assert duration == pytest.approx(len(waveform) / SAMPLE_RATE, abs=1e-6)
        assert _feature(copy, example_features.AUDIO) != _feature(original, example_features.AUDIO)
    # With these probabilities, twelve copies draw most transforms; a broken one shows up as missing.
    assert {"time_stretch", "pitch_shift", "time_shift", "echo", "reverb"} <= applied
    assert applied & {"white_noise", "pink_noise", "babble_noise"}


def test_a_target_number_of_examples_gives_fewer_copies_to_more_clips(tmp_path):
    # 6 training clips, a target of 9 examples: half a copy per clip on average, each clip's count fixed by its audio.
    config = dataclasses.replace(CONFIG, target_examples=9)
    assert config.mean_copies(6) == 0.5 and config.mean_copies(2) == CONFIG.copies_per_clip and config.mean_copies(20) == 0.0
    examples = _write_examples(tmp_path / "examples")
    augmented = _run(examples, tmp_path / "augmented", [], config)
    originals = _records(pathlib.Path(artifact_utils.get_split_uri([examples], "train")))
    outputs = _records(pathlib.Path(artifact_utils.get_split_uri([augmented], "train")))
    copies = collections.Counter(_feature(tf.train.Example.FromString(record), example_features.SOURCE_PATH)[0]
                                 for record in outputs if record not in set(originals))
    expected = {}
    for example in map(tf.train.Example.FromString, originals):
        key = augment.clip_key(_feature(example, example_features.AUDIO)[0])
        expected[_feature(example, example_features.SOURCE_PATH)[0]] = augment.copies_of_clip(config.seed, key, 0.5)
    assert copies == {path: count for path, count in expected.items() if count}
    assert set(originals) <= set(outputs) and len(outputs) == len(originals) + sum(expected.values())


def test_clips_get_the_whole_part_of_the_mean_copies_and_a_fraction_of_them_one_more():
    keys = [augment.clip_key(str(index).encode()) for index in range(2000)]
    counts = [augment.copies_of_clip(0, key, 1.25) for key in keys]
    assert set(counts) == {1, 2}
    assert np.mean(counts) == pytest.approx(1.25, abs=0.03)
    assert counts == [augment.copies_of_clip(0, key, 1.25) for key in keys]
    assert {augment.copies_of_clip(0, key, 2.0) for key in keys} == {2}


def test_output_is_the_same_in_process_and_on_two_worker_processes(runs):
    _, in_process, two_workers, _ = runs
    for split in SPLIT_SIZES:
        assert _records(pathlib.Path(artifact_utils.get_split_uri([in_process], split))) == _records(
            pathlib.Path(artifact_utils.get_split_uri([two_workers], split)))


def test_output_is_the_same_on_the_dask_runner(runs, dask_beam_args, tmp_path):
    examples, in_process, _, _ = runs
    on_dask = _run(examples, tmp_path / "dask", dask_beam_args)
    for split in SPLIT_SIZES:
        assert _records(pathlib.Path(artifact_utils.get_split_uri([on_dask], split))) == _records(
            pathlib.Path(artifact_utils.get_split_uri([in_process], split)))
    shards = sorted(path.name for path in pathlib.Path(artifact_utils.get_split_uri([on_dask], "train")).iterdir())
    assert shards and all(re.fullmatch(r"data_tfrecord-\d{5}-of-\d{5}\.gz", name) for name in shards), shards


def test_a_corpus_under_another_folder_gets_the_same_augmented_audio(runs):
    _, in_process, _, moved = runs

    def train_audio(artifact):
        split_dir = pathlib.Path(artifact_utils.get_split_uri([artifact], "train"))
        return sorted(_feature(tf.train.Example.FromString(record), example_features.AUDIO) for record in _records(split_dir))

    assert train_audio(moved) == train_audio(in_process)


def test_config_round_trips_through_the_component_exec_properties():
    examples = channel_utils.as_channel([standard_artifacts.Examples()])
    component = AudioAugmentation(examples=examples, config=CONFIG)
    assert AugmentationConfig.from_json(component.exec_properties[executor.CONFIG_KEY]) == CONFIG
    assert component.outputs[executor.AUGMENTED_EXAMPLES_KEY].type == standard_artifacts.Examples


@pytest.mark.parametrize("make", [
    lambda: AugmentationConfig(copies_per_clip=-1),
    lambda: AugmentationConfig(target_examples=-1),
    lambda: NoiseConfig(probability=1.5),
    lambda: TimeStretchConfig(min_rate=1.3, max_rate=1.2),
    lambda: NoiseConfig(kinds=("brown",)),
    lambda: ReverbConfig(min_rt60=0.05),
    lambda: AugmentationConfig(
        noise=NoiseConfig(probability=0.0), time_stretch=TimeStretchConfig(probability=0.0),
        pitch_shift=PitchShiftConfig(probability=0.0), time_shift=TimeShiftConfig(probability=0.0),
        echo=EchoConfig(probability=0.0), reverb=ReverbConfig(probability=0.0)),
], ids=["negative copies", "negative target", "probability above 1", "reversed range", "unknown noise", "impossible RT60", "all off"])
def test_invalid_configs_are_refused(make):
    with pytest.raises(ValueError):
        make()
