"""Typed settings of the model, its training and its hyperparameter search, carried to the Trainer and Tuner as JSON."""
import dataclasses
import json
import math
from typing import Tuple

CNN_BILSTM_BIGRU_ATTENTION = "cnn_bilstm_bigru_attention"
CNN = "cnn"
CNN_BILSTM = "cnn_bilstm"
CNN_GRU = "cnn_gru"
CNN_SELF_ATTENTION_BILSTM_BIGRU = "cnn_self_attention_bilstm_bigru"
ARCHITECTURES = (CNN_BILSTM_BIGRU_ATTENTION, CNN, CNN_BILSTM, CNN_GRU, CNN_SELF_ATTENTION_BILSTM_BIGRU)

HYPERBAND = "hyperband"
BAYESIAN = "bayesian"
SEARCH_ALGORITHMS = (HYPERBAND, BAYESIAN)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters of one classifier: which architecture, and its sizes and regularisation."""

    architecture: str = CNN_BILSTM
    conv_filters: Tuple[int, ...] = (16, 32, 48)
    recurrent_units: int = 64
    attention_heads: int = 4
    dense_units: int = 64
    dropout: float = 0.3
    l2: float = 1e-4
    learning_rate: float = 1e-3
    # Keras's default 0.99 needs a few hundred steps before the moving statistics that validation and
    # serving use settle; on a small corpus (tens of steps per epoch) or in short tuning trials the
    # validation score then says little and early stopping picks at random. 0.9 is PyTorch's default.
    batch_norm_momentum: float = 0.9
    # Subtract each utterance's mean per mel band (channel and level) before SpecAugment; see utterance_normalisation.
    utterance_normalisation: bool = True
    # SpecAugment at the input, active in training only: masks per example (0 turns it off) and their widest span.
    frequency_masks: int = 2
    max_frequency_width: int = 8
    time_masks: int = 2
    max_time_width: int = 20
    # Each training example's log-mel moved up or down by up to this many mel bands, so the model does not learn
    # where in frequency its few training speakers' voices sit; see spec_augment.RandomBandShift. Off (0) by
    # default: over three seeds of the whole benchmark pipeline, 3 bands lowered the eval split's UA (README).
    max_band_shift: int = 0

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")
        if not self.conv_filters:
            raise ValueError("conv_filters needs at least one block")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.max_band_shift < 0:
            raise ValueError(f"max_band_shift must be non-negative, got {self.max_band_shift}")
        if self.attention_heads < 1 or self.recurrent_units < 1:
            raise ValueError(f"attention_heads and recurrent_units must be positive, got {self.attention_heads}, {self.recurrent_units}")


@dataclasses.dataclass(frozen=True)
class BalanceConfig:
    """How training examples are weighted so that no corpus, speaker or emotion dominates (example_weights).

    Each speaker of a corpus weighs the same in total, however many clips it has (TESS' two speakers hold 2800);
    each corpus weighs in total its training speakers' count to the power `corpus_speaker_exponent`: 1 makes
    every speaker of every corpus count the same (CREMA-D's 91 actors would outweigh the rest three to one), 0 every
    corpus the same (SAVEE's 4 speakers as much as CREMA-D's 91); the square root sits between. Then, with
    `balance_classes`, every emotion weighs the same in total (calm is RAVDESS' alone). The eval split is weighted
    the same way, so early stopping and tuning see each of its corpora and speakers, not its largest one.
    """

    corpus_speaker_exponent: float = 0.5
    balance_classes: bool = True

    def __post_init__(self):
        if not 0.0 <= self.corpus_speaker_exponent <= 1.0:
            raise ValueError(f"corpus_speaker_exponent must be in [0, 1], got {self.corpus_speaker_exponent}")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 40
    # A larger training set needs fewer passes over it: the Trainer runs `epochs`, or fewer where more would fit more
    # than this many training examples in all (`epochs_for`). 40 epochs of the four shared corpora's ~6000 augmented
    # examples; the full four corpora's ~10 000 training clips get 24. 0: always `epochs`.
    max_examples: int = 240_000
    batch_size: int = 32
    early_stopping_patience: int = 8
    reduce_lr_patience: int = 4
    # The exported model's weights are the mean of its last this-many epochs', at most the later half of the epochs run
    # (weight_averaging.settled_epochs); 0: the last epoch's.
    average_last_epochs: int = 10
    # Seeds Python, NumPy and TensorFlow before the model is built, so a re-run on one Transform output trains the same model.
    seed: int = 0
    model: ModelConfig = ModelConfig()
    balance: BalanceConfig = BalanceConfig()
    # Architectures trained after the tuned (or configured) model, each with its other settings; the served
    # model averages the probabilities of all of them. Empty: that model alone.
    ensemble_architectures: Tuple[str, ...] = ()

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be positive, got {self.epochs}, {self.batch_size}")
        if self.max_examples < 0:
            raise ValueError(f"max_examples must be non-negative, got {self.max_examples}")
        if self.average_last_epochs < 0:
            raise ValueError(f"average_last_epochs must be non-negative, got {self.average_last_epochs}")
        unknown = set(self.ensemble_architectures) - set(ARCHITECTURES)
        if unknown:
            raise ValueError(f"ensemble_architectures must be among {ARCHITECTURES}, got {sorted(unknown)}")

    def epochs_for(self, training_examples: int) -> int:
        """Epochs to run on `training_examples`: `epochs`, fewer where they would fit more than `max_examples`."""
        if not self.max_examples or training_examples < 1:
            return self.epochs
        return max(1, min(self.epochs, math.ceil(self.max_examples / training_examples)))

    def member_configs(self, model: ModelConfig) -> Tuple[ModelConfig, ...]:
        """`model`, then each other ensemble architecture once, with `model`'s settings."""
        others = dict.fromkeys(name for name in self.ensemble_architectures if name != model.architecture)
        return (model,) + tuple(dataclasses.replace(model, architecture=name) for name in others)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "TrainingConfig":
        fields = json.loads(text)
        model_fields = fields.pop("model")
        model_fields["conv_filters"] = tuple(model_fields["conv_filters"])
        fields["ensemble_architectures"] = tuple(fields.get("ensemble_architectures", ()))
        balance = BalanceConfig(**fields.pop("balance", {}))
        return cls(model=ModelConfig(**model_fields), balance=balance, **fields)


@dataclasses.dataclass(frozen=True)
class TuningConfig:
    """The hyperparameter search's budget; `trials == 0` skips the Tuner and trains `TrainingConfig.model`.

    `architectures` is the search's first choice; `max_epochs` bounds each trial (Hyperband's largest bracket).
    A trial's epoch is at most `max_epoch_examples` training examples, drawn on from the shuffled training set where
    it holds more (0: the whole set): trials only rank settings, and on the full four corpora ten trials of whole
    epochs took longer than the whole pipeline may.
    """

    trials: int = 0
    max_epochs: int = 20
    max_epoch_examples: int = 3000
    algorithm: str = HYPERBAND
    architectures: Tuple[str, ...] = ARCHITECTURES
    seed: int = 0

    def __post_init__(self):
        if self.trials < 0 or self.max_epochs < 1:
            raise ValueError(f"trials must be >= 0 and max_epochs >= 1, got {self.trials}, {self.max_epochs}")
        if self.max_epoch_examples < 0:
            raise ValueError(f"max_epoch_examples must be non-negative, got {self.max_epoch_examples}")
        if self.algorithm not in SEARCH_ALGORITHMS:
            raise ValueError(f"algorithm must be one of {SEARCH_ALGORITHMS}, got {self.algorithm!r}")
        unknown = set(self.architectures) - set(ARCHITECTURES)
        if not self.architectures or unknown:
            raise ValueError(f"architectures must be a non-empty subset of {ARCHITECTURES}, got {self.architectures}")

    @property
    def enabled(self) -> bool:
        return self.trials > 0

    def steps_per_epoch(self, training_examples: int, batch_size: int):
        """Batches in a trial's epoch where it is cut short of the whole training set; None where it is not."""
        if not self.max_epoch_examples or training_examples <= self.max_epoch_examples:
            return None
        return math.ceil(self.max_epoch_examples / batch_size)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "TuningConfig":
        fields = json.loads(text)
        return cls(**{**fields, "architectures": tuple(fields["architectures"])})
