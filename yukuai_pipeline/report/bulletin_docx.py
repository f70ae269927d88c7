"""How the bulletin (bulletin.py) is written out: the Jinja2 environment its template renders in, and the rendered
lines laid out as a Word document (python-docx) and as the chat group's plain text. The lines' conventions:

* the first line is the title (centered, bold); the lines right after it, up to the first blank line, are centered
  too (the date line);
* `## ` starts a heading, `- ` a bullet item;
* consecutive lines starting with `|` are one table, the first its header, cells between `|` (a Markdown
  separator row `|---|` is skipped);
* any other line is a paragraph; blank lines only separate.

Same blocks, same bytes: the document's dates are the caller's, and the package is re-zipped with fixed entry times
(python-docx stamps every entry with the clock).
"""

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from yukuai_pipeline.report.cells import is_missing
from yukuai_pipeline.report.xlsx_files import stable_zip_bytes

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # a line break or a character XML cannot hold
TITLE, CENTERED, HEADING, BULLET, PARAGRAPH, TABLE = "title", "centered", "heading", "bullet", "paragraph", "table"


@dataclass(frozen=True)
class Block:
    kind: str
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()  # a table's rows, the header first


def _cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


def _number(value: object) -> float | None:
    return None if is_missing(value) else float(value)  # type: ignore[arg-type]


def _change(value: object) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def template_environment(rate_decimals: int) -> SandboxedEnvironment:
    """Jinja2 for the bulletin template: strict (a misspelt name is an error, not a blank), plain text (no HTML
    escaping), sandboxed, and with the number formats the template uses (its opening comment lists them)."""

    def one_line(value: object) -> object:
        """Every printed value: None as nothing, on one line, its `|` full-width, so that no value can start a
        heading or split a table cell."""
        return "" if value is None else _CONTROL.sub(" ", str(value)).replace("|", "｜")

    def num(value: object) -> str:  # 102,476; a missing number shows as a dash, not as 0
        number = _number(value)
        return "—" if number is None else f"{round(number):,}"

    def pct(value: object) -> str:  # 28.0%
        rate = _number(value)
        return "—" if rate is None else f"{rate * 100:.{rate_decimals}f}%"

    def signed(value: object) -> str:  # 排名变化 in the table: +2 up two places, −1 (a real minus) down one
        change = _change(value)
        return "" if change is None else f"+{change}" if change > 0 else f"−{-change}" if change else "0"

    def rank_move(value: object) -> str:  # the same in words: 上升2位, 下降1位, 持平
        change = _change(value)
        return "" if change is None else f"上升{change}位" if change > 0 else f"下降{-change}位" if change else "持平"

    def cn_date(value: dt.date) -> str:
        return f"{value.year}年{value.month}月{value.day}日"

    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True, finalize=one_line
    )
    env.filters.update(num=num, pct=pct, signed=signed, rank_move=rank_move, cn_date=cn_date)
    return env


def parse_blocks(marked: str) -> list[Block]:
    blocks: list[Block] = []
    rows: list[tuple[str, ...]] = []
    in_header = False
    for raw in marked.splitlines():
        line = raw.rstrip()
        if rows and not line.startswith("|"):
            blocks.append(Block(TABLE, rows=tuple(rows)))
            rows = []
        if not line.strip():
            in_header = False
        elif not blocks and not rows:
            blocks.append(Block(TITLE, line.strip()))
            in_header = True
        elif in_header:
            blocks.append(Block(CENTERED, line.strip()))
        elif line.startswith("|"):
            if not set(line) <= set("|-: "):
                rows.append(_cells(line))
        elif line.startswith("## "):
            blocks.append(Block(HEADING, line[3:].strip()))
        elif line.startswith("- "):
            blocks.append(Block(BULLET, line[2:].strip()))
        else:
            blocks.append(Block(PARAGRAPH, line.strip()))
    if rows:
        blocks.append(Block(TABLE, rows=tuple(rows)))
    return blocks


def plain_text(marked: str) -> str:
    """The chat group's text: headings without `## `, table rows without their outer `|`, one blank line at most."""
    lines: list[str] = []
    for line in marked.splitlines():
        line = line.rstrip()
        heading = line.startswith("## ")
        if heading:
            line = line[3:]
        elif line.startswith("|"):
            if set(line) <= set("|-: "):
                continue  # a Markdown separator row |---|
            line = " | ".join(cell.strip() for cell in line.strip("|").split("|")).strip()
        if heading and lines and lines[-1]:
            lines.append("")  # a heading always stands apart in the chat, whatever the template's blank lines
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip() + "\n"


def _east_asian(element: object, font: str) -> None:
    """Word takes a Chinese text's face from w:eastAsia, which python-docx's font.name does not set."""
    properties = element.get_or_add_rPr()  # type: ignore[attr-defined]
    properties.get_or_add_rFonts().set(qn("w:eastAsia"), font)


def _run(paragraph: Paragraph, text: str, font: str, size: float, bold: bool = False) -> None:
    run = paragraph.add_run(text)
    run.font.name, run.font.size, run.font.bold = font, Pt(size), bold
    run.font.color.rgb = RGBColor(0, 0, 0)  # the Heading styles are blue by default
    _east_asian(run._element, font)


def _repeat_header(table: Table) -> None:
    """A 40-row table runs over a page; its header row is repeated on each."""
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(flag)


def _table(document: WordDocument, rows: tuple[tuple[str, ...], ...], font: str, size: float) -> None:
    width = max(len(row) for row in rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, (row, table_row) in enumerate(zip(rows, table.rows)):
        cells = table_row.cells  # once per row: table.cell(r, c) walks the whole table each time
        for c in range(width):
            paragraph = cells[c].paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(paragraph, row[c] if c < len(row) else "", font, size, bold=r == 0)
    _repeat_header(table)


def docx_bytes(
    blocks: list[Block], fonts: Mapping[str, str], sizes: Mapping[str, float], when: dt.datetime, author: str
) -> bytes:
    """The .docx of `blocks` (fonts and sizes by role: title, heading, body, table), dated `when`."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)  # A4, margins of a 公文 (GB/T 9704)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    body, body_size = fonts["body"], sizes["body"]
    for block in blocks:
        if block.kind == TABLE:
            _table(document, block.rows, fonts["table"], sizes["table"])
            continue
        if block.kind == HEADING:
            paragraph = document.add_heading(level=1)
            _run(paragraph, block.text, fonts["heading"], sizes["heading"])
        elif block.kind == BULLET:
            paragraph = document.add_paragraph(style="List Bullet")
            _run(paragraph, block.text, body, body_size)
        elif block.kind in (TITLE, CENTERED):
            paragraph = document.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if block.kind == TITLE:
                _run(paragraph, block.text, fonts["title"], sizes["title"], bold=True)
            else:
                _run(paragraph, block.text, body, body_size)
        else:
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.first_line_indent = Pt(body_size * 2)  # two characters, as a 公文 paragraph
            _run(paragraph, block.text, body, body_size)
    properties = document.core_properties
    properties.author = properties.last_modified_by = author
    properties.created = properties.modified = when
    properties.title = blocks[0].text if blocks else ""
    properties.comments, properties.revision = "", 1
    saved = io.BytesIO()
    document.save(saved)
    with zipfile.ZipFile(saved) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    return stable_zip_bytes(parts, when)
