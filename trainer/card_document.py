"""A model card as a document (sections of paragraphs, tables and images) and its markdown and HTML renderings.

The layout follows model-card-toolkit's default templates, which TFX's ModelCardGenerator renders: one title,
then top-level sections drawn as cards (Model Details, Model Parameters, Considerations, Datasets,
Quantitative Analysis), tables with a caption, and images embedded as base64 data URIs so the one file is the
whole card. Both renderings come from the same document, so they always say the same.
"""
import base64
import dataclasses
import html
import os
from typing import Optional, Sequence, Tuple, Union

CARD_STEM = "model_card"
MARKDOWN_FILE = f"{CARD_STEM}.md"
HTML_FILE = f"{CARD_STEM}.html"
MISSING = "—"


@dataclasses.dataclass(frozen=True)
class Table:
    header: Sequence[str]
    # Cells: text, int, float (three decimals) or None (shown as a dash).
    rows: Sequence[Sequence]
    caption: str = ""
    # Per body cell, a share in [0, 1] that tints the HTML cell (a confusion matrix's row shares); markdown shows the text.
    shading: Optional[Sequence[Sequence[float]]] = None


@dataclasses.dataclass(frozen=True)
class Image:
    png: bytes
    name: str


@dataclasses.dataclass(frozen=True)
class Section:
    title: str
    # Paragraphs (str), tables, images and subsections, in order.
    blocks: Sequence[Union[str, Table, Image, "Section"]] = ()


def cell_text(value) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _data_uri(image: Image) -> str:
    return "data:image/png;base64," + base64.b64encode(image.png).decode("ascii")


def _markdown_table(table: Table) -> str:
    def line(cells):
        return "| " + " | ".join(cell_text(cell).replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"

    lines = ([f"**{table.caption}**", ""] if table.caption else []) + [line(table.header), "|" + "---|" * len(table.header)]
    return "\n".join(lines + [line(row) for row in table.rows])


def _markdown_blocks(blocks, depth: int):
    for block in blocks:
        if isinstance(block, Section):
            yield "#" * depth + " " + block.title
            yield from _markdown_blocks(block.blocks, depth + 1)
        elif isinstance(block, Table):
            yield _markdown_table(block)
        elif isinstance(block, Image):
            yield f'<img src="{_data_uri(block)}" alt="{html.escape(block.name)}">'
        else:
            yield block


def _html_cell(value, share: Optional[float], tag: str = "td") -> str:
    style = f' style="background: rgba(66, 133, 244, {0.8 * share:.2f})"' if share is not None else ""
    number = ' class="number"' if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
    return f"<{tag}{number}{style}>{html.escape(cell_text(value))}</{tag}>"


def _html_table(table: Table) -> str:
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    head = "<tr>" + "".join(f"<th>{html.escape(name)}</th>" for name in table.header) + "</tr>"
    body = []
    for row_index, row in enumerate(table.rows):
        shares = table.shading[row_index] if table.shading else [None] * len(row)
        body.append("<tr>" + "".join(_html_cell(value, share) for value, share in zip(row, shares)) + "</tr>")
    return f"<table>{caption}{head}{''.join(body)}</table>"


def _html_blocks(blocks, depth: int):
    for block in blocks:
        if isinstance(block, Section):
            inner = "\n".join(_html_blocks(block.blocks, depth + 1))
            heading = f"<h{min(depth, 6)}>{html.escape(block.title)}</h{min(depth, 6)}>"
            yield f'<div class="card">{heading}\n{inner}</div>' if depth == 2 else f"{heading}\n{inner}"
        elif isinstance(block, Table):
            yield _html_table(block)
        elif isinstance(block, Image):
            yield f'<div class="img-item"><img src="{_data_uri(block)}" alt="{html.escape(block.name)}"></div>'
        else:
            yield f"<p>{html.escape(block)}</p>"


_STYLE = """
body { font-family: sans-serif; margin: 1em 2em; }
h1 { text-align: center; }
.card { padding: 1em; border: 1px solid #DADCE0; margin: 10px; }
table { border-collapse: collapse; margin: 0.5em 0; }
caption { font-weight: bold; text-align: left; }
th { background: #eee; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
td.number { text-align: right; }
.img-item img { max-width: 100%; }
"""


@dataclasses.dataclass(frozen=True)
class ModelCard:
    name: str
    sections: Sequence[Section]

    @property
    def title(self) -> str:
        return f"Model Card for {self.name}"

    def markdown(self) -> str:
        return "\n\n".join([f"# {self.title}", *_markdown_blocks(self.sections, 2)]) + "\n"

    def html(self) -> str:
        body = "\n".join(_html_blocks(self.sections, 2))
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(self.title)}</title>'
                f"<style>{_STYLE}</style></head>\n<body>\n<h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n")

    def write(self, output_dir: str, stem: str = CARD_STEM) -> Tuple[str, str]:
        """Writes `<stem>.md` and `<stem>.html` under `output_dir`; returns their paths."""
        import tensorflow as tf

        tf.io.gfile.makedirs(output_dir)
        paths = (os.path.join(output_dir, f"{stem}.md"), os.path.join(output_dir, f"{stem}.html"))
        for path, text in zip(paths, (self.markdown(), self.html())):
            with tf.io.gfile.GFile(path, "w") as card_file:
                card_file.write(text)
        return paths
