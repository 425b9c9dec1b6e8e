"""What the Trainer built, kept in the SavedModel's assets for the model card: members, their settings, sizes and epochs."""
import dataclasses
from typing import Sequence, Tuple

from speech_emotion.trainer import model_assets

MODEL_SUMMARY_ASSET = "model_summary.json"


@dataclasses.dataclass(frozen=True)
class MemberSummary:
    architecture: str
    parameters: int
    epochs_run: int
    # Epochs whose weights were averaged into the exported ones (0: the last epoch's weights).
    averaged_epochs: int
    settings: dict


@dataclasses.dataclass(frozen=True)
class ModelSummary:
    members: Tuple[MemberSummary, ...]
    # Of the exported model: the members' together (an ensemble's averaging adds none).
    parameters: int

    @classmethod
    def of(cls, members: Sequence[MemberSummary]) -> "ModelSummary":
        return cls(members=tuple(members), parameters=sum(member.parameters for member in members))

    def write(self, serving_dir: str) -> str:
        return model_assets.write_json_asset(serving_dir, MODEL_SUMMARY_ASSET, dataclasses.asdict(self))

    @classmethod
    def read(cls, serving_dir: str) -> "ModelSummary":
        """The summary the Trainer wrote; none (no members) for a model exported without one."""
        fields = model_assets.read_json_asset(serving_dir, MODEL_SUMMARY_ASSET)
        if fields is None:
            return cls(members=(), parameters=0)
        return cls(members=tuple(MemberSummary(**member) for member in fields["members"]), parameters=fields["parameters"])
