"""File -> raw cells: .xlsx/.xls through calamine, .csv in any of the encodings Chinese exports use.

The file's real format is sniffed from its bytes, not trusted from its extension. Cells come back untyped (a
DataFrame whose index is the file's 0-based row): a column of text only as Arrow text, any other column as the
Python cells it holds, so header finding and parsing stay format-free.

Reading is bounded (intake/limits/): a file's size and shape are checked against the YUKUAI_MAX_* limits before it
is parsed, and whatever goes wrong inside reading a file ends as an InputFileError, never as a crash.
"""

import codecs
import csv
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import pandas as pd
from python_calamine import CalamineSheet, CalamineWorkbook

from yukuai_pipeline.gc_paused import gc_paused
from yukuai_pipeline.intake.arrow_csv import read_csv_arrow
from yukuai_pipeline.intake.limits import (
    CsvRecordGuard,
    TooLarge,
    check_csv,
    check_file_size,
    check_loaded_sheet,
    check_workbook,
)
from yukuai_pipeline.intake.text_parsing import as_arrow_text, text_or_none
from yukuai_pipeline.settings import InputLimits, input_limits

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_MARKUP = re.compile(rb"(\xef\xbb\xbf)?\s*<(!doctype\s+html|html|table|\?xml|meta|head|body)", re.IGNORECASE)
_SAMPLE_BYTES = 256 * 1024
SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")
_SHEETS: OrderedDict[tuple[str, int, int], list[tuple[str, CalamineSheet]]] = OrderedDict()
_SHEETS_KEPT = 2


class InputFileError(Exception):
    """A whole file cannot be used. The message names the file, what is wrong and how to fix it."""

    # set by identification when the file looks like an export of that kind but is broken (not a stray file)
    likely_kind: str | None = None

    def __init__(self, file_name: str, problem: str, fix: str, message: str | None = None):
        self.file_name, self.problem, self.fix = file_name, problem, fix
        super().__init__(message or f"文件《{file_name}》无法使用：{problem}。处理办法：{fix}")

    @classmethod
    def from_message(cls, file_name: str, message: str) -> "InputFileError":
        """The same refusal, as recorded earlier in the ingest log."""
        return cls(file_name, message, "", message=message)


@dataclass
class RawSheet:
    name: str
    # untyped cells, no header; index = 0-based record of the file (Excel row = index + 1). Object cells, or text
    # columns stored in Arrow for a CSV that pyarrow's reader could take (arrow_csv.py).
    cells: pd.DataFrame
    encoding: str | None = None


def read_raw(path: Path, nrows: int | None = None) -> list[RawSheet]:
    """Every sheet of the file (one for a CSV); nrows limits the rows read, for cheap classification."""
    path = Path(path)
    limits = input_limits()  # outside the file's try: a bad YUKUAI_MAX_* is the configuration's fault, not the file's
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
            size = os.fstat(fh.fileno()).st_size
    except OSError as err:
        raise InputFileError(path.name, f"读取失败（{err.strerror}）", "确认文件存在且有读取权限") from err
    if not head:
        raise InputFileError(path.name, "文件为空（0 字节）", "从平台重新导出该文件")
    try:
        check_file_size(size, limits)
        if head.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
            return _read_workbook(path, nrows, head, limits)
        if _MARKUP.match(head):
            raise InputFileError(
                path.name,
                "这是网页（HTML）或 XML 格式的表格，不是真正的 Excel 或 CSV 文件",
                "在 Excel 中打开它，“另存为” Excel 工作簿（.xlsx）后再放入",
            )
        return [_read_csv(path, nrows, limits)]
    except InputFileError:
        raise
    except TooLarge as err:
        raise InputFileError(path.name, err.problem, err.fix) from err
    except MemoryError as err:
        raise InputFileError(
            path.name, "读取时内存不足", "从平台按乡镇或日期分批导出后再放入，或在内存更大的机器上运行"
        ) from err
    except Exception as err:  # whatever breaks inside reading one file is that file's problem
        raise InputFileError(
            path.name, f"读取时出错（{type(err).__name__}）", "从平台重新导出，或在 Excel 中打开后另存为 .xlsx 再放入"
        ) from err


def _read_workbook(path: Path, nrows: int | None, head: bytes, limits: InputLimits) -> list[RawSheet]:
    try:
        sheets = _loaded_sheets(path, head, limits)
        with gc_paused():  # calamine's rows cannot form a reference cycle
            return [
                RawSheet(name=name, cells=_frame(sheet.to_python(skip_empty_area=False, nrows=nrows)))
                for name, sheet in sheets
            ]
    except (TooLarge, MemoryError):
        raise
    except Exception as err:  # calamine raises several unrelated types for broken files
        raise _unusable_workbook(path, err, head.startswith(_OLE_MAGIC)) from err
    except BaseException as err:  # a Rust panic inside calamine reaches Python as pyo3's PanicException
        if type(err).__name__ != "PanicException":
            raise
        raise _unusable_workbook(path, err, head.startswith(_OLE_MAGIC)) from err


def _unusable_workbook(path: Path, err: BaseException, encrypted_possible: bool) -> InputFileError:
    if (
        "password" in str(err).lower()
        or "encrypt" in str(err).lower()
        or (encrypted_possible and (path.suffix.lower() in (".xlsx", ".xlsm") or _holds_encrypted_package(path)))
    ):
        return InputFileError(path.name, "工作簿已加密或受密码保护", "在 Excel 中取消密码后另存为 .xlsx 再放入")
    return InputFileError(
        path.name,
        f"Excel 文件已损坏或格式不对（{type(err).__name__}）",
        "从平台重新导出，或在 Excel 中打开后另存为 .xlsx",
    )


def _loaded_sheets(path: Path, head: bytes, limits: InputLimits) -> list[tuple[str, CalamineSheet]]:
    """calamine parses a whole sheet even for its first rows, so the sheets identification loaded are kept for the
    full read that follows (the last few workbooks, by path, size and modification time). Before calamine sees the
    file, its sheets' real extents are checked against the limits (intake.limits.check_workbook)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _SHEETS:
        _SHEETS.move_to_end(key)
        return _SHEETS[key]
    check_workbook(path, head, limits)
    with open(path, "rb") as fh:  # by content: an .xls named .xlsx (or the reverse) opens all the same
        workbook = CalamineWorkbook.from_filelike(fh)
        sheets = []
        for name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(name)
            check_loaded_sheet(name, sheet.end, limits)  # calamine's own extent, before it is padded to A1
            sheets.append((name, sheet))
    _SHEETS[key] = sheets
    while len(_SHEETS) > _SHEETS_KEPT:
        _SHEETS.popitem(last=False)
    return sheets


def _holds_encrypted_package(path: Path) -> bool:
    """A password-protected .xlsx is an OLE file holding an "EncryptedPackage" stream, whatever its name."""
    with open(path, "rb") as fh:
        return _ENCRYPTED_PACKAGE in fh.read(64 * 1024 * 1024)


def _frame(rows: list[list[Any]]) -> pd.DataFrame:
    """Rows of cells as columns. A column of text only is stored in Arrow (as a CSV read by pyarrow is), so that
    its checks run in C++; a column holding numbers, dates or booleans stays object, its cells as they are."""
    widths = set(map(len, rows))
    width = max(widths, default=0)
    if len(widths) > 1:  # ragged rows (a CSV's): padded; a sheet's rows all come as wide as its used range
        rows = [list(r) + [None] * (width - len(r)) for r in rows]
    return pd.DataFrame({i: _column(list(map(itemgetter(i), rows))) for i in range(width)}, columns=range(width))


def _column(cells: list[Any]) -> pd.Series:
    text = text_or_none(cells)  # straight from the list: no object column built first
    return pd.Series(cells, dtype="object") if text is None else text


def detect_encoding(sample: bytes) -> str:
    """BOM first; then UTF-16 by its zero bytes; then strict UTF-8 (an incomplete last character is fine); then
    GB18030, a superset of GBK."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    window = sample[:4096]  # UTF-16 without BOM: ASCII digits and commas leave zero bytes on one side only
    odd, even = window[1::2].count(0), window[0::2].count(0)
    if odd > len(window) // 20 and even < odd // 4:
        return "utf-16-le"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _read_csv(path: Path, nrows: int | None, limits: InputLimits) -> RawSheet:
    with open(path, "rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        size = os.fstat(fh.fileno()).st_size
    encoding = detect_encoding(sample)
    text_sample = sample.decode(encoding, errors="ignore").replace("\x00", "")
    lines = text_sample.splitlines()[:200]
    delimiter = _sniff_delimiter(lines)
    width = max((len(r) for r in csv.reader(lines, delimiter=delimiter)), default=1)
    check_csv(path, size, sample, encoding, width, len(lines) > 1 or size <= len(sample), limits)
    if nrows is None and b"\x00" not in sample:
        cells = read_csv_arrow(path, encoding, delimiter, width, text_sample)
        if cells is not None:
            return RawSheet(name="", cells=cells, encoding=encoding)
    # object, not str: the cells are the same Python strings, without a second copy of every column
    options = {
        "header": None,
        "dtype": object,
        "na_filter": False,
        "skip_blank_lines": False,
        "sep": delimiter,
        "encoding": encoding,
        "encoding_errors": "replace",
        "nrows": nrows,
        "quotechar": '"',
    }
    try:
        cells = pd.read_csv(path, names=range(width), engine="c", **options)
    except (pd.errors.ParserError, ValueError):
        # A later row wider than the first 200 (or NUL bytes): the slower reader copes with ragged rows.
        cells = _read_ragged_csv(path, encoding, delimiter, nrows, limits)
    cells = cells.astype("object")
    if sample.count(b"\x00") and not encoding.startswith("utf-16"):
        cells = cells.map(lambda v: v.replace("\x00", "") if isinstance(v, str) else v)
    return RawSheet(name="", cells=cells.apply(as_arrow_text), encoding=encoding)


def _sniff_delimiter(lines: list[str]) -> str:
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    return max(counts, key=counts.__getitem__) if any(counts.values()) else ","


def _read_ragged_csv(path: Path, encoding: str, delimiter: str, nrows: int | None, limits: InputLimits) -> pd.DataFrame:
    csv.field_size_limit(1 << 30)
    guard = CsvRecordGuard(limits)  # a record far wider than the sniffed ones is refused as it is read
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader((line.replace("\x00", "") for line in fh), delimiter=delimiter)
        rows = []
        for i, row in enumerate(reader):
            if nrows is not None and i >= nrows:
                break
            guard.add(len(row))
            rows.append(row)
    return _frame(rows).fillna("")
