"""Test helpers for `ser app`: spoken test sentences from espeak-ng, the word error rate, a running app.

espeak-ng (Debian's espeak-ng package; scripts/setup.sh --test installs it) speaks the sentences; the
voice and rate are the ones PocketSphinx's US English model was measured to follow best.
"""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
import requests
import soundfile
import soxr

from speech_emotion.config import DEFAULT_FEATURE_CONFIG

ESPEAK = "espeak-ng"
ESPEAK_VOICE = "en-us+f2"
ESPEAK_WORDS_PER_MINUTE = 160
# Common words PocketSphinx transcribes from this voice without an error (measured; see the tests' bounds).
SENTENCE = "the weather is nice today and i feel happy"
_APP_START_SECONDS = 120


def require_espeak() -> None:
    if shutil.which(ESPEAK) is None:
        pytest.skip(f"{ESPEAK} is not installed: `apt-get install espeak-ng` (scripts/setup.sh --test does) to "
                    "test transcription on synthetic speech")


def spoken(text: str, sample_rate: int = DEFAULT_FEATURE_CONFIG.sample_rate) -> np.ndarray:
    """`text` spoken by espeak-ng, as a float32 mono waveform at `sample_rate`."""
    require_espeak()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "speech.wav")
        subprocess.run([ESPEAK, "-v", ESPEAK_VOICE, "-s", str(ESPEAK_WORDS_PER_MINUTE), "-w", path, text],
                       check=True, capture_output=True)
        samples, rate = soundfile.read(path, dtype="float32")
    return soxr.resample(samples, rate, sample_rate, quality="HQ").astype(np.float32)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level edit distance (substitutions, insertions, deletions) over the reference's length."""
    expected, heard = reference.split(), hypothesis.split()
    distances = list(range(len(heard) + 1))
    for i, expected_word in enumerate(expected, start=1):
        previous, distances[0] = distances[0], i
        for j, heard_word in enumerate(heard, start=1):
            previous, distances[j] = distances[j], min(distances[j] + 1, distances[j - 1] + 1,
                                                       previous + (expected_word != heard_word))
    return distances[-1] / len(expected)


@contextlib.contextmanager
def running_app(model_server: str, *flags: str, env: dict = None):
    """`ser app --model-server model_server` on a free loopback port, as a subprocess; yields its base URL."""
    from serving_model_fixture import free_port  # loads TensorFlow, which only the tests that run an app need

    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen([sys.executable, "-m", "speech_emotion.cli", "app", "--model-server", model_server,
                                "--port", str(port), *flags],
                               env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, text=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _APP_START_SECONDS
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"ser app exited with {process.returncode}:\n{log.read()}")
            try:
                if requests.get(base_url + "/ui/config.json", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"ser app did not answer within {_APP_START_SECONDS} s")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
