"""Writes synthetic emotional-speech corpora in the layouts of the real ones, for tests and demos.

Every layout uses its corpus' own speaker ids, filename codes and emotion set, so the corpus
readers parse the result exactly as they parse the real corpus. The audio comes from
`synthetic_speech`: 16-bit mono WAV, deterministic under `seed`.
"""
import collections
import dataclasses
import os
import wave
import zlib

import numpy as np

from speech_emotion.data import records
from speech_emotion.data import synthetic_speech
from speech_emotion.data import taxonomy
from speech_emotion.data.readers import emodb
from speech_emotion.data.readers import esd

LAYOUTS = ("ravdess", "tess", "savee", "cremad", "esd", "emodb", "unlabelled")


@dataclasses.dataclass(frozen=True)
class _Speaker:
    id: str
    gender: str


@dataclasses.dataclass(frozen=True)
class _Clip:
    path: str  # relative to the corpus root
    speaker: int  # index into the layout's speakers
    emotion: str
    strength: float = 1.0  # how far the emotion departs from neutral, from the intensity code


def native_emotions(layout: str) -> tuple:
    """Returns the canonical emotions the corpus of `layout` has, in canonical order."""
    if layout == "unlabelled":
        return taxonomy.EMOTIONS
    return taxonomy.ordered(taxonomy.CORPUS_LABELS[_known(layout)].values())


def write_corpus(layout: str, root: str, speakers: int, utterances_per_emotion: int, seed: int,
                 sample_rate: int = 16000, seconds: float = 2.0, emotions=None, max_clips=None) -> list:
    """Writes `speakers` x `emotions` x `utterances_per_emotion` clips under `root` in `layout`, or `max_clips` of
    them spread evenly over that list (so every speaker and emotion keeps its share) when it holds more.

    `emotions` defaults to the layout's native set and must be a subset of it. The unlabelled
    layout speaks the same emotions but names its clips without them. Returns the absolute paths
    of the audio files written, sorted; metadata files the layout has (CREMA-D's demographics, ESD's
    transcripts) are written too.
    """
    emotions = taxonomy.ordered(native_emotions(layout) if emotions is None else emotions)
    unsupported = set(emotions) - set(native_emotions(layout))
    if unsupported:
        raise ValueError(f"{layout} has no {sorted(unsupported)}; its emotions: {native_emotions(layout)}")
    if speakers < 1 or utterances_per_emotion < 1 or not emotions:
        raise ValueError("need at least one speaker, one utterance per emotion and one emotion")
    if sample_rate < 8000 or seconds <= 0:
        raise ValueError(f"need sample_rate >= 8000 and seconds > 0, got {sample_rate}, {seconds}")
    speaker_table, clips, metadata = _LAYOUT_WRITERS[layout](speakers, utterances_per_emotion, emotions)
    if max_clips is not None:
        if max_clips < 1:
            raise ValueError(f"max_clips must be positive, got {max_clips}")
        clips = _evenly_trimmed(clips, max_clips, emotions)

    salt = zlib.crc32(layout.encode())
    voices = [synthetic_speech.Voice.random(speaker.gender, np.random.default_rng([seed, salt, index]))
              for index, speaker in enumerate(speaker_table)]
    paths = []
    for clip_index, clip in enumerate(clips):
        rng = np.random.default_rng([seed, salt, clip.speaker, clip_index])
        prosody = synthetic_speech.expressed(clip.emotion, clip.strength)
        audio = synthetic_speech.synthesize(voices[clip.speaker], prosody, rng, sample_rate, seconds)
        path = os.path.abspath(os.path.join(root, clip.path))
        _write_wav(path, audio, sample_rate)
        paths.append(path)
    for relative_path, text in metadata.items():
        with open(os.path.join(root, relative_path), "w", encoding="utf-8") as file:
            file.write(text)
    return sorted(paths)


def _write_wav(path, audio, sample_rate):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(path, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(sample_rate)
        file.writeframes(pcm.tobytes())


def _evenly_trimmed(clips, count, emotions):
    """The first `count` of `clips` in an order that takes every (speaker, emotion)'s n-th clip before any one's
    next, and within a round goes along diagonals of speakers x emotions: every speaker and every emotion then keeps
    as many clips as any other, give or take one."""
    seen = collections.Counter()
    keys = []
    for index, clip in enumerate(clips):
        occurrence = seen[clip.speaker, clip.emotion]
        seen[clip.speaker, clip.emotion] += 1
        keys.append((occurrence, (emotions.index(clip.emotion) - clip.speaker) % len(emotions), clip.speaker, index))
    return [clips[index] for index in sorted(key[-1] for key in sorted(keys)[:count])]


def _known(layout):
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    return layout


def _code(corpus, emotion):
    """The corpus' first code for a canonical emotion, as the taxonomy lists them."""
    return next(code for code, label in taxonomy.CORPUS_LABELS[corpus].items() if label == emotion)


def _check_capacity(layout, what, wanted, available):
    if wanted > available:
        raise ValueError(f"{layout} has room for {available} {what}, {wanted} requested")


def _alternating_genders(speaker_genders: dict) -> list:
    """Speaker ids ordered male, female, male, ... so any prefix of them is gender-balanced."""
    males = sorted(s for s, g in speaker_genders.items() if g == records.MALE)
    females = sorted(s for s, g in speaker_genders.items() if g == records.FEMALE)
    ordered = [s for pair in zip(males, females) for s in pair]
    return ordered + males[len(females):] + females[len(males):]


def _ravdess(speakers, utterances, emotions):
    """Actor_NN/03-01-EE-II-SS-RR-NN.wav; neutral is written at strong intensity too, which RAVDESS
    itself lacks, so that every emotion has the same number of clips."""
    _check_capacity("ravdess", "actors", speakers, 24)
    variants = [(intensity, statement, repetition)
                for intensity in ("01", "02") for statement in ("01", "02") for repetition in ("01", "02")]
    _check_capacity("ravdess", "utterances per emotion", utterances, len(variants))
    table = [_Speaker(f"{n:02d}", records.MALE if n % 2 else records.FEMALE) for n in range(1, speakers + 1)]
    clips = [_Clip(f"Actor_{s.id}/03-01-{_code('ravdess', e)}-{i}-{st}-{r}-{s.id}.wav", k, e,
                   1.6 if i == "02" else 1.0)
             for k, s in enumerate(table) for e in emotions for i, st, r in variants[:utterances]]
    return table, clips, {}


def _pseudo_word(index):
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    return (consonants[index % 16] + vowels[(index // 16) % 5] + consonants[(index // 80) % 16]
            + ("" if index < 1280 else str(index // 1280)))


def _tess(speakers, utterances, emotions):
    """Flat OAF_word_emotion.wav / YAF_word_emotion.wav."""
    _check_capacity("tess", "speakers", speakers, 2)
    table = [_Speaker("OAF", records.FEMALE), _Speaker("YAF", records.FEMALE)][:speakers]
    clips = [_Clip(f"{s.id}_{_pseudo_word(u)}_{_code('tess', e)}.wav", k, e)
             for k, s in enumerate(table) for e in emotions for u in range(utterances)]
    return table, clips, {}


def _savee(speakers, utterances, emotions):
    """AudioData/SPEAKER/CODE+NN.wav, e.g. AudioData/DC/sa03.wav."""
    _check_capacity("savee", "speakers", speakers, 4)
    _check_capacity("savee", "utterances per emotion", utterances, 99)
    table = [_Speaker(name, records.MALE) for name in ("DC", "JE", "JK", "KL")[:speakers]]
    clips = [_Clip(f"AudioData/{s.id}/{_code('savee', e)}{u + 1:02d}.wav", k, e)
             for k, s in enumerate(table) for e in emotions for u in range(utterances)]
    return table, clips, {}


_CREMAD_SENTENCES = ("IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI")
_CREMAD_STRENGTHS = {"LO": 0.6, "MD": 1.0, "HI": 1.4, "XX": 1.0}


def _cremad(speakers, utterances, emotions):
    """AudioWAV/AAAA_SSS_EEE_II.wav and VideoDemographics.csv; only sentence IEO has graded intensities."""
    _check_capacity("cremad", "actors", speakers, 91)
    variants = [(sentence, "XX") for sentence in _CREMAD_SENTENCES] + [("IEO", level) for level in ("LO", "MD", "HI")]
    _check_capacity("cremad", "utterances per emotion", utterances, len(variants))
    table = [_Speaker(str(1001 + n), records.FEMALE if n % 2 else records.MALE) for n in range(speakers)]
    clips = [_Clip(f"AudioWAV/{s.id}_{sentence}_{_code('cremad', e)}_{level}.wav", k, e, _CREMAD_STRENGTHS[level])
             for k, s in enumerate(table) for e in emotions for sentence, level in variants[:utterances]]
    demographics = ["ActorID,Age,Sex,Race,Ethnicity"] + [
        f"{s.id},{20 + 7 * k % 50},{s.gender.capitalize()},Unknown,Not Hispanic" for k, s in enumerate(table)]
    return table, clips, {"VideoDemographics.csv": "\n".join(demographics) + "\n"}


# ESD numbers each speaker's utterances through its emotions in this order, 350 per emotion, and
# puts the first 20 of each emotion in evaluation/, the next 30 in test/, the rest in train/.
_ESD_FOLDERS = ("Neutral", "Angry", "Happy", "Sad", "Surprise")
_ESD_PER_EMOTION = 350


def _esd(speakers, utterances, emotions):
    """SSSS/Emotion/split/SSSS_NNNNNN.wav and SSSS/SSSS.txt; English speakers first."""
    english = {s: g for s, g in esd.SPEAKER_GENDERS.items() if esd.language(s) == "en"}
    mandarin = {s: g for s, g in esd.SPEAKER_GENDERS.items() if esd.language(s) == "zh"}
    ids = _alternating_genders(english) + _alternating_genders(mandarin)
    _check_capacity("esd", "speakers", speakers, len(ids))
    _check_capacity("esd", "utterances per emotion", utterances, _ESD_PER_EMOTION)
    table = [_Speaker(s, esd.SPEAKER_GENDERS[s]) for s in ids[:speakers]]
    clips, transcripts = [], {}
    for k, s in enumerate(table):
        lines = []
        for e in emotions:
            folder = _code("esd", e)
            for u in range(utterances):
                number = _ESD_FOLDERS.index(folder) * _ESD_PER_EMOTION + u + 1
                split = "evaluation" if u < 20 else "test" if u < 50 else "train"
                clips.append(_Clip(f"{s.id}/{folder}/{split}/{s.id}_{number:06d}.wav", k, e))
                lines.append(f"{s.id}_{number:06d}\tsynthetic utterance {u + 1}\t{folder}")
        transcripts[f"{s.id}/{s.id}.txt"] = "\n".join(lines) + "\n"
    return table, clips, transcripts


_EMODB_TEXTS = ("a01", "a02", "a04", "a05", "a07", "b01", "b02", "b03", "b09", "b10")


def _emodb(speakers, utterances, emotions):
    """wav/SSTTTEV.wav, e.g. wav/03a01Fa.wav; speakers 03, 08, 10, 09, ... alternate gender."""
    ids = _alternating_genders(emodb.SPEAKER_GENDERS)
    _check_capacity("emodb", "speakers", speakers, len(ids))
    _check_capacity("emodb", "utterances per emotion", utterances, 26 * len(_EMODB_TEXTS))
    table = [_Speaker(s, emodb.SPEAKER_GENDERS[s]) for s in ids[:speakers]]
    versions = "abcdefghijklmnopqrstuvwxyz"
    clips = [_Clip(f"wav/{s.id}{_EMODB_TEXTS[u % 10]}{_code('emodb', e)}{versions[u // 10]}.wav", k, e)
             for k, s in enumerate(table) for e in emotions for u in range(utterances)]
    return table, clips, {}


def _unlabelled(speakers, utterances, emotions):
    """speaker_NN/clip_NNNN.wav: the emotions are spoken but appear nowhere in the names."""
    table = [_Speaker(f"speaker_{n + 1:02d}", records.MALE if n % 2 == 0 else records.FEMALE)
             for n in range(speakers)]
    clips = [_Clip(f"{s.id}/clip_{number + 1:04d}.wav", k, e)
             for k, s in enumerate(table)
             for number, e in enumerate(e for e in emotions for _ in range(utterances))]
    return table, clips, {}


_LAYOUT_WRITERS = {"ravdess": _ravdess, "tess": _tess, "savee": _savee, "cremad": _cremad, "esd": _esd,
                   "emodb": _emodb, "unlabelled": _unlabelled}
