"""Typed configuration of one pipeline run, derived from a work directory and the corpora."""
import dataclasses
import os
from typing import Optional, Tuple

from speech_emotion.components.augmentation.config import AugmentationConfig
from speech_emotion import config as core_config
from speech_emotion.config import FeatureConfig
from speech_emotion.data import taxonomy
from speech_emotion.data import corpus_spec
from speech_emotion.data import ingest_config
from speech_emotion.trainer import config as trainer_config

PIPELINE_NAME = "speech-emotion"
MODEL_NAME = core_config.MODEL_NAME


@dataclasses.dataclass(frozen=True)
class BlessingConfig:
    """The Evaluator blesses a model whose eval unweighted accuracy reaches `min_unweighted_accuracy`
    (absolute) and does not fall below the last blessed model's."""

    min_unweighted_accuracy: float = 0.3
    # Floor on each test corpus's unweighted accuracy over the emotions it shares with training (CrossCorpusGate).
    min_cross_corpus_unweighted_accuracy: float = 0.0


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    workdir: str
    ingest: ingest_config.IngestConfig
    # The model's classes; empty until `resolved` reads them from the training corpora.
    emotions: Tuple[str, ...] = ()
    training: trainer_config.TrainingConfig = trainer_config.TrainingConfig()
    # A run searches hyperparameters unless told `trials: 0`.
    tuning: trainer_config.TuningConfig = trainer_config.TuningConfig(trials=10)
    augmentation: AugmentationConfig = AugmentationConfig()
    blessing: BlessingConfig = BlessingConfig()
    pipeline_name: str = PIPELINE_NAME
    model_name: str = MODEL_NAME
    beam_pipeline_args: Tuple[str, ...] = ("--direct_running_mode=in_memory",)
    # Added to beam_pipeline_args for AudioAugmentation alone: the one Beam stage that also runs on Beam's DaskRunner
    # (`--runner=apache_beam.runners.dask.dask_runner.DaskRunner`, `--dask_client_address=HOST:8786`).
    augmentation_beam_pipeline_args: Tuple[str, ...] = ()
    # A folder of unlabelled clips the blessed model classifies in the run (BulkInferrer); None: no batch prediction.
    unlabelled_clips: Optional[str] = None

    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.workdir, "pipeline_root")

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.workdir, "metadata", "metadata.sqlite")

    @property
    def serving_model_dir(self) -> str:
        """TF Serving's layout: <serving_model>/<model name>/<integer version>/saved_model.pb."""
        return os.path.join(self.workdir, "serving_model", self.model_name)

    @property
    def reports_dir(self) -> str:
        """Training curves, tuning summary, confusion matrices, per-class tables and the model card."""
        return os.path.join(self.workdir, "reports")

    @property
    def predictions_dir(self) -> str:
        """`ser batch-predict`'s results and errors files for the unlabelled clips, as the last run wrote them."""
        return os.path.join(self.workdir, "predictions")

    @property
    def unlabelled_ingest(self) -> Optional[ingest_config.IngestConfig]:
        """Ingestion of the unlabelled clips alone, so none is dropped as a copy of a training clip."""
        if not self.unlabelled_clips:
            return None
        clips = corpus_spec.CorpusSpec.parse(f"unlabelled={self.unlabelled_clips}", corpus_spec.UNLABELLED_ROLE)
        return ingest_config.IngestConfig(corpora=(clips,), feature=self.feature)

    @property
    def feature(self) -> FeatureConfig:
        return self.ingest.feature


def training_emotions(corpora) -> Tuple[str, ...]:
    """The emotions the training corpora are labelled with, in canonical order: the model's classes."""
    from speech_emotion.data import ingest

    labels = set()
    for corpus in corpora:
        if corpus.role == corpus_spec.TRAIN_ROLE:
            found, _ = ingest.read_corpus(corpus)
            labels |= {record.label for record in found}
    if len(labels) < 2:
        raise ValueError(f"the training corpora hold {len(labels)} emotion(s); a classifier needs at least 2")
    return taxonomy.ordered(labels)


def _absolute(path: str) -> str:
    """Local paths absolute; a URL (gs://BUCKET/...) as given."""
    return path if "://" in path else os.path.abspath(os.path.expanduser(path))


def resolved(config: PipelineConfig) -> PipelineConfig:
    """The configuration a runner runs: paths absolute, and the emotions as given (in canonical order) or, when
    none are, read from the training corpora (which then must be readable here)."""
    if not any(corpus.role == corpus_spec.TRAIN_ROLE for corpus in config.ingest.corpora):
        raise ValueError("no training corpus: give --corpus NAME=PATH, or list it under ingest.corpora in the configuration file")
    corpora = tuple(dataclasses.replace(corpus, path=_absolute(corpus.path)) for corpus in config.ingest.corpora)
    return dataclasses.replace(
        config,
        workdir=_absolute(config.workdir),
        ingest=dataclasses.replace(config.ingest, corpora=corpora),
        emotions=taxonomy.ordered(config.emotions) if config.emotions else training_emotions(corpora),
        unlabelled_clips=_absolute(config.unlabelled_clips) if config.unlabelled_clips else None,
    )


def make_config(workdir: str, ingest: ingest_config.IngestConfig, **overrides) -> PipelineConfig:
    return resolved(PipelineConfig(workdir=workdir, ingest=ingest, **overrides))
