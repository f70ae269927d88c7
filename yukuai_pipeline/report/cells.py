"""Writing the report's cells: the cell kinds (text, integer, yes/no, number formats), the fills and borders, and
the only ways a value reaches a cell — `put_text` (input text always a literal string, never a formula), `put_value`,
a whole table with its header (`write_table`) and a merged line of prose (`put_line`).
"""

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.workbook import Workbook
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
HEADER_FONT = Font(bold=True)
HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
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
    text, quoted = literal_text(value)
    cell.value = text
    cell.data_type = "s"
    if quoted:
        cell.quotePrefix = True


def literal_text(value: object) -> tuple[str, bool]:
    """The text a value is written as (a list joined with 、, without XML's forbidden control characters, cut to a
    cell's limit) and whether it needs the quote prefix."""
    text = "、".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]  # control characters are invalid in XML
    return text, text.lstrip(" ").startswith(FORMULA_TRIGGERS) or text.startswith(("\t", "\r"))


def put_value(cell: Cell, value: Any, kind: str) -> None:
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
        cell.number_format = THOUSANDS if kind == INT else kind


def is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays are values, not missing
        return False


# A table cell as written: its value, openpyxl's data type, and its look (number format, text, quoted text or
# nothing), which with the row's fill decides its style.
_Written = tuple[Any, str, str | None]
_EMPTY: _Written = (None, "n", None)
_QUOTED, _HEADER = "quoted", "header"


def write_table(ws: Worksheet, top: int, columns: list[tuple[str, str, str]], frame: pd.DataFrame) -> int:
    """Header row at `top`, one row per frame row below it; returns the last row written. Rows whose status has
    a fill (滞后, 严重滞后, 不完整, 有误) are highlighted across the table; every cell of the table has a border."""
    styles = _TABLE_STYLES.setdefault(ws.parent, {})
    for col, (header, _, _) in enumerate(columns, start=1):
        cell = ws.cell(top, col)
        put_text(cell, header)
        if (_HEADER, None) not in styles:
            cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, HEADER_ALIGNMENT
            styles[(_HEADER, None)] = StyleArray(cell._style)
        cell._style = StyleArray(styles[(_HEADER, None)])
    if frame.empty:
        return top
    # A city's sheets hold a million cells. Each column is converted once, and each cell is made directly with a
    # copy of the style its look and fill share: openpyxl's value and style setters check, hash and look up every
    # cell again (most of a big sheet's time before).
    statuses = frame["status"].tolist() if "status" in frame.columns else [None] * len(frame)
    fills = [status if isinstance(status, str) and status in FILLS else None for status in statuses]
    written = [_written_column(frame, key, kind) for _, key, kind in columns]
    cells = ws._cells
    for row, (fill, *values) in enumerate(zip(fills, *written), start=top + 1):
        for col, (value, data_type, look) in enumerate(values, start=1):
            cell = Cell(ws, row=row, column=col)
            cell._value, cell.data_type = value, data_type
            style = styles.get((look, fill))
            if style is None:  # the first such cell sets the style the ordinary way, so the workbook registers it
                style = styles[(look, fill)] = _first_style(cell, look, fill)
            cell._style = StyleArray(style)  # a copy: a later change to one cell's style must not reach the others
            cells[(row, col)] = cell
    return top + len(frame)


# each workbook's table cell styles by look and fill (the ids inside a style array are the workbook's own)
_TABLE_STYLES: "WeakKeyDictionary[Workbook, dict[tuple[str | None, str | None], StyleArray]]" = WeakKeyDictionary()


def _written_column(frame: pd.DataFrame, key: str, kind: str) -> list[_Written]:
    """What put_value would write for each value of the column (every cell empty when the frame lacks it)."""
    if key not in frame.columns:
        return [_EMPTY] * len(frame)
    column = frame[key]
    texts: dict[str, _Written] = {}  # a column repeats its names and statuses
    written = []
    for value, missing in zip(column.tolist(), column.isna().tolist()):
        if missing is True:
            written.append(_EMPTY)
        elif isinstance(value, str):
            if value not in texts:
                texts[value] = _written_text(value)
            written.append(texts[value])
        elif kind == TEXT:
            written.append(_written_text(value))
        elif kind == YES_NO:
            written.append(_written_text("是" if bool(value) else "否"))
        elif kind == SERIAL:
            written.append((int(value), "n", SERIAL))
        elif kind == INT:
            written.append((int(value), "n", THOUSANDS))
        elif kind == DATE:
            written.append((pd.Timestamp(value).date(), "d", DATE))
        else:
            written.append((float(value), "n", kind))
    return written


def _written_text(value: object) -> _Written:
    text, quoted = literal_text(value)
    return text, "s", _QUOTED if quoted else TEXT


def _first_style(cell: Cell, look: str | None, fill: str | None) -> StyleArray:
    if look == _QUOTED:
        cell.quotePrefix = True
    elif look not in (None, TEXT, SERIAL):
        cell.number_format = look
    cell.border = BORDER
    if fill:
        cell.fill = FILLS[fill]
    return StyleArray(cell._style)


def put_line(
    ws: Worksheet, row: int, text: str, width: int, bold: bool = False, size: int = 11, first: int = 1, **align: Any
) -> None:
    """A line of prose merged across the table (title, legend, notes), or across columns first..width; `align`
    overrides the alignment (horizontal=, wrap_text=)."""
    cell = ws.cell(row, first)
    put_text(cell, text)
    where = {"horizontal": "left" if not bold else "center", "vertical": "center", **align}

    def line_style(cell: Cell) -> None:
        cell.font, cell.alignment = Font(bold=bold, size=size), Alignment(**where)

    restyle(cell, ("line", bold, size, tuple(sorted(where.items()))), line_style)
    if width > first:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=width)


def restyle(cell: Cell, change: tuple[object, ...], apply: Callable[[Cell], None]) -> None:
    """`apply(cell)`, which sets styles the ordinary way, named by `change`: a cell of the same style before gets a
    copy of the style it gave the first (openpyxl hashes and looks up every style object it is given, and a city's
    thousand returns set the same few again and again)."""
    done = _RESTYLED.setdefault(cell.parent.parent, {})
    key = (tuple(cell._style) if cell._style is not None else None, change)
    if key in done:
        cell._style = StyleArray(done[key])
        return
    apply(cell)
    done[key] = StyleArray(cell._style)


_RESTYLED: "WeakKeyDictionary[Workbook, dict[tuple[object, ...], StyleArray]]" = WeakKeyDictionary()
