"""Hostile audio for the fuzz tests: mutated and random bytes, and WAV headers declaring what they do not hold."""
import random
import struct


def mutated_bytes(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    operation = rng.randrange(5)
    if operation == 0:  # bit flips anywhere
        for _ in range(rng.randint(1, 16)):
            position = rng.randrange(len(data))
            data[position] ^= 1 << rng.randrange(8)
    elif operation == 1:  # truncation
        del data[rng.randrange(len(data)):]
    elif operation == 2:  # a header field overwritten (sizes, format, channels, rate, bits)
        position = rng.randrange(min(len(data), 48))
        data[position:position + 4] = rng.getrandbits(32).to_bytes(4, "little")
    elif operation == 3:  # random bytes inserted
        position = rng.randrange(len(data) + 1)
        data[position:position] = rng.randbytes(rng.randint(1, 64))
    else:  # garbage of random length
        data = bytearray(rng.randbytes(rng.randint(0, 512)))
    return bytes(data)


def declared_wav(sample_rate: int, channels: int, num_samples: int, declared_data_bytes: int = -1) -> bytes:
    """A 16-bit PCM WAV of `num_samples` zero frames whose header declares `sample_rate` and, if given, a data
    chunk of `declared_data_bytes` (more than it holds)."""
    data = bytes(2 * channels * num_samples)
    data_size = len(data) if declared_data_bytes < 0 else declared_data_bytes
    fmt = struct.pack("<HHIIHH", 1, channels, sample_rate, sample_rate * 2 * channels, 2 * channels, 16)
    return (b"RIFF" + struct.pack("<I", min(36 + data_size, 2**32 - 1)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", data_size) + data)


# Each would make the graph resample to 16 kHz for hours of audio: gigabytes per request without the bounds.
WAVS_OUTSIDE_THE_CONTRACT = {
    "1 Hz, 16 000 samples": declared_wav(1, 1, 16000),
    "3999 Hz, 60 000 samples": declared_wav(3999, 1, 60000),
    "1 Hz, 4 GB declared": declared_wav(1, 1, 16000, declared_data_bytes=2**32 - 100),
    "2 Hz, 8 channels": declared_wav(2, 8, 2000),
    "192 001 Hz": declared_wav(192001, 1, 16000),
}
