"""The one source of truth for audio and feature settings shared by ingestion, training and serving."""
import dataclasses
import json
from typing import Optional


class AudioLimitError(ValueError):
    """Input audio outside the model contract's supported sample rates or duration (FeatureConfig)."""


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """Audio front-end settings; names follow librosa so a user can reproduce the features there."""

    sample_rate: int = 16000
    clip_seconds: float = 3.0
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 160
    n_mels: int = 64
    fmin: float = 0.0
    fmax: float = 8000.0
    center: bool = True
    htk: bool = False
    norm: Optional[str] = "slaney"
    power: float = 2.0
    # Log compression as librosa.power_to_db(ref=1.0, amin=amin, top_db=top_db).
    amin: float = 1e-10
    top_db: float = 80.0
    # Leading and trailing audio quieter than this many dB below the clip's loudest frame is trimmed.
    trim_db: float = 40.0
    # Extra features served beside the log-mel (speech_emotion.audio.features).
    n_mfcc: int = 13
    n_chroma: int = 12
    # The model contract's bounds on input audio, checked before anything is resampled: the cost of
    # resampling grows with the ratio of the rates and with the duration, and a 32 KB WAV header can
    # declare 1 Hz and hours of audio.
    min_input_sample_rate: int = 4000
    max_input_sample_rate: int = 192000
    max_input_seconds: float = 600.0
    # The `timeline` signature cuts a recording longer than clip_seconds into windows of clip_seconds that start
    # this far apart (clip_seconds apart at most: no gaps), the last one ending with the recording
    # (benchmarks/windowing.py: pooled windows beat the centre clip on the eval split; a 1 s hop tied 3 s there).
    window_hop_seconds: float = 1.0

    def __post_init__(self):
        if self.win_length > self.n_fft:
            raise ValueError(f"win_length {self.win_length} exceeds n_fft {self.n_fft}")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError(f"need 0 <= fmin < fmax <= sample_rate / 2, got {self.fmin}, {self.fmax}")
        if not 0 < self.n_mfcc <= self.n_mels:
            raise ValueError(f"need 0 < n_mfcc <= n_mels, got {self.n_mfcc}")
        if self.clip_seconds <= 0:
            raise ValueError(f"clip_seconds must be positive, got {self.clip_seconds}")
        if not 0 < self.min_input_sample_rate <= self.sample_rate <= self.max_input_sample_rate:
            raise ValueError(
                "need 0 < min_input_sample_rate <= sample_rate <= max_input_sample_rate, got "
                f"{self.min_input_sample_rate}, {self.sample_rate}, {self.max_input_sample_rate}"
            )
        if self.max_input_seconds < self.clip_seconds:
            raise ValueError(f"max_input_seconds {self.max_input_seconds} is shorter than clip_seconds {self.clip_seconds}")
        if self.window_hop_seconds <= 0:
            raise ValueError(f"window_hop_seconds must be positive, got {self.window_hop_seconds}")

    def check_input_audio(self, sample_rate: int, num_samples: int) -> None:
        """Raises AudioLimitError when input audio lies outside the model contract's bounds."""
        if not self.min_input_sample_rate <= sample_rate <= self.max_input_sample_rate:
            raise AudioLimitError(
                f"sample rate {sample_rate} Hz is outside the supported "
                f"{self.min_input_sample_rate}..{self.max_input_sample_rate} Hz"
            )
        seconds = num_samples / sample_rate
        if seconds > self.max_input_seconds:
            raise AudioLimitError(f"audio lasts {seconds:.1f} s, longer than the supported {self.max_input_seconds:g} s")

    @property
    def clip_samples(self) -> int:
        return int(round(self.clip_seconds * self.sample_rate))

    @property
    def window_hop_samples(self) -> int:
        return max(1, min(self.clip_samples, int(round(self.window_hop_seconds * self.sample_rate))))

    @property
    def num_frames(self) -> int:
        if self.center:
            return 1 + self.clip_samples // self.hop_length
        return 1 + (self.clip_samples - self.n_fft) // self.hop_length

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "FeatureConfig":
        return cls(**json.loads(text))


DEFAULT_FEATURE_CONFIG = FeatureConfig()

# The name the Pusher's layout (<base>/<name>/<version>) and TF Serving address the model by.
MODEL_NAME = "emotion"
