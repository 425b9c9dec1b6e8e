"""Peak memory one request costs the served model's front-end, for the largest inputs its contract accepts.

Each row runs in a fresh process: the served graph's feature path (WAV bytes -> decode, mix, resample,
trim, crop -> the features the network reads, exactly what trainer/export.py puts in the SavedModel)
is traced and warmed on a 3 s clip, then given one WAV; the row is the process' peak resident growth
over the warmed state, and the time. The network after the front-end sees a fixed-size clip, so its
cost does not depend on the request.

    python benchmarks/request_memory.py
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np

# Durations that are not a number of seconds.
_LONGEST_ACCEPTED = "the contract's max_input_seconds"
_REQUEST_CAP = "as long as a 64 MiB request allows"
_REQUEST_CAP_BYTES = 64 * 2**20
_CASES = (  # (name, sample rate, channels, duration)
    ("3 s at 48 kHz stereo (a typical clip)", 48000, 2, 3.0),
    ("longest at 4 kHz (the most upsampling)", 4000, 1, _LONGEST_ACCEPTED),
    ("64 MiB request at 192 kHz (REST/gRPC cap)", 192000, 1, _REQUEST_CAP),
    ("longest at 48 kHz stereo", 48000, 2, _LONGEST_ACCEPTED),
    ("longest at 192 kHz (the contract's largest)", 192000, 1, _LONGEST_ACCEPTED),
)


def _seconds(config, sample_rate: int, channels: int, duration) -> float:
    if duration == _REQUEST_CAP:
        return (_REQUEST_CAP_BYTES - 44) / (2 * channels * sample_rate)
    if duration == _LONGEST_ACCEPTED:
        return config.max_input_seconds
    return duration


def _memory_mib(field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak since the last reset) of this process."""
    with open("/proc/self/status") as status:
        return int(re.search(rf"{field}:\s+(\d+)", status.read()).group(1)) / 1024


def _write_noise_wav(path: str, sample_rate: int, channels: int, seconds: float) -> None:
    """16-bit noise written a second at a time, so the parent never holds the whole recording."""
    rng = np.random.default_rng(0)
    with wave.open(path, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        remaining = int(seconds * sample_rate)
        while remaining:
            frames = min(remaining, sample_rate)
            writer.writeframes((3000 * rng.standard_normal((frames, channels))).astype("<i2").tobytes())
            remaining -= frames


def _measure(path: str) -> dict:
    import speech_emotion  # noqa: F401  (must precede TensorFlow)
    import tensorflow as tf

    from speech_emotion.audio import features, frontend, wav
    from speech_emotion.config import DEFAULT_FEATURE_CONFIG as config

    serve = tf.function(lambda audio: features.audio_features(frontend.waveforms_from_wav_batch(audio, config), config),
                        input_signature=[tf.TensorSpec([None], tf.string)])
    warm = wav.encode_wav_pcm16(0.1 * np.random.default_rng(0).standard_normal((3 * 16000, 1)), 16000)
    serve(tf.constant([warm]))
    with open(path, "rb") as request_file:
        request = tf.constant([request_file.read()])
    baseline = _memory_mib("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear_refs:  # resets VmHWM to the resident size now
        clear_refs.write("5")
    start = time.perf_counter()
    serve(request)
    elapsed = time.perf_counter() - start
    return {"peak_growth_mib": _memory_mib("VmHWM") - baseline, "seconds": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", metavar="WAV", help=argparse.SUPPRESS)  # one row, in a child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.measure)))
        return
    from speech_emotion.config import DEFAULT_FEATURE_CONFIG as config

    print(f"contract: {config.min_input_sample_rate}..{config.max_input_sample_rate} Hz, "
          f"at most {config.max_input_seconds:g} s")
    print(f"{'input':<44} {'audio (s)':>9} {'request (MiB)':>13} {'peak growth (MiB)':>17} {'time (s)':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for name, sample_rate, channels, seconds in _CASES:
            duration = _seconds(config, sample_rate, channels, seconds)
            path = os.path.join(folder, "request.wav")
            _write_noise_wav(path, sample_rate, channels, duration)
            child = subprocess.run([sys.executable, __file__, "--measure", path], capture_output=True, text=True,
                                   check=True)
            row = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{name:<44} {duration:>9.1f} {os.path.getsize(path) / 2**20:>13.1f} "
                  f"{row['peak_growth_mib']:>17.0f} {row['seconds']:>8.2f}")


if __name__ == "__main__":
    main()
