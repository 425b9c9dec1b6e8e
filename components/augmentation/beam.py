"""Beam transform that adds augmented copies of training tf.Examples next to their originals."""
import io
from typing import List, Sequence, Tuple

import apache_beam as beam
import numpy as np
import soundfile
import tensorflow as tf

from speech_emotion.audio import wav
from speech_emotion.components.augmentation import augment
from speech_emotion.components.augmentation.config import AugmentationConfig
from speech_emotion.data import example_features


def _decode_mono_wav(wav_bytes: bytes, sample_rate: int) -> np.ndarray:
    samples, rate = soundfile.read(io.BytesIO(wav_bytes), dtype="float32")
    if rate != sample_rate or samples.ndim != 1:
        raise ValueError(f"expected mono WAV at {sample_rate} Hz, got {samples.shape[1:] or 'mono'} at {rate} Hz")
    return samples


def _bytes_value(example, name: str) -> bytes:
    return example.features.feature[name].bytes_list.value[0]


def _babble_candidate(serialized: bytes, seed: int) -> Tuple[int, str, bytes]:
    audio = _bytes_value(tf.train.Example.FromString(serialized), example_features.AUDIO)
    key = augment.clip_key(audio)
    return augment.babble_rank(seed, key), key, audio


def _decode_pool(candidates, sample_rate: int) -> List[Tuple[str, np.ndarray]]:
    """The pool as (clip key, waveform), in rank order as TopCombineFn gives it."""
    return [(key, _decode_mono_wav(wav_bytes, sample_rate)) for _, key, wav_bytes in candidates]


def _simulate_room(room_index: int, config: AugmentationConfig, sample_rate: int) -> Tuple[int, np.ndarray]:
    rng = augment.room_rng(config.seed, room_index)
    return room_index, augment.sample_room_impulse_response(config.reverb, rng, sample_rate)


def _in_room_order(rooms) -> List[np.ndarray]:
    return [response for _, response in sorted(rooms, key=lambda room: room[0])]


class _AugmentClip(beam.DoFn):
    """Yields the original serialized example, then its augmented copies."""

    def __init__(self, config: AugmentationConfig, sample_rate: int):
        self._config = config
        self._sample_rate = sample_rate
        self._copies = beam.metrics.Metrics.counter(self.__class__, "augmented_copies")

    def process(self, serialized: bytes, babble_pool: Sequence[Tuple[str, np.ndarray]],
                impulse_responses: Sequence[np.ndarray], training_clips: int):
        yield serialized
        mean_copies = self._config.mean_copies(training_clips)
        if not mean_copies:
            return
        original = tf.train.Example.FromString(serialized)
        audio = _bytes_value(original, example_features.AUDIO)
        key = augment.clip_key(audio)
        copies = augment.copies_of_clip(self._config.seed, key, mean_copies)
        if not copies:
            return
        waveform = _decode_mono_wav(audio, self._sample_rate)
        talkers = [talker for talker_key, talker in babble_pool if talker_key != key]
        for copy_index in range(copies):
            rng = augment.clip_rng(self._config.seed, key, copy_index)
            augmented, names = augment.augment_waveform(waveform, self._sample_rate, self._config, rng, talkers,
                                                        impulse_responses)
            example = tf.train.Example()
            example.CopyFrom(original)
            feature = example.features.feature
            feature[example_features.AUDIO].bytes_list.value[:] = [wav.encode_wav_pcm16(augmented, self._sample_rate)]
            feature[example_features.DURATION_SECONDS].float_list.value[:] = [len(augmented) / self._sample_rate]
            feature[example_features.AUGMENTATIONS].bytes_list.value.extend(name.encode() for name in names)
            self._copies.inc()
            # Map fields serialize in hash order, which differs between processes unless made deterministic.
            yield example.SerializeToString(deterministic=True)


class AugmentExamples(beam.PTransform):
    """Serialized training tf.Examples in; every original and its augmented copies out (`copies_per_clip` each, or
    fewer under `target_examples`).

    Each copy's random draws depend only on the seed, the clip's audio and the copy's index, and
    the babble pool and the simulated rooms only on the seed, so the output set is the same on any
    runner with any parallelism.

    `side_examples`, when given, is the same examples read a second time, from which the clip count and the babble
    pool are taken: the DaskRunner repeats a step's output in a side input that shares it with the main input.
    """

    def __init__(self, config: AugmentationConfig, sample_rate: int, side_examples=None):
        super().__init__()
        self._config = config
        self._sample_rate = sample_rate
        self._side_examples = side_examples

    def expand(self, examples):
        config, sample_rate = self._config, self._sample_rate
        pipeline = examples.pipeline
        side_examples = examples if self._side_examples is None else self._side_examples
        uses_babble = config.noise.probability > 0 and "babble" in config.noise.kinds and config.babble_pool_size > 0
        if config.copies_per_clip and uses_babble:
            babble_pool = (
                side_examples
                | "RankForBabble" >> beam.Map(_babble_candidate, config.seed)
                # Top.Smallest's own expansion emits in finish_bundle, which the DaskRunner drops; the CombineFn does not.
                | "SampleBabblePool" >> beam.CombineGlobally(beam.combiners.TopCombineFn(config.babble_pool_size, reverse=True))
                | "DecodeBabblePool" >> beam.Map(_decode_pool, sample_rate)
            )
        else:
            babble_pool = pipeline | "NoBabblePool" >> beam.Create([[]])
        uses_rooms = config.copies_per_clip and config.reverb.probability > 0
        room_indices = list(range(config.reverb.num_rooms)) if uses_rooms else []
        impulse_responses = (
            pipeline
            | "RoomIndices" >> beam.Create(room_indices)
            # Spread the rooms over workers: one simulation takes up to seconds.
            | "SpreadRooms" >> beam.Reshuffle()
            | "SimulateRooms" >> beam.Map(_simulate_room, config, sample_rate)
            | "CollectRooms" >> beam.combiners.ToList()
            | "InRoomOrder" >> beam.Map(_in_room_order)
        )
        training_clips = side_examples | "CountClips" >> beam.combiners.Count.Globally()
        return (
            examples
            # Input files are read whole (gzip cannot be split), so spread the clips before the costly step.
            | "SpreadClips" >> beam.Reshuffle()
            | "Augment" >> beam.ParDo(
                _AugmentClip(config, sample_rate),
                babble_pool=beam.pvalue.AsSingleton(babble_pool),
                impulse_responses=beam.pvalue.AsSingleton(impulse_responses),
                training_clips=beam.pvalue.AsSingleton(training_clips),
            )
        )
