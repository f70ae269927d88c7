"""Each sheet made ready to print and read: frozen header rows, A4 landscape one page wide with the header rows
repeated, the snapshot date and page numbers in the header and footer, and column widths from the longest value
(CJK characters counting double, long text wrapped). Sheet 1, the notice table, gets fixed widths and row heights and
the largest scale at which its table fits one page, but never below legible (`notice_page`).
"""

import datetime as dt
import math
import unicodedata
from functools import lru_cache

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.report.cells import restyle

MAX_WIDTH = 40  # characters; CJK count double
# A4 landscape in points; the notice's margins in inches (narrow, so 40 rows fit at a legible scale)
PAGE_WIDTH_PT, PAGE_HEIGHT_PT = 841.9, 595.3
NOTICE_MARGINS = PageMargins(left=0.5, right=0.5, top=0.5, bottom=0.5, header=0.2, footer=0.2)
PAGE_SLACK_PT = 6  # LibreOffice lays rows out in whole twips and mm: a table computed to the point may spill
CELL_FONT_PT, MIN_PRINTED_PT = 11, 9
# 83 %: 11 pt cells print at 9 pt or more; one point above the bare 82 %, where LibreOffice rounds the header and
# footer text down to 8.995 pt
MIN_SCALE = math.ceil(100 * MIN_PRINTED_PT / CELL_FONT_PT) + 1
ROW_PT, TITLE_PT, HEADER_PT = 13.5, 22.0, 18.0


def print_ready(
    ws: Worksheet, as_of: dt.date, header_row: int, freeze: str | None, title_rows: str | None = None
) -> None:
    """A4 landscape, one page wide, header rows repeated, snapshot date and page numbers in header/footer."""
    if freeze:
        ws.freeze_panes = freeze
        ws.print_title_rows = title_rows or f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0  # 0: as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddHeader.left.text = "&A"  # the sheet name
    ws.oddHeader.right.text = f"统计截止：{as_of.isoformat()}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    _fit_columns(ws)


def _fit_columns(ws: Worksheet) -> None:
    """Column widths from the longest value; CJK characters count double. Merged prose lines are ignored."""
    widths: dict[int, int] = {}
    # the cells of merged ranges, listed once (asking the ranges for every cell parses its coordinate each time)
    merged = {(r, c) for rng in ws.merged_cells.ranges for r, c in rng.cells}
    # the sheet's own store of written cells: iter_rows would make a cell for every empty position of a city's
    # million-cell sheet and look each one up
    long = []
    for position, cell in ws._cells.items():
        value = cell._value
        if value is None or position in merged:
            continue
        width = _text_width(value) if value.__class__ is str else _display_width(value)
        column = position[1]
        if width > widths.get(column, 0):
            widths[column] = width
        if width > MAX_WIDTH:
            long.append(position)
    for row, column in sorted(long):  # row by row, as styles are numbered in the order they are first used
        restyle(ws._cells[(row, column)], ("wrapped",), _wrapped)  # long messages wrap instead of widening the page
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 6), MAX_WIDTH)


def _wrapped(cell: Cell) -> None:
    cell.alignment = Alignment(horizontal=cell.alignment.horizontal, vertical="top", wrap_text=True)


def _display_width(value: object) -> int:
    if isinstance(value, (dt.date, dt.datetime)):
        return 10
    if isinstance(value, (int, float)):
        return len(f"{value:,.2f}") if isinstance(value, float) else len(f"{value:,}")
    return _text_width(str(value))


def notice_page(ws: Worksheet, widths: list[int], header_row: int, table_end: int) -> int:
    """Sheet 1 on paper: fixed column widths (characters) and row heights, wrapped prose rows as tall as their lines,
    and an explicit scale (fit-to-page would shrink a long sheet below legible): the largest, at most 100 %, at which
    the whole sheet fits one A4 landscape page, else at which the table (rows 1..table_end) does, with the notes
    broken onto the next page; never below MIN_SCALE, where a longer table repeats its header row. Returns it."""
    for col, chars in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = chars
    for row in range(1, ws.max_row + 1):
        ws.row_dimensions[row].height = TITLE_PT if row == 1 else HEADER_PT if row == header_row else ROW_PT
        if row > table_end:
            wrap_prose(ws, row, sum(widths))
    ws.page_margins = margins = NOTICE_MARGINS
    usable_height = PAGE_HEIGHT_PT - 72 * (margins.top + margins.bottom) - PAGE_SLACK_PT
    width = math.fsum(_width_pt(w) for w in widths)
    widest = 100 * (PAGE_WIDTH_PT - 72 * (margins.left + margins.right)) / width

    def fitting(last: int) -> int:  # the scale at which rows 1..last fit one page
        height = math.fsum(float(ws.row_dimensions[r].height or ROW_PT) for r in range(1, last + 1))
        return int(min(100, widest, 100 * usable_height / height))

    scale = fitting(ws.max_row)
    if scale < MIN_SCALE:
        scale = max(MIN_SCALE, fitting(table_end))
        if fitting(table_end) >= MIN_SCALE:  # the table on one page, the notes whole on the next
            ws.row_breaks.append(Break(id=table_end))
        else:
            ws.print_title_rows = f"{header_row}:{header_row}"
    ws.sheet_properties.pageSetUpPr.fitToPage = False  # else Excel ignores the scale
    ws.page_setup.scale = scale
    return scale


def wrap_prose(ws: Worksheet, row: int, chars: float) -> None:
    """A merged prose line (note, legend) wrapped and as tall as its lines across `chars` characters of columns:
    neither Excel nor LibreOffice grows a merged row by itself."""
    cell = ws.cell(row, 1)
    if not isinstance(cell.value, str):
        return
    cell.alignment = Alignment(horizontal=cell.alignment.horizontal, vertical="center", wrap_text=True)
    # a CJK character is about 2.1 characters of width; 10 % slack so a full line never spills into a hidden one
    lines = math.ceil(_text_width(cell.value) * 1.1 / max(chars - 2, 1))
    ws.row_dimensions[row].height = ROW_PT * max(lines, 1)


def _width_pt(chars: float) -> float:
    """Excel's column width in characters to points: 7 px per character of the default 11 pt font, 5 px padding."""
    return (chars * 7 + 5) * 0.75


@lru_cache(maxsize=65_536)
def _text_width(text: str) -> int:
    """Cached: a report repeats the same names and words in thousands of cells (a city's 1,000 township returns
    spent a fifth of their time here)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
