"""Offline speech-to-text with word times: CMU PocketSphinx and the US English model its wheel ships.

PocketSphinx decodes 16 kHz 16-bit mono audio; its segmentation gives each recognised word's first and
last frame. Fillers (silence, breath, noise, the sentence marks) are dropped, and alternative
pronunciations ("read(2)") are reported as their word. Digital silence makes PocketSphinx hear words
(a second of zeros is "dog"), so the audio gets a dither of one least significant bit, from a fixed seed
so that a recording always gets the same transcript. A Decoder is not thread-safe and takes a
second and some 100 MB to load its model, so one Transcriber holds one and transcribes one recording
at a time.
"""
import dataclasses
import re
import threading
import typing

import numpy as np
import soxr

# The rate of the acoustic model the pocketsphinx wheel ships (model/en-us/en-us).
TRANSCRIPTION_SAMPLE_RATE = 16000
_DITHER_SEED = 0
# Dictionary suffix marking the second, third, ... pronunciation of a word.
_PRONUNCIATION_VARIANT = re.compile(r"\(\d+\)$")


@dataclasses.dataclass(frozen=True)
class Word:
    word: str
    start_seconds: float
    end_seconds: float


@dataclasses.dataclass(frozen=True)
class Transcript:
    text: str
    words: typing.Tuple[Word, ...]

    def words_between(self, start_seconds: float, end_seconds: float) -> typing.Tuple[Word, ...]:
        """The words whose middle lies in [start_seconds, end_seconds): each word belongs to one window."""
        return tuple(word for word in self.words
                     if start_seconds <= (word.start_seconds + word.end_seconds) / 2 < end_seconds)

    def to_json(self) -> dict:
        return {"text": self.text, "words": [
            {"word": word.word, "start_seconds": round(word.start_seconds, 3), "end_seconds": round(word.end_seconds, 3)}
            for word in self.words]}


def _is_filler(word: str) -> bool:
    """<s>, </s>, <sil> and the noise dictionary's [NOISE], [BREATH], ..."""
    return word.startswith(("<", "["))


def pcm16(waveform: np.ndarray) -> bytes:
    """Little-endian 16-bit samples of a float waveform in [-1, 1], clipped."""
    return np.clip(np.round(np.asarray(waveform, np.float64) * 2**15), -(2**15), 2**15 - 1).astype("<i2").tobytes()


def _dithered(waveform: np.ndarray) -> np.ndarray:
    return waveform + np.random.default_rng(_DITHER_SEED).uniform(-1.0, 1.0, len(waveform)) / 2**15


class Transcriber:
    """Transcribes mono float waveforms; loads PocketSphinx's model once."""

    def __init__(self):
        # Imported here so that `ser app --help` and the modules that only name a Transcriber need no pocketsphinx.
        import pocketsphinx

        self._decoder = pocketsphinx.Decoder(samprate=TRANSCRIPTION_SAMPLE_RATE, loglevel="FATAL")
        self._frames_per_second = float(self._decoder.config["frate"])
        self._lock = threading.Lock()

    def transcribe(self, waveform: np.ndarray, sample_rate: int) -> Transcript:
        if not len(waveform):  # PocketSphinx fails on an empty buffer
            return Transcript("", ())
        if sample_rate != TRANSCRIPTION_SAMPLE_RATE:
            waveform = soxr.resample(waveform, sample_rate, TRANSCRIPTION_SAMPLE_RATE, quality="HQ")
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm16(_dithered(waveform)), full_utt=True)
            self._decoder.end_utt()
            # seg() is None when nothing was recognised at all (a few milliseconds of audio).
            segments = [(segment.word, segment.start_frame, segment.end_frame) for segment in self._decoder.seg() or ()]
        words = tuple(
            Word(_PRONUNCIATION_VARIANT.sub("", word), start / self._frames_per_second,
                 (end + 1) / self._frames_per_second)
            for word, start, end in segments if not _is_filler(word))
        return Transcript(" ".join(word.word for word in words), words)
