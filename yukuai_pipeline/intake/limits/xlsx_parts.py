"""The parts of an .xlsx zip inflated under the size limits: what the directory declares (part and total sizes,
compression ratio: a zip bomb announces itself), then every part inflated once from its raw data (not trusting the
declared size), in a thread while the last chunk is scanned, its real inflated bytes counted against the same
limits, and fed to a cell scan (xlsx_cells.py) in chunks that never end inside a cell's start tag. A part the fast
scan cannot vouch for is read again tag by tag.
"""

import contextlib
import queue
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Generator, Iterator
from contextlib import closing
from typing import Any, BinaryIO

from yukuai_pipeline.intake.limits.refusals import SPLIT_FIX, TooLarge, Unreadable, limit_fix, size_text
from yukuai_pipeline.intake.limits.xlsx_cells import FastScan, Irregular, PartScan, TagScan
from yukuai_pipeline.settings import InputLimits

_CHUNK = 8 << 20  # inflated bytes scanned at a time
_RATIO_FLOOR = 16 << 20  # parts smaller than this may compress as well as they like


def check_declared_sizes(infos: list[zipfile.ZipInfo], limits: InputLimits) -> None:
    """What the directory says, refused at once (a zip bomb announces itself); the inflated bytes are counted too."""
    if len(infos) > limits.zip_entries:
        raise TooLarge(
            f"工作簿压缩包有 {len(infos)} 个部件，超过上限 {limits.zip_entries} 个",
            limit_fix("zip_entries", limits, "在 Excel 中打开后另存为新的 .xlsx 再放入"),
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.uncompressed_bytes:
            raise _too_big_part(info.filename, info.file_size, limits)
        _check_ratio(info, info.file_size, limits)
    if total > limits.uncompressed_bytes:
        raise _too_big_total(total, limits)


def _too_big_part(name: str, size: int, limits: InputLimits) -> TooLarge:
    return TooLarge(
        f"工作簿中的部件 {name} 解压后有 {size_text(size)}，超过上限 {size_text(limits.uncompressed_bytes)}",
        limit_fix("uncompressed_bytes", limits, SPLIT_FIX),
    )


def _too_big_total(total: int, limits: InputLimits) -> TooLarge:
    return TooLarge(
        f"工作簿解压后共 {size_text(total)}，超过上限 {size_text(limits.uncompressed_bytes)}",
        limit_fix("uncompressed_bytes", limits, SPLIT_FIX),
    )


def _check_ratio(info: zipfile.ZipInfo, inflated: int, limits: InputLimits) -> None:
    if inflated > _RATIO_FLOOR and inflated > limits.compression_ratio * max(info.compress_size, 1):
        ratio = inflated // max(info.compress_size, 1)
        raise TooLarge(
            f"工作簿中的部件 {info.filename} 压缩比达 {ratio}:1（{size_text(info.compress_size, False)} 解压为 "
            f"{size_text(inflated, False)}），超过上限 {limits.compression_ratio}:1，像是“压缩炸弹”",
            limit_fix("compression_ratio", limits, "从平台重新导出；不要放入来历不明的文件"),
        )


def _inflate(fh: BinaryIO, info: zipfile.ZipInfo) -> Generator[bytes, None, None]:
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


def _prefetched(chunks: Iterator[bytes], depth: int = 2) -> Generator[bytes, None, None]:
    """The chunks, produced one ahead in a thread: zlib inflates without the GIL while RE2 scans the last chunk."""
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(
        maxsize=depth
    )  # ("chunk", bytes), ("end", None), ("error", exc)
    stop = threading.Event()

    def produce() -> None:
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
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.05)
        worker.join()


def scan_part(fh: BinaryIO, info: zipfile.ZipInfo, limits: InputLimits, inflated_before: int) -> "PartScan":
    try:
        return _read_part(fh, info, limits, inflated_before, FastScan())
    except Irregular:
        pass  # the first pass's reader is closed: the second one reads the file alone
    return _read_part(fh, info, limits, inflated_before, TagScan())


def _read_part(
    fh: BinaryIO, info: zipfile.ZipInfo, limits: InputLimits, inflated_before: int, scan: "PartScan"
) -> "PartScan":
    inflated = _inflate(fh, info)
    chunks = _prefetched(inflated) if info.file_size > _CHUNK else inflated
    with closing(inflated), closing(chunks):  # the thread stops before its generator is closed
        return _scanned(chunks, info, limits, inflated_before, scan)


def _scanned(
    chunks: Iterator[bytes], info: zipfile.ZipInfo, limits: InputLimits, inflated_before: int, scan: "PartScan"
) -> "PartScan":
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
