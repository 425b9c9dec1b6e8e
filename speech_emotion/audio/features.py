"""The feature set served beside the log-mel: MFCC with deltas, chroma, spectral centroid, ZCR, RMS.

Core TensorFlow ops only, so stock TF Serving runs them. Each function follows the librosa function
it names, with the `FeatureConfig`'s settings, and gives float32 [batch, config.num_frames, k].
Filterbanks and filter coefficients are computed with librosa and scipy when the graph is built.
Marked `do_not_convert` for the reason given in `frontend`.
"""
from typing import Dict

import librosa
import numpy as np
import scipy.signal
import tensorflow as tf

from speech_emotion.audio import frontend
from speech_emotion.config import FeatureConfig

LOG_MEL = "log_mel"
MFCC = "mfcc"
MFCC_DELTA = "mfcc_delta"
MFCC_DELTA2 = "mfcc_delta2"
CHROMA = "chroma"
SPECTRAL_CENTROID = "spectral_centroid"
ZERO_CROSSING_RATE = "zero_crossing_rate"
RMS = "rms"
FEATURE_NAMES = (LOG_MEL, MFCC, MFCC_DELTA, MFCC_DELTA2, CHROMA, SPECTRAL_CENTROID, ZERO_CROSSING_RATE, RMS)

# librosa.feature.delta's default window, in frames.
DELTA_WIDTH = 9
# librosa.zero_crossings' default: samples this close to zero count as zero.
_ZERO_THRESHOLD = 1e-10
# librosa.util.normalize leaves frames whose norm is below the smallest positive float untouched.
_TINY = float(np.finfo(np.float32).tiny)


def feature_dimensions(config: FeatureConfig) -> Dict[str, int]:
    """The last dimension of each feature."""
    return {
        LOG_MEL: config.n_mels,
        MFCC: config.n_mfcc,
        MFCC_DELTA: config.n_mfcc,
        MFCC_DELTA2: config.n_mfcc,
        CHROMA: config.n_chroma,
        SPECTRAL_CENTROID: 1,
        ZERO_CROSSING_RATE: 1,
        RMS: 1,
    }


@tf.autograph.experimental.do_not_convert
def mfcc(log_mel_db: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """librosa.feature.mfcc(S=log_mel_db, n_mfcc, dct_type=2, norm="ortho"): [batch, frames, n_mfcc]."""
    return tf.signal.dct(log_mel_db, type=2, norm="ortho")[..., : config.n_mfcc]


@tf.autograph.experimental.do_not_convert
def delta(features: tf.Tensor, order: int = 1) -> tf.Tensor:
    """librosa.feature.delta(features, width=9, order, mode="interp") along the frames axis (1).

    A Savitzky-Golay derivative of polynomial degree `order`; in "interp" mode the first and last
    four frames take the value of the nearest full window, since the fitted derivative is constant.
    """
    features = tf.convert_to_tensor(features, tf.float32)
    num_frames = features.shape[1]
    if num_frames is not None and num_frames < DELTA_WIDTH:
        raise ValueError(f"delta needs at least {DELTA_WIDTH} frames, got {num_frames}")
    coefficients = scipy.signal.savgol_coeffs(DELTA_WIDTH, polyorder=order, deriv=order, use="dot")
    by_coefficient = tf.transpose(features, [0, 2, 1])
    windows = tf.signal.frame(by_coefficient, DELTA_WIDTH, 1)
    centre = tf.transpose(tf.tensordot(windows, tf.constant(coefficients, tf.float32), axes=1), [0, 2, 1])
    half = DELTA_WIDTH // 2
    return tf.concat(
        [tf.repeat(centre[:, :1], half, axis=1), centre, tf.repeat(centre[:, -1:], half, axis=1)], axis=1
    )


@tf.autograph.experimental.do_not_convert
def chroma(magnitude: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """librosa.feature.chroma_stft(y, n_chroma, tuning=0.0), from power spectra: [batch, frames, n_chroma].

    Tuning is fixed at 0 rather than estimated per clip, so one filterbank serves every clip.
    Each frame is scaled to a maximum of 1.
    """
    filterbank = librosa.filters.chroma(sr=config.sample_rate, n_fft=config.n_fft, n_chroma=config.n_chroma, tuning=0.0)
    energy = tf.matmul(tf.square(magnitude), tf.constant(filterbank.T, tf.float32))
    return energy / _norm_or_one(tf.reduce_max(tf.abs(energy), axis=-1, keepdims=True))


@tf.autograph.experimental.do_not_convert
def spectral_centroid(magnitude: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """librosa.feature.spectral_centroid(S=magnitude) in Hz: [batch, frames, 1]."""
    frequencies = tf.constant(librosa.fft_frequencies(sr=config.sample_rate, n_fft=config.n_fft), tf.float32)
    total = _norm_or_one(tf.reduce_sum(magnitude, axis=-1, keepdims=True))
    return tf.reduce_sum(magnitude * frequencies, axis=-1, keepdims=True) / total


@tf.autograph.experimental.do_not_convert
def zero_crossing_rate(waveforms: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """librosa.feature.zero_crossing_rate(frame_length=n_fft, hop_length, center): [batch, frames, 1]."""
    waveforms = tf.convert_to_tensor(waveforms, tf.float32)
    if config.center:
        # librosa pads this one by repeating the edge samples (np.pad mode "edge").
        width = config.n_fft // 2
        waveforms = tf.concat(
            [tf.repeat(waveforms[:, :1], width, axis=1), waveforms, tf.repeat(waveforms[:, -1:], width, axis=1)], axis=1
        )
    negative = waveforms < -_ZERO_THRESHOLD
    crossings = tf.cast(tf.not_equal(negative[:, 1:], negative[:, :-1]), tf.float32)
    # Each frame counts the crossings between its own samples: n_fft - 1 neighbouring pairs.
    per_frame = tf.reduce_sum(tf.signal.frame(crossings, config.n_fft - 1, config.hop_length), axis=-1)
    return per_frame[..., tf.newaxis] / config.n_fft


@tf.autograph.experimental.do_not_convert
def rms(waveforms: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """librosa.feature.rms(y, frame_length=n_fft, hop_length, center, pad_mode="constant"): [batch, frames, 1]."""
    frames = frontend.padded_frames(waveforms, config)
    return tf.sqrt(tf.reduce_mean(tf.square(frames), axis=-1, keepdims=True))


@tf.autograph.experimental.do_not_convert
def audio_features(waveforms: tf.Tensor, config: FeatureConfig) -> Dict[str, tf.Tensor]:
    """Every feature in FEATURE_NAMES, unnormalised (log-mel in dB), of waveforms [batch, samples]."""
    magnitude = frontend.magnitude_spectrogram(waveforms, config)
    log_mel_db = frontend.log_mel_from_magnitude(magnitude, config)
    cepstra = mfcc(log_mel_db, config)
    return {
        LOG_MEL: log_mel_db,
        MFCC: cepstra,
        MFCC_DELTA: delta(cepstra, order=1),
        MFCC_DELTA2: delta(cepstra, order=2),
        CHROMA: chroma(magnitude, config),
        SPECTRAL_CENTROID: spectral_centroid(magnitude, config),
        ZERO_CROSSING_RATE: zero_crossing_rate(waveforms, config),
        RMS: rms(waveforms, config),
    }


def _norm_or_one(norm):
    return tf.where(norm < _TINY, tf.ones_like(norm), norm)

