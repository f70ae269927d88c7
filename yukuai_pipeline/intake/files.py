"""One landed file from bytes to accepted rows and quarantined rows: the readers, headers, parsing and contracts
put together. A file that cannot be used at all raises InputFileError with one clear message."""

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from yukuai_pipeline.contracts import Contract, header_key, input_contracts, validate
from yukuai_pipeline.intake.column_mapping import AMBIGUOUS, UNRECOGNISED, HeaderCell, column_letter
from yukuai_pipeline.intake.headers import (HeaderMatch, TitleDate, best_partial_header, date_from_text, date_from_title,
                                            find_header)
from yukuai_pipeline.intake.parsing import arrow_text, as_arrow_text, blank_text, parse_frame, per_distinct
from yukuai_pipeline.intake.privacy import mask_value, scrub_column, scrub_text
from yukuai_pipeline.intake.readers import SUPPORTED_SUFFIXES, InputFileError, RawSheet, read_raw

CLASSIFY_ROWS = 60
_TOTAL_WORDS = {"合计", "总计", "小计", "全县合计", "总合计", "合计数", "累计", "total"}
_FOOTNOTE_PREFIXES = ("注", "说明", "备注:", "制表", "审核人", "审核:", "填报", "数据来源", "打印", "导出人", "负责人")
_TOTAL_HINT = "合|总|小|累|total"  # in any letter case: a cheap first look for rows that may be a 合计
_BLANK_WORDS = {"", "nan", "None"}
ISSUE_COLUMNS = ["row_number", "field", "value_masked", "message", "quarantined"]


@dataclass
class FileIdentity:
    """What a file is, from its header and name/title; cheap (reads only the first rows)."""

    path: Path
    sha256: str
    kind: str | None
    snapshot_date: dt.date | None
    sheet: str | None = None
    error: InputFileError | None = None
    name_date: dt.date | None = None  # the date in the file name
    title: TitleDate | None = None  # the date above the header (统计截止 / 导出时间 …)
    mtime: float | None = None  # seconds since the epoch, when the file was last written
    waiting: str | None = None  # why the file is not read yet (still being written, cut off); None when whole
    made: dt.datetime | None = None  # when it was made, as recorded when the warehouse took it in (else: made_at)

    @property
    def name(self) -> str:
        """The file name as it may be shown and stored (a GBK name unpacked on Linux is decoded, never raw bytes)."""
        return display_name(self.path.name)

    @property
    def made_at(self) -> dt.datetime | None:
        """When the export was made: its title's 导出时间 if it has one, else the file's modification time (Beijing
        time); for a snapshot the warehouse keeps, what was recorded when it was taken in."""
        if self.made is not None:
            return self.made
        if self.title is not None and self.title.is_export_time:
            return self.title.at or dt.datetime.combine(self.title.day, dt.time())
        if self.mtime is not None:
            return dt.datetime.fromtimestamp(self.mtime, dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=8)
        return None


def display_name(name: str) -> str:
    """A name whose bytes are not UTF-8 (Python keeps them as surrogates) decoded as GB18030, as a Windows zip
    unpacked on Linux leaves it; failing that, the undecodable bytes shown as \\xNN."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "backslashreplace")


@dataclass
class LoadedFile:
    identity: FileIdentity
    header: HeaderMatch
    accepted: pd.DataFrame  # typed columns of the contract + _row (Excel/CSV line number)
    issues: pd.DataFrame  # ISSUE_COLUMNS, values masked
    total_rows: list[dict] = field(default_factory=list)  # the file's own 合计 rows: {"_row": n, column: number}
    rows: int = 0
    notes: list[tuple[int, str]] = field(default_factory=list)  # (row, text) of title lines and footnotes
    quarantined_rows: int | None = None  # rows left out (issues list at most ISSUES_PER_REASON of each kind)

    @property
    def header_cells(self) -> list[HeaderCell]:
        return self.header.cells

    @property
    def header_row(self) -> int:
        """The header's (last) row as the spreadsheet numbers it."""
        return self.header.last_row + 1

    @property
    def quarantined(self) -> int:
        if self.quarantined_rows is not None:
            return self.quarantined_rows
        return int(self.issues.loc[self.issues["quarantined"].astype(bool), "row_number"].nunique())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_candidate(path: Path) -> bool:
    return path.is_file() and not path.name.startswith((".", "~$")) and path.suffix.lower() in SUPPORTED_SUFFIXES


def _pick_sheet(sheets: list[RawSheet], contracts: list[Contract]) -> tuple[RawSheet, HeaderMatch] | None:
    """The first sheet whose header fits a contract ("wrong sheet first" exports put a cover sheet before it)."""
    for sheet in sheets:
        match = find_header(sheet.cells, contracts)
        if match:
            return sheet, match
    return None


def _unrecognised(path: Path, sheets: list[RawSheet], contracts: list[Contract]) -> InputFileError:
    if all(sheet.cells.dropna(how="all").empty for sheet in sheets) or all(
        (sheet.cells.astype(str).apply(lambda c: c.str.strip()) == "").all(axis=None) for sheet in sheets
    ):
        return InputFileError(display_name(path.name), "文件中没有任何内容", "从平台重新导出该文件")
    partial = [p for p in (best_partial_header(s.cells, contracts) for s in sheets) if p]
    if partial:
        match = partial[0]
        contract = match.contract
        missing = [c for c in contract.required_columns if c not in match.columns]
        titles = "、".join(contract.column_title(c) for c in missing)
        doubtful = [f"第 {column_letter(c.position)} 列“{c.text}”" + (f"（{c.note}）" if c.note else "")
                    for c in match.cells if c.outcome in (UNRECOGNISED, AMBIGUOUS)]
        seen = f"；未能识别的表头：{'、'.join(doubtful[:8])}" if doubtful else ""
        error = InputFileError(display_name(path.name), f"看起来是「{contract.title}」，但缺少必需的列：{titles}{seen}",
                               f"导出时勾选这些列，或把表头写法加入 schemas/inputs/{contract.kind}.yaml 的 header_aliases")
        error.likely_kind = contract.kind  # a broken export of that kind, not a stray file: its day cannot go on
        return error
    return InputFileError(display_name(path.name), "无法识别文件类型（表头不是任何已知导出格式）",
                          "确认这是平台导出的注册明细、注册汇总、社区基本信息、基层队伍信息或平台应用明细表，表头在前 40 行内")


def unreadable(path: Path, err: OSError) -> FileIdentity:
    """A file the pipeline may not or cannot open: a file issue naming it, dated by its name where it has one."""
    name = display_name(path.name)
    return FileIdentity(path, "", None, None, name_date=date_from_text(name), error=InputFileError(
        name, f"无法读取（{err.strerror or type(err).__name__}）", "确认文件存在、已复制完整，且运行本程序的用户有读取权限"))


def identify(path: Path, contracts: list[Contract] | None = None, sha256: str | None = None) -> FileIdentity:
    """Kind and snapshot date, from the first rows only. Errors are returned, not raised, so a scan goes on."""
    path = Path(path)
    contracts = contracts or input_contracts()
    try:
        mtime = path.stat().st_mtime
        sha = sha256 or file_sha256(path)
    except OSError as err:
        return unreadable(path, err)
    try:
        sheets = read_raw(path, nrows=CLASSIFY_ROWS)
        picked = _pick_sheet(sheets, contracts)
        if picked is None:
            raise _unrecognised(path, sheets, contracts)
        sheet, match = picked
        title = date_from_title(sheet.cells, match.first_row)
        name_date = date_from_text(display_name(path.stem))
        day = name_date or (title.day if title else None)
        return FileIdentity(path, sha, match.contract.kind, day, sheet.name, name_date=name_date, title=title,
                            mtime=mtime)
    except InputFileError as err:
        return FileIdentity(path, sha, None, None, error=err, name_date=date_from_text(display_name(path.stem)),
                            mtime=mtime)
    except Exception as err:  # noqa: BLE001 - a scan must go on past any one file, whatever breaks in it
        problem = f"读取时出现意外错误（{type(err).__name__}）"
        return FileIdentity(path, sha, None, None, error=InputFileError(display_name(path.name), problem,
                                                                          "从平台重新导出该文件；如仍出错请联系技术支持"),
                            name_date=date_from_text(display_name(path.stem)), mtime=mtime)


def load(path: Path, identity: FileIdentity | None = None) -> LoadedFile:
    """Read, parse and validate the whole file; raises InputFileError when nothing of it can be used."""
    path = Path(path)
    identity = identity or identify(path)
    if identity.error:
        raise identity.error
    if identity.snapshot_date is None:
        raise InputFileError(identity.name, "无法确定数据日期（文件名和标题行里都没有日期）",
                             "把日期写进文件名（如 注册用户_20230217.xlsx），或在表头上方加一行「统计截止：2023-02-17」")
    match, body, totals, notes, sheet_name = _read_body(path, identity)
    identity = replace(identity, sheet=sheet_name)  # the sheet read (an identity from the ingest log may not say)
    if body.empty:
        raise InputFileError(identity.name, "表头下面没有任何数据行", "确认导出时选择了正确的日期和范围")
    typed, parse_failures = parse_frame(body.drop(columns="_row"), match.contract)
    for column, kind in match.contract.parse.items():  # a phone or ID number typed into a free-text cell
        if kind == "text" and column in typed.columns and column not in match.contract.sensitive:
            typed[column] = scrub_column(typed[column])
    typed["_row"] = body["_row"]
    rows = len(body)
    del body  # the raw text of what was parsed (times, statuses): a city export's is hundreds of MB
    pa.default_memory_pool().release_unused()  # Arrow's allocator keeps freed memory unless asked to give it back
    issues, bad_rows = _row_issues(typed, parse_failures, match.contract)
    accepted = typed.loc[~typed.index.isin(bad_rows)] if bad_rows else typed
    return LoadedFile(identity, match, accepted, issues, totals, rows=rows, notes=notes, quarantined_rows=len(bad_rows))


def _read_body(path: Path, identity: FileIdentity) -> tuple[HeaderMatch, pd.DataFrame, list[dict], list, str]:
    """The header, the body rows of the columns to parse, the file's 合计 rows and its title and footnote lines. The
    sheet's other cells (columns nobody reads, the contract's dropped_at_ingest) are let go on return, before parsing
    needs memory."""
    contracts = [c for c in input_contracts() if c.kind == identity.kind]
    sheets = read_raw(path)
    picked = _pick_sheet([s for s in sheets if s.name == identity.sheet] or sheets, contracts)
    if picked is None:  # the file changed between identification and now
        raise _unrecognised(path, sheets, contracts)
    sheet, match = picked
    dropped = [c for c in match.contract.dropped_at_ingest if c in match.columns]
    match.cells.extend(_unlabelled_columns(sheet.cells, match))
    body, totals, footnotes = _body_rows(sheet.cells, match)
    return match, body.drop(columns=dropped), totals, _title_lines(sheet.cells, match) + footnotes, sheet.name


def _line(values) -> str:
    """A row's filled cells as one line of text (28632.0 written as 28632, as the sheet shows it)."""
    cells = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values
             if v is not None and not (isinstance(v, float) and pd.isna(v))]
    return " ".join(str(v).strip() for v in cells if str(v).strip())


def _title_lines(cells: pd.DataFrame, match: HeaderMatch) -> list[tuple[int, str]]:
    lines = [(row + 1, _line(cells.iloc[row].tolist())) for row in range(match.first_row)]
    return [(row, text) for row, text in lines if text]


_PROBE_ROWS = 2000


def _unlabelled_columns(cells: pd.DataFrame, match: HeaderMatch) -> list[HeaderCell]:
    """Columns with data under an empty header cell: nothing says what they are, so they are reported, not dropped
    in silence (the first rows are enough to tell)."""
    named = {c.position for c in match.cells}
    below = cells.iloc[match.last_row + 1: match.last_row + 1 + _PROBE_ROWS]
    found = []
    for position in range(cells.shape[1]):
        if position in named or position in match.columns.values():
            continue
        filled = int((~_blank_cells(below.iloc[:, position])).sum())
        if filled:
            found.append(HeaderCell(position, "（空表头）", UNRECOGNISED, note=f"该列没有表头，但前 {len(below)} 行中有 "
                                    f"{filled} 个单元格有数据"))
    return found


def _body_rows(cells: pd.DataFrame, match: HeaderMatch) -> tuple[pd.DataFrame, list[dict], list[tuple[int, str]]]:
    """Data rows under the header with the logical column names; 合计 rows and footnotes taken out.

    Only the few rows that could be a total or a footnote are looked at closely, so a million-row export costs a
    handful of vectorised passes.
    """
    below = cells.iloc[match.last_row + 1:]
    written_twice = {p for c, copies in match.duplicate_columns.items() for p in [match.columns[c], *copies]}
    blank = {p: _blank_cells(below.iloc[:, p]) for p in sorted(written_twice)}
    positions = {column: _fullest(blank, position, match.duplicate_columns.get(column, []))
                 for column, position in match.columns.items()}
    body = below.iloc[:, list(positions.values())]  # copy-on-write: renaming below leaves `cells` alone
    body.columns = list(positions.keys())
    filled = _filled_cells(below, list(positions.values()), blank)
    kept = (filled > 0).to_numpy().copy()
    lead = below.iloc[:, : min(3, below.shape[1])]
    maybe_total = lead.apply(_may_hold_total_word).any(axis=1)
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
        return frame.iloc[where[0]:where[-1] + 1]
    return frame[kept]


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | values.astype("str").str.strip().isin(["", "nan", "None"])


def _blank_cells(values: pd.Series) -> pd.Series:
    values = as_arrow_text(values)
    if arrow_text(values):
        return blank_text(values, _BLANK_WORDS)
    return per_distinct(values, _blank).astype(bool)


def _may_hold_total_word(values: pd.Series) -> pd.Series:
    values = as_arrow_text(values)
    if arrow_text(values):
        return values.str.contains(_TOTAL_HINT, case=False, regex=True, na=False).astype(bool)
    # a number's or a date's text never holds these words: look at the text cells only
    texts = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    found = pd.Series(False, index=values.index)
    if texts.any():
        found[texts] = _may_hold_total_word(values[texts]).to_numpy()
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
            filled += (~_blank_cells(column)).to_numpy().astype("int16")
        elif open_rows.any():
            filled[open_rows] += (~_blank_cells(column[open_rows])).to_numpy().astype("int16")
    return filled


def _fullest(blank: dict[int, pd.Series], first: int, copies: list[int]) -> int:
    """A header written twice: the copy that holds data (the first one when several do)."""
    if not copies:
        return first
    candidates = [first, *copies]
    filled = [int((~blank[p]).sum()) for p in candidates]
    return candidates[filled.index(max(filled))]


# Row issues kept per (field, reason) of a file: a broken export can hold a million bad rows, and a million issue rows
# help nobody (and filled memory in the report); the rest are one row that counts them and gives their line range.
ISSUES_PER_REASON = 1000


def _row_issues(typed: pd.DataFrame, parse_failures: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, set]:
    """Parse failures and pandera failures as masked issue rows; the set of row indexes to quarantine."""
    _, failures = validate(typed.drop(columns="_row"), contract)
    failures = failures.merge(parse_failures[["index", "field"]], how="left", indicator=True)
    failures = failures[failures["_merge"] == "left_only"].drop(columns="_merge")  # one message per cell
    failures["raw"] = None
    merged = pd.concat([parse_failures, failures], ignore_index=True)
    if merged.empty:
        return pd.DataFrame(columns=ISSUE_COLUMNS), set()
    merged["quarantined"] = merged["field"].map(contract.quarantines).astype(bool)
    # A nullable field that could not be read is kept empty; the row still counts.
    for column, rows in merged.loc[~merged["quarantined"]].groupby("field")["index"]:
        typed.loc[rows.to_numpy(), column] = None
    merged["row_number"] = typed.loc[merged["index"], "_row"].to_numpy()
    bad_rows = set(merged.loc[merged["quarantined"], "index"])
    merged = _capped(merged.sort_values(["row_number", "field"], kind="stable"))
    merged["value_masked"] = [None if summary else mask_value(raw, contract.sensitive.get(f))
                              for raw, f, summary in zip(merged["raw"], merged["field"], merged["_summary"])]
    merged["message"] = [scrub_text(f"{contract.column_title(f)}：{m}") for f, m in zip(merged["field"], merged["message"])]
    return merged[ISSUE_COLUMNS].sort_values(["row_number", "field"]).reset_index(drop=True), bad_rows


def _capped(merged: pd.DataFrame) -> pd.DataFrame:
    """At most ISSUES_PER_REASON rows per (field, message), then one row per such group saying how many more there
    are and between which lines (the row count of quarantined rows comes from the set of rows, not from these)."""
    rank = merged.groupby(["field", "message"], sort=False).cumcount()
    kept = merged[rank < ISSUES_PER_REASON].assign(_summary=False)
    rest = merged[rank >= ISSUES_PER_REASON]
    if rest.empty:
        return kept
    summary = rest.groupby(["field", "message"], sort=False).agg(
        first=("row_number", "min"), last=("row_number", "max"), more=("row_number", "size"),
        quarantined=("quarantined", "any"), index=("index", "first")).reset_index()
    summary = summary.assign(
        row_number=summary["first"], raw=None, _summary=True,
        message=[f"{m}（另有 {n:,} 行同样的问题，第 {a}–{b} 行，未逐行列出）"
                 for m, n, a, b in zip(summary["message"], summary["more"], summary["first"], summary["last"])])
    return pd.concat([kept, summary[kept.columns]], ignore_index=True)
