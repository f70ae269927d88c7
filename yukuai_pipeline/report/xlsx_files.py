"""Excel files whose bytes depend on their content only: the same rows give the same file, today and next year.

Two writers, used by the report, the demo's synthetic exports and the benchmarks:

* stable_workbook_bytes / save_stable_workbook: an openpyxl Workbook re-zipped with fixed entry times and modes.
  Workbook.save stamps the document's "modified" date with the clock and zipfile stamps every entry with the time of
  writing (and the temporary file's mode), so the writer behind Workbook.save is called directly and its zip rewritten.
* write_streamed_xlsx: rows written straight into a bare package with inline strings, as platform exporters do
  (POI SXSSF, EasyExcel). openpyxl serialised ~40,000 cells a second without lxml (present since python-docx came),
  10 s for one 46,000-user export; this takes a fraction of a second, and calamine and openpyxl read it like any xlsx.

Nothing here knows about Dagster, the campaign or the demo.
"""

import datetime as dt
import io
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

import numpy as np
from openpyxl import Workbook
from openpyxl.utils import get_column_letter as column_letter  # 1 -> A, 26 -> Z, 27 -> AA
from openpyxl.writer.excel import ExcelWriter

__all__ = [
    "FIXED_TIMESTAMP",
    "column_letter",
    "save_stable_workbook",
    "stable_workbook_bytes",
    "stable_zip_bytes",
    "write_stable_zip",
    "write_streamed_xlsx",
]

# The time written when the caller has none of its own. Any fixed instant would do; this one (8 o'clock on the notice's
# baseline day) is the one the demo and the benchmark files have always carried, so they keep their bytes.
FIXED_TIMESTAMP = dt.datetime(2023, 2, 17, 8, 0, 0)


# --------------------------------------------------------------------------------------------------------------
# Fixed-time zips and workbooks
# --------------------------------------------------------------------------------------------------------------


def stable_zip_bytes(parts: Mapping[str, bytes], when: dt.date = FIXED_TIMESTAMP) -> bytes:
    """A deflated zip of `parts` (entry name -> bytes, in this order), every entry dated `when` with mode 0640."""
    buffer = io.BytesIO()
    _write_zip(buffer, parts, when)
    return buffer.getvalue()


def write_stable_zip(path: Path, parts: Mapping[str, bytes], when: dt.date = FIXED_TIMESTAMP) -> None:
    """stable_zip_bytes written to `path`."""
    with open(path, "wb") as out:
        _write_zip(out, parts, when)


def stable_workbook_bytes(wb: Workbook, when: dt.date) -> bytes:
    """The workbook's .xlsx bytes with every zip entry dated `when` (its document properties as the caller set them)."""
    return stable_zip_bytes(_workbook_parts(wb), when)


def save_stable_workbook(wb: Workbook, path: Path, when: dt.datetime = FIXED_TIMESTAMP) -> None:
    """Save with the document's created and modified dates and every zip entry dated `when`."""
    wb.properties.created = wb.properties.modified = when
    write_stable_zip(path, _workbook_parts(wb), when)


def _workbook_parts(wb: Workbook) -> dict[str, bytes]:
    buffer = io.BytesIO()  # stored, not compressed: the parts are compressed once, when the dated zip is written
    ExcelWriter(wb, zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED)).save()
    with zipfile.ZipFile(buffer) as saved:
        return {name: saved.read(name) for name in saved.namelist()}


def _write_zip(out: BinaryIO, parts: Mapping[str, bytes], when: dt.date) -> None:
    date_time = _zip_date_time(when)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            entry = zipfile.ZipInfo(name, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o640 << 16  # unpacked files as private as the outputs (0640)
            archive.writestr(entry, data)


def _zip_date_time(when: dt.date) -> tuple[int, int, int, int, int, int]:
    """A datetime to the second, a date at midnight; zip cannot date anything before 1980."""
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time())
    return (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)


# --------------------------------------------------------------------------------------------------------------
# Streamed xlsx, as the platform's exporter writes it
# --------------------------------------------------------------------------------------------------------------

_SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIP_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = _XML_DECLARATION + (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_PACKAGE_RELS = _XML_DECLARATION + (
    f'<Relationships xmlns="{_PACKAGE_RELATIONSHIP_NS}">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIP_NS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = _XML_DECLARATION + (
    f'<Relationships xmlns="{_PACKAGE_RELATIONSHIP_NS}">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIP_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_RELATIONSHIP_NS}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = _XML_DECLARATION + (
    f'<styleSheet xmlns="{_SPREADSHEET_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def write_streamed_xlsx(
    path: Path,
    sheet_name: str,
    rows: Sequence[Sequence[object]],
    merged: Sequence[str] = (),
    when: dt.date = FIXED_TIMESTAMP,
) -> None:
    """One sheet of `rows`: an int (Python or numpy) is a number, None an absent cell, anything else text (inline
    strings, so a value like "=SUM(A1)" stays text); `merged` holds ranges such as "A1:H1"."""
    workbook = _XML_DECLARATION + (
        f'<workbook xmlns="{_SPREADSHEET_NS}" xmlns:r="{_RELATIONSHIP_NS}">'
        f'<sheets><sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    write_stable_zip(
        Path(path),
        {
            "[Content_Types].xml": _CONTENT_TYPES.encode(),
            "_rels/.rels": _PACKAGE_RELS.encode(),
            "xl/workbook.xml": workbook.encode(),
            "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.encode(),
            "xl/styles.xml": _STYLES.encode(),
            "xl/worksheets/sheet1.xml": _sheet_xml(rows, merged).encode(),
        },
        when,
    )


def _sheet_xml(rows: Sequence[Sequence[object]], merged: Sequence[str]) -> str:
    letters = [column_letter(c) for c in range(1, max(map(len, rows)) + 1)]
    parts = [_XML_DECLARATION, f'<worksheet xmlns="{_SPREADSHEET_NS}"><sheetData>']
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell_xml(f"{letter}{r}", value) for letter, value in zip(letters, row) if value is not None)
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData>")
    if merged:
        parts.append(
            f'<mergeCells count="{len(merged)}">'
            + "".join(f'<mergeCell ref="{ref}"/>' for ref in merged)
            + "</mergeCells>"
        )
    parts.append("</worksheet>")
    return "".join(parts)


def _cell_xml(ref: str, value: object) -> str:
    if isinstance(value, (int, np.integer)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def write_atomically(payload: bytes, path: Path) -> Path:
    """`payload` put at `path` by a rename, so readers never see a half-written file. The file is private to its
    owner (mkstemp); the caller widens it to the configured mode."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=path.suffix + ".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
