"""Writing the report's cells: the cell kinds (text, integer, yes/no, number formats), the fills and borders, and
the only ways a value reaches a cell — `put_text` (input text always a literal string, never a formula), `put_value`,
a whole table with its header (`write_table`) and a merged line of prose (`put_line`).
"""

from typing import Any

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet.worksheet import Worksheet

# Cell kinds: text, integer (a count, with thousands separators), serial number (序号, 行号: no separator), yes/no,
# or a number format for floats and dates.
TEXT, INT, SERIAL, YES_NO = "text", "int", "serial", "yes_no"
PCT, ONE_DECIMAL, DATE = "0.0%", "0.0", "yyyy-mm-dd"
THOUSANDS = "#,##0"

FILLS = {
    "滞后": PatternFill("solid", fgColor="FCE4D6"),
    "严重滞后": PatternFill("solid", fgColor="FFC7CE"),
    "不完整": PatternFill("solid", fgColor="FCE4D6"),
    "有误": PatternFill("solid", fgColor="FFC7CE"),
}
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
# Excel and LibreOffice treat these first characters as the start of a formula when a cell is typed or imported.
FORMULA_TRIGGERS = ("=", "+", "-", "@")
MAX_CELL_CHARS = 32767


def put_text(cell: Cell, value: object) -> None:
    """The one way text from input reaches a cell: always a literal string. openpyxl turns "=…" into a formula
    (and "#N/A" into an error), so the type is forced back to string; values an editor would read as a formula
    (=, +, -, @, or a leading tab/CR) also get Excel's quote prefix, so they stay text if the cell is edited."""
    if is_missing(value):
        return
    text = "、".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]  # control characters are invalid in XML
    cell.value = text
    cell.data_type = "s"
    if text.lstrip(" ").startswith(FORMULA_TRIGGERS) or text.startswith(("\t", "\r")):
        cell.quotePrefix = True


def put_value(cell: Cell, value: Any, kind: str, style_ids: dict[str, int] | None = None) -> None:
    """`style_ids`: the number formats' ids already in the workbook (`write_table`'s cache)."""
    if is_missing(value):
        return
    if isinstance(value, str) or kind == TEXT:
        put_text(cell, value)
    elif kind == YES_NO:
        put_text(cell, "是" if bool(value) else "否")
    elif kind == SERIAL:
        cell.value = int(value)
    else:
        cell.value = int(value) if kind == INT else pd.Timestamp(value).date() if kind == DATE else float(value)
        number_format = THOUSANDS if kind == INT else kind
        if style_ids is None:
            cell.number_format = number_format
        else:
            _set_style_id(cell, "numFmtId", number_format, style_ids, f"format:{number_format}")


def is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays are values, not missing
        return False


def write_table(ws: Worksheet, top: int, columns: list[tuple[str, str, str]], frame: pd.DataFrame) -> int:
    """Header row at `top`, one row per frame row below it; returns the last row written. Rows whose status has
    a fill (滞后, 严重滞后, 不完整, 有误) are highlighted across the table."""
    for col, (header, _, _) in enumerate(columns, start=1):
        cell = ws.cell(top, col)
        put_text(cell, header)
        cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    # A style set through its descriptor is hashed into the workbook's style table for every cell (most of a big
    # sheet's time); the border, fills and number formats are looked up once and their ids copied to the other cells.
    style_ids: dict[str, int] = {}
    for offset, record in enumerate(frame.to_dict("records"), start=1):
        fill = FILLS.get(record.get("status")) if isinstance(record.get("status"), str) else None
        for col, (_, key, kind) in enumerate(columns, start=1):
            cell = ws.cell(top + offset, col)
            put_value(cell, record.get(key), kind, style_ids)
            _set_style_id(cell, "borderId", BORDER, style_ids, "border")
            if fill:
                _set_style_id(cell, "fillId", fill, style_ids, f"fill:{record.get('status')}")
    return top + len(frame)


def _set_style_id(cell: Cell, field: str, value: Any, known: dict[str, int], key: str) -> None:
    if key in known:
        if not cell._style:  # a cell nothing was written to has no style array yet (openpyxl makes it on first use)
            cell._style = StyleArray()
        setattr(cell._style, field, known[key])
        return
    setattr(cell, _STYLE_ATTRIBUTES[field], value)
    known[key] = getattr(cell._style, field)


_STYLE_ATTRIBUTES = {"borderId": "border", "fillId": "fill", "numFmtId": "number_format"}


def put_line(
    ws: Worksheet, row: int, text: str, width: int, bold: bool = False, size: int = 11, first: int = 1, **align: Any
) -> None:
    """A line of prose merged across the table (title, legend, notes), or across columns first..width; `align`
    overrides the alignment (horizontal=, wrap_text=)."""
    put_text(ws.cell(row, first), text)
    ws.cell(row, first).font = Font(bold=bold, size=size)
    where = {"horizontal": "left" if not bold else "center", "vertical": "center", **align}
    ws.cell(row, first).alignment = Alignment(**where)
    if width > first:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=width)
