"""Bounded reading: a landed file's size and shape, checked against InputLimits before any parser allocates for it.

calamine builds a sheet as one block of rows × columns between its outermost non-empty cells, and
`to_python(skip_empty_area=False)` pads that block to A1: a 1.7 KB .xlsx with one cell at XFD1048576 asks for
~512 GiB and the process dies on an allocation failure (SIGABRT), with no message. The `<dimension>` tag may be
missing or lie, so the real extent of the cells is measured:

* .xlsx/.xlsm: the zip directory (entry count, declared sizes, compression ratio), the sheet count from
  workbook.xml, then every part inflated once (in a thread, while the last chunk is scanned), counting its real
  size, and scanned for its cell references. A regular part (every cell tag written `<c r="A1"…` or, all through,
  `<x:c r="A1"…`, as the writers known do) is checked by one RE2 pass per chunk (pyarrow): "is there anything
  irregular, or a non-empty cell right of the widest column or below the last row seen so far?", which for an export
  written row by row is never true after the header row; only a chunk where it is true is looked at cell by cell.
  Anything else (mixed prefixes, cells without `r`, odd references) is followed tag by tag exactly as calamine places
  cells. Shared strings: calamine reserves room for the uniqueCount the part claims, so that is checked too. Cost:
  0.08–0.15 s per 100,000 rows of an 8-column export, 10–15 % of calamine's own read of it.
* .xls: the OLE container's Workbook stream and its BIFF records, as calamine walks them (DIMENSIONS, whose
  rows × columns calamine reserves, and every cell and formula record): ~0.35 s for 65,000 rows.
* CSV: the size on disk, the widest record of the sniffed first lines (before any full read) and the records
  estimated from the size and the sampled lines' length; pandas' tolerant reader checks every record as it goes.

A file past a limit raises TooLarge (problem, fix: readers.py makes it an InputFileError). A container too broken
to measure raises Unreadable, which the reader reports as the corrupt (or encrypted) workbook it is.
"""

import codecs
import html
import mmap
import posixpath
import queue
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yukuai_pipeline.settings import INPUT_LIMIT_VARIABLES, InputLimits

EXCEL_ROWS = 1_048_576
_CHUNK = 8 << 20  # inflated bytes scanned at a time
_RATIO_FLOOR = 16 << 20  # parts smaller than this may compress as well as they like
_HEAD = 64 * 1024
_MAX_ZIP_DIRECTORY = 64 << 20


class TooLarge(Exception):
    """The file is past a limit: problem and fix in Chinese, for InputFileError."""

    def __init__(self, problem: str, fix: str):
        self.problem, self.fix = problem, fix
        super().__init__(problem)


class Unreadable(Exception):
    """The container is too broken to measure; the parser would trip over it too."""


@dataclass(frozen=True)
class SheetExtent:
    """A sheet's used range from A1: what calamine pads it to."""

    name: str
    rows: int
    columns: int
    declared: str | None = None  # the sheet's own claim (<dimension ref>, DIMENSIONS), when it differs

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    @property
    def corner(self) -> str:
        return f"{column_letters(self.columns)}{self.rows}"


def column_letters(number: int) -> str:
    """1 -> A, 16384 -> XFD."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: bytes) -> int:
    number = 0
    for byte in letters.upper():
        number = number * 26 + byte - 64
    return number


def _fix(field_name: str, limits: InputLimits, how: str) -> str:
    variable = INPUT_LIMIT_VARIABLES[field_name]
    return f"{how}；如果文件确属正常数据，调高环境变量 {variable}（当前 {getattr(limits, field_name)}）"


_RESAVE = "在 Excel 中删掉数据区域右侧和下方多余的行和列（或只把数据区域复制到新工作簿），另存为 .xlsx 后再放入"
_SPLIT = "从平台按乡镇或日期分批导出后再放入"


def _size_text(size: int, exact: bool = True) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" + (f"（{size} 字节）" if exact else "")
    return f"{size} 字节"


# ---- any file ------------------------------------------------------------------------------------------------

def check_file_size(size: int, limits: InputLimits) -> None:
    if size > limits.file_bytes:
        raise TooLarge(f"文件大小 {_size_text(size)}，超过上限 {_size_text(limits.file_bytes)}",
                       _fix("file_bytes", limits, _SPLIT))


def check_extent(sheet: SheetExtent, limits: InputLimits) -> None:
    """One sheet's used range against the column, row and cell limits."""
    where = f"工作表“{sheet.name}”的单元格范围达到 {sheet.corner}（{sheet.columns} 列 × {sheet.rows} 行）"
    claim = ""
    if sheet.declared and sheet.declared.split(":")[-1] != sheet.corner:
        claim = f"（文件自己声明的范围是 {sheet.declared}）"
    if sheet.columns > limits.columns:
        raise TooLarge(f"{where}，超过上限 {limits.columns} 列{claim}", _fix("columns", limits, _RESAVE))
    row_limit = min(limits.rows, EXCEL_ROWS)
    if sheet.rows > row_limit:
        excel = "（Excel 工作表的最大行数）" if row_limit == EXCEL_ROWS else ""
        raise TooLarge(f"{where}，超过上限 {row_limit} 行{excel}{claim}", _fix("rows", limits, _RESAVE))
    if sheet.cells > limits.cells:
        raise TooLarge(f"{where}，共 {sheet.cells} 个单元格，超过上限 {limits.cells} 个{claim}",
                       _fix("cells", limits, _RESAVE))


def check_loaded_sheet(name: str, end: tuple[int, int] | None, limits: InputLimits) -> None:
    """calamine's own extent of a loaded sheet (0-based end cell), before its cells are padded and copied out."""
    if end is not None:
        check_extent(SheetExtent(name, end[0] + 1, end[1] + 1), limits)


def _check_sheet_count(count: int, limits: InputLimits) -> None:
    if count > limits.sheets:
        raise TooLarge(f"工作簿有 {count} 个工作表，超过上限 {limits.sheets} 个",
                       _fix("sheets", limits, "只保留数据所在的工作表，另存后再放入"))


def _check_sheets(extents: list[SheetExtent], limits: InputLimits) -> None:
    for extent in extents:
        check_extent(extent, limits)
    total = sum(e.cells for e in extents)
    if total > limits.cells:
        raise TooLarge(f"工作簿 {len(extents)} 个工作表的单元格范围合计 {total} 个单元格，超过上限 {limits.cells} 个",
                       _fix("cells", limits, "只保留数据所在的工作表，删掉多余的行和列，另存后再放入"))


def check_workbook(path: Path, head: bytes, limits: InputLimits) -> list[SheetExtent]:
    """An .xlsx/.xlsm (zip) or .xls (OLE) file's extents, each within the limits; raises TooLarge or Unreadable."""
    if head.startswith(b"PK\x03\x04"):
        return check_xlsx(path, limits)
    return check_xls(path, limits)


# ---- .xlsx / .xlsm --------------------------------------------------------------------------------------------

def check_xlsx(path: Path, limits: InputLimits) -> list[SheetExtent]:
    with open(path, "rb") as fh:
        _check_zip_directory(fh, limits)
        try:
            archive = zipfile.ZipFile(fh)
            infos = archive.infolist()
        except Exception as err:  # noqa: BLE001 - zipfile's ways of saying it is no zip
            raise Unreadable(f"zip: {err}") from err
        _check_declared_sizes(infos, limits)
        sheets, sheet_count = _sheet_parts(archive, infos)
        _check_sheet_count(sheet_count, limits)
        extents, inflated = [], 0
        for info in infos:
            scan = _scan_part(fh, info, limits, inflated)
            inflated += scan.inflated
            if scan.unique_strings is not None and scan.unique_strings > limits.cells:
                raise TooLarge(f"共享字符串表声明有 {scan.unique_strings} 个字符串，超过单元格上限 {limits.cells} 个",
                               _fix("cells", limits, _RESAVE))
            if scan.rows:
                name = sheets.get(info.filename.lower(), info.filename)
                extents.append(SheetExtent(name, scan.rows, scan.columns, scan.dimension))
                check_extent(extents[-1], limits)  # the first sheet past a limit is named before the rest is read
    _check_sheets(extents, limits)
    return extents


def _check_zip_directory(fh, limits: InputLimits) -> None:
    """Entry count and directory size from the end record, before zipfile reads the directory into memory."""
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(max(size - 65_557, 0))
    tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return  # zipfile reports it
    entries, directory_size = struct.unpack_from("<HI", tail, at + 10)
    if (entries == 0xFFFF or directory_size == 0xFFFFFFFF) and at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":
        (offset,) = struct.unpack_from("<Q", tail, at - 12)
        fh.seek(offset)
        record = fh.read(56)
        if record[:4] == b"PK\x06\x06" and len(record) == 56:
            entries, directory_size = struct.unpack_from("<QQ", record, 32)
    if entries > limits.zip_entries:
        raise TooLarge(f"工作簿压缩包有 {entries} 个部件，超过上限 {limits.zip_entries} 个",
                       _fix("zip_entries", limits, "在 Excel 中打开后另存为新的 .xlsx 再放入"))
    if directory_size > _MAX_ZIP_DIRECTORY:
        raise Unreadable(f"zip directory of {directory_size} bytes")


def _check_declared_sizes(infos: list[zipfile.ZipInfo], limits: InputLimits) -> None:
    """What the directory says, refused at once (a zip bomb announces itself); the inflated bytes are counted too."""
    if len(infos) > limits.zip_entries:
        raise TooLarge(f"工作簿压缩包有 {len(infos)} 个部件，超过上限 {limits.zip_entries} 个",
                       _fix("zip_entries", limits, "在 Excel 中打开后另存为新的 .xlsx 再放入"))
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.uncompressed_bytes:
            raise _too_big_part(info.filename, info.file_size, limits)
        _check_ratio(info, info.file_size, limits)
    if total > limits.uncompressed_bytes:
        raise _too_big_total(total, limits)


def _too_big_part(name: str, size: int, limits: InputLimits) -> TooLarge:
    return TooLarge(f"工作簿中的部件 {name} 解压后有 {_size_text(size)}，超过上限 {_size_text(limits.uncompressed_bytes)}",
                    _fix("uncompressed_bytes", limits, _SPLIT))


def _too_big_total(total: int, limits: InputLimits) -> TooLarge:
    return TooLarge(f"工作簿解压后共 {_size_text(total)}，超过上限 {_size_text(limits.uncompressed_bytes)}",
                    _fix("uncompressed_bytes", limits, _SPLIT))


def _check_ratio(info: zipfile.ZipInfo, inflated: int, limits: InputLimits) -> None:
    if inflated > _RATIO_FLOOR and inflated > limits.compression_ratio * max(info.compress_size, 1):
        ratio = inflated // max(info.compress_size, 1)
        raise TooLarge(f"工作簿中的部件 {info.filename} 压缩比达 {ratio}:1（{_size_text(info.compress_size, False)} 解压为 "
                       f"{_size_text(inflated, False)}），超过上限 {limits.compression_ratio}:1，像是“压缩炸弹”",
                       _fix("compression_ratio", limits, "从平台重新导出；不要放入来历不明的文件"))


_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>")
_RELATIONSHIP_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")


@lru_cache(maxsize=8)
def _attribute_pattern(key: bytes) -> re.Pattern:
    return re.compile(rb"(?:^|\s)" + key + rb"""\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attr(attrs: bytes, key: bytes) -> str | None:
    """An attribute's value in a start tag's attribute text; key is a regular expression (r:id as [\w.-]+:id)."""
    match = _attribute_pattern(key).search(attrs)
    if not match:
        return None
    return html.unescape((match.group(1) if match.group(1) is not None else match.group(2)).decode("utf-8", "replace"))


def _sheet_parts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> tuple[dict[str, str], int]:
    """{part name (lower case): sheet name} and the number of sheets workbook.xml lists. Only for naming sheets in a
    message and counting them: every part is scanned whatever its name."""
    names = {info.filename.lower(): info for info in infos}

    def read(name: str) -> bytes:
        info = names.get(name.lower())
        if info is None:
            return b""
        if info.file_size > _MAX_ZIP_DIRECTORY:
            raise Unreadable(f"{info.filename}: {info.file_size} bytes")  # workbook.xml and its relations are small
        try:
            return archive.read(info)
        except Exception:  # noqa: BLE001 - a broken small part: calamine reports the file
            return b""

    workbook = "xl/workbook.xml"
    for match in _RELATIONSHIP_TAG.finditer(read("_rels/.rels")):
        if (_attr(match.group(1), b"Type") or "").endswith("/officeDocument"):
            workbook = (_attr(match.group(1), b"Target") or workbook).lstrip("/")
    folder = posixpath.dirname(workbook)
    targets = {}
    relations = posixpath.join(folder, "_rels", posixpath.basename(workbook) + ".rels")
    for match in _RELATIONSHIP_TAG.finditer(read(relations)):
        rel_id, target = _attr(match.group(1), b"Id"), _attr(match.group(1), b"Target")
        if rel_id and target:
            targets[rel_id] = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
    sheets, count = {}, 0
    for match in _SHEET_TAG.finditer(read(workbook)):
        count += 1
        name, rel_id = _attr(match.group(1), b"name"), _attr(match.group(1), rb"(?:[\w.-]+:)?id")
        if rel_id in targets:
            sheets[posixpath.normpath(targets[rel_id]).lower()] = name or targets[rel_id]
    return sheets, count


def _inflate(fh, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The part's bytes, inflated from its raw data (not trusting the declared size), a chunk at a time."""
    if info.flag_bits & 0x1:
        raise Unreadable(f"{info.filename}: encrypted zip entry")
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise Unreadable(f"{info.filename}: no local header")
    name_length, extra_length = struct.unpack_from("<HH", local, 26)
    fh.seek(info.header_offset + 30 + name_length + extra_length)
    remaining = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        while remaining > 0:
            data = fh.read(min(_CHUNK, remaining))
            if not data:
                raise Unreadable(f"{info.filename}: truncated")
            remaining -= len(data)
            yield data
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise Unreadable(f"{info.filename}: compression method {info.compress_type}")
    inflater = zlib.decompressobj(-15)
    pending = b""
    while not inflater.eof:
        if not pending:
            if remaining <= 0:
                break
            pending = fh.read(min(1 << 20, remaining))
            if not pending:
                raise Unreadable(f"{info.filename}: truncated")
            remaining -= len(pending)
        try:
            data = inflater.decompress(pending, _CHUNK)
        except zlib.error as err:
            raise Unreadable(f"{info.filename}: {err}") from err
        pending = inflater.unconsumed_tail
        if data:
            yield data


def _prefetched(chunks: Iterator[bytes], depth: int = 2) -> Iterator[bytes]:
    """The chunks, produced one ahead in a thread: zlib inflates without the GIL while RE2 scans the last chunk."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        handoff.put(("chunk", chunk), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(("end", None))
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, raised there
            handoff.put(("error", err))

    worker = threading.Thread(target=produce, name="xlsx-inflate", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while worker.is_alive():
            try:
                handoff.get(timeout=0.05)
            except queue.Empty:
                pass
        worker.join()


class _Irregular(Exception):
    """A part the fast scan cannot vouch for: scanned again tag by tag."""


def _scan_part(fh, info: zipfile.ZipInfo, limits: InputLimits, inflated_before: int) -> "_PartScan":
    try:
        return _read_part(fh, info, limits, inflated_before, _FastScan())
    except _Irregular:
        pass  # the first pass's reader is closed: the second one reads the file alone
    return _read_part(fh, info, limits, inflated_before, _TagScan())


def _read_part(fh, info: zipfile.ZipInfo, limits: InputLimits, inflated_before: int, scan: "_PartScan") -> "_PartScan":
    inflated = _inflate(fh, info)
    chunks = _prefetched(inflated) if info.file_size > _CHUNK else inflated
    with closing(inflated), closing(chunks):  # the thread stops before its generator is closed
        return _scanned(chunks, info, limits, inflated_before, scan)


def _scanned(chunks: Iterator[bytes], info: zipfile.ZipInfo, limits: InputLimits, inflated_before: int,
             scan: "_PartScan") -> "_PartScan":
    carry = b""
    for data in chunks:
        scan.inflated += len(data)
        if scan.inflated > info.file_size:
            raise Unreadable(f"{info.filename}: inflates past its declared size")
        if scan.inflated > limits.uncompressed_bytes:
            raise _too_big_part(info.filename, scan.inflated, limits)
        if inflated_before + scan.inflated > limits.uncompressed_bytes:
            raise _too_big_total(inflated_before + scan.inflated, limits)
        _check_ratio(info, scan.inflated, limits)
        start = 0
        if carry:  # the piece cut off at the end of the last chunk, completed up to a '<' of this one
            start = data.find(b"<")
            while start >= 0 and _ends_in_open_cell(carry + data[:start]):
                start = data.find(b"<", start + 1)
            if start < 0:
                carry += data
                if len(carry) > 4 * _CHUNK:  # one text run longer than that: scanned as it stands
                    scan.feed(carry, 0, len(carry))
                    carry = b""
                continue
            joined = carry + data[:start]
            scan.feed(joined, 0, len(joined))
        cut = data.rfind(b"<", start)  # a chunk ends before a tag, and never right after a cell's start tag
        while cut > start and _ends_in_open_cell(data, start, cut):
            cut = data.rfind(b"<", start, cut)
        if cut <= start:
            carry = data[start:]
            continue
        scan.feed(data, start, cut)
        carry = data[cut:]
    if carry:
        scan.feed(carry, 0, len(carry))
    return scan


_OPEN_CELL = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?c(?:\s(?:[^>\"']|\"[^\"]*\"|'[^']*')*)?(?<!/)>\s*$")


def _ends_in_open_cell(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether data[start:end] ends with a cell's start tag (and blanks): whether the cell is empty is decided by
    what follows, so a chunk does not end there."""
    end = len(data) if end is None else end
    last = data.rfind(b"<", start, end)
    return last >= 0 and _OPEN_CELL.match(data, last, end) is not None


_DIMENSION = re.compile(rb"""<(?:[\w.-]+:)?dimension\b[^>]*?\bref\s*=\s*["']([^"']*)["']""")
_UNIQUE_COUNT = re.compile(rb"""<(?:[\w.-]+:)?sst\b[^>]*?\buniqueCount\s*=\s*["']\s*([0-9]+)""")


class _PartScan:
    """Largest row and column (1-based) of a part's non-empty cells, fed in chunks that each end before a '<'."""

    def __init__(self):
        self.rows = self.columns = 0
        self.inflated = 0
        self.dimension: str | None = None
        self.unique_strings: int | None = None
        self._head_seen = False

    def _head(self, chunk: bytes, start: int, end: int) -> None:
        """The sheet's <dimension ref> and the shared strings' uniqueCount (calamine reserves that many strings)."""
        if self._head_seen:
            return
        self._head_seen = True
        end = min(end, start + _HEAD)
        dimension = _DIMENSION.search(chunk, start, end)
        if dimension:
            self.dimension = dimension.group(1).decode("ascii", "replace")
        strings = _UNIQUE_COUNT.search(chunk, start, end)
        if strings:
            self.unique_strings = int(strings.group(1))

    def feed(self, chunk: bytes, start: int, end: int) -> None:
        """Scan chunk[start:end], which ends before a '<' or at the end of the part."""
        raise NotImplementedError


# A cell tag as (nearly) every writer puts it: <c r="B7" ...> (or, all through the part, <x:c r="B7" ...>), the
# reference upper case, the row without leading zero. Non-empty: not self-closed, and a child element (<v>, <is>,
# <f>) follows (a chunk never ends between the two; at the end of a part, a cell is assumed non-empty).
_NON_EMPTY = rb"""(?:[^>/]|/[^>])*>(?=\s*<[A-Za-z_]|\s*$)"""
_NON_EMPTY_RE2 = r"(?:[^>/]|/[^>])*>\s*(?:<[A-Za-z_]|$)"  # RE2 has no look-ahead: the same, consumed
_NAME_START, _NAME_CHAR = "[A-Za-z_]", r"[A-Za-z0-9_.\-]"
_FIRST_CELL_TAG = re.compile(rb"<([A-Za-z_][\w.\-]*:)?c[\t\r\n />]")


def _other_prefixes(prefix: str) -> str:
    """RE2 for a tag prefix ("x:" or none) other than `prefix`."""
    if not prefix:
        return f"{_NAME_START}{_NAME_CHAR}*:"
    name = prefix[:-1]
    options = [f"{_NAME_START}{_NAME_CHAR}{{{len(name)},}}:", ""]  # longer, or none
    if len(name) > 1:
        options.append(f"{_NAME_START}{_NAME_CHAR}{{0,{len(name) - 2}}}:")  # shorter
    for i, ch in enumerate(name):  # as long, differing at i
        options.append(re.escape(name[:i]) + f"[^{re.escape(ch)}:]" + f"{_NAME_CHAR}{{{len(name) - i - 1}}}:")
    return "(?:" + "|".join(options) + ")"


class _CellForm:
    """The patterns for one spelling of the cell tag: <c or <x:c."""

    def __init__(self, prefix: str):
        tag = "<" + re.escape(prefix) + "c"
        self.start = f'<{prefix}c r="'.encode()
        self.irregular = "|".join([
            tag + r'(?:[\t\r\n/>]| [^r]| r[^=]| r=[^"])',  # the cell tag without r="..." first
            "<" + _other_prefixes(prefix) + r"c[\t\r\n />]",  # a cell tag spelt otherwise
            tag + r' r="(?:[^A-Z]|[A-Z]{4}|[A-Z]{1,3}[^A-Z0-9]|[A-Z]{1,3}0|[A-Z]{1,3}[1-9][0-9]{7}'
                  r'|[A-Z]{1,3}[1-9][0-9]{0,6}[^0-9"])',  # a reference calamine reads otherwise, or refuses
        ])
        self.irregular_py = re.compile(self.irregular.encode())
        self.cell = re.compile(re.escape(self.start) + rb'([A-Z]{1,3})([1-9][0-9]{0,6})"' + _NON_EMPTY)
        self.tag = tag

    def beyond(self, columns: int, rows: int) -> str:
        """RE2: anything irregular, or a non-empty cell right of `columns` or below `rows`."""
        letters = _greater_letters(column_letters(columns))
        return "|".join([self.irregular, f'{self.tag} r="(?:{letters})[A-Z]*[0-9]*"{_NON_EMPTY_RE2}',
                         f'{self.tag} r="[A-Z]{{1,3}}(?:{_greater_number(rows)}){_NON_EMPTY_RE2}'])


_CELL_FORMS: dict[str, _CellForm] = {}


def _cell_form(prefix: str) -> _CellForm:
    if prefix not in _CELL_FORMS:
        _CELL_FORMS[prefix] = _CellForm(prefix)
    return _CELL_FORMS[prefix]


def _greater_letters(letters: str) -> str:
    """RE2 alternatives for a column reference right of `letters` (longer, or as long and greater)."""
    if not letters:
        return "[A-Z]"
    options = [f"[A-Z]{{{len(letters) + 1}}}"]
    for i, ch in enumerate(letters):
        if ch < "Z":
            options.append(f"{letters[:i]}[{chr(ord(ch) + 1)}-Z][A-Z]{{{len(letters) - i - 1}}}")
    return "|".join(options)


def _greater_number(number: int) -> str:
    """RE2 alternatives for a row number (no leading zero, followed by the closing quote) above `number`."""
    if number < 1:
        return '[1-9][0-9]*"'
    digits = str(number)
    options = [f'[1-9][0-9]{{{len(digits)},}}"']
    for i, ch in enumerate(digits):
        if ch < "9":
            options.append(f'{digits[:i]}[{int(ch) + 1}-9][0-9]{{{len(digits) - i - 1}}}"')
    return "|".join(options)


def _one_string(chunk) -> pa.Array:
    offsets = pa.py_buffer(np.array([0, len(chunk)], dtype=np.int64))
    return pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(chunk)])


class _FastScan(_PartScan):
    """Regular parts: per chunk, one RE2 pass asks whether anything is irregular or lies beyond the extent known."""

    def __init__(self):
        super().__init__()
        self._form: _CellForm | None = None

    def feed(self, chunk: bytes, start: int, end: int) -> None:
        self._head(chunk, start, end)
        if self._form is None:
            found = _FIRST_CELL_TAG.search(chunk, start, end)
            if found is None:
                return  # no cell yet (a part's head, or a part that is not a sheet)
            self._form = _cell_form((found.group(1) or b"").decode("ascii"))
        form = self._form
        first = chunk.find(form.start, start, end)
        if first >= 0 and self.columns == 0:  # the widest column among the first cells (an export's header row)
            for match in form.cell.finditer(chunk, first, min(first + _HEAD, end)):
                self.columns = max(self.columns, _column_number(match.group(1)))
        rows = max(self.rows, self._last_row(form, chunk, start, end)) if first >= 0 else self.rows
        window = _one_string(memoryview(chunk)[start:end])
        if not pc.match_substring_regex(window, form.beyond(self.columns, rows))[0].as_py():
            self.rows = rows
            return
        if form.irregular_py.search(chunk, start, end):
            raise _Irregular
        for match in form.cell.finditer(chunk, start, end):  # this chunk cell by cell
            self.rows = max(self.rows, int(match.group(2)))
            self.columns = max(self.columns, _column_number(match.group(1)))

    @staticmethod
    def _last_row(form: _CellForm, chunk: bytes, start: int, end: int) -> int:
        """Row of the chunk's last non-empty regular cell (the largest one, in a sheet written row by row)."""
        for _ in range(64):
            at = chunk.rfind(form.start, start, end)
            if at < 0:
                return 0
            match = form.cell.match(chunk, at, end)
            if match:
                return int(match.group(2))
            end = at
        return 0


_TAG = re.compile(rb"""<(/?)(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CHILD = re.compile(rb"\s*(?:<[A-Za-z_]|$)")
_REFERENCE = re.compile(rb"([A-Za-z]*)([0-9]+)")


class _TagScan(_PartScan):
    """Any part, tag by tag, placing cells as calamine does (its XML reader expands <x/> into <x></x>): by their r
    attribute, else after the cell before in the row; <row r> sets the row, </row> moves to the next. A cell counts
    when a child element (<v>, <is>, <f>) follows its start tag."""

    def __init__(self):
        super().__init__()
        self._row = 0  # 0-based, as calamine counts
        self._column = 0

    def feed(self, chunk: bytes, start: int, end: int) -> None:
        self._head(chunk, start, end)
        for match in _TAG.finditer(chunk, start, end):
            closing, name, attrs = match.groups()
            empty = attrs.endswith(b"/")
            if name == b"row":
                if not closing:
                    place = self._reference(attrs)
                    if place is not None:
                        self._row = place[0]
                if closing or empty:
                    self._row, self._column = self._row + 1, 0
                continue
            if closing:
                continue
            place = self._reference(attrs)
            if place is not None and place[1] is not None:
                row, column = place
            else:
                row, column = self._row, self._column
            self._column = column + 1
            if not empty and _CHILD.match(chunk, match.end(), end):
                self.rows = max(self.rows, row + 1)
                self.columns = max(self.columns, column + 1)

    @staticmethod
    def _reference(attrs: bytes) -> tuple[int, int | None] | None:
        found = _R_ATTR.search(attrs)
        if not found:
            return None
        reference = _REFERENCE.fullmatch(found.group(1) if found.group(1) is not None else found.group(2))
        if not reference or int(reference.group(2)) < 1:
            return None  # calamine refuses the reference (and the file) without allocating
        column = _column_number(reference.group(1)) - 1 if reference.group(1) else None
        return int(reference.group(2)) - 1, column


# ---- .xls (OLE compound file, BIFF records) -------------------------------------------------------------------

_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
# NUMBER, LABEL, RSTRING, BOOLERR, RK, LABELSST, FORMULA: each starts with its row and column
_CELL_RECORDS = {0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006}
_RECORD, _RECORD_AND_CELL = struct.Struct("<HH"), struct.Struct("<HHHH")  # type, length (, row, column)


def check_xls(path: Path, limits: InputLimits) -> list[SheetExtent]:
    stream = _workbook_stream(path)
    sheets = _bound_sheets(stream)
    _check_sheet_count(len(sheets), limits)
    extents = [_xls_extent(stream, position, name, limits) for position, name in sheets]
    _check_sheets([e for e in extents if e.rows], limits)
    return extents


def _workbook_stream(path: Path) -> bytes:
    """The Workbook (or Book) stream of an OLE compound file, read from its sector chains."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        size = len(data)
        if size < 512:
            raise Unreadable("OLE header")
        sector_shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if sector_shift not in (9, 12) or mini_shift != 6:
            raise Unreadable("OLE sector size")
        sector = 1 << sector_shift
        sectors = max((size - 1) // sector, 0)  # sector 0 starts after the header
        fat_count, directory_start = struct.unpack_from("<II", data, 0x2C)
        (cutoff, minifat_start, minifat_count, difat_start, difat_count) = struct.unpack_from("<IIIII", data, 0x38)
        # calamine reserves these counts from the header before reading anything (cfb.rs)
        if fat_count > sectors + 1 or struct.unpack_from("<I", data, 62)[0] > (1 << 28):
            raise Unreadable("OLE header counts")

        def read_sector(number: int) -> bytes:
            if number >= sectors:
                raise Unreadable(f"OLE sector {number} past the end")
            start = (number + 1) * sector
            return data[start:start + sector]

        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < 0xFFFFFFFA]
        seen, link = 0, difat_start
        while link < 0xFFFFFFFA:
            seen += 1
            if seen > sectors:
                raise Unreadable("OLE DIFAT loop")
            entries = struct.unpack(f"<{sector // 4}I", read_sector(link))
            fat_sectors += [s for s in entries[:-1] if s < 0xFFFFFFFA]
            link = entries[-1]
        fat = np.frombuffer(b"".join(read_sector(s) for s in fat_sectors), dtype="<u4")

        def chain(start: int, table: np.ndarray, limit: int) -> list[int]:
            out, link = [], start
            while link < 0xFFFFFFFA:
                if link >= len(table) or len(out) > limit:
                    raise Unreadable("OLE chain")
                out.append(link)
                link = int(table[link])
            return out

        directory = b"".join(read_sector(s) for s in chain(directory_start, fat, sectors))
        entries = [directory[i:i + 128] for i in range(0, len(directory) - 127, 128)]
        if not entries:
            raise Unreadable("OLE directory")
        wanted = {}
        for entry in entries:
            name_length, kind = struct.unpack_from("<HB", entry, 0x40)
            name = entry[:max(min(name_length, 64) - 2, 0)].decode("utf-16-le", "replace")
            if kind == 2 and name.lower() in ("workbook", "book"):
                wanted.setdefault(name.lower(), entry)
        entry = wanted.get("workbook") or wanted.get("book")
        if entry is None:
            raise Unreadable("no Workbook stream")  # an encrypted .xlsx, or no spreadsheet at all
        start, length = struct.unpack_from("<II", entry, 0x74)
        if length > size:
            raise Unreadable("Workbook stream longer than the file")
        if length >= cutoff:
            return b"".join(read_sector(s) for s in chain(start, fat, sectors))[:length]
        root_start, root_length = struct.unpack_from("<II", entries[0], 0x74)
        mini_stream = b"".join(read_sector(s) for s in chain(root_start, fat, sectors))[:root_length]
        minifat = np.frombuffer(b"".join(read_sector(s) for s in chain(minifat_start, fat, sectors)), dtype="<u4")
        parts = [mini_stream[s * 64:(s + 1) * 64] for s in chain(start, minifat, len(mini_stream) // 64 + 1)]
        return b"".join(parts)[:length]


def _records(stream: bytes, position: int) -> Iterator[tuple[int, int, int]]:
    """(type, data start, data end) of the BIFF records from position, as calamine's RecordIter splits them."""
    end = len(stream)
    unpack = struct.unpack_from
    while position + 4 <= end:
        kind, length = unpack("<HH", stream, position)
        start = position + 4
        position = start + length
        if position > end:
            return  # calamine stops on the truncated record with an error
        yield kind, start, position


def _bound_sheets(stream: bytes) -> list[tuple[int, str]]:
    """(stream position, name) of each BOUNDSHEET record of the globals, up to their EOF."""
    sheets, biff8 = [], True
    for kind, start, end in _records(stream, 0):
        if kind == 0x0809 and end - start >= 2:
            biff8 = struct.unpack_from("<H", stream, start)[0] == 0x0600
        elif kind == 0x0085 and end - start >= 8:
            sheets.append((struct.unpack_from("<I", stream, start)[0], _sheet_name(stream[start + 6:end], biff8)))
        elif kind == 0x000A:
            break
    return sheets


def _sheet_name(data: bytes, biff8: bool) -> str:
    length = data[0]
    if biff8 and len(data) >= 2:
        raw = data[2:]
        return raw[:2 * length].decode("utf-16-le", "replace") if data[1] & 1 else raw[:length].decode("latin-1")
    return data[1:1 + length].decode("gb18030", "replace")


def _xls_extent(stream: bytes, position: int, name: str, limits: InputLimits) -> SheetExtent:
    """Largest row and column of the sheet's cell and formula records (calamine keeps both), and the DIMENSIONS
    record's rows × columns, which calamine reserves room for before reading a cell. One tight loop: an .xls of
    65,000 rows holds half a million records."""
    unpack, unpack_short = _RECORD_AND_CELL.unpack_from, _RECORD.unpack_from
    size = len(stream)
    last_row = last_column = -1
    depth, seen_bof, declared, cells = 0, False, None, _CELL_RECORDS
    while position + 4 <= size:
        if position + 8 <= size:
            kind, length, row, column = unpack(stream, position)
        else:
            (kind, length), row, column = unpack_short(stream, position), 0, 0
        start, position = position + 4, position + 4 + length
        if position > size:
            break  # calamine stops on the truncated record with an error
        if depth:
            depth += 1 if kind == 0x0809 else -1 if kind == 0x000A else 0
        elif kind in cells:
            if length >= 4:
                if row > last_row:
                    last_row = row
                if column > last_column:
                    last_column = column
        elif kind == 0x00BD:  # MULRK: row, first column, ..., last column
            if length >= 6:
                (column,) = struct.unpack_from("<H", stream, position - 2)
                last_row, last_column = max(last_row, row), max(last_column, column)
        elif kind == 0x0809:
            depth, seen_bof = (1 if seen_bof else 0), True
        elif kind == 0x0200:
            declared = _dimensions(stream[start:position], name, limits) or declared
        elif kind == 0x000A:
            break
    return SheetExtent(name, last_row + 1, last_column + 1, declared)


def _dimensions(data: bytes, name: str, limits: InputLimits) -> str | None:
    """The DIMENSIONS record, checked as calamine reads it: it reserves (last row - first row + 1) × (last column -
    first column + 1) cells, in 32-bit arithmetic that wraps."""
    if len(data) == 10:
        first_row, last_row, first_column, last_column = struct.unpack_from("<HHHH", data)
    elif len(data) == 14:
        first_row, last_row, first_column, last_column = struct.unpack_from("<IIHH", data)
    else:
        return None
    if first_column > 0xFF or last_column < first_column:
        first_column = 0
    if last_row < 1 or last_column < 1:
        return None
    rows = ((last_row - 1 - first_row) % (1 << 32) + 1) % (1 << 32)
    columns = ((last_column - 1 - first_column) % (1 << 32) + 1) % (1 << 32)
    declared = f"{column_letters(first_column + 1)}{first_row + 1}:{column_letters(last_column)}{last_row}"
    if rows * columns > limits.cells:
        raise TooLarge(f"工作表“{name}”声明的范围 {declared}（{columns} 列 × {rows} 行）共 {rows * columns} 个单元格，"
                       f"超过上限 {limits.cells} 个", _fix("cells", limits, _RESAVE))
    return declared


# ---- CSV ------------------------------------------------------------------------------------------------------

def check_csv(path: Path, size: int, head: bytes, encoding: str, width: int, whole_first_line: bool,
              limits: InputLimits) -> int:
    """Columns from the sniffed first lines (width), records estimated from the size and the length of the lines in
    the file's first and last bytes; returns the estimate."""
    if width > limits.columns:
        at_least = "" if whole_first_line else "至少"
        raise TooLarge(f"CSV 文件的前几行{at_least}有 {width} 列，超过上限 {limits.columns} 列",
                       _fix("columns", limits, "确认导出的是平台的标准格式（列数不应上百）；或在 Excel 中删掉多余的列后另存为 CSV"))
    records = estimate_records(path, size, head, encoding)
    if records > limits.rows:
        raise TooLarge(f"按文件大小估计 CSV 文件约有 {records} 行，超过上限 {limits.rows} 行",
                       _fix("rows", limits, _SPLIT))
    if records * width > limits.csv_cells:
        raise TooLarge(f"按文件大小估计 CSV 文件约有 {records} 行 × {width} 列 = {records * width} 个单元格，"
                       f"超过上限 {limits.csv_cells} 个", _fix("csv_cells", limits, _SPLIT))
    return records


def estimate_records(path: Path, size: int, head: bytes, encoding: str) -> int:
    """Line breaks in the file: counted when the head is the whole file, else the size divided by the mean line
    length of the head and of the last bytes (whichever says more lines)."""
    def line_breaks(sample: bytes) -> int:
        text = codecs.getincrementaldecoder(encoding)(errors="ignore").decode(sample, final=False)
        return text.count("\n") + text.count("\r") - text.count("\r\n")

    if size <= len(head):
        return line_breaks(head) + 1
    with open(path, "rb") as fh:
        fh.seek(max(size - len(head), 0))
        tail = fh.read(len(head))
    if encoding.startswith("utf-16"):  # the tail has no BOM: decode it in the head's byte order
        encoding = encoding if encoding != "utf-16" else (
            "utf-16-be" if head.startswith(codecs.BOM_UTF16_BE) else "utf-16-le")
        tail = tail[len(tail) % 2:]
    density = max(line_breaks(head) / max(len(head), 1), line_breaks(tail) / max(len(tail), 1))
    return int(size * density) + 1


class CsvRecordGuard:
    """For the record-by-record reader: refuses the first record past the column limit and the first record past
    the cell limit (records read × widest record so far)."""

    def __init__(self, limits: InputLimits):
        self.limits, self.records, self.width = limits, 0, 0

    def add(self, fields: int) -> None:
        self.records += 1
        if fields > self.width:
            self.width = fields
            if fields > self.limits.columns:
                raise TooLarge(f"CSV 文件第 {self.records} 行有 {fields} 列，超过上限 {self.limits.columns} 列",
                               _fix("columns", self.limits, "检查该行是否多了分隔符，改正后另存为 CSV"))
        if self.records > self.limits.rows:
            raise TooLarge(f"CSV 文件超过 {self.limits.rows} 行", _fix("rows", self.limits, _SPLIT))
        if self.records * self.width > self.limits.csv_cells:
            raise TooLarge(f"CSV 文件读到第 {self.records} 行时已有 {self.records * self.width} 个单元格，超过上限 "
                           f"{self.limits.csv_cells} 个", _fix("csv_cells", self.limits, _SPLIT))
