"""benchmarks/markdown_report.py: each benchmark script rewrites its own section of docs/benchmarks.md only."""
import argparse
import importlib.util
import pathlib

import pytest

_PATH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "markdown_report.py"
_SPEC = importlib.util.spec_from_file_location("markdown_report", _PATH)
markdown_report = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(markdown_report)


def test_a_missing_file_is_created_with_the_section(tmp_path):
    path = tmp_path / "docs" / "benchmarks.md"
    markdown_report.write_section(path, "/somewhere/benchmarks/features.py", "## Features\n\n| a |\n|---|\n| 1 |\n")
    assert path.read_text() == (
        "# Benchmarks\n\n<!-- features.py begin -->\n## Features\n\n| a |\n|---|\n| 1 |\n<!-- features.py end -->\n")


def test_rewriting_replaces_only_the_scripts_own_section(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\nWritten by hand.\n\n<!-- serving.py begin -->\nold serving\n<!-- serving.py end -->\n"
                    "\nBetween the sections.\n\n<!-- features.py begin -->\nold features\n<!-- features.py end -->\n"
                    "\nAfter.\n")
    markdown_report.write_section(path, "features.py", "new features\nwith two lines")
    assert path.read_text() == (
        "# Benchmarks\n\nWritten by hand.\n\n<!-- serving.py begin -->\nold serving\n<!-- serving.py end -->\n"
        "\nBetween the sections.\n\n<!-- features.py begin -->\nnew features\nwith two lines\n<!-- features.py end -->\n"
        "\nAfter.\n")
    before = path.read_text()
    markdown_report.write_section(path, "features.py", "new features\nwith two lines")
    assert path.read_text() == before


def test_a_section_the_file_lacks_is_appended(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n<!-- serving.py begin -->\nserving\n<!-- serving.py end -->\n")
    markdown_report.write_section(path, "augmentation.py", "augmentation")
    assert path.read_text() == ("# Benchmarks\n\n<!-- serving.py begin -->\nserving\n<!-- serving.py end -->\n\n"
                                "<!-- augmentation.py begin -->\naugmentation\n<!-- augmentation.py end -->\n")


def test_a_body_with_regex_escapes_is_written_as_it_is(tmp_path):
    path = tmp_path / "benchmarks.md"
    markdown_report.write_section(path, "features.py", "first")
    markdown_report.write_section(path, "features.py", r"a \1 and \g<0> stay")
    assert r"a \1 and \g<0> stay" in path.read_text()


@pytest.mark.parametrize("broken", ["<!-- features.py begin -->\nno end\n",
                                    "<!-- features.py begin -->\na\n<!-- features.py end -->\n"
                                    "<!-- features.py begin -->\nb\n<!-- features.py end -->\n"])
def test_a_broken_file_is_left_alone_with_a_clear_error(tmp_path, broken):
    path = tmp_path / "benchmarks.md"
    path.write_text(broken)
    with pytest.raises(ValueError, match="features.py"):
        markdown_report.write_section(path, "features.py", "new")
    assert path.read_text() == broken


def test_a_section_is_its_heading_blocks_and_provenance_between_blank_lines():
    text = markdown_report.section("Serving (`benchmarks/serving.py`)", "How it was run:", "| a |\n|---|")
    heading, paragraph, table, provenance = text.split("\n\n")
    assert (heading, paragraph, table) == ("## Serving (`benchmarks/serving.py`)", "How it was run:", "| a |\n|---|")
    assert provenance == markdown_report.provenance()


def test_table_and_provenance():
    assert markdown_report.table(["target", "clips/s"], [["REST", "195.0"], ["gRPC", 226.1]]) == (
        "| target | clips/s |\n|---|---|\n| REST | 195.0 |\n| gRPC | 226.1 |")
    line = markdown_report.provenance()
    assert line.startswith("Measured at commit ") and " cores, " in line


def test_the_argument_defaults_to_docs_benchmarks_md():
    parser = argparse.ArgumentParser()
    markdown_report.add_argument(parser)
    assert parser.parse_args([]).write_markdown is None
    assert parser.parse_args(["--write-markdown"]).write_markdown == str(markdown_report.DEFAULT_PATH)
    assert parser.parse_args(["--write-markdown", "out.md"]).write_markdown == "out.md"
    assert markdown_report.DEFAULT_PATH.parts[-2:] == ("docs", "benchmarks.md")
