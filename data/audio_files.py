"""Decodes audio files of any container the corpora use into float32 samples.

tensorflow-io is tried first; it fails loudly on AIFF, AIFF-C named `.wav`, and WAVs whose chunk
after the audio has an odd size (most RAVDESS originals), and it decodes some files silently
wrong: a WAV with an odd-sized chunk before the audio comes back empty and 32-bit integer PCM
comes back as float32 bit patterns (NaN). Its result is therefore checked, and libsndfile (via
soundfile) is the fallback, then audioread (ffmpeg, GStreamer or the standard library, whichever
is installed) for anything libsndfile cannot open, such as MP3 with libsndfile older than 1.1.
Each decoder checks the model contract's bounds (FeatureConfig.check_input_audio) on the rate and
length its header declares before it reads the samples, so a header declaring hours costs nothing.
"""
import os
import re

import numpy as np
import soundfile

from speech_emotion.audio import wav_encoding
from speech_emotion.config import AudioLimitError
from speech_emotion.config import FeatureConfig


class AudioDecodeError(ValueError):
    """No decoder could read the file as audio; the message gives each decoder's reason."""


def decode_audio_file(path: str, limits: FeatureConfig, use_tensorflow_io: bool = True) -> tuple:
    """Returns (samples, sample_rate): float32 samples shaped [frames, channels], nominally in [-1, 1].

    Raises AudioDecodeError when no decoder can read the file, and speech_emotion.config.AudioLimitError
    when its audio lies outside `limits`' supported sample rates or duration. `use_tensorflow_io=False`
    starts with libsndfile and never imports TensorFlow, which takes seconds: for clients such as `ser predict`.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    reasons = []
    decoders = (("tensorflow-io", _decode_with_tensorflow_io),) if use_tensorflow_io else ()
    for name, decode in decoders + (("soundfile", _decode_with_soundfile), ("audioread", _decode_with_audioread)):
        try:
            samples, sample_rate = decode(path, limits)
        except _DecoderFailed as failure:
            reasons.append(f"{name}: {failure}")
            continue
        if samples.size == 0:
            reasons.append(f"{name}: no audio samples")
            continue
        if sample_rate <= 0:
            reasons.append(f"{name}: invalid sample rate {sample_rate}")
            continue
        limits.check_input_audio(sample_rate, samples.shape[0])
        return samples, sample_rate
    raise AudioDecodeError(f"cannot decode {path}: " + "; ".join(reasons))


def is_wav(data: bytes) -> bool:
    return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def wav_bytes_of_file(path: str, limits: FeatureConfig) -> bytes:
    """What a client sends the model for a local audio file: its bytes when it is a WAV (the model parses WAV,
    odd-sized chunks and all, and mixes and resamples it itself); otherwise the file decoded here, without
    TensorFlow, as 16-bit PCM WAV at its own rate and channels."""
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    with open(path, "rb") as audio_file:
        data = audio_file.read()
    if is_wav(data):
        return data
    samples, sample_rate = decode_audio_file(path, limits, use_tensorflow_io=False)
    return wav_encoding.encode_wav_pcm16(samples, sample_rate)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Returns the mean of the channels of [frames, channels] samples as float32 [frames]."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        return samples
    if samples.ndim != 2:
        raise ValueError(f"expected samples shaped [frames] or [frames, channels], got {samples.shape}")
    return samples.mean(axis=1, dtype=np.float32)


class _DecoderFailed(Exception):
    """One decoder could not read the file, or read it wrong; the next one is tried."""


# tensorflow-io returns integer PCM at its stored width; these map it to [-1, 1).
_TFIO_INTEGER_SCALES = {np.dtype(np.int16): (0.0, 2.0**15), np.dtype(np.int32): (0.0, 2.0**31),
                        np.dtype(np.uint8): (128.0, 128.0)}


# TensorFlow wraps op messages as "{{function_node ...}} message [Op:Name]".
_TF_OP_NOISE = re.compile(r"\{\{[^}]*\}\}\s*|\s*\[Op:[^\]]*\]")


def _decode_with_tensorflow_io(path, limits):
    try:
        # Imported here, not at module level: the serving process must never load tensorflow-io.
        import tensorflow as tf
        import tensorflow_io as tfio
    except ImportError as error:
        raise _DecoderFailed(f"not installed ({error})") from None
    try:
        audio = tfio.audio.AudioIOTensor(path)
        sample_rate = int(audio.rate.numpy())
        if sample_rate > 0:
            limits.check_input_audio(sample_rate, int(audio.shape[0]))
        samples = audio.to_tensor().numpy()
    except tf.errors.OpError as error:
        raise _DecoderFailed(_TF_OP_NOISE.sub("", error.message.splitlines()[0])) from None
    if samples.ndim == 1:
        samples = samples[:, np.newaxis]
    if samples.dtype in _TFIO_INTEGER_SCALES:
        offset, scale = _TFIO_INTEGER_SCALES[samples.dtype]
        return (samples.astype(np.float32) - offset) / scale, sample_rate
    if samples.dtype != np.float32:
        raise _DecoderFailed(f"unexpected sample type {samples.dtype}")
    # Float output outside [-1, 1] from tensorflow-io means it took integer PCM for float
    # (32-bit integer WAVs); libsndfile reads genuine unnormalised float files the same way.
    if not np.all(np.isfinite(samples)) or np.max(np.abs(samples), initial=0.0) > 1.0:
        raise _DecoderFailed("samples are not finite floats in [-1, 1]; the file's format was misread")
    return samples, sample_rate


def _decode_with_soundfile(path, limits):
    try:
        info = soundfile.info(path)
        if info.samplerate > 0:
            limits.check_input_audio(info.samplerate, info.frames)
        samples, sample_rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.SoundFileError, RuntimeError) as error:
        raise _DecoderFailed(str(error)) from None
    return samples, int(sample_rate)


def _decode_with_audioread(path, limits):
    try:
        import audioread
    except ImportError as error:
        raise _DecoderFailed(f"not installed ({error})") from None
    try:
        with audioread.audio_open(path) as audio:
            channels, sample_rate = audio.channels, audio.samplerate
            if sample_rate > 0:
                limits.check_input_audio(sample_rate, int(audio.duration * sample_rate))
            pcm = b"".join(audio)
    except AudioLimitError:
        raise
    # Its backends include the standard library's wave/aifc/sunau parsers, which raise whatever they trip on
    # (RuntimeError, wave.Error, struct.error, ...) for a malformed header: any failure here means "cannot read".
    except Exception as error:  # noqa: BLE001
        raise _DecoderFailed(f"{type(error).__name__} {error}".strip()) from None
    if channels < 1:
        raise _DecoderFailed(f"invalid channel count {channels}")
    # audioread always yields interleaved 16-bit little-endian PCM.
    frames = len(pcm) // (2 * channels)
    samples = np.frombuffer(pcm, dtype="<i2", count=frames * channels).astype(np.float32) / 2.0**15
    return samples.reshape(frames, channels), int(sample_rate)
