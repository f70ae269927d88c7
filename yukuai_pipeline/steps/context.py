"""What every step shares: the context (warehouse, landing folder, campaign), the step's result, and the helpers
that turn a landed file into rows of the ingest log and the data-quality table.

Each step (one module per asset family in this package) is a free function of the context and the day: it reads the
landed files and the warehouse, computes with the domain packages, writes one partition in one transaction and
returns what the UI should show. The Dagster layer (defs/) only calls them and converts their outcomes.
"""

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from yukuai_pipeline import settings
from yukuai_pipeline.campaign import Campaign
from yukuai_pipeline.contracts import REGISTRY, SUMMARY, USER_LEVEL, conform_output, load_contract  # noqa: F401 (the steps' vocabulary)
from yukuai_pipeline.intake import landing
from yukuai_pipeline.intake.file_identity import FileIdentity
from yukuai_pipeline.intake.headers import TitleDate
from yukuai_pipeline.intake.loading import LoadedFile, load
from yukuai_pipeline.intake.readers import InputFileError
from yukuai_pipeline.metrics import data_dates
from yukuai_pipeline.metrics.counting import ISSUE_FIELDS, Labels
from yukuai_pipeline.places import campaign_places
from yukuai_pipeline.places.names import TownshipMatcher
from yukuai_pipeline.quality import header_report
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.quality.check_labels import check_label
from yukuai_pipeline.warehouse import Replacement, Warehouse

_LOADED: OrderedDict[tuple[str, str], LoadedFile] = OrderedDict()
LOADED_FILES_KEPT = 4  # a range of days in one process re-reads the same registry, roster and activity export


def load_file(identity: FileIdentity) -> LoadedFile:
    """intake.load, remembered per (path, content hash) for the few files every day of a range uses again."""
    key = (str(identity.path), identity.sha256)
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    loaded = load(identity.path, identity)
    _LOADED[key] = loaded
    while len(_LOADED) > LOADED_FILES_KEPT:
        _LOADED.popitem(last=False)
    return loaded


@dataclass
class StepResult:
    rows: int
    checks: list[quality.CheckOutcome] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    preview: pd.DataFrame | None = None
    markdown: dict[str, str] = field(default_factory=dict)  # shown rendered in the UI (tables, images)
    preview_title: str = "预览 / preview"  # what the preview rows are, e.g. the townships furthest behind
    # a step versioned by its inputs (steps/unchanged.py): that version, and the day whose rows it took when unchanged
    inputs_version: str | None = None
    unchanged_since: dt.date | None = None


def load_attachment() -> pd.DataFrame:
    """The campaign's target table (the notice's attachment)."""
    return campaign_places.attachment(settings.campaign())


def township_matcher() -> TownshipMatcher:
    return campaign_places.township_matcher(settings.campaign())


def issues_frame(issues: list[dict], day: dt.date | None, stage: str) -> pd.DataFrame:
    frame = pd.DataFrame(issues, columns=ISSUE_FIELDS) if issues else pd.DataFrame(columns=ISSUE_FIELDS)
    frame["snapshot_date"] = day
    frame["stage"] = stage
    frame["row_number"] = frame["row_number"].astype("Int64")
    frame["quarantined"] = frame["quarantined"].fillna(False).astype(bool)
    frame["check_label"] = frame["check"].map(check_label)
    return conform_output(frame, load_contract("data_quality_issues"))


def file_issues(loaded: LoadedFile) -> list[dict]:
    rows = loaded.issues.assign(
        check="invalid_row", severity="WARN", source_file=loaded.identity.name, township=None, village=None
    )
    rows.loc[rows["quarantined"], "message"] = rows.loc[rows["quarantined"], "message"] + "（该行已隔离，未计入）"
    return rows.to_dict("records")


def with_source(loaded: LoadedFile) -> pd.DataFrame:
    """The accepted rows with their file's name, as a categorical: one name repeated a million times costs nothing."""
    names = pd.Categorical.from_codes(np.zeros(len(loaded.accepted), dtype="int8"), [loaded.identity.name])
    return loaded.accepted.assign(source_file=names)


def log_row(identity: FileIdentity, status: str, message: str | None, loaded: LoadedFile | None = None) -> dict:
    return {
        "file_name": identity.name,
        "sha256": identity.sha256,
        "kind": identity.kind,
        "name_date": identity.name_date,
        "title_line": str(identity.title) if identity.title else None,
        "snapshot_date": identity.snapshot_date,
        "rows": loaded.rows if loaded else None,
        "accepted": len(loaded.accepted) if loaded else None,
        "quarantined": loaded.quarantined if loaded else None,
        "status": status,
        "message": message,
        "ingested_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
    }


@dataclass
class HeaderOutputs:
    """What the ingest steps say about their files' header cells (quality/header_report.py), ready to write."""

    issues: list[dict]
    replacements: list[Replacement]
    check: quality.CheckOutcome
    markdown: dict[str, str]


def header_outputs(files: list[LoadedFile]) -> HeaderOutputs:
    rows = [row for f in files for row in header_report.file_column_rows(f)]
    replacements = (
        [Replacement("file_columns", conform_output(pd.DataFrame(rows), load_contract("file_columns")), upsert=True)]
        if rows
        else []
    )
    markdown = (
        {"表头 → 字段 / header mapping": header_report.mapping_table(files).to_markdown(index=False)} if files else {}
    )
    return HeaderOutputs(
        [i for f in files for i in header_report.header_issues(f)],
        replacements,
        header_report.columns_check(files),
        markdown,
    )


def log_replacements(rows: list[dict]) -> list[Replacement]:
    if not rows:
        return []
    return [Replacement("ingest_log", conform_output(pd.DataFrame(rows), load_contract("ingest_log")), upsert=True)]


class StepContext:
    """What every step works with: the warehouse, the landing folder and the campaign, and the few services they
    all use on them (scan the landing folder, refuse a file, read the registry in force)."""

    def __init__(self, warehouse: Warehouse, landing_dir: Path, campaign: Campaign | None = None):
        self.warehouse = warehouse
        self.landing_dir = Path(landing_dir)
        self.campaign = campaign or settings.campaign()
        self.labels = Labels(unmatched=self.campaign.unmatched_label)

    def scan(self, name_date_wanted) -> list[FileIdentity]:
        """Landed files, identified once: what earlier runs learnt about a file is in the ingest log, and what this
        run learns about a new file is logged there as "landed" (left alone if another run logged it first)."""
        log = self.warehouse.read("ingest_log")
        # a file still being written, or refused, is identified again (what it resembles is not in the log)
        log = log[~log["status"].isin(["waiting", "rejected"])]
        known = {
            (r.file_name, r.sha256): FileIdentity(
                self.landing_dir / r.file_name,
                r.sha256,
                r.kind,
                r.snapshot_date,
                error=InputFileError.from_message(r.file_name, r.message) if r.kind is None and r.message else None,
                name_date=None if pd.isna(r.name_date) else r.name_date,
                title=TitleDate.parse(r.title_line),
            )
            for r in log.itertuples()
        }
        files = landing.scan(
            self.landing_dir,
            name_date_wanted,
            known,
            settings.Settings.from_env().settle_seconds,
            also=(settings.archive_dir(self.landing_dir),),
        )
        new = [f for f in files if (f.name, f.sha256) not in known and not f.waiting]
        if new:
            rows = [log_row(f, "rejected" if f.error else "landed", str(f.error) if f.error else None) for f in new]
            frame = conform_output(pd.DataFrame(rows), load_contract("ingest_log"))
            self.warehouse.replace([Replacement("ingest_log", frame, upsert=True, only_new=True)])
        return files

    def registry_for(self, day: dt.date) -> pd.DataFrame:
        return self.warehouse.read("community_registry", {"snapshot_date": day})

    def input_date(self, kind: str, day: dt.date) -> dt.date | None:
        """The own date of an input kind of metrics/data_dates.INPUTS in force on `day`, as the day's table that
        carries it says (one query, not the table); None when the day has no such input."""
        _, table, column = data_dates.INPUTS[kind]
        found = self.warehouse.newest_date(table, column=column, where={"snapshot_date": day})
        return None if found is None else pd.Timestamp(found).date()

    def refuse(self, day: dt.date, stage: str, identity: FileIdentity, err: InputFileError) -> None:
        """A refused file: logged and reported, while every table keeps what it held."""
        issue = {
            "check": "file_unusable",
            "severity": "ERROR",
            "message": str(err),
            "source_file": identity.name,
            "quarantined": True,
        }
        self.warehouse.replace(
            [
                Replacement(
                    "data_quality_issues",
                    issues_frame([issue], day, stage),
                    {"snapshot_date": day, "stage": stage, "check": "file_unusable"},
                ),
                *log_replacements([log_row(identity, "rejected", str(err))]),
            ]
        )


def empty_table(table: str) -> pd.DataFrame:
    contract = load_contract(table)
    return pd.DataFrame({c: pd.Series(dtype="object") for c in contract.columns})
