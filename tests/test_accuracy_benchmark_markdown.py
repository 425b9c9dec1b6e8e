"""benchmarks/accuracy.py --write-markdown: its section of docs/benchmarks.md is replaced in place, the rest kept."""
import importlib.util
import pathlib

_PATH = pathlib.Path(__file__).parents[1] / "benchmarks" / "accuracy.py"
_SPEC = importlib.util.spec_from_file_location("accuracy_benchmark", _PATH)
accuracy = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(accuracy)


def _section(text):
    return f"{accuracy.MARKDOWN_BEGIN}\n{text}\n{accuracy.MARKDOWN_END}"


def test_the_file_is_created_and_the_section_replaced_without_touching_other_sections(tmp_path):
    path = tmp_path / "docs" / "benchmarks.md"
    accuracy.write_markdown(str(path), _section("first"))
    assert _section("first") in path.read_text() and path.read_text().startswith("# Benchmarks")

    other = "<!-- serving.py begin -->\nserving table\n<!-- serving.py end -->"
    path.write_text(path.read_text() + "\n" + other + "\n")
    accuracy.write_markdown(str(path), _section("second"))
    text = path.read_text()
    assert _section("second") in text and "first" not in text
    assert other in text and text.count(accuracy.MARKDOWN_BEGIN) == 1


def test_a_file_without_the_section_gets_it_appended(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\nwritten by hand\n")
    accuracy.write_markdown(str(path), _section("rows"))
    assert path.read_text() == "# Benchmarks\n\nwritten by hand\n\n" + _section("rows") + "\n"


def test_tables_show_each_corpus_and_the_spread_over_seeds():
    row = {"model": "cnn_bilstm", "cpu_minutes": 30.0, "wall_minutes": 20.0, "component_minutes": {"Trainer": 12.0},
           **{key: 0.5 for key, _ in accuracy._COLUMNS}}
    rows = {"cnn_bilstm (seed 0)": row, "cnn_bilstm (seed 1)": {**row, "ravdess_ua": 0.7}}
    assert "CREMA-D UA (6)" in accuracy.table(rows) and "| cnn_bilstm (seed 1) | 0.500 | 0.700 |" in accuracy.table(rows)
    assert "| cnn_bilstm (2) | 0.500 ± 0.000 | 0.600 ± 0.141 |" in accuracy.spread_table(rows)
    assert accuracy.spread_table({"cnn_bilstm (seed 0)": row}) == ""
    assert "| cnn_bilstm (seed 0) | 12.0 |" in accuracy.component_table(rows)
