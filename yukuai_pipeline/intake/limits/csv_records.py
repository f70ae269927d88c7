"""A CSV's size and shape against the limits: the widest record of the sniffed first lines and the records estimated
from the size and the sampled lines' length (before any full read), and the guard pandas' tolerant reader calls for
every record as it goes (column, row and cell limits).
"""

import codecs
from pathlib import Path

from yukuai_pipeline.intake.limits.refusals import SPLIT_FIX, TooLarge, limit_fix
from yukuai_pipeline.settings import InputLimits


def check_csv(
    path: Path, size: int, head: bytes, encoding: str, width: int, whole_first_line: bool, limits: InputLimits
) -> int:
    """Columns from the sniffed first lines (width), records estimated from the size and the length of the lines in
    the file's first and last bytes; returns the estimate."""
    if width > limits.columns:
        at_least = "" if whole_first_line else "至少"
        raise TooLarge(
            f"CSV 文件的前几行{at_least}有 {width} 列，超过上限 {limits.columns} 列",
            limit_fix(
                "columns", limits, "确认导出的是平台的标准格式（列数不应上百）；或在 Excel 中删掉多余的列后另存为 CSV"
            ),
        )
    records = estimate_records(path, size, head, encoding)
    if records > limits.rows:
        raise TooLarge(
            f"按文件大小估计 CSV 文件约有 {records} 行，超过上限 {limits.rows} 行", limit_fix("rows", limits, SPLIT_FIX)
        )
    if records * width > limits.csv_cells:
        raise TooLarge(
            f"按文件大小估计 CSV 文件约有 {records} 行 × {width} 列 = {records * width} 个单元格，"
            f"超过上限 {limits.csv_cells} 个",
            limit_fix("csv_cells", limits, SPLIT_FIX),
        )
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
        encoding = (
            encoding if encoding != "utf-16" else ("utf-16-be" if head.startswith(codecs.BOM_UTF16_BE) else "utf-16-le")
        )
        tail = tail[len(tail) % 2 :]
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
                raise TooLarge(
                    f"CSV 文件第 {self.records} 行有 {fields} 列，超过上限 {self.limits.columns} 列",
                    limit_fix("columns", self.limits, "检查该行是否多了分隔符，改正后另存为 CSV"),
                )
        if self.records > self.limits.rows:
            raise TooLarge(f"CSV 文件超过 {self.limits.rows} 行", limit_fix("rows", self.limits, SPLIT_FIX))
        if self.records * self.width > self.limits.csv_cells:
            raise TooLarge(
                f"CSV 文件读到第 {self.records} 行时已有 {self.records * self.width} 个单元格，超过上限 "
                f"{self.limits.csv_cells} 个",
                limit_fix("csv_cells", self.limits, SPLIT_FIX),
            )
