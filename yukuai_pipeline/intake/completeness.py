"""Is a landed file whole? A file still being copied (or cut off by a failed copy) must not be counted: half a day's
export would publish half the users. Structure tells: a workbook's zip directory sits at its very end, and a CSV
ends on a record boundary."""

import codecs
import csv
import io
import zipfile
from pathlib import Path

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_TAIL_BYTES = 64 * 1024
# a last line without its line break is whole when it is one of these (a footnote or a total, narrower than records)
_TRAILER_STARTS = (
    "注",
    "说明",
    "备注",
    "制表",
    "审核",
    "填报",
    "数据来源",
    "打印",
    "导出",
    "负责人",
    "合计",
    "总计",
    "共",
)


def incomplete_reason(path: Path) -> str | None:
    """Why the file looks cut off, or None when it looks whole (or cannot be judged: the readers say the rest)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            size = fh.seek(0, 2)
            fh.seek(max(0, size - _TAIL_BYTES))
            tail = fh.read()
    except OSError:
        return None
    if not head:
        return None
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path):
                return None
        except zipfile.BadZipFile:
            return "工作簿不完整（文件末尾的 zip 目录缺失，可能仍在复制或复制中断）"
        except OSError:
            return None
    if head.startswith(_OLE_MAGIC):
        return None
    return _csv_cut(tail, size <= _TAIL_BYTES)


def _csv_cut(tail: bytes, whole_file: bool) -> str | None:
    if (
        tail.endswith((b"\n", b"\r"))
        or tail.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        or (tail[1::2].count(0) > len(tail) // 4)
    ):  # UTF-16 text: judged by its reader, not here
        return None
    if not whole_file:
        tail = tail[tail.find(b"\n") + 1 :]  # the tail starts inside a line, maybe inside a character
    text = _decoded(tail)
    if text is None:
        return "CSV 文件不完整（最后一个字符只写了一半，可能仍在复制或复制中断）"
    lines = text.splitlines()
    if len(lines) < 2:
        return None
    last = lines[-1].strip()
    if not last or last.lstrip('"').startswith(_TRAILER_STARTS):
        return None
    if last.count('"') % 2:
        return "CSV 文件不完整（最后一行的引号没有闭合，可能仍在复制或复制中断）"
    delimiter = max((",", "\t", ";", "|"), key=lambda d: lines[-2].count(d))
    previous = next(csv.reader([lines[-2]], delimiter=delimiter))
    fields = next(csv.reader(io.StringIO(lines[-1]), delimiter=delimiter))
    if len(fields) < len(previous):
        return (
            f"CSV 文件不完整（最后一行只有 {len(fields)} 列、上一行有 {len(previous)} 列，且没有换行结尾，"
            "可能仍在复制或复制中断）"
        )
    return None


def _decoded(data: bytes) -> str | None:
    """The text of UTF-8 or GB18030 bytes; None when they are UTF-8 cut inside the last character."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start >= len(data) - 3:
            try:
                data[: err.start].decode("utf-8")
                return None
            except UnicodeDecodeError:
                pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")
