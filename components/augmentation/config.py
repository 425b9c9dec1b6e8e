"""Typed settings of audio augmentation; the JSON form travels as a TFX execution property."""
import dataclasses
import json
import math
from typing import Tuple

NOISE_KINDS = ("white", "pink", "babble")
# Speed of sound in m/s, as pyroomacoustics uses it.
_SPEED_OF_SOUND = 343.0


def _check_probability(name: str, probability: float) -> None:
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"{name} probability must be in [0, 1], got {probability}")


def _check_range(name: str, low: float, high: float) -> None:
    if low > high:
        raise ValueError(f"{name}: minimum {low} exceeds maximum {high}")


@dataclasses.dataclass(frozen=True)
class NoiseConfig:
    """Additive noise at an SNR drawn uniformly in dB; babble sums other training clips."""

    probability: float = 0.5
    min_snr_db: float = 10.0
    max_snr_db: float = 30.0
    kinds: Tuple[str, ...] = NOISE_KINDS
    min_babble_talkers: int = 3
    max_babble_talkers: int = 6

    def __post_init__(self):
        _check_probability("noise", self.probability)
        _check_range("noise SNR", self.min_snr_db, self.max_snr_db)
        unknown = set(self.kinds) - set(NOISE_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"noise kinds must be a non-empty subset of {NOISE_KINDS}, got {self.kinds}")
        if self.min_babble_talkers < 1:
            raise ValueError(f"min_babble_talkers must be at least 1, got {self.min_babble_talkers}")
        _check_range("babble talkers", self.min_babble_talkers, self.max_babble_talkers)


@dataclasses.dataclass(frozen=True)
class TimeStretchConfig:
    """Speed change without pitch change; the rate is drawn log-uniformly, so 0.8 and 1.25 are equally likely."""

    probability: float = 0.3
    min_rate: float = 0.8
    max_rate: float = 1.25

    def __post_init__(self):
        _check_probability("time stretch", self.probability)
        if self.min_rate <= 0:
            raise ValueError(f"time stretch rates must be positive, got {self.min_rate}")
        _check_range("time stretch rate", self.min_rate, self.max_rate)


@dataclasses.dataclass(frozen=True)
class PitchShiftConfig:
    probability: float = 0.3
    min_semitones: float = -2.0
    max_semitones: float = 2.0

    def __post_init__(self):
        _check_probability("pitch shift", self.probability)
        _check_range("pitch shift semitones", self.min_semitones, self.max_semitones)


@dataclasses.dataclass(frozen=True)
class TimeShiftConfig:
    """Moves the audio by up to `max_shift_seconds` either way, wrapping around or filling with silence."""

    probability: float = 0.3
    max_shift_seconds: float = 0.3
    rollover: bool = False

    def __post_init__(self):
        _check_probability("time shift", self.probability)
        if self.max_shift_seconds < 0:
            raise ValueError(f"max_shift_seconds must not be negative, got {self.max_shift_seconds}")


@dataclasses.dataclass(frozen=True)
class EchoConfig:
    """`num_echoes` repeats spaced by the delay, the k-th scaled by decay**k."""

    probability: float = 0.2
    min_delay_seconds: float = 0.05
    max_delay_seconds: float = 0.25
    min_decay: float = 0.2
    max_decay: float = 0.5
    num_echoes: int = 3

    def __post_init__(self):
        _check_probability("echo", self.probability)
        if self.min_delay_seconds <= 0:
            raise ValueError(f"echo delays must be positive, got {self.min_delay_seconds}")
        _check_range("echo delay", self.min_delay_seconds, self.max_delay_seconds)
        if not 0 < self.min_decay <= self.max_decay < 1:
            raise ValueError(f"need 0 < min_decay <= max_decay < 1, got {self.min_decay}, {self.max_decay}")
        if self.num_echoes < 1:
            raise ValueError(f"num_echoes must be at least 1, got {self.num_echoes}")


@dataclasses.dataclass(frozen=True)
class ReverbConfig:
    """Convolution with one of `num_rooms` simulated shoebox rooms, simulated once per pipeline run.

    Each room's size is drawn between the two corners and its RT60 in [min_rt60, max_rt60] seconds;
    the image-source simulation's cost grows with RT60 cubed (about 2 s per room at 0.8 s).
    """

    probability: float = 0.3
    min_rt60: float = 0.2
    max_rt60: float = 0.7
    min_room_dimensions: Tuple[float, float, float] = (3.0, 3.0, 2.5)
    max_room_dimensions: Tuple[float, float, float] = (8.0, 6.0, 3.5)
    num_rooms: int = 16

    def __post_init__(self):
        _check_probability("reverb", self.probability)
        if self.min_rt60 <= 0:
            raise ValueError(f"RT60 must be positive, got {self.min_rt60}")
        _check_range("RT60", self.min_rt60, self.max_rt60)
        if len(self.min_room_dimensions) != 3 or len(self.max_room_dimensions) != 3:
            raise ValueError("room dimensions are (length, width, height) in metres")
        for low, high in zip(self.min_room_dimensions, self.max_room_dimensions):
            if low < 1.0:
                raise ValueError(f"room dimensions must be at least 1 m, got {self.min_room_dimensions}")
            _check_range("room dimension", low, high)
        if self.num_rooms < 1:
            raise ValueError(f"num_rooms must be at least 1, got {self.num_rooms}")
        # Sabine's formula: the largest room needs the most absorption to decay as fast as min_rt60.
        length, width, height = self.max_room_dimensions
        surface = 2 * (length * width + length * height + width * height)
        absorption = 24 * math.log(10) * length * width * height / (_SPEED_OF_SOUND * surface * self.min_rt60)
        if absorption > 1.0:
            raise ValueError(f"a {self.max_room_dimensions} m room cannot reverberate as briefly as {self.min_rt60} s")


_SECTIONS = {
    "noise": NoiseConfig,
    "time_stretch": TimeStretchConfig,
    "pitch_shift": PitchShiftConfig,
    "time_shift": TimeShiftConfig,
    "echo": EchoConfig,
    "reverb": ReverbConfig,
}


@dataclasses.dataclass(frozen=True)
class AugmentationConfig:
    """How many augmented copies each training clip gets and how each copy is drawn.

    `copies_per_clip` is the most a clip gets; with `target_examples`, fewer when the corpora are large: on
    average each clip gets `target_examples / training clips - 1` copies (between 0 and `copies_per_clip`),
    some clips one more than others, chosen by their audio under the seed. An epoch's cost grows with its
    examples, and more real speakers need copies less. 0: every clip gets `copies_per_clip`.

    Every transform is applied independently with its probability; a copy that drew none gets one
    transform picked in proportion to the probabilities, so no copy duplicates its original.
    """

    copies_per_clip: int = 2
    # About 6000 examples: 2 copies per clip for up to 2000 training clips, none from 6000 (the full four corpora).
    target_examples: int = 6000
    seed: int = 0
    # Training clips sampled (deterministically under the seed) as the source of babble noise.
    babble_pool_size: int = 64
    noise: NoiseConfig = NoiseConfig()
    time_stretch: TimeStretchConfig = TimeStretchConfig()
    pitch_shift: PitchShiftConfig = PitchShiftConfig()
    time_shift: TimeShiftConfig = TimeShiftConfig()
    echo: EchoConfig = EchoConfig()
    reverb: ReverbConfig = ReverbConfig()

    def __post_init__(self):
        if self.copies_per_clip < 0:
            raise ValueError(f"copies_per_clip must not be negative, got {self.copies_per_clip}")
        if self.target_examples < 0:
            raise ValueError(f"target_examples must not be negative, got {self.target_examples}")
        if self.seed < 0:
            raise ValueError(f"seed must not be negative, got {self.seed}")
        if self.babble_pool_size < 0:
            raise ValueError(f"babble_pool_size must not be negative, got {self.babble_pool_size}")
        if self.noise.kinds == ("babble",) and self.babble_pool_size == 0 and self.noise.probability > 0:
            raise ValueError("babble is the only noise kind but babble_pool_size is 0")
        if self.copies_per_clip and not any(getattr(self, name).probability for name in _SECTIONS):
            raise ValueError("every transform has probability 0, so augmented copies would equal their originals")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    def mean_copies(self, training_clips: int) -> float:
        """Copies per clip on average for a train split of this many clips."""
        if not self.target_examples or not training_clips:
            return float(self.copies_per_clip)
        return min(float(self.copies_per_clip), max(0.0, self.target_examples / training_clips - 1.0))

    @classmethod
    def from_json(cls, text: str) -> "AugmentationConfig":
        values = json.loads(text)
        for name, section in _SECTIONS.items():
            if name in values:
                # JSON has no tuples; every list in a section is one of its tuple fields.
                fields = {key: tuple(value) if isinstance(value, list) else value for key, value in values[name].items()}
                values[name] = section(**fields)
        return cls(**values)
