"""The `timeline` signature (trainer/timeline.py) on the serving fixture's model: windows and their times, each
window judged as serving_default judges it, a short recording judged exactly as serving_default judges it,
batches of recordings of different lengths, and the tf.Example variant BulkInferrer calls."""
import struct

import serving_model_fixture as fixture

import numpy as np
import pytest
import tensorflow as tf

from speech_emotion.audio import wav
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.config import FeatureConfig
from speech_emotion.serving import recording_predictions as names
from speech_emotion.trainer import timeline

RATE = DEFAULT_FEATURE_CONFIG.sample_rate


def _recording(seconds: float, sample_rate: int = RATE, channels: int = 1) -> np.ndarray:
    """A tone that grows louder and higher, so each window scores differently."""
    time_axis = np.arange(int(round(seconds * sample_rate))) / sample_rate
    tone = (0.05 + 0.08 * time_axis) * np.sin(2 * np.pi * np.cumsum(150.0 + 40.0 * time_axis) / sample_rate)
    noise = 0.02 * np.random.default_rng(int(seconds * 10)).standard_normal(time_axis.shape)
    return np.repeat((tone + noise)[:, np.newaxis], channels, axis=1)


def _wav(seconds: float, sample_rate: int = RATE, channels: int = 1) -> bytes:
    return wav.encode_wav_pcm16(_recording(seconds, sample_rate, channels), sample_rate)


@pytest.fixture(scope="module")
def signatures():
    return tf.saved_model.load(fixture.exported_model()).signatures


def _timeline(signatures, recordings):
    outputs = signatures[names.SIGNATURE_NAME](audio=tf.constant(recordings))
    return {name: value.numpy() for name, value in outputs.items()}


@pytest.mark.parametrize("num_samples, expected", [
    (6 * RATE, [(0, 3), (1, 4), (2, 5), (3, 6)]),  # every second, the last ending with the recording
    (int(4.5 * RATE), [(0, 3), (1, 4), (1.5, 4.5)]),  # the last window overlaps its neighbour more
    (int(3.2 * RATE), [(0, 3), (0.2, 3.2)]),
    (3 * RATE, [(0, 3)]),
    (RATE, [(0, 1)]),  # the whole recording, however short
    (0, [(0, 0)]),
])
def test_window_bounds(num_samples, expected):
    starts, ends = timeline.window_bounds(tf.constant(num_samples), DEFAULT_FEATURE_CONFIG)
    assert list(zip(starts.numpy() / RATE, ends.numpy() / RATE)) == expected


def test_a_6_s_recording_has_four_windows_each_judged_as_serving_default_judges_it(signatures):
    recording = _recording(6.0)
    outputs = _timeline(signatures, [wav.encode_wav_pcm16(recording, RATE)])

    assert outputs[names.WINDOW_COUNT].tolist() == [4]
    assert outputs[names.START_SECONDS].tolist() == [[0.0, 1.0, 2.0, 3.0]]
    assert outputs[names.END_SECONDS].tolist() == [[3.0, 4.0, 5.0, 6.0]]
    assert outputs[names.DURATION_SECONDS].tolist() == [6.0]
    windows = [wav.encode_wav_pcm16(recording[start * RATE:(start + 3) * RATE], RATE) for start in (0, 1, 2, 3)]
    expected = fixture.reference_probabilities(windows)
    np.testing.assert_allclose(outputs[names.PROBABILITIES][0], expected, rtol=1e-6)
    assert len({tuple(row) for row in expected.round(4)}) == 4  # the windows differ
    assert [label.decode() for label in outputs[names.LABEL][0]] == [fixture.EMOTIONS[i] for i in expected.argmax(axis=1)]
    # Equal windows, equal weights.
    np.testing.assert_allclose(outputs[names.OVERALL_PROBABILITIES][0], expected.mean(axis=0), rtol=1e-6)
    assert outputs[names.OVERALL_LABEL][0].decode() == fixture.EMOTIONS[int(expected.mean(axis=0).argmax())]
    assert [name.decode() for name in outputs[names.CLASSES][0]] == list(fixture.EMOTIONS)


def test_the_overall_answer_is_the_mean_of_full_length_windows(signatures):
    outputs = _timeline(signatures, [_wav(4.6)])
    durations = outputs[names.END_SECONDS][0] - outputs[names.START_SECONDS][0]
    np.testing.assert_allclose(durations, [3.0, 3.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(outputs[names.OVERALL_PROBABILITIES][0], outputs[names.PROBABILITIES][0].mean(axis=0), rtol=1e-6)


@pytest.mark.parametrize("sample_rate, channels", [(RATE, 1), (44100, 2)])
def test_a_2_s_recording_is_answered_exactly_as_serving_default_answers(signatures, sample_rate, channels):
    recording = _wav(2.0, sample_rate, channels)
    outputs = _timeline(signatures, [recording])
    served = signatures["serving_default"](audio=tf.constant([recording]))

    assert outputs[names.WINDOW_COUNT].tolist() == [1]
    assert outputs[names.START_SECONDS].tolist() == [[0.0]] and outputs[names.END_SECONDS].tolist() == [[2.0]]
    np.testing.assert_array_equal(outputs[names.PROBABILITIES][0, 0], served["probabilities"].numpy()[0])
    np.testing.assert_array_equal(outputs[names.OVERALL_PROBABILITIES][0], served["probabilities"].numpy()[0])
    assert outputs[names.OVERALL_LABEL][0] == served["label"].numpy()[0]


def test_a_batch_of_recordings_of_different_lengths_is_padded_to_its_longest(signatures):
    recordings = [_wav(2.0), _wav(6.0), _wav(4.6, 22050)]
    batched = _timeline(signatures, recordings)

    assert batched[names.WINDOW_COUNT].tolist() == [1, 4, 3]
    assert batched[names.PROBABILITIES].shape == (3, 4, len(fixture.EMOTIONS))
    for row, recording in enumerate(recordings):
        alone = _timeline(signatures, [recording])
        count = alone[names.WINDOW_COUNT][0]
        for name in (names.PROBABILITIES, names.START_SECONDS, names.END_SECONDS):
            np.testing.assert_allclose(batched[name][row, :count], alone[name][0], rtol=1e-6, err_msg=name)
            assert not batched[name][row, count:].any(), f"{name} is padded with zeros"
        assert list(batched[names.LABEL][row, count:]) == [b""] * (4 - count)
        np.testing.assert_allclose(batched[names.OVERALL_PROBABILITIES][row], alone[names.OVERALL_PROBABILITIES][0], rtol=1e-6)


def _with_odd_sized_trailing_chunk(wav_bytes: bytes) -> bytes:
    """The WAV with a 5-byte chunk after its audio, padded to an even length as RIFF requires."""
    body = wav_bytes[12:] + b"id3 " + struct.pack("<I", 5) + b"12345\0"
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def test_a_wav_with_an_odd_sized_trailing_chunk_gets_the_same_timeline(signatures):
    recording = _wav(4.5, 48000, 2)
    plain, odd = _timeline(signatures, [recording]), _timeline(signatures, [_with_odd_sized_trailing_chunk(recording)])
    assert odd[names.WINDOW_COUNT].tolist() == [3]
    for name in names.OUTPUTS:
        np.testing.assert_array_equal(odd[name], plain[name], err_msg=name)


def test_a_recording_the_model_cannot_read_fails_the_call(signatures):
    with pytest.raises(tf.errors.InvalidArgumentError, match="bytes are not a RIFF/WAVE file"):
        _timeline(signatures, [_wav(2.0), b"ID3 not a wav file"])


def test_the_examples_variant_gives_the_same_outputs(signatures):
    recordings = [_wav(4.0), _wav(1.0)]
    examples = [tf.train.Example(features=tf.train.Features(feature={
        "audio": tf.train.Feature(bytes_list=tf.train.BytesList(value=[recording]))})).SerializeToString()
        for recording in recordings]
    from_examples = signatures[names.EXAMPLES_SIGNATURE_NAME](examples=tf.constant(examples))
    from_audio = _timeline(signatures, recordings)
    assert from_examples[names.OVERALL_LABEL].shape == (2, 1)  # as BulkInferrer's RunInference can write it
    for name in names.OUTPUTS:
        np.testing.assert_array_equal(from_examples[name].numpy().reshape(from_audio[name].shape), from_audio[name], err_msg=name)


def test_the_window_hop_comes_from_the_feature_config():
    config = FeatureConfig(window_hop_seconds=3.0)
    starts, _ = timeline.window_bounds(tf.constant(10 * RATE), config)
    assert starts.numpy().tolist() == [0, 3 * RATE, 6 * RATE, 7 * RATE]
    # A hop longer than a window would leave gaps: the windows are then consecutive.
    assert timeline.window_bounds(tf.constant(10 * RATE), FeatureConfig(window_hop_seconds=5.0))[0].numpy().tolist() == [
        0, 3 * RATE, 6 * RATE, 7 * RATE]
    with pytest.raises(ValueError, match="window_hop_seconds"):
        FeatureConfig(window_hop_seconds=0.0)
