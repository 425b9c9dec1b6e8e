"""WAV bytes to fixed-length waveforms and log-mel spectrograms, in core TensorFlow ops.

The same functions run in tf.Transform and in the served model, so training and serving features
agree; their settings come from a `FeatureConfig` and follow librosa, which the tests check against.
Like those of `wav` and `resample`, the public functions build their control flow with explicit ops
and are marked `do_not_convert`: AutoGraph would otherwise re-parse them, and librosa's filterbank
code, each time a caller's tf.function traces them, which takes tens of seconds.
"""
import librosa
import tensorflow as tf

from speech_emotion.audio import resample as resample_lib
from speech_emotion.audio import wav
from speech_emotion.config import FeatureConfig

# librosa.effects.trim's framing, in samples at the config's sample rate.
TRIM_FRAME_LENGTH = 2048
TRIM_HOP_LENGTH = 512
# librosa.effects.trim's floor on frame power (amplitude_to_db's amin squared).
_TRIM_AMIN = 1e-10


@tf.autograph.experimental.do_not_convert
def trim_silence(waveform: tf.Tensor, top_db: float) -> tf.Tensor:
    """Drops leading and trailing audio quieter than `top_db` dB below the loudest frame.

    Same result as `librosa.effects.trim(waveform, top_db=top_db)[0]`: frame RMS over 2048-sample
    frames every 512 samples, centred with zero padding. A silent waveform is returned whole.
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    num_samples = tf.size(waveform)
    frames = tf.signal.frame(
        tf.pad(waveform, [[TRIM_FRAME_LENGTH // 2, TRIM_FRAME_LENGTH // 2]]), TRIM_FRAME_LENGTH, TRIM_HOP_LENGTH
    )
    power = tf.maximum(tf.reduce_mean(tf.square(frames), axis=-1), _TRIM_AMIN)
    decibels = 10.0 * (_log10(power) - _log10(tf.reduce_max(power)))
    loud = decibels > -top_db
    frame_index = tf.range(tf.size(loud))
    first = tf.reduce_min(tf.where(loud, frame_index, tf.size(loud)))
    last = tf.reduce_max(tf.where(loud, frame_index, -1))
    start = tf.minimum(first * TRIM_HOP_LENGTH, num_samples)
    end = tf.minimum((last + 1) * TRIM_HOP_LENGTH, num_samples)
    return waveform[start : tf.maximum(start, end)]


def _log10(x):
    return tf.math.log(x) / tf.math.log(tf.constant(10.0, x.dtype))


def _fit_to_length(waveform, length):
    """Centre-crops or centre-zero-pads a waveform [samples] to [length]."""
    start = tf.maximum(tf.size(waveform) - length, 0) // 2
    cropped = waveform[start : start + length]
    missing = length - tf.size(cropped)
    return tf.ensure_shape(tf.pad(cropped, [[missing // 2, missing - missing // 2]]), [length])


@tf.autograph.experimental.do_not_convert
def mono_waveform_from_wav(wav_bytes: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """One recording's WAV bytes (scalar string) to its whole mono waveform at config.sample_rate, float32 [samples].

    Audio outside the model contract (config.min_input_sample_rate..max_input_sample_rate Hz, at most
    config.max_input_seconds) raises InvalidArgumentError before anything is resampled, so the work and
    memory a request costs stay bounded whatever its header declares.
    """
    waveform, sample_rate = wav.decode_wav(wav_bytes)
    rate = tf.cast(sample_rate, tf.int64)
    num_samples = tf.shape(waveform, out_type=tf.int64)[0]
    checks = [
        tf.debugging.Assert(
            (rate >= config.min_input_sample_rate) & (rate <= config.max_input_sample_rate),
            [f"WAV sample rate (Hz) is outside the supported "
             f"{config.min_input_sample_rate}..{config.max_input_sample_rate} Hz:", sample_rate],
        ),
        tf.debugging.Assert(
            tf.cast(num_samples, tf.float64) <= config.max_input_seconds * tf.cast(rate, tf.float64),
            [f"WAV audio is longer than the supported {config.max_input_seconds:g} s; samples and rate (Hz):",
             num_samples, sample_rate],
        ),
    ]
    with tf.control_dependencies(checks):
        mono = tf.reduce_mean(waveform, axis=1)
    return resample_lib.resample(mono, sample_rate, config.sample_rate)


@tf.autograph.experimental.do_not_convert
def waveform_from_wav(wav_bytes: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """One clip's WAV bytes (scalar string) to its mono waveform float32 [config.clip_samples].

    Channels are averaged, the audio resampled to config.sample_rate (`mono_waveform_from_wav`),
    leading and trailing silence trimmed (config.trim_db), and the rest centre-cropped or
    centre-padded with zeros.
    """
    resampled = mono_waveform_from_wav(wav_bytes, config)
    return _fit_to_length(trim_silence(resampled, config.trim_db), config.clip_samples)


@tf.autograph.experimental.do_not_convert
def waveforms_from_wav_batch(wav_bytes: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """`waveform_from_wav` over a batch: WAV bytes [batch] to float32 [batch, config.clip_samples]."""
    return tf.map_fn(
        lambda one_wav: waveform_from_wav(one_wav, config),
        tf.convert_to_tensor(wav_bytes, tf.string),
        fn_output_signature=tf.TensorSpec([config.clip_samples], tf.float32),
    )


def padded_frames(waveforms: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """[batch, frames, n_fft] frames every hop_length samples, zero-padded by n_fft // 2 at both ends when
    `center`, as librosa frames for stft and rms with pad_mode="constant"."""
    waveforms = tf.convert_to_tensor(waveforms, tf.float32)
    if config.center:
        waveforms = tf.pad(waveforms, [[0, 0], [config.n_fft // 2, config.n_fft // 2]])
    return tf.signal.frame(waveforms, config.n_fft, config.hop_length)


@tf.autograph.experimental.do_not_convert
def magnitude_spectrogram(waveforms: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """|STFT| float32 [batch, frames, n_fft // 2 + 1], as librosa.stft(window="hann", pad_mode="constant")."""
    frames = padded_frames(waveforms, config)
    # librosa centres the win_length window inside each n_fft frame; rfft zero-pads the windowed
    # samples at the end instead, which changes only the phase, and the phase is dropped.
    window_start = (config.n_fft - config.win_length) // 2
    windowed = frames[..., window_start : window_start + config.win_length] * tf.signal.hann_window(
        config.win_length, periodic=True
    )
    return tf.abs(tf.signal.rfft(windowed, fft_length=[config.n_fft]))


@tf.autograph.experimental.do_not_convert
def log_mel_from_magnitude(magnitude: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """Log-mel spectrograms in dB [batch, frames, n_mels] of a magnitude spectrogram."""
    mel_power = tf.matmul(magnitude**config.power, _mel_filterbank(config))
    decibels = 10.0 * _log10(tf.maximum(mel_power, config.amin))
    if config.top_db is not None:
        decibels = tf.maximum(decibels, tf.reduce_max(decibels, axis=[1, 2], keepdims=True) - config.top_db)
    return decibels


@tf.autograph.experimental.do_not_convert
def log_mel(waveforms: tf.Tensor, config: FeatureConfig) -> tf.Tensor:
    """Log-mel spectrograms in dB, float32 [batch, frames, config.n_mels], of waveforms [batch, samples].

    Equal to librosa.power_to_db(librosa.feature.melspectrogram(y, sr, n_fft, hop_length,
    win_length, window="hann", center, pad_mode="constant", power, n_mels, fmin, fmax, htk, norm),
    ref=1.0, amin, top_db), each example floored at top_db below its own maximum.
    """
    return log_mel_from_magnitude(magnitude_spectrogram(waveforms, config), config)


def _mel_filterbank(config):
    """librosa's mel filterbank as a [n_fft // 2 + 1, n_mels] constant."""
    filterbank = librosa.filters.mel(
        sr=config.sample_rate,
        n_fft=config.n_fft,
        n_mels=config.n_mels,
        fmin=config.fmin,
        fmax=config.fmax,
        htk=config.htk,
        norm=config.norm,
    )
    return tf.constant(filterbank.T, tf.float32)
