"""One landed file from bytes to accepted rows and quarantined rows: the readers, headers, parsing and contracts
put together. A file that cannot be used at all raises InputFileError with one clear message. LoadedFile holds
the typed rows accepted and the issues (parse and contract failures, masked, at most ISSUES_PER_REASON of each).
"""

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from yukuai_pipeline.contracts import Contract, validate
from yukuai_pipeline.intake.body_rows import read_body
from yukuai_pipeline.intake.column_mapping import HeaderCell
from yukuai_pipeline.intake.file_identity import FileIdentity, identify
from yukuai_pipeline.intake.frame_parsing import parse_frame
from yukuai_pipeline.intake.headers import HeaderMatch
from yukuai_pipeline.intake.privacy import mask_value, scrub_column, scrub_text
from yukuai_pipeline.intake.readers import InputFileError

ISSUE_COLUMNS = ["row_number", "field", "value_masked", "message", "quarantined"]


@dataclass
class LoadedFile:
    identity: FileIdentity
    header: HeaderMatch
    accepted: pd.DataFrame  # typed columns of the contract + _row (Excel/CSV line number)
    issues: pd.DataFrame  # ISSUE_COLUMNS, values masked
    total_rows: list[dict[str, Any]] = field(
        default_factory=list
    )  # the file's own 合计 rows: {"_row": n, column: number}
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


def load(path: Path, identity: FileIdentity | None = None) -> LoadedFile:
    """Read, parse and validate the whole file; raises InputFileError when nothing of it can be used."""
    path = Path(path)
    identity = identity or identify(path)
    if identity.error:
        raise identity.error
    if identity.snapshot_date is None:
        raise InputFileError(
            identity.name,
            "无法确定数据日期（文件名和标题行里都没有日期）",
            "把日期写进文件名（如 注册用户_20230217.xlsx），或在表头上方加一行「统计截止：2023-02-17」",
        )
    match, body, totals, notes, sheet_name = read_body(path, identity)
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


# Row issues kept per (field, reason) of a file: a broken export can hold a million bad rows, and a million issue rows
# help nobody (and filled memory in the report); the rest are one row that counts them and gives their line range.
ISSUES_PER_REASON = 1000


def _row_issues(typed: pd.DataFrame, parse_failures: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, set[int]]:
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
    merged["value_masked"] = [
        None if summary else mask_value(raw, contract.sensitive.get(f))
        for raw, f, summary in zip(merged["raw"], merged["field"], merged["_summary"])
    ]
    merged["message"] = [
        scrub_text(f"{contract.column_title(f)}：{m}") for f, m in zip(merged["field"], merged["message"])
    ]
    return merged[ISSUE_COLUMNS].sort_values(["row_number", "field"]).reset_index(drop=True), bad_rows


def _capped(merged: pd.DataFrame) -> pd.DataFrame:
    """At most ISSUES_PER_REASON rows per (field, message), then one row per such group saying how many more there
    are and between which lines (the row count of quarantined rows comes from the set of rows, not from these)."""
    rank = merged.groupby(["field", "message"], sort=False).cumcount()
    kept = merged[rank < ISSUES_PER_REASON].assign(_summary=False)
    rest = merged[rank >= ISSUES_PER_REASON]
    if rest.empty:
        return kept
    summary = (
        rest.groupby(["field", "message"], sort=False)
        .agg(
            first=("row_number", "min"),
            last=("row_number", "max"),
            more=("row_number", "size"),
            quarantined=("quarantined", "any"),
            index=("index", "first"),
        )
        .reset_index()
    )
    summary = summary.assign(
        row_number=summary["first"],
        raw=None,
        _summary=True,
        message=[
            f"{m}（另有 {n:,} 行同样的问题，第 {a}–{b} 行，未逐行列出）"
            for m, n, a, b in zip(summary["message"], summary["more"], summary["first"], summary["last"])
        ],
    )
    return pd.concat([kept, summary[kept.columns]], ignore_index=True)
