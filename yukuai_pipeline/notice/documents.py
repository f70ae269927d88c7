"""A notice as text lines and tables, whatever it was saved as.

- .docx: the paragraphs and the tables of word/document.xml (a merged cell keeps its place by gridSpan).
- .txt: a notice copied or saved from Word: each table cell on a line of its own starting with a tab, rows
  separated by an empty line; or a table of tab-separated lines. Everything else is text.
- .xlsx/.xls/.csv (the attachment alone): each sheet is a table; the rows above it with one filled cell are text.
"""

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd

from yukuai_pipeline.intake.readers import InputFileError, detect_encoding, read_raw

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TEXT_SUFFIXES = (".txt", ".text")
WORD_SUFFIXES = (".docx",)
SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
_MAX_BYTES = 64 * 1024 * 1024  # a notice is a few pages; anything this big is not one


@dataclass
class Document:
    name: str
    lines: list[str] = field(default_factory=list)  # the text outside the tables, in reading order
    tables: list[pd.DataFrame] = field(default_factory=list)  # untyped cells as text, no header, 0-based rows


def read_document(path: Path) -> Document:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES + WORD_SUFFIXES + SHEET_SUFFIXES:
        raise InputFileError(
            path.name,
            f"不认识的通知文件类型“{suffix or '无扩展名'}”",
            "提供通知的 Word 文件（.docx）、文本（.txt），或附件表格（.xlsx、.xls、.csv）；旧版 .doc 请先另存为 .docx",
        )
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InputFileError(path.name, f"读取失败（{err.strerror}）", "确认文件存在且有读取权限") from err
    if size > _MAX_BYTES:
        raise InputFileError(path.name, "文件过大，不像一份通知", "只提供通知本身或它的附件表格")
    if suffix in WORD_SUFFIXES:
        return _read_docx(path)
    if suffix in TEXT_SUFFIXES:
        raw = path.read_bytes()
        return read_text(path.name, raw.decode(detect_encoding(raw[:65536]), errors="replace"))
    return _read_sheets(path)


def read_text(name: str, text: str) -> Document:
    """Cell-per-line tables (Word's own text export) and tab-separated tables; the rest are lines of text."""
    doc = Document(name)
    rows: list[list[str]] = []
    cells: list[str] | None = None

    def end_row() -> None:
        nonlocal cells
        if cells is not None:
            rows.append(cells)
        cells = None

    def end_table() -> None:
        end_row()
        if rows:
            doc.tables.append(_grid(rows))
            rows.clear()

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.startswith("\t") and "\t" not in line[1:]:  # one cell of a Word table
            cells = [] if cells is None else cells
            cells.append(line[1:].strip())
        elif not line.strip():  # the empty line between two rows of cells
            end_row()
        elif line.count("\t") >= 2:  # a row of tab-separated cells
            end_row()
            rows.append([c.strip() for c in line.split("\t")])
        else:
            end_table()
            doc.lines.append(line.strip())
    end_table()
    return doc


def _grid(rows: list[list[str]]) -> pd.DataFrame:
    width = max(map(len, rows))
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype="object")


def _read_docx(path: Path) -> Document:
    try:
        with zipfile.ZipFile(path) as package:
            info = package.getinfo("word/document.xml")
            if info.file_size > _MAX_BYTES:
                raise InputFileError(path.name, "文档正文过大，不像一份通知", "只提供通知本身或它的附件表格")
            body = ElementTree.fromstring(package.read(info)).find(f"{_W}body")
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as err:
        raise InputFileError(
            path.name, "不是可读的 Word 文档（.docx）", "在 Word 或 WPS 中打开后另存为 .docx 再导入"
        ) from err
    doc = Document(path.name)
    for element in [] if body is None else list(body):
        if element.tag == f"{_W}p":
            text = _paragraph_text(element)
            if text.strip():
                doc.lines.append(text.strip())
        elif element.tag == f"{_W}tbl":
            rows = [_row_cells(tr) for tr in element.iter(f"{_W}tr")]
            if rows:
                doc.tables.append(_grid(rows))
    return doc


def _paragraph_text(paragraph: ElementTree.Element) -> str:
    return "".join(t.text or "" for t in paragraph.iter(f"{_W}t"))


def _row_cells(row: ElementTree.Element) -> list[str]:
    cells: list[str] = []
    for cell in row.findall(f"{_W}tc"):
        text = "".join(_paragraph_text(p) for p in cell.findall(f"{_W}p")).strip()
        span = cell.find(f"{_W}tcPr/{_W}gridSpan")
        width = int(span.get(f"{_W}val", "1")) if span is not None else 1
        cells += [text] + [""] * (max(width, 1) - 1)
    return cells


_ONE_CELL = re.compile(r"\S")


def _read_sheets(path: Path) -> Document:
    doc = Document(path.name)
    for sheet in read_raw(path):
        cells = sheet.cells.astype("object").where(sheet.cells.notna(), "")
        cells = cells.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip())
        for row in cells.itertuples(index=False):
            filled = [c for c in row if _ONE_CELL.search(c)]
            if len(filled) == 1:
                doc.lines.append(filled[0])
        doc.tables.append(cells.reset_index(drop=True))
    return doc
