"""How a benchmark script writes its table into docs/benchmarks.md (`--write-markdown`), so no figure there is
copied by hand.

Each script owns one section of the file, between `<!-- NAME begin -->` and `<!-- NAME end -->` with NAME the
script's file name (`serving.py`); writing replaces that section only, appends it when the file lacks it, and
creates the file when it is missing. Usage, in a script:

    parser = argparse.ArgumentParser(...)
    markdown_report.add_argument(parser)
    ...
    if args.write_markdown:
        markdown_report.write_section(args.write_markdown, __file__, markdown_report.section(
            "Title (`benchmarks/NAME.py`)", "What was measured, how:", markdown_report.table(["column", ...], rows)))
"""
import argparse
import datetime
import os
import pathlib
import re
import subprocess

REPOSITORY = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_PATH = REPOSITORY / "docs" / "benchmarks.md"
_NEW_FILE_HEADING = "# Benchmarks\n"


def add_argument(parser: argparse.ArgumentParser) -> None:
    """`--write-markdown [PATH]`: PATH defaults to docs/benchmarks.md; absent, nothing is written."""
    parser.add_argument("--write-markdown", nargs="?", const=str(DEFAULT_PATH), metavar="PATH",
                        help=f"also write the table into this Markdown file's section for this script "
                             f"(default {DEFAULT_PATH.relative_to(REPOSITORY)})")


def markers(script: str) -> tuple:
    """The begin and end lines of `script`'s section; `script` is a file name or path (`__file__`)."""
    name = os.path.basename(script)
    return f"<!-- {name} begin -->", f"<!-- {name} end -->"


def table(header, rows) -> str:
    """A Markdown table; cells are written with str(), so format numbers before."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def section(title: str, *blocks: str) -> str:
    """A section's Markdown: `## title`, the blocks (paragraphs, tables) and the provenance line, blank lines
    between them."""
    return "\n\n".join([f"## {title}", *blocks, provenance()])


def provenance() -> str:
    """One line naming what measured the figures: the commit (with `+ local changes` when a tracked file outside
    docs/ differs from it), the CPU model, its cores and the date."""
    return (f"Measured at commit {_commit()} on {_cpu_model()}, {os.cpu_count()} cores, "
            f"{datetime.date.today().isoformat()}.")


def write_section(path, script: str, body: str) -> None:
    """Puts `body` between `script`'s markers in the file at `path`, leaving the rest of the file as it is."""
    path = pathlib.Path(path)
    begin, end = markers(script)
    section = f"{begin}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else _NEW_FILE_HEADING
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if len(pattern.findall(text)) > 1:
        raise ValueError(f"{path} holds more than one {begin} section")
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    elif begin in text or end in text:
        raise ValueError(f"{path} holds only one of {begin} and {end}")
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote the {os.path.basename(script)} section of {path}")


def _commit() -> str:
    def git(*arguments):
        return subprocess.run(["git", "-C", str(REPOSITORY), *arguments], capture_output=True, text=True)

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode:
        return "unknown (not a git checkout)"
    # Documentation does not change a measurement (and one script's section dirties the file for the next).
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs").stdout.strip()
    return head.stdout.strip() + (" + local changes" if changed else "")


def _cpu_model() -> str:
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return value.strip()
    return "an unknown CPU"
