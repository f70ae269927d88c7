"""Bounded reading: a landed file's size and shape, checked against InputLimits before any parser allocates for it.

calamine builds a sheet as one block of rows × columns between its outermost non-empty cells, and
`to_python(skip_empty_area=False)` pads that block to A1: a 1.7 KB .xlsx with one cell at XFD1048576 asks for
~512 GiB and the process dies on an allocation failure (SIGABRT), with no message. The `<dimension>` tag may be
missing or lie, so the real extent of the cells is measured, format by format:

* refusals.py: what every format shares: TooLarge and Unreadable, a sheet's extent (SheetExtent) and its check
  against the column, row and cell limits, the file size, and the wording of a refusal's fix.
* .xlsx/.xlsm: xlsx_container.py (the zip directory, the sheets workbook.xml lists, the shared strings' claim),
  xlsx_parts.py (every part inflated once, in a thread, its real size counted), xlsx_cells.py (each part scanned
  for its cell references: one RE2 pass per chunk for a regular part, tag by tag for any other).
* .xls: xls_records.py (the OLE container's Workbook stream and its BIFF records, as calamine walks them).
* CSV: csv_records.py (the widest sniffed record, the records estimated from the size, and the guard the
  record-by-record reader calls for every record).

A file past a limit raises TooLarge (problem, fix: readers.py makes it an InputFileError). A container too broken
to measure raises Unreadable, which the reader reports as the corrupt (or encrypted) workbook it is. This module
holds the entry points the readers call.
"""

from pathlib import Path

from yukuai_pipeline.intake.limits.csv_records import CsvRecordGuard, check_csv, estimate_records
from yukuai_pipeline.intake.limits.refusals import (
    EXCEL_ROWS,
    SheetExtent,
    TooLarge,
    Unreadable,
    check_extent,
    check_file_size,
    check_loaded_sheet,
    column_letters,
)
from yukuai_pipeline.intake.limits.xls_records import check_xls
from yukuai_pipeline.intake.limits.xlsx_container import check_xlsx
from yukuai_pipeline.settings import InputLimits

__all__ = [
    "EXCEL_ROWS",
    "CsvRecordGuard",
    "SheetExtent",
    "TooLarge",
    "Unreadable",
    "check_csv",
    "check_extent",
    "check_file_size",
    "check_loaded_sheet",
    "check_workbook",
    "check_xls",
    "check_xlsx",
    "column_letters",
    "estimate_records",
]


def check_workbook(path: Path, head: bytes, limits: InputLimits) -> list[SheetExtent]:
    """An .xlsx/.xlsm (zip) or .xls (OLE) file's extents, each within the limits; raises TooLarge or Unreadable."""
    if head.startswith(b"PK\x03\x04"):
        return check_xlsx(path, limits)
    return check_xls(path, limits)
