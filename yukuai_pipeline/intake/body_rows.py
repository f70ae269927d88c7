"""The data rows of an identified file: its sheet read in full, the columns under the header with their logical
names (the fullest copy of a header written twice), the 合计 rows and footnotes taken out, the title lines above
the header kept as notes, and columns with data under an empty header cell reported. Only the few rows that could
be a total or a footnote are looked at closely, so a million-row export costs a handful of vectorised passes.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from yukuai_pipeline.contracts import header_key, input_contracts
from yukuai_pipeline.intake import keyed_hash
from yukuai_pipeline.intake.column_mapping import UNRECOGNISED, HeaderCell
from yukuai_pipeline.intake.file_identity import FileIdentity, pick_sheet, unrecognised
from yukuai_pipeline.intake.headers import HeaderMatch
from yukuai_pipeline.intake.readers import read_raw
from yukuai_pipeline.intake.text_parsing import arrow_text, as_arrow_text, blank_text, per_distinct

_TOTAL_WORDS = {"合计", "总计", "小计", "全县合计", "总合计", "合计数", "累计", "total"}
_FOOTNOTE_PREFIXES = ("注", "说明", "备注:", "制表", "审核人", "审核:", "填报", "数据来源", "打印", "导出人", "负责人")
_TOTAL_HINT = "合|总|小|累|total"  # in any letter case: a cheap first look for rows that may be a 合计
_BLANK_WORDS = {"", "nan", "None"}


def read_body(
    path: Path, identity: FileIdentity
) -> tuple[HeaderMatch, pd.DataFrame, list[dict[str, Any]], list[tuple[int, str]], str]:
    """The header, the body rows of the columns to parse, the file's 合计 rows and its title and footnote lines. The
    sheet's other cells (columns nobody reads, the contract's dropped_at_ingest) are let go on return, before parsing
    needs memory."""
    contracts = [c for c in input_contracts() if c.kind == identity.kind]
    sheets = read_raw(path)
    picked = pick_sheet([s for s in sheets if s.name == identity.sheet] or sheets, contracts)
    if picked is None:  # the file changed between identification and now
        raise unrecognised(path, sheets, contracts)
    sheet, match = picked
    dropped = [c for c in match.contract.dropped_at_ingest if c in match.columns]
    match.cells.extend(_unlabelled_columns(sheet.cells, match))
    body, totals, footnotes = _body_rows(sheet.cells, match)
    body = with_tokens(body, match.contract.keyed)
    return match, body.drop(columns=dropped), totals, _title_lines(sheet.cells, match) + footnotes, sheet.name


def with_tokens(body: pd.DataFrame, keyed: dict[str, str]) -> pd.DataFrame:
    """The keyed tokens of the contract's phone and ID columns, made from the cells as read, before a dropped
    column is let go (nothing when no person key is configured: keyed_hash.py)."""
    present = {column: kind for column, kind in keyed.items() if column in body.columns}
    key = keyed_hash.person_key() if present else None
    if key is None:
        return body
    return body.assign(**{f"{c}_token": keyed_hash.tokens(body[c], kind, key) for c, kind in present.items()})


def _line(values: list[Any]) -> str:
    """A row's filled cells as one line of text (28632.0 written as 28632, as the sheet shows it)."""
    cells = [
        int(v) if isinstance(v, float) and v.is_integer() else v
        for v in values
        if v is not None and not (isinstance(v, float) and pd.isna(v))
    ]
    return " ".join(str(v).strip() for v in cells if str(v).strip())


def _title_lines(cells: pd.DataFrame, match: HeaderMatch) -> list[tuple[int, str]]:
    lines = [(row + 1, _line(cells.iloc[row].tolist())) for row in range(match.first_row)]
    return [(row, text) for row, text in lines if text]


_PROBE_ROWS = 2000


def _unlabelled_columns(cells: pd.DataFrame, match: HeaderMatch) -> list[HeaderCell]:
    """Columns with data under an empty header cell: nothing says what they are, so they are reported, not dropped
    in silence (the first rows are enough to tell)."""
    named = {c.position for c in match.cells}
    below = cells.iloc[match.last_row + 1 : match.last_row + 1 + _PROBE_ROWS]
    found = []
    for position in range(cells.shape[1]):
        if position in named or position in match.columns.values():
            continue
        filled = int((~blank_cells(below.iloc[:, position])).sum())
        if filled:
            found.append(
                HeaderCell(
                    position,
                    "（空表头）",
                    UNRECOGNISED,
                    note=f"该列没有表头，但前 {len(below)} 行中有 {filled} 个单元格有数据",
                )
            )
    return found


def _body_rows(
    cells: pd.DataFrame, match: HeaderMatch
) -> tuple[pd.DataFrame, list[dict[str, Any]], list[tuple[int, str]]]:
    """Data rows under the header with the logical column names; 合计 rows and footnotes taken out.

    Only the few rows that could be a total or a footnote are looked at closely, so a million-row export costs a
    handful of vectorised passes.
    """
    below = cells.iloc[match.last_row + 1 :]
    written_twice = {p for c, copies in match.duplicate_columns.items() for p in [match.columns[c], *copies]}
    blank = {p: blank_cells(below.iloc[:, p]) for p in sorted(written_twice)}
    positions = {
        column: _fullest(blank, position, match.duplicate_columns.get(column, []))
        for column, position in match.columns.items()
    }
    body = below.iloc[:, list(positions.values())]  # copy-on-write: renaming below leaves `cells` alone
    body.columns = list(positions.keys())
    filled = _filled_cells(below, list(positions.values()), blank)
    kept = (filled > 0).to_numpy().copy()
    lead = below.iloc[:, : min(3, below.shape[1])]
    maybe_total = lead.apply(may_hold_total_word).any(axis=1)
    maybe_footnote = filled <= 2
    suspects = lead[kept & (maybe_total | maybe_footnote).to_numpy()].astype("str").map(header_key)
    is_total = suspects.apply(lambda c: c.isin(_TOTAL_WORDS) | c.str.startswith(("合计", "总计"))).any(axis=1)
    first_text = suspects.apply(lambda r: next((v for v in r if v and v not in ("nan", "none")), ""), axis=1)
    is_footnote = first_text.astype("str").str.startswith(_FOOTNOTE_PREFIXES) & maybe_footnote.loc[suspects.index]
    total_index = is_total.index[is_total.to_numpy()]
    totals = [{"_row": int(i) + 1, **{c: body.at[i, c] for c in body.columns}} for i in total_index]
    footnote_index = is_footnote.index[is_footnote.to_numpy()]
    notes = [(int(i) + 1, _line(below.loc[i].tolist())) for i in sorted(set(total_index) | set(footnote_index))]
    dropped = set(total_index) | set(footnote_index)
    kept[below.index.get_indexer(sorted(dropped))] = False
    body = _rows_kept(body, kept)
    return body.assign(_row=body.index + 1), totals, notes


def _rows_kept(frame: pd.DataFrame, kept: np.ndarray) -> pd.DataFrame:
    """frame[kept] — as a slice, not a copy, when the rows kept are one run (an export with its title above and its
    合计 and footnotes below), so a million-row body is not copied to drop three rows."""
    where = np.flatnonzero(kept)
    if len(where) and where[-1] - where[0] + 1 == len(where):
        return frame.iloc[where[0] : where[-1] + 1]
    return frame[kept]


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | values.astype("str").str.strip().isin(["", "nan", "None"])


def blank_cells(values: pd.Series) -> pd.Series:
    values = as_arrow_text(values)
    if arrow_text(values):
        return blank_text(values, _BLANK_WORDS)
    return per_distinct(values, _blank).astype(bool)


def may_hold_total_word(values: pd.Series) -> pd.Series:
    values = as_arrow_text(values)
    if arrow_text(values):
        return values.str.contains(_TOTAL_HINT, case=False, regex=True, na=False).astype(bool)
    # a number's or a date's text never holds these words: look at the text cells only
    texts = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    found = pd.Series(False, index=values.index)
    if texts.any():
        found[texts] = may_hold_total_word(values[texts]).to_numpy()
    return found


def _filled_cells(below: pd.DataFrame, positions: list[int], known: dict[int, pd.Series]) -> pd.Series:
    """How many of the row's cells at `positions` hold something — exact up to 3, which is all that is asked (an
    empty row has 0, a footnote at most 2): once three cells of a row are filled, its other cells are not read."""
    filled = pd.Series(0, index=below.index, dtype="int16")  # a count of a row's cells: small numbers
    # Arrow text first: it is the cheap one to read in full
    positions = sorted(positions, key=lambda p: p not in known and not arrow_text(below.iloc[:, p]))
    for i, position in enumerate(positions):
        column = below.iloc[:, position]
        if position in known:
            filled += (~known[position]).astype("int16")
            continue
        open_rows = (filled < 3).to_numpy()
        if i >= 3 and not open_rows.any():
            break  # every row has three filled cells already
        if i < 3 or open_rows.all() or arrow_text(column):  # Arrow: a full pass is cheaper than choosing rows
            filled += (~blank_cells(column)).to_numpy().astype("int16")
        elif open_rows.any():
            filled[open_rows] += (~blank_cells(column[open_rows])).to_numpy().astype("int16")
    return filled


def _fullest(blank: dict[int, pd.Series], first: int, copies: list[int]) -> int:
    """A header written twice: the copy that holds data (the first one when several do)."""
    if not copies:
        return first
    candidates = [first, *copies]
    filled = [int((~blank[p]).sum()) for p in candidates]
    return candidates[filled.index(max(filled))]
