"""16-bit PCM WAV bytes from float samples, in numpy alone: clients such as `ser predict` write WAV without
importing TensorFlow. The scale (2**15) is the one the in-graph parser (wav.py) reads back exactly."""
import io
import wave

import numpy as np


def encode_wav_pcm16(waveform: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV bytes of a float waveform [samples] or [samples, channels], clipped to [-1, 1)."""
    waveform = np.asarray(waveform, dtype=np.float64)
    if waveform.ndim == 1:
        waveform = waveform[:, np.newaxis]
    if waveform.ndim != 2 or waveform.shape[1] == 0:
        raise ValueError(f"waveform must be [samples] or [samples, channels], got shape {waveform.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    pcm = np.clip(np.round(waveform * 2**15), -(2**15), 2**15 - 1).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(waveform.shape[1])
        writer.setsampwidth(2)
        writer.setframerate(int(sample_rate))
        writer.writeframes(pcm.tobytes())
    return buffer.getvalue()
