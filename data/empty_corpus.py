"""A corpus that yields no example stops the run, with one line saying which corpus, where, and why.

Checked twice: on the file list, before any audio is decoded (no file named as the corpus names its
files), and on the ingestion summary (every named file was quarantined or a duplicate).
"""
import collections
import os
from typing import Dict, Mapping, Sequence

from speech_emotion.data import corpus_spec
from speech_emotion.data import records
from speech_emotion.data.readers import corpus_files

DUPLICATE_REASON = "duplicate of a file read before"
# Causes named in the message at most; the rest are counted together.
_LISTED_CAUSES = 3


class EmptyCorpusError(ValueError):
    """A corpus yielded no example; the message names the corpus, its folder and what became of its files."""


def check_listing(corpus: corpus_spec.CorpusSpec, found: Sequence[records.AudioRecord],
                  rejected: Sequence[records.Rejected]) -> None:
    """Raises EmptyCorpusError when the reader accepted no file of `corpus`."""
    if found:
        return
    causes = collections.Counter(rejection.reason for rejection in rejected)
    examples = {}
    for rejection in rejected:
        examples.setdefault(rejection.reason, os.path.relpath(rejection.path, corpus.path))
    raise EmptyCorpusError(_message(corpus.name, [corpus.path], len(rejected), causes, examples))


def check_summary(corpora: Sequence[corpus_spec.CorpusSpec], summary: Mapping) -> None:
    """Raises EmptyCorpusError for the first corpus with no example in the ingestion summary."""
    paths = collections.defaultdict(list)
    for corpus in corpora:
        paths[corpus.name].append(corpus.path)
    for name, corpus_paths in paths.items():
        counts = summary["corpora"][name]
        if counts["examples"]:
            continue
        causes = collections.Counter(counts["quarantined_by_reason"])
        causes[DUPLICATE_REASON] += len(counts["duplicates"])
        raise EmptyCorpusError(_message(name, corpus_paths, counts["files"], +causes, {}))


def _message(name: str, paths: Sequence[str], audio_files: int, causes: collections.Counter,
             examples: Dict[str, str]) -> str:
    other_files = sum(not corpus_files.is_audio(file_name) for path in paths
                      for _, names in corpus_files.walk(path) for file_name in names)
    where = f"corpus {name} at {', '.join(paths)} yielded no readable example"
    if not audio_files and not other_files:
        return f"{where}: the folder holds no file"
    if not audio_files:
        extensions = ", ".join(sorted(corpus_files.AUDIO_EXTENSIONS))
        return f"{where}: no audio file ({extensions}) among its {_count(other_files, 'file')}"
    listed = [f"{count} {reason}" + (f" (e.g. {examples[reason]})" if reason in examples else "")
              for reason, count in causes.most_common(_LISTED_CAUSES)]
    unlisted = causes.most_common()[_LISTED_CAUSES:]
    if unlisted:
        listed.append(f"{sum(count for _, count in unlisted)} for {len(unlisted)} other reason(s)")
    message = f"{where}: {_count(audio_files, 'audio file')}, none accepted: {', '.join(listed)}"
    return message + (f"; {_count(other_files, 'other file')}" if other_files else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
