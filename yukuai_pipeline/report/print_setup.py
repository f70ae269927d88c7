"""Each sheet made ready to print and read: frozen header rows, A4 landscape one page wide with the header rows
repeated, the snapshot date and page numbers in the header and footer, and column widths from the longest value
(CJK characters counting double, long text wrapped).
"""

import datetime as dt
import unicodedata

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

MAX_WIDTH = 40  # characters; CJK count double


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
    widths: dict[str, int] = {}
    merged = ws.merged_cells
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None or cell.coordinate in merged:
                continue
            width = _display_width(cell)
            widths[cell.column_letter] = max(widths.get(cell.column_letter, 0), width)
            if width > MAX_WIDTH:  # long messages wrap instead of widening the page
                cell.alignment = Alignment(horizontal=cell.alignment.horizontal, vertical="top", wrap_text=True)
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = min(max(width + 2, 6), MAX_WIDTH)


def _display_width(cell: Cell) -> int:
    if isinstance(cell.value, (dt.date, dt.datetime)):
        return 10
    if isinstance(cell.value, float):
        return len(f"{cell.value:,.2f}")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(cell.value))
