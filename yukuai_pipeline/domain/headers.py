"""Finding the header row (one or two rows, merged cells) and the file's kind and snapshot date.

A file's kind is the contract whose required columns its header carries; its date comes from the file name or,
failing that, from a title line above the header.
"""

import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd

from yukuai_pipeline.domain.contracts import Contract, header_key

HEADER_SEARCH_ROWS = 40

_DATE_IN_TEXT = re.compile(
    r"(?<!\d)(20\d{2})(?:(\d{2})(\d{2})|\s*[-_./年]\s*(\d{1,2})\s*[-_./月]\s*(\d{1,2}))(?!\d)"
)
_DATE_KEYWORDS = ("截止", "截至", "导出时间", "导出日期", "统计时间", "统计日期", "数据日期", "日期", "时间")


@dataclass
class HeaderMatch:
    contract: Contract
    first_row: int
    last_row: int
    columns: dict[str, int]
    duplicate_columns: dict[str, list[int]] = field(default_factory=dict)
    unknown_headers: list[str] = field(default_factory=list)

    @property
    def score(self) -> tuple:
        # All required present is a precondition; then more recognised columns, more specific contract, higher
        # row, and a one-row header over a two-row one that reaches up into the title.
        return (len(self.columns), len(self.contract.required_columns), -self.last_row, self.first_row)


def _row_keys(cells: pd.DataFrame, row: int) -> list[str]:
    return [header_key(v) for v in cells.iloc[row].tolist()]


def _match_columns(candidates: list[list[str]], contract: Contract) -> tuple[dict, dict, list]:
    index = contract.alias_index()
    found: dict[str, int] = {}
    duplicates: dict[str, list[int]] = {}
    unknown: list[str] = []
    for position, keys in enumerate(candidates):
        column = next((index[k] for k in keys if k in index), None)
        if column is None:
            unknown.extend(k for k in keys[:1] if k)
        elif column in found:
            duplicates.setdefault(column, []).append(position)
        else:
            found[column] = position
    return found, duplicates, unknown


def _header_candidates(cells: pd.DataFrame, row: int, span: int) -> list[list[str]]:
    top = _row_keys(cells, row)
    if span == 1:
        return [[k] for k in top]
    bottom = _row_keys(cells, row + 1)
    filled, last = [], ""
    for key in top:  # a merged parent cell holds its text only in its first column
        last = key or last
        filled.append(last)
    return [[t, b, f + b, f] if t else [b, f + b, f] for t, b, f in zip(top, bottom, filled)]


def find_header(cells: pd.DataFrame, contracts: list[Contract]) -> HeaderMatch | None:
    best: HeaderMatch | None = None
    for row in range(min(len(cells), HEADER_SEARCH_ROWS)):
        for span in (1, 2):
            if row + span > len(cells):
                continue
            candidates = _header_candidates(cells, row, span)
            for contract in contracts:
                found, duplicates, unknown = _match_columns(candidates, contract)
                if not set(contract.required_columns) <= set(found):
                    continue
                match = HeaderMatch(contract, row, row + span - 1, found, duplicates, unknown)
                if best is None or match.score > best.score:
                    best = match
    return best


def best_partial_header(cells: pd.DataFrame, contracts: list[Contract]) -> tuple[Contract, list[str]] | None:
    """For the error message of an unrecognised file: the closest contract and the required columns it lacks."""
    closest = None
    for row in range(min(len(cells), HEADER_SEARCH_ROWS)):
        candidates = _header_candidates(cells, row, 1)
        for contract in contracts:
            found, _, _ = _match_columns(candidates, contract)
            hits = len(set(found) & set(contract.required_columns))
            # one shared column (姓名, 乡镇) says little: suggest a kind only when half its required columns are there
            if hits >= max(2, len(contract.required_columns) / 2) and (closest is None or hits > closest[0]):
                closest = (hits, contract, [c for c in contract.required_columns if c not in found])
    return None if closest is None else (closest[1], closest[2])


def date_from_text(text: str) -> dt.date | None:
    for m in _DATE_IN_TEXT.finditer(text):
        year, month, day = int(m.group(1)), int(m.group(2) or m.group(4)), int(m.group(3) or m.group(5))
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return None


def date_from_title(cells: pd.DataFrame, above_row: int) -> dt.date | None:
    """A date in the lines above the header, preferring one after 截止/导出时间/统计时间."""
    texts = []
    for row in range(min(above_row, len(cells))):
        for value in cells.iloc[row].tolist():
            if isinstance(value, (dt.datetime, dt.date)):
                texts.append(value.strftime("%Y-%m-%d"))
            elif value is not None and str(value).strip():
                texts.append(str(value))
    for text in texts:
        for keyword in _DATE_KEYWORDS:
            if keyword in text:
                found = date_from_text(text[text.index(keyword):])
                if found:
                    return found
    for text in texts:
        found = date_from_text(text)
        if found:
            return found
    return None
