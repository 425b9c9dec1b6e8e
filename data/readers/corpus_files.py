"""Finds a corpus' audio files and turns each into an AudioRecord or a Rejected, never dropping one."""
import os
from typing import Callable, Iterator, List, Tuple

from speech_emotion.data import records

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".aif", ".aiff", ".aifc", ".mp3", ".ogg"})


def walk(root: str) -> Iterator[Tuple[str, List[str]]]:
    """Yields (absolute folder, sorted file names) for `root` and every folder under it, in sorted order.

    Symlinked folders and files are followed, as a corpus subset is often assembled from links
    (`Actor_01 -> /data/RAVDESS/Actor_01`). A folder reached a second time, through a loop or a
    second link to it, is not read again. Files are named by the path under `root` they were found
    at, not their link targets: readers take labels and speakers from those names.
    """
    if not os.path.isdir(root):
        raise ValueError(f"corpus root {root!r} is not a directory")

    def unlistable(error: OSError):
        raise ValueError(f"cannot list folder {error.filename}: {error.strerror}") from None

    visited = set()
    for folder, folders, names in os.walk(os.path.abspath(root), onerror=unlistable, followlinks=True):
        status = os.stat(folder)
        identity = (status.st_dev, status.st_ino)
        if identity in visited:
            folders.clear()
            continue
        visited.add(identity)
        folders.sort()
        yield folder, sorted(names)


def is_audio(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS


def audio_files(root: str) -> list:
    """Returns the absolute paths of all audio files under `root`, recursively, sorted."""
    return sorted(os.path.join(folder, name) for folder, names in walk(root) for name in names if is_audio(name))


def read_files(corpus: str, root: str, parse: Callable[[str], records.AudioRecord]) -> tuple:
    """Applies `parse` to every audio file under `root`; a ValueError from it rejects that file with its message.

    Returns (records, rejected), each sorted by path.
    """
    accepted, rejected = [], []
    for path in audio_files(root):
        if os.path.basename(path).startswith("._"):
            # Archives made on macOS carry "._name.wav" AppleDouble metadata beside each file.
            rejected.append(records.Rejected(path, corpus, "macOS AppleDouble metadata file, not audio"))
            continue
        try:
            accepted.append(parse(path))
        except ValueError as error:
            rejected.append(records.Rejected(path, corpus, str(error)))
    return accepted, rejected
