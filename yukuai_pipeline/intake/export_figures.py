"""The numbers an export states about itself — a 合计 row, a title or footer line such as "共 29,779 人，其中已通过
28,632 人，待审核 812 人" — read so that they can be compared with what the pipeline counted. A truncated or
hand-edited export, or a column read with another meaning, shows up as a disagreement naming both numbers."""

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from yukuai_pipeline.contracts import header_key
from yukuai_pipeline.places.names import normalize_text

_NUMBER = r"(\d[\d,]*)"
_UNIT = r"\s*(?:人|名|条|个|位|户|行)?"
_TOTAL = re.compile(r"(?:共计|共有|共|总计|总数|总人数|用户总数|总用户数|合计人数|合计)\s*[:：]?\s*" + _NUMBER + _UNIT)


@dataclass
class StatedFigures:
    """What the file says of itself: its number of records and its per-status counts, each with its line."""

    total: tuple[int, int] | None = None  # (row, number)
    by_status: dict[str, tuple[int, int]] = field(default_factory=dict)  # canonical status -> (row, number)


def stated_figures(notes: list[tuple[int, str]], status_words: dict[str, str]) -> StatedFigures:
    """status_words: header_key(word) -> canonical status, the contract's vocabulary."""
    stated = StatedFigures()
    pattern = _status_pattern(tuple(sorted(status_words, key=len, reverse=True)))
    for row, text in notes:
        line = normalize_text(text)
        total = _TOTAL.search(line)
        if total and stated.total is None:
            stated.total = (row, _int(total.group(1)))
        for m in pattern.finditer(line) if pattern else []:
            status = status_words.get(header_key(m.group(1)))
            if status and status not in stated.by_status:
                stated.by_status[status] = (row, _int(m.group(2)))
    return stated


def _status_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile("(" + "|".join(map(re.escape, words)) + r")\s*[:：]?\s*" + _NUMBER + _UNIT)


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def user_export_mismatches(
    stated: StatedFigures, rows: int, statuses: pd.Series | None, quarantined: int, labels: dict[str, str]
) -> list[str]:
    """Where a user-level export's own figures disagree with its rows: its total against the records read, each
    stated status count against the rows with that status."""
    problems = []
    if stated.total is not None and stated.total[1] != rows:
        problems.append(f"第 {stated.total[0]} 行写明共 {stated.total[1]:,} 人，明细实际 {rows:,} 行")
    if stated.by_status:
        counted = statuses.value_counts() if statuses is not None else None
        aside = f"（另有 {quarantined:,} 行被隔离）" if quarantined else ""
        for status, (row, number) in stated.by_status.items():
            label = labels.get(status, status)
            if counted is None:
                problems.append(f"第 {row} 行写明{label} {number:,} 人，但文件中没有可识别的审核状态列")
            elif int(counted.get(status, 0)) != number:
                problems.append(
                    f"第 {row} 行写明{label} {number:,} 人，明细中{label} {int(counted.get(status, 0)):,} 人{aside}"
                )
    return problems


def summary_total_mismatches(totals: list[dict[str, Any]], accepted: pd.DataFrame) -> list[str]:
    """A summary export's 合计 row against the sum of its rows, for every count it states."""
    problems = []
    for total in totals:
        for column, label in (
            ("completed", "完成数"),
            ("target", "任务数"),
            ("resident_population", "常住人口"),
            ("gap", "尚差任务数"),
        ):
            if column not in total or column not in accepted.columns:
                continue
            stated = pd.to_numeric(str(total[column]).replace(",", ""), errors="coerce")
            actual = int(accepted[column].fillna(0).sum())
            if not pd.isna(stated) and int(stated) != actual:
                problems.append(f"第 {total['_row']} 行合计{label}为 {int(stated):,}，各行相加为 {actual:,}")
    return problems
