"""Draws and applies the transforms of one augmented copy, from random streams keyed by content, not order."""
import hashlib
from typing import Sequence, Tuple

import numpy as np

from speech_emotion.components.augmentation import transforms
from speech_emotion.components.augmentation.config import AugmentationConfig, ReverbConfig

# Transforms in the order they are applied: the voice changes first, then the room, then noise from
# around the microphone. A copy's `augmentations` feature lists the names it got, noise as "<kind>_noise".
TIME_STRETCH = "time_stretch"
PITCH_SHIFT = "pitch_shift"
TIME_SHIFT = "time_shift"
REVERB = "reverb"
ECHO = "echo"
NOISE = "noise"
_ORDER = (TIME_STRETCH, PITCH_SHIFT, TIME_SHIFT, REVERB, ECHO, NOISE)

# Separate seed streams, so a clip's draws never coincide with a room's or the babble sample's.
_CLIP_STREAM = 0
_ROOM_STREAM = 1
_BABBLE_STREAM = 2
_COPIES_STREAM = 3
# Peak of an augmented waveform whose transforms pushed it past full scale, so PCM16 never clips.
_PEAK_LIMIT = 0.99


def _digest(text: str) -> int:
    """A stable 63-bit hash: fits the 64-bit signed integers Beam's coders carry."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def clip_key(audio: bytes) -> str:
    """What a clip's random streams are keyed on: its content, so a corpus moved or copied elsewhere
    (another machine, another pipeline root) gets the same augmented copies."""
    return hashlib.sha256(audio).hexdigest()


def clip_rng(seed: int, key: str, copy_index: int) -> np.random.Generator:
    """The random stream of one augmented copy: the same on any runner and in any element order."""
    return np.random.default_rng([seed, _CLIP_STREAM, _digest(key), copy_index])


def copies_of_clip(seed: int, key: str, mean_copies: float) -> int:
    """A clip's number of copies: the whole part of `mean_copies`, and one more for the fraction of clips its
    fractional part gives, picked by the clip's content under the seed (so on any runner, in any order)."""
    whole = int(mean_copies)
    fraction = mean_copies - whole
    return whole + int(np.random.default_rng([seed, _COPIES_STREAM, _digest(key)]).random() < fraction)


def room_rng(seed: int, room_index: int) -> np.random.Generator:
    return np.random.default_rng([seed, _ROOM_STREAM, room_index])


def babble_rank(seed: int, key: str) -> int:
    """Orders clips pseudo-randomly under the seed; the lowest ranks form the babble pool."""
    return _digest(f"{seed}:{_BABBLE_STREAM}:{key}")


def sample_room_impulse_response(config: ReverbConfig, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """A room of random size and RT60, with talker and microphone at random places half a metre from the walls."""
    dimensions = rng.uniform(config.min_room_dimensions, config.max_room_dimensions)
    rt60 = rng.uniform(config.min_rt60, config.max_rt60)
    source, microphone = (rng.uniform(0.5, dimensions - 0.5) for _ in range(2))
    return transforms.room_impulse_response(dimensions, rt60, source, microphone, sample_rate)


def _draw_transforms(config: AugmentationConfig, rng: np.random.Generator, can_reverb: bool,
                     can_add_noise: bool) -> Tuple[str, ...]:
    probabilities = {
        TIME_STRETCH: config.time_stretch.probability,
        PITCH_SHIFT: config.pitch_shift.probability,
        TIME_SHIFT: config.time_shift.probability,
        REVERB: config.reverb.probability if can_reverb else 0.0,
        ECHO: config.echo.probability,
        NOISE: config.noise.probability if can_add_noise else 0.0,
    }
    chosen = tuple(name for name in _ORDER if rng.random() < probabilities[name])
    weights = np.array([probabilities[name] for name in _ORDER])
    if chosen or not weights.sum():
        return chosen
    return (_ORDER[rng.choice(len(_ORDER), p=weights / weights.sum())],)


def _noise_kinds(config: AugmentationConfig, babble_talkers: Sequence[np.ndarray]) -> Tuple[str, ...]:
    return tuple(kind for kind in config.noise.kinds if kind != "babble" or len(babble_talkers))


def _add_noise(waveform: np.ndarray, config: AugmentationConfig, rng: np.random.Generator,
               babble_talkers: Sequence[np.ndarray]) -> Tuple[np.ndarray, str]:
    noise_config = config.noise
    kinds = _noise_kinds(config, babble_talkers)
    kind = kinds[rng.integers(len(kinds))]
    if kind == "white":
        noise = transforms.white_noise(len(waveform), rng)
    elif kind == "pink":
        noise = transforms.pink_noise(len(waveform), rng)
    else:
        count = min(int(rng.integers(noise_config.min_babble_talkers, noise_config.max_babble_talkers + 1)),
                    len(babble_talkers))
        talkers = [babble_talkers[index] for index in rng.choice(len(babble_talkers), size=count, replace=False)]
        noise = transforms.babble_noise(talkers, len(waveform), rng)
    snr_db = rng.uniform(noise_config.min_snr_db, noise_config.max_snr_db)
    return transforms.mix_at_snr(waveform, noise, snr_db), f"{kind}_noise"


def augment_waveform(waveform: np.ndarray, sample_rate: int, config: AugmentationConfig, rng: np.random.Generator,
                     babble_talkers: Sequence[np.ndarray] = (),
                     impulse_responses: Sequence[np.ndarray] = ()) -> Tuple[np.ndarray, Tuple[str, ...]]:
    """Returns the augmented waveform and the names of the transforms applied, in order.

    Noise is named by its kind ("white_noise", "pink_noise", "babble_noise"). `babble_talkers` must not
    hold the clip itself; without talkers or impulse responses, babble and reverb are not drawn, and a
    copy for which nothing else could be drawn comes back unchanged with no names.
    """
    applied = []
    drawn = _draw_transforms(config, rng, can_reverb=len(impulse_responses) > 0,
                             can_add_noise=bool(_noise_kinds(config, babble_talkers)))
    for name in drawn:
        if name == TIME_STRETCH:
            rate = np.exp(rng.uniform(np.log(config.time_stretch.min_rate), np.log(config.time_stretch.max_rate)))
            waveform = transforms.time_stretch(waveform, rate)
        elif name == PITCH_SHIFT:
            semitones = rng.uniform(config.pitch_shift.min_semitones, config.pitch_shift.max_semitones)
            waveform = transforms.pitch_shift(waveform, sample_rate, semitones)
        elif name == TIME_SHIFT:
            limit = int(round(config.time_shift.max_shift_seconds * sample_rate))
            waveform = transforms.time_shift(waveform, int(rng.integers(-limit, limit + 1)), config.time_shift.rollover)
        elif name == REVERB:
            waveform = transforms.reverberate(waveform, impulse_responses[rng.integers(len(impulse_responses))])
        elif name == ECHO:
            echo_config = config.echo
            delay_seconds = rng.uniform(echo_config.min_delay_seconds, echo_config.max_delay_seconds)
            decay = rng.uniform(echo_config.min_decay, echo_config.max_decay)
            waveform = transforms.echo(waveform, sample_rate, delay_seconds, decay, echo_config.num_echoes)
        else:
            waveform, name = _add_noise(waveform, config, rng, babble_talkers)
        applied.append(name)
    peak = float(np.max(np.abs(waveform), initial=0.0))
    if peak > _PEAK_LIMIT:
        waveform = waveform * np.float32(_PEAK_LIMIT / peak)
    return waveform.astype(np.float32), tuple(applied)
