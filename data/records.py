"""What a corpus reader yields for each audio file, before any audio is decoded."""
import dataclasses

FEMALE = "female"
MALE = "male"
UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True)
class AudioRecord:
    """One audio file and the metadata its corpus' layout and filename codes give.

    `speaker` is qualified by corpus ("ravdess:01") so speakers never collide across corpora.
    `label` is a canonical emotion from `taxonomy.EMOTIONS`, or "" for unlabelled clips.
    """

    path: str
    corpus: str
    label: str
    speaker: str
    gender: str = UNKNOWN
    language: str = ""
    intensity: str = ""


@dataclasses.dataclass(frozen=True)
class Rejected:
    """A file that was set aside, and why; rejected files are reported, never silently dropped.

    `reason` is the cause files set aside together share ("unreadable", or a reader's naming rule the
    filename breaks), which summaries count; `detail` is this file's particulars, e.g. the decoders' errors.
    """

    path: str
    corpus: str
    reason: str
    detail: str = ""

    @property
    def description(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason
