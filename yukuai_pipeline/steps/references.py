"""The reference inputs in force on a day — the community registry, the roster and the activity export — as the
warehouse keeps them (issue: the warehouse keeps what it ingested).

A reference file holds from its date until a newer one lands (SPEC §4). The first time a file is read, its accepted
rows (the roster's sanitised: no raw ID or phone number), its row issues and its header cells are stored, keyed by
the file's SHA-256; every day then computes from that stored copy, whether the file is still in the landing folder,
was moved to the archive or was deleted. Only a newer landed file replaces it. So archiving the folder changes no
table, and a day computed before and after gives the same rows.
"""

import datetime as dt
from collections import OrderedDict
from dataclasses import replace

import pandas as pd

from yukuai_pipeline.contracts import ACTIVITY, ORGS, REGISTRY, ROSTER, conform_output, load_contract
from yukuai_pipeline.intake import landing
from yukuai_pipeline.intake.column_mapping import FIELD, HeaderCell
from yukuai_pipeline.intake.file_identity import FileIdentity
from yukuai_pipeline.intake.headers import HeaderMatch, TitleDate
from yukuai_pipeline.intake.loading import ISSUE_COLUMNS, LoadedFile
from yukuai_pipeline.intake.readers import InputFileError
from yukuai_pipeline.places.registry import sanitise_registry
from yukuai_pipeline.quality.header_report import file_column_rows
from yukuai_pipeline.quality.roster import sanitise
from yukuai_pipeline.quality.roster_rules import load_rules
from yukuai_pipeline.steps.context import StepContext, load_file
from yukuai_pipeline.warehouse import Replacement

# where each kind is kept
CONTENT = {REGISTRY: "registry_input", ROSTER: "roster_input", ACTIVITY: "activity_input", ORGS: "community_orgs_input"}
_KEPT: OrderedDict[tuple[str, str], LoadedFile] = OrderedDict()  # (database, sha256) -> the rebuilt snapshot
KEPT_SNAPSHOTS = 6


class Refused(Exception):
    """The newest reference file of the day cannot be used: every table keeps what it held, the step says why."""

    def __init__(self, identity: FileIdentity, error: InputFileError):
        super().__init__(str(error))
        self.identity, self.error = identity, error


def in_force(ctx: StepContext, kind: str, day: dt.date) -> tuple[LoadedFile | None, bool]:
    """(the newest snapshot of the kind dated on or before the day, landed or stored — None when there is none;
    whether it was taken in just now). A landed file not stored yet is read now (Refused when it cannot be used)
    and stored."""
    chosen, stored = _chosen(ctx, kind, day)
    if chosen is None:
        return None, False
    fresh = chosen.sha256 not in stored
    if fresh:
        try:
            _store(ctx, kind, load_file(chosen))
        except InputFileError as err:
            raise Refused(chosen, err) from err
    return _rebuilt(ctx, kind, chosen.sha256), fresh


def identity_in_force(ctx: StepContext, kind: str, day: dt.date) -> FileIdentity | None:
    """The snapshot `in_force` would take, without reading it (steps/unchanged.py versions a day's inputs by it)."""
    return _chosen(ctx, kind, day)[0]


def _chosen(ctx: StepContext, kind: str, day: dt.date) -> tuple[FileIdentity | None, dict[str, FileIdentity]]:
    landed = [
        f
        for f in ctx.scan(lambda d: d <= day)
        if f.kind == kind and f.snapshot_date and f.snapshot_date <= day and not f.waiting
    ]
    stored = _stored(ctx, kind, day)
    candidates = {f.sha256: f for f in landed}
    candidates.update(stored)  # a stored snapshot keeps the identity it was taken in with
    return landing.newest_on_or_before(list(candidates.values()), kind, day), stored


def _stored(ctx: StepContext, kind: str, day: dt.date) -> dict[str, FileIdentity]:
    rows = ctx.warehouse.read_dates("input_snapshots", on_or_before=day, where={"kind": kind})
    return {r["sha256"]: _identity(ctx, r) for r in rows.to_dict("records")}


def _identity(ctx: StepContext, row) -> FileIdentity:
    return FileIdentity(
        ctx.landing_dir / row["file_name"],
        row["sha256"],
        row["kind"],
        row["snapshot_date"],
        sheet=row["sheet"],
        name_date=row["name_date"],
        title=TitleDate.parse(row["title_line"]),
        made=row["made_at"],
    )


def _store(ctx: StepContext, kind: str, loaded: LoadedFile) -> None:
    """The file's snapshot in one transaction: its index row, its accepted rows, its row issues, its header cells."""
    identity, sha = loaded.identity, loaded.identity.sha256
    accepted = loaded.accepted
    if kind == ROSTER:  # no raw ID or phone number is kept: their checks are made now, on the roster's own date
        assert identity.snapshot_date is not None  # intake.load refuses a file without one
        accepted = sanitise(accepted, identity.snapshot_date, load_rules()[1]["min_age"])
    if kind == REGISTRY:  # the 联系电话 is kept only as its verdict (a malformed one masked): places/registry.py
        accepted = sanitise_registry(accepted)
    table = CONTENT[kind]
    content = conform_output(accepted.rename(columns={"_row": "row_number"}).assign(sha256=sha), load_contract(table))
    issues = loaded.issues.assign(sha256=sha)[["sha256", *ISSUE_COLUMNS]]
    index = {
        "sha256": sha,
        "kind": kind,
        "file_name": identity.name,
        "sheet": identity.sheet or "",
        "snapshot_date": identity.snapshot_date,
        "name_date": identity.name_date,
        "title_line": str(identity.title) if identity.title else None,
        "made_at": identity.made_at,
        "header_first_row": loaded.header.first_row,
        "header_last_row": loaded.header.last_row,
        "rows": loaded.rows,
        "accepted": len(loaded.accepted),
        "quarantined": loaded.quarantined,
        "stored_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
    }
    columns = pd.DataFrame(file_column_rows(loaded))
    ctx.warehouse.replace(
        [
            Replacement(table, content, {"sha256": sha}),
            Replacement("input_issues", conform_output(issues, load_contract("input_issues")), {"sha256": sha}),
            *(
                [Replacement("file_columns", conform_output(columns, load_contract("file_columns")), upsert=True)]
                if len(columns)
                else []
            ),
            Replacement(
                "input_snapshots", conform_output(pd.DataFrame([index]), load_contract("input_snapshots")), upsert=True
            ),
        ]
    )


def _rebuilt(ctx: StepContext, kind: str, sha: str) -> LoadedFile:
    """The stored snapshot as the steps take a file: accepted rows (with _row), issues, header cells."""
    key = (ctx.warehouse.url, sha)
    if key in _KEPT:
        _KEPT.move_to_end(key)
        return _KEPT[key]
    read = ctx.warehouse.read
    row = read("input_snapshots", {"sha256": sha}).iloc[0]
    contract = load_contract(kind, "input")
    content = read(CONTENT[kind], {"sha256": sha}, ["row_number"])
    accepted = content.drop(columns="sha256").rename(columns={"row_number": "_row"})
    accepted = accepted.set_axis(accepted["_row"].to_numpy() - 1)  # the file's 0-based record, as a load gives it
    issues = read("input_issues", {"sha256": sha}).drop(columns="sha256")
    issues = issues.astype({"quarantined": bool}).sort_values(["row_number", "field"]).reset_index(drop=True)
    cells = [_cell(c) for c in read("file_columns", {"sha256": sha}).itertuples()]
    header = HeaderMatch(
        contract,
        int(row["header_first_row"]),
        int(row["header_last_row"]),
        {
            c.field: c.position
            for c in sorted(cells, key=lambda c: -c.position)
            if c.outcome == FIELD and c.field is not None  # a FIELD cell always names its field (_cell)
        },
        {},
        sorted(cells, key=lambda c: c.position),
    )
    identity = replace(_identity(ctx, row), path=ctx.landing_dir / row["file_name"])
    loaded = LoadedFile(
        identity,
        header,
        accepted,
        issues[ISSUE_COLUMNS],
        rows=int(row["rows"]),
        quarantined_rows=int(row["quarantined"]),
    )
    _KEPT[key] = loaded
    while len(_KEPT) > KEPT_SNAPSHOTS:
        _KEPT.popitem(last=False)
    return loaded


def _cell(row) -> HeaderCell:
    outcome = FIELD if row.outcome == "dropped" else row.outcome
    candidates = tuple(row.candidates.split(",")) if isinstance(row.candidates, str) and row.candidates else ()
    return HeaderCell(
        int(row.column_number) - 1,
        row.header_text,
        outcome,
        row.field if outcome == FIELD else None,
        row.method if isinstance(row.method, str) else "",
        candidates,
        row.reason if isinstance(row.reason, str) else "",
    )
