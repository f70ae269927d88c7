"""Finding the header row (one or two rows, merged cells) and the file's kind and snapshot date.

A file's kind is the contract whose required columns its header carries; its date comes from the file name or,
failing that, from a title line above the header.
"""

import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd

from yukuai_pipeline.contracts import Contract, header_key
from yukuai_pipeline.intake.column_mapping import AMBIGUOUS, UNRECOGNISED, HeaderCell, map_row

HEADER_SEARCH_ROWS = 40

# 20230217, 2023-02-17, 2023.2.17, 2023年2月17日, 2023 02 17 (spaces as the separator: a name typed by hand)
_DATE_IN_TEXT = re.compile(
    r"(?<!\d)(20\d{2})(?:(\d{2})(\d{2})|(?:\s*[-_./年]\s*|\s+)(\d{1,2})(?:\s*[-_./月]\s*|\s+)(\d{1,2}))(?!\d)"
)
_TIME_AFTER = re.compile(r"\s*[日号]?\s*[T\s]?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?")
_DATE_KEYWORDS = ("截止", "截至", "导出时间", "导出日期", "统计时间", "统计日期", "数据日期", "日期", "时间")


@dataclass
class HeaderMatch:
    contract: Contract
    first_row: int
    last_row: int
    columns: dict[str, int]
    duplicate_columns: dict[str, list[int]] = field(default_factory=dict)
    cells: list[HeaderCell] = field(default_factory=list)  # every non-empty header cell and what became of it

    @property
    def score(self) -> tuple[int, int, int, int, int]:
        # All required present is a precondition; then more recognised columns, fewer unaccounted-for cells, more
        # specific contract, higher row, and a one-row header over a two-row one that reaches up into the title.
        unaccounted = sum(c.outcome in (UNRECOGNISED, AMBIGUOUS) for c in self.cells)
        return (len(self.columns), -unaccounted, len(self.contract.required_columns), -self.last_row, self.first_row)

    @property
    def missing_optional(self) -> list[str]:
        """Optional fields whose absence changes what the numbers mean (the contract's `if_missing`)."""
        return [c for c in self.contract.if_missing if c not in self.columns]


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return " ".join(str(value).split())


def _row_texts(cells: pd.DataFrame, row: int) -> list[str]:
    return [_cell_text(v) for v in cells.iloc[row].tolist()]


def _header_candidates(cells: pd.DataFrame, row: int, span: int) -> tuple[list[list[str]], list[str]]:
    """Per column, the keys the header may be (a two-row header: the top, the bottom, both joined), and its text."""
    top = _row_texts(cells, row)
    if span == 1:
        return [[header_key(t)] for t in top], top
    bottom = _row_texts(cells, row + 1)
    filled, last = [], ""
    for text in top:  # a merged parent cell holds its text only in its first column
        last = text or last
        filled.append(last)
    keys, texts = [], []
    for t, b, f in zip(top, bottom, filled):
        tk, bk, fk = header_key(t), header_key(b), header_key(f)
        keys.append([tk, bk, fk + bk, fk] if tk else [bk, fk + bk, fk])
        texts.append("／".join(dict.fromkeys(x for x in (f if b else t, b) if x)))
    return keys, texts


def _match(row: int, span: int, candidates: tuple[list[list[str]], list[str]], contract: Contract) -> HeaderMatch:
    mapping = map_row(contract.matcher(), *candidates)
    return HeaderMatch(contract, row, row + span - 1, mapping.columns, mapping.copies, mapping.cells)


def find_header(cells: pd.DataFrame, contracts: list[Contract]) -> HeaderMatch | None:
    best: HeaderMatch | None = None
    for row in range(min(len(cells), HEADER_SEARCH_ROWS)):
        for span in (1, 2):
            if row + span > len(cells):
                continue
            candidates = _header_candidates(cells, row, span)
            if not any(candidates[1]):
                continue
            for contract in contracts:
                match = _match(row, span, candidates, contract)
                if not set(contract.required_columns) <= set(match.columns):
                    continue
                if best is None or match.score > best.score:
                    best = match
    return best


def best_partial_header(cells: pd.DataFrame, contracts: list[Contract]) -> HeaderMatch | None:
    """For the error message of an unrecognised file: the closest contract's header row, lacking required columns."""
    closest = None
    for row in range(min(len(cells), HEADER_SEARCH_ROWS)):
        candidates = _header_candidates(cells, row, 1)
        for contract in contracts:
            match = _match(row, 1, candidates, contract)
            hits = len(set(match.columns) & set(contract.required_columns))
            hits += sum(
                c.outcome == AMBIGUOUS and bool(set(c.candidates) & set(contract.required_columns)) for c in match.cells
            )
            # one shared column (姓名, 乡镇) says little: suggest a kind only when half its required columns are there
            if hits >= max(2, len(contract.required_columns) / 2) and (closest is None or hits > closest[0]):
                closest = (hits, match)
    return None if closest is None else closest[1]


@dataclass(frozen=True)
class TitleDate:
    """A date written above the header: 统计截止：2023-02-17, 导出时间：2023-02-18 08:00 …"""

    day: dt.date
    at: dt.datetime | None  # with its time of day, when the line gives one
    label: str  # the words it follows (统计截止, 导出时间 …; "" when none)

    @property
    def is_export_time(self) -> bool:
        """When the file was made, not what day its data describe."""
        return any(word in self.label for word in _EXPORT_WORDS)

    def agrees_with(self, day: dt.date, export_lag_days: int) -> bool:
        """统计截止 must be the day itself; an export may be made up to export_lag_days later (the next morning)."""
        if self.is_export_time:
            return 0 <= (self.day - day).days <= export_lag_days
        return self.day == day

    def __str__(self) -> str:
        when = f"{self.at:%Y-%m-%d %H:%M}" if self.at else f"{self.day}"
        return f"{self.label}：{when}" if self.label else when

    @classmethod
    def parse(cls, text: object) -> "TitleDate | None":
        """The inverse of str(): a title date as the ingest log keeps it (missing: None)."""
        if not isinstance(text, str) or not text:
            return None
        label, _, when = text.rpartition("：")
        found = stamp_from_text(when)
        return cls(found[0], found[1], label) if found else None


_EXPORT_WORDS = ("导出", "生成", "打印", "下载")


def date_from_text(text: str) -> dt.date | None:
    found = stamp_from_text(text)
    return found[0] if found else None


def stamp_from_text(text: str) -> tuple[dt.date, dt.datetime | None] | None:
    """The first real date in the text, and its time of day when one follows it (08:00, 8时30分)."""
    for m in _DATE_IN_TEXT.finditer(text):
        year, month, day = int(m.group(1)), int(m.group(2) or m.group(4)), int(m.group(3) or m.group(5))
        try:
            date = dt.date(year, month, day)
        except ValueError:
            continue
        clock = _TIME_AFTER.match(text, m.end())
        at = None
        if clock:
            try:
                at = dt.datetime(year, month, day, int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0))
            except ValueError:
                at = None
        return date, at
    return None


def date_from_title(cells: pd.DataFrame, above_row: int) -> TitleDate | None:
    """A date in the lines above the header, preferring one after 截止/导出时间/统计时间."""
    texts = []
    for row in range(min(above_row, len(cells))):
        for value in cells.iloc[row].tolist():
            if isinstance(value, (dt.datetime, dt.date)):
                texts.append(value.strftime("%Y-%m-%d %H:%M" if isinstance(value, dt.datetime) else "%Y-%m-%d"))
            elif value is not None and str(value).strip():
                texts.append(str(value))
    for text in texts:
        for keyword in _DATE_KEYWORDS:
            if keyword in text:
                at = text.index(keyword)
                found = stamp_from_text(text[at:])
                if found:
                    return TitleDate(found[0], found[1], _label(text, at, keyword))
    for text in texts:
        found = stamp_from_text(text)
        if found:
            return TitleDate(found[0], found[1], "")
    return None


def _label(text: str, at: int, keyword: str) -> str:
    """The words of the line that name the date: 统计截止, 数据截至, 导出时间 (up to 4 characters before the
    keyword)."""
    before = re.split(r"[\s:：,，;；()（）]", text[:at])[-1][-4:]
    return before + keyword
