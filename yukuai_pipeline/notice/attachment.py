"""The notice's target table, found by its header among the document's tables (schemas/notices/target_table.yaml),
read row by row with every number checked: targets are configuration, so a cell that is not a whole number, a
township named twice or a header cell nobody knows stops the import with the row and the column, never a guess."""

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd
import pandera.pandas as pa

from yukuai_pipeline import settings
from yukuai_pipeline.contracts import Contract, header_key
from yukuai_pipeline.intake.column_mapping import AMBIGUOUS, UNRECOGNISED
from yukuai_pipeline.intake.headers import HeaderMatch, best_partial_header, find_header
from yukuai_pipeline.intake.text_parsing import parse_count
from yukuai_pipeline.notice.documents import Document

NUMBERS = ("resident_population", "target", "completed", "gap")
TITLES = {
    "seq": "序号",
    "township": "乡镇（街道）",
    "resident_population": "常住人口数",
    "target": "任务数",
    "completed": "完成数",
    "gap": "尚差任务数",
}


class AttachmentError(ValueError):
    """The target table cannot be used as it is; the message names the table's row and column."""


@dataclass
class TargetTable:
    rows: pd.DataFrame  # seq, township, resident_population, target, completed, gap (Int64; absent columns NA)
    total: dict[str, int] = field(default_factory=dict)  # the table's own 合计 row
    header: list[str] = field(default_factory=list)  # the header cells as written
    table_number: int = 1  # which table of the document (1-based)
    header_row: int = 0  # 1-based row of the header within that table


@cache
def contract() -> Contract:
    doc = settings.read_yaml(settings.schemas_dir() / "notices" / "target_table.yaml")
    aliases = {k: tuple(v) for k, v in doc["header_aliases"].items()}
    return Contract(
        kind=doc["kind"],
        role="notice",
        title=doc["title"],
        schema=pa.DataFrameSchema({c: pa.Column(title=TITLES.get(c, c)) for c in aliases}),
        header_aliases=aliases,
        required_columns=tuple(doc["required_columns"]),
        key_terms={k: tuple(v) for k, v in (doc.get("key_terms") or {}).items()},
        noise_headers=tuple(doc.get("noise_headers") or ()),
        sections={"total_labels": tuple(doc.get("total_labels") or ())},
    )


def find_target_table(document: Document) -> TargetTable:
    found: list[tuple[HeaderMatch, int]] = []
    for number, cells in enumerate(document.tables, start=1):
        match = find_header(cells, [contract()])
        if match is not None:
            found.append((match, number))
    if not found:
        raise AttachmentError(_not_found(document))
    match, number = max(found, key=lambda f: f[0].score)
    return _read_rows(document.tables[number - 1], match, number)


def _not_found(document: Document) -> str:
    if not document.tables:
        return (
            f"《{document.name}》里没有表格：找不到目标任务安排表（附件）。"
            "请提供含附件表格的通知，或单独提供附件的 Excel 文件"
        )
    closest = None
    for cells in document.tables:
        closest = closest or best_partial_header(cells, [contract()])
    seen = "；".join(" | ".join(str(v) for v in t.iloc[0].tolist() if str(v).strip()) for t in document.tables[:3])
    need = "、".join(TITLES[c] for c in contract().required_columns)
    hint = f"（最接近的一行：第 {closest.first_row + 1} 行）" if closest is not None else ""
    return f"《{document.name}》的表格里找不到含“{need}”的表头{hint}。各表格第一行：{seen}"


def _read_rows(cells: pd.DataFrame, match: HeaderMatch, number: int) -> TargetTable:
    where = f"第 {number} 个表格"
    unknown = [c for c in match.cells if c.outcome in (UNRECOGNISED, AMBIGUOUS)]
    if unknown:
        names = "、".join(f"第 {c.position + 1} 列“{c.text}”" for c in unknown)
        raise AttachmentError(
            f"{where}表头里有认不出的列：{names}。请在 schemas/notices/target_table.yaml 的 header_aliases "
            "（是有用的列）或 noise_headers（不用的列）里加上这个写法后再导入"
        )
    body = cells.iloc[match.last_row + 1 :]
    labels = {header_key(w) for w in contract().sections["total_labels"]}
    rows: list[dict[str, Any]] = []
    total: dict[str, int] = {}
    for index, raw in body.iterrows():
        values = {c: str(raw.iloc[p]).strip() for c, p in match.columns.items()}
        line = int(str(index)) + 1
        if not any(values.values()):
            continue
        if {header_key(v) for v in raw.tolist() if str(v).strip()} & labels:
            total = {c: n for c, n in _numbers(values, where, line).items() if n is not None}
            continue
        if not values.get("township"):
            raise AttachmentError(f"{where}第 {line} 行没有乡镇（街道）名称：{' | '.join(map(str, raw.tolist()))}")
        rows.append(
            {
                "_row": line,
                "seq": values.get("seq") or None,
                "township": _name(values["township"]),
                **_numbers(values, where, line),
            }
        )
        for column in contract().required_columns:  # a township without its population or target is no target
            if rows[-1].get(column) is None:
                raise AttachmentError(f"{where}第 {line} 行（{rows[-1]['township']}）“{TITLES[column]}”为空")
    if not rows:
        raise AttachmentError(f"{where}表头下没有乡镇（街道）行")
    frame = pd.DataFrame(rows)
    for column in NUMBERS:
        frame[column] = pd.array(frame[column] if column in frame else [None] * len(frame), dtype="Int64")
    twice = frame[frame["township"].duplicated(keep=False)]
    if len(twice):
        listed = "、".join(f"{t}（第 {', '.join(map(str, g['_row']))} 行）" for t, g in twice.groupby("township"))
        raise AttachmentError(f"{where}里同一乡镇（街道）出现不止一次：{listed}")
    header = [c.text for c in match.cells]
    return TargetTable(frame, total, header, number, match.first_row + 1)


def _numbers(values: dict[str, str], where: str, line: int) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for column in NUMBERS:
        if column not in values:
            continue
        parsed, bad = parse_count(pd.Series([values[column]], dtype="object"))
        if bool(bad.iloc[0]) or (values[column] and pd.isna(parsed.iloc[0])):
            raise AttachmentError(f"{where}第 {line} 行“{TITLES[column]}”不是整数：“{values[column]}”")
        out[column] = None if pd.isna(parsed.iloc[0]) else int(parsed.iloc[0])
    return out


_SPACES = re.compile(r"\s+")


def _name(text: str) -> str:
    return _SPACES.sub("", text)
