"""SpecAugment masks whole bands and spans, RandomBandShift moves whole spectra, in training; both are the identity at inference."""
import speech_emotion  # noqa: F401  (must precede TensorFlow)
import numpy as np
import pytest
import tensorflow as tf

from speech_emotion.trainer.spec_augment import RandomBandShift
from speech_emotion.trainer.spec_augment import SpecAugment

FRAMES, BINS = 100, 64


def _inputs(batch=8):
    # Strictly positive, so any zero in the output was masked.
    return tf.random.uniform([batch, FRAMES, BINS], 1.0, 2.0, seed=0)


def test_identity_at_inference():
    inputs = _inputs()
    layer = SpecAugment(seed=1)
    np.testing.assert_array_equal(layer(inputs, training=False).numpy(), inputs.numpy())
    np.testing.assert_array_equal(layer(inputs).numpy(), inputs.numpy())


def test_masks_whole_bands_and_spans_in_training():
    layer = SpecAugment(frequency_masks=2, max_frequency_width=8, time_masks=2, max_time_width=20, seed=1)
    inputs = _inputs(batch=32)
    outputs = layer(inputs, training=True).numpy()

    assert outputs.shape == inputs.shape
    masked = outputs == 0.0
    np.testing.assert_array_equal(outputs[~masked], inputs.numpy()[~masked])
    masked_frames = masked.all(axis=2)
    masked_bins = masked.all(axis=1)
    # Every masked value lies in a fully masked frame or a fully masked band.
    np.testing.assert_array_equal(masked, masked_frames[:, :, None] | masked_bins[:, None, :])
    assert masked_frames.sum(axis=1).max() <= 2 * 20
    assert masked_bins.sum(axis=1).max() <= 2 * 8
    assert masked_frames.any(axis=1).mean() > 0.5 and masked_bins.any(axis=1).mean() > 0.5
    # Examples get their own masks.
    assert len({row.tobytes() for row in masked_bins}) > 1


def test_mask_value_and_trailing_channel_axis():
    layer = SpecAugment(frequency_masks=1, max_frequency_width=BINS, time_masks=0, mask_value=-3.0, seed=2)
    outputs = layer(_inputs()[..., tf.newaxis], training=True).numpy()
    assert outputs.shape == (8, FRAMES, BINS, 1)
    assert (outputs == -3.0).any()
    assert set(np.unique(outputs[outputs < 1.0])) == {-3.0}


def test_training_flag_follows_keras_fit_and_predict():
    inputs = tf.keras.Input([FRAMES, BINS])
    model = tf.keras.Model(inputs, SpecAugment(time_masks=3, max_time_width=30, seed=3)(inputs))
    data = _inputs().numpy()
    np.testing.assert_array_equal(model.predict(data, verbose=0), data)
    assert (model(data, training=True).numpy() == 0.0).any()


def test_config_round_trip_and_validation():
    layer = SpecAugment(frequency_masks=1, max_frequency_width=4, time_masks=3, max_time_width=10, mask_value=0.5, seed=7)
    assert SpecAugment.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match="time_masks"):
        SpecAugment(time_masks=-1)


def test_unseeded_masks_repeat_under_the_global_seed_and_differ_without_it():
    def unseeded_masks(global_seed):
        tf.keras.utils.set_random_seed(global_seed)
        return SpecAugment(time_masks=3, max_time_width=30)(_inputs(), training=True).numpy() == 0.0

    np.testing.assert_array_equal(unseeded_masks(11), unseeded_masks(11))
    assert not np.array_equal(unseeded_masks(11), unseeded_masks(12))


def _shifted(example, shift):
    """`example` [frames, bins] moved up by `shift` bins (down when negative), its edge bin repeated."""
    sources = np.clip(np.arange(example.shape[1]) - shift, 0, example.shape[1] - 1)
    return example[:, sources]


def test_band_shift_moves_each_example_by_its_own_whole_number_of_bins():
    inputs = tf.random.normal([64, FRAMES, BINS], seed=4).numpy()
    outputs = RandomBandShift(max_shift=3, seed=5)(inputs, training=True).numpy()

    shifts = []
    for example, output in zip(inputs, outputs):
        matching = [shift for shift in range(-3, 4) if np.array_equal(output, _shifted(example, shift))]
        assert len(matching) == 1
        shifts.extend(matching)
    assert set(shifts) == set(range(-3, 4))


def test_band_shift_is_the_identity_at_inference_and_with_max_shift_zero():
    inputs = _inputs()
    np.testing.assert_array_equal(RandomBandShift(max_shift=3, seed=1)(inputs).numpy(), inputs.numpy())
    np.testing.assert_array_equal(RandomBandShift(max_shift=0, seed=1)(inputs, training=True).numpy(), inputs.numpy())


def test_band_shift_config_round_trip_and_validation():
    layer = RandomBandShift(max_shift=2, seed=9)
    assert RandomBandShift.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match="max_shift"):
        RandomBandShift(max_shift=-1)
