"""What each asset does, without Dagster: read the landed files and the warehouse, compute with the domain
modules, write one partition in one transaction, and return what the UI should show (rows, checks, preview).

The Dagster layer (defs/) only calls these and converts their outcomes.
"""

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from yukuai_pipeline import settings
from yukuai_pipeline.metrics import doubts
from yukuai_pipeline.quality import header_report
from yukuai_pipeline.intake import landing
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.contracts import load_contract, conform_output
from yukuai_pipeline.intake.headers import TitleDate
from yukuai_pipeline.intake.files import FileIdentity, LoadedFile, load
from yukuai_pipeline.places.names import TownshipMatcher
from yukuai_pipeline.metrics.progress import add_pace, county_summary, township_progress, village_progress
from yukuai_pipeline.intake.readers import InputFileError
from yukuai_pipeline.metrics.counting import ISSUE_FIELDS, Labels
from yukuai_pipeline.places.registry import standardise_registry
from yukuai_pipeline.metrics.targets import township_targets, village_targets
from yukuai_pipeline.warehouse import Replacement, Warehouse

USER_LEVEL, SUMMARY, REGISTRY = "registrations", "registration_summary", "community_registry"
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


def load_attachment() -> pd.DataFrame:
    campaign = settings.campaign()
    return pd.read_csv(settings.assets_dir() / campaign["target_table"], dtype={"township": "str"})


def township_matcher() -> TownshipMatcher:
    campaign = settings.campaign()
    aliases = pd.read_csv(settings.assets_dir() / "township_aliases.csv", dtype="str")
    return TownshipMatcher(load_attachment()["township"].tolist(), dict(zip(aliases["alias"], aliases["township"])),
                           campaign["county"]["name_prefixes"])


def issues_frame(issues: list[dict], day: dt.date | None, stage: str) -> pd.DataFrame:
    frame = pd.DataFrame(issues, columns=ISSUE_FIELDS) if issues else pd.DataFrame(columns=ISSUE_FIELDS)
    frame["snapshot_date"] = day
    frame["stage"] = stage
    frame["row_number"] = frame["row_number"].astype("Int64")
    frame["quarantined"] = frame["quarantined"].fillna(False).astype(bool)
    return conform_output(frame, load_contract("data_quality_issues"))


def file_issues(loaded: LoadedFile) -> list[dict]:
    rows = loaded.issues.assign(check="invalid_row", severity="WARN", source_file=loaded.identity.name,
                                township=None, village=None)
    rows.loc[rows["quarantined"], "message"] = rows.loc[rows["quarantined"], "message"] + "（该行已隔离，未计入）"
    return rows.to_dict("records")


def _with_source(loaded: LoadedFile) -> pd.DataFrame:
    """The accepted rows with their file's name, as a categorical: one name repeated a million times costs nothing."""
    names = pd.Categorical.from_codes(np.zeros(len(loaded.accepted), dtype="int8"), [loaded.identity.name])
    return loaded.accepted.assign(source_file=names)


def log_row(identity: FileIdentity, status: str, message: str | None, loaded: LoadedFile | None = None) -> dict:
    return {"file_name": identity.name, "sha256": identity.sha256, "kind": identity.kind,
            "name_date": identity.name_date, "title_line": str(identity.title) if identity.title else None,
            "snapshot_date": identity.snapshot_date, "rows": loaded.rows if loaded else None,
            "accepted": len(loaded.accepted) if loaded else None,
            "quarantined": loaded.quarantined if loaded else None, "status": status, "message": message,
            "ingested_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)}


@dataclass
class HeaderOutputs:
    """What the ingest steps say about their files' header cells (quality/header_report.py), ready to write."""

    issues: list[dict]
    replacements: list[Replacement]
    check: quality.CheckOutcome
    markdown: dict[str, str]


def header_outputs(files: list[LoadedFile]) -> HeaderOutputs:
    rows = [row for f in files for row in header_report.file_column_rows(f)]
    replacements = [Replacement("file_columns", conform_output(pd.DataFrame(rows), load_contract("file_columns")),
                                upsert=True)] if rows else []
    markdown = {"表头 → 字段 / header mapping": header_report.mapping_table(files).to_markdown(index=False)} if files else {}
    return HeaderOutputs([i for f in files for i in header_report.header_issues(f)], replacements,
                         header_report.columns_check(files), markdown)


def log_replacements(rows: list[dict]) -> list[Replacement]:
    if not rows:
        return []
    return [Replacement("ingest_log", conform_output(pd.DataFrame(rows), load_contract("ingest_log")), upsert=True)]


class Steps:
    def __init__(self, warehouse: Warehouse, landing_dir: Path):
        self.warehouse = warehouse
        self.landing_dir = Path(landing_dir)
        self.campaign = settings.campaign()
        self.labels = Labels(unmatched=self.campaign["unmatched_label"])

    def scan(self, name_date_wanted) -> list[FileIdentity]:
        """Landed files, identified once: what earlier runs learnt about a file is in the ingest log, and what this
        run learns about a new file is logged there as "landed" (left alone if another run logged it first)."""
        log = self.warehouse.read("ingest_log")
        # a file still being written, or refused, is identified again (what it resembles is not in the log)
        log = log[~log["status"].isin(["waiting", "rejected"])]
        known = {(r.file_name, r.sha256): FileIdentity(
            self.landing_dir / r.file_name, r.sha256, r.kind, r.snapshot_date,
            error=InputFileError.from_message(r.file_name, r.message) if r.kind is None and r.message else None,
            name_date=None if pd.isna(r.name_date) else r.name_date, title=TitleDate.parse(r.title_line))
            for r in log.itertuples()}
        files = landing.scan(self.landing_dir, name_date_wanted, known, settings.Settings.from_env().settle_seconds,
                             also=(settings.archive_dir(self.landing_dir),))
        new = [f for f in files if (f.name, f.sha256) not in known and not f.waiting]
        if new:
            rows = [log_row(f, "rejected" if f.error else "landed", str(f.error) if f.error else None) for f in new]
            frame = conform_output(pd.DataFrame(rows), load_contract("ingest_log"))
            self.warehouse.replace([Replacement("ingest_log", frame, upsert=True, only_new=True)])
        return files

    # ---- reference -------------------------------------------------------------------------------------------
    def township_targets(self) -> StepResult:
        targets = conform_output(township_targets(load_attachment(), self.campaign), load_contract("township_targets"))
        self.warehouse.replace([Replacement("township_targets", targets, {"campaign_id": self.campaign["campaign_id"]})])
        differ = targets[targets["target"] != targets["rule_target"]]
        if differ.empty:
            check = quality.passed("target_matches_rule", f"全部 {len(targets)} 个乡镇（街道）的任务数与规则一致",
                                   townships=len(targets))
        else:
            check = quality.failed("target_matches_rule", f"{len(differ)} 个乡镇（街道）的官方任务数与规则计算不一致",
                                   townships=differ["township"].tolist(), table=differ[["township", "target", "rule_target"]])
        totals = {"resident_population": int(targets["resident_population"].sum()), "target": int(targets["target"].sum())}
        return StepResult(len(targets), [check], totals, targets.head(10))

    def registry_for(self, day: dt.date) -> pd.DataFrame:
        return self.warehouse.read("community_registry", {"snapshot_date": day})

    def refuse(self, day: dt.date, stage: str, identity: FileIdentity, err: InputFileError) -> None:
        """A refused file: logged and reported, while every table keeps what it held."""
        issue = {"check": "file_unusable", "severity": "ERROR", "message": str(err), "source_file": identity.name,
                 "quarantined": True}
        self.warehouse.replace([
            Replacement("data_quality_issues", issues_frame([issue], day, stage),
                        {"snapshot_date": day, "stage": stage, "check": "file_unusable"}),
            *log_replacements([log_row(identity, "rejected", str(err))]),
        ])

    def village_targets(self, day: dt.date) -> StepResult:
        registry = self.registry_for(day)
        targets = self.warehouse.read("township_targets", {"campaign_id": self.campaign["campaign_id"]})
        frame = village_targets(registry, targets) if len(registry) else registry.assign(target=pd.Series(dtype="Int64"))
        frame = conform_output(frame.assign(snapshot_date=day), load_contract("village_targets"))
        self.warehouse.replace([Replacement("village_targets", frame, {"snapshot_date": day})])
        by_township = frame.groupby("township")["target"].sum()
        official = targets.set_index("township")["target"]
        wrong = [t for t in by_township.index if by_township[t] != official.get(t)]
        check = (quality.passed("village_targets_sum", f"{len(by_township)} 个乡镇（街道）的村级任务之和等于乡镇任务数")
                 if not wrong else quality.failed("village_targets_sum", "村级任务之和与乡镇任务数不符", townships=wrong))
        return StepResult(len(frame), [check], {"villages": len(frame), "target_total": int(frame["target"].sum())},
                          frame.head(10))

    # ---- marts -----------------------------------------------------------------------------------------------
    def _latest_counts(self, day: dt.date) -> tuple[pd.DataFrame, dt.date | None]:
        """The counts of `day`, or of the newest earlier day when that day's export has not landed."""
        table = self.warehouse.table("registration_counts")
        newest = self.warehouse.scalar(sa.select(sa.func.max(table.c.snapshot_date)).where(table.c.snapshot_date <= day))
        if newest is None:
            return _empty("registration_counts"), None
        return self.warehouse.read("registration_counts", {"snapshot_date": newest}), newest

    def _pace_base(self, data_date: dt.date | None) -> tuple[pd.DataFrame | None, int | None]:
        """The counts about window_days before the data date (or the earliest earlier ones) and the days between."""
        if data_date is None:
            return None, None
        table = self.warehouse.table("registration_counts")
        window = dt.timedelta(days=self.campaign["pace"]["window_days"])
        base_date = self.warehouse.scalar(
            sa.select(sa.func.max(table.c.snapshot_date)).where(table.c.snapshot_date <= data_date - window))
        if base_date is None:
            base_date = self.warehouse.scalar(
                sa.select(sa.func.min(table.c.snapshot_date)).where(table.c.snapshot_date < data_date))
        if base_date is None:
            return None, None
        return self.warehouse.read("registration_counts", {"snapshot_date": base_date}), (data_date - base_date).days

    def _with_pace(self, frame: pd.DataFrame, keys: list[str], base: pd.DataFrame | None, days: int | None,
                   day: dt.date) -> pd.DataFrame:
        return add_pace(frame, keys, base, days, day, self.campaign["deadline"], self.campaign["pace"])

    def township_progress(self, day: dt.date) -> StepResult:
        counts, data_date = self._latest_counts(day)
        targets = self.warehouse.read("township_targets", {"campaign_id": self.campaign["campaign_id"]}, ["seq"])
        frame = township_progress(counts, targets, day, data_date, self.campaign["county_row_label"],
                                  self.labels.unmatched)
        base, days = self._pace_base(data_date)
        if base is not None:
            base = base.groupby("township", as_index=False)["completed"].sum()
            base.loc[len(base)] = [self.campaign["county_row_label"], base["completed"].sum()]
        frame = self._with_pace(frame, ["township"], base, days, day)
        unmatched = frame["township"] == self.labels.unmatched  # no target: pace and status mean nothing there
        frame.loc[unmatched, ["new_7d_avg", "required_daily"]] = float("nan")
        frame.loc[unmatched, ["projected_date", "status"]] = None
        frame = conform_output(frame, load_contract("township_progress"))
        previous = self._previous_progress(day)
        county = frame[frame["township"] == self.campaign["county_row_label"]].iloc[0]
        own, reasons = self._doubts(day, data_date, county, previous)
        self.warehouse.replace([
            Replacement("township_progress", frame, {"snapshot_date": day}),
            Replacement("data_quality_issues", issues_frame(own, day, "township_progress"),
                        {"snapshot_date": day, "stage": "township_progress"}),
        ])
        checks = [_falling_check(frame, previous, self.campaign["county_row_label"]), _trust_check(day, reasons)]
        if data_date is None:
            checks.append(quality.failed("progress_has_data", f"{day} 及之前没有任何注册数据，完成数全为 0"))
        else:
            checks.append(quality.passed("progress_has_data", f"使用 {data_date} 的注册数据"))
        metadata = {k: (None if pd.isna(county[k]) else county[k].item() if hasattr(county[k], "item") else county[k])
                    for k in ("resident_population", "target", "completed", "gap", "completion_rate")}
        behind = frame[frame["seq"].notna()].sort_values("completion_rate").head(5)
        metadata["data_date"] = str(data_date) if data_date else None
        metadata["全县合计 / county row"] = county_summary(county)
        return StepResult(len(frame), checks, metadata,
                          behind[["township", "target", "completed", "gap", "completion_rate"]],
                          preview_title="进度最慢的乡镇 / townships furthest behind")

    def _doubts(self, day: dt.date, data_date: dt.date | None, county: pd.Series,
                previous: pd.DataFrame) -> tuple[list[dict], list[str]]:
        """(the issues this step adds, every reason the day's figures are doubtful): what the registration step found
        about the files of the day and of the day whose data are shown, and a sharp fall of the county's count."""
        label = self.campaign["county_row_label"]
        found = self.warehouse.read("data_quality_issues", {"snapshot_date": day, "stage": "registration_counts"})
        if data_date is not None and data_date != day:
            earlier = self.warehouse.read("data_quality_issues", {"snapshot_date": data_date,
                                                                  "stage": "registration_counts"})
            earlier = earlier.assign(message=f"（{data_date} 的数据）" + earlier["message"].astype(str))
            found = pd.concat([found, earlier], ignore_index=True)
        own = []
        before = previous.loc[previous["township"] == label, "completed"] if len(previous) else pd.Series(dtype="int64")
        fall = doubts.falling_sharply(int(county["completed"]), int(before.iloc[0]) if len(before) else None,
                                      float(self.campaign.get("doubt", {}).get("max_fall_ratio", 0.05)))
        if fall:
            own.append({"check": "sharp_fall", "severity": "WARN", "message": fall, "township": label,
                        "quarantined": False})
        reasons = doubts.doubts(pd.concat([found, pd.DataFrame(own, columns=["check", "message"])], ignore_index=True))
        own += doubts.reason_rows(reasons, label)
        return own, reasons

    def _previous_progress(self, day: dt.date) -> pd.DataFrame:
        table = self.warehouse.table("township_progress")
        previous = self.warehouse.scalar(sa.select(sa.func.max(table.c.snapshot_date)).where(table.c.snapshot_date < day))
        return self.warehouse.read("township_progress", {"snapshot_date": previous}) if previous else _empty(
            "township_progress")

    def village_progress(self, day: dt.date) -> StepResult:
        counts, data_date = self._latest_counts(day)
        targets = self.warehouse.read("village_targets", {"snapshot_date": day})
        frame = village_progress(counts, targets if len(targets) else None, day, data_date)
        frame = self._with_pace(frame, ["township", "village"], *self._pace_base(data_date), day)
        frame = conform_output(frame, load_contract("village_progress"))
        self.warehouse.replace([Replacement("village_progress", frame, {"snapshot_date": day})])
        townships = self.warehouse.read("township_progress", {"snapshot_date": day})
        checks = [_reconcile_check(frame, townships, self.campaign["county_row_label"])]
        if targets.empty:
            checks.append(quality.failed("village_figures_available", "没有社区基本信息：村级任务数、完成率缺失"))
        else:
            checks.append(quality.passed("village_figures_available", f"{len(targets)} 个村（社区）有任务数"))
        behind = frame[frame["target"].notna()].sort_values("completion_rate").head(10)
        return StepResult(len(frame), checks, {"villages": len(frame), "completed": int(frame["completed"].sum())},
                          behind[["township", "village", "target", "completed", "gap", "completion_rate"]],
                          preview_title="进度最慢的村（社区） / villages furthest behind")

    def data_quality_summary(self, day: dt.date) -> StepResult:
        issues = self.warehouse.read("data_quality_issues", {"snapshot_date": day})
        by_check = issues.groupby(["stage", "check", "severity"]).size().rename("issues").reset_index()
        quarantined = int(issues["quarantined"].astype(bool).sum()) if len(issues) else 0
        check = (quality.passed("no_quarantined_rows", "没有被隔离的行") if quarantined == 0 else
                 quality.failed("no_quarantined_rows", f"{quarantined} 行数据被隔离，未计入进度",
                                numbers={"quarantined": quarantined},
                                table=issues[issues["quarantined"].astype(bool)][
                                    ["source_file", "row_number", "field", "value_masked", "message"]].head(20)))
        return StepResult(len(issues), [check], {"issues": len(issues), "quarantined": quarantined}, by_check)


def _empty(table: str) -> pd.DataFrame:
    contract = load_contract(table)
    return pd.DataFrame({c: pd.Series(dtype="object") for c in contract.columns})


def _trust_check(day: dt.date, reasons: list[str]) -> quality.CheckOutcome:
    if not reasons:
        return quality.passed("figures_trustworthy", f"{day} 的数字没有存疑之处")
    return quality.failed("figures_trustworthy", f"{day}：{doubts.headline(reasons)}", numbers={"doubts": len(reasons)},
                          table=pd.DataFrame({"存疑原因": reasons}))


def _falling_check(frame: pd.DataFrame, previous: pd.DataFrame, county_label: str) -> quality.CheckOutcome:
    if previous.empty:
        return quality.passed("completed_not_falling", "没有前一天的数据可比较")
    merged = frame.merge(previous[["township", "completed"]], on="township", suffixes=("", "_before"))
    fell = merged[merged["completed"] < merged["completed_before"]]
    if fell.empty:
        return quality.passed("completed_not_falling", "各乡镇完成数均未下降")
    names = [t for t in fell["township"] if t != county_label]
    return quality.failed("completed_not_falling", f"{len(names)} 个乡镇（街道）的完成数比前一天少",
                          townships=names, table=fell[["township", "completed_before", "completed"]])


def _reconcile_check(villages: pd.DataFrame, townships: pd.DataFrame, county_label: str) -> quality.CheckOutcome:
    county = townships.loc[townships["township"] == county_label, "completed"]
    body = townships.loc[townships["township"] != county_label]
    totals = {"county_row": int(county.iloc[0]) if len(county) else None,
              "sum_of_townships": int(body["completed"].sum()), "sum_of_villages": int(villages["completed"].sum())}
    by_town = villages.groupby("township")["completed"].sum()
    wrong = [t for t, c in zip(body["township"], body["completed"]) if int(by_town.get(t, 0)) != int(c)]
    if len(set(totals.values())) == 1 and not wrong:
        return quality.passed("totals_reconcile", "全县合计 = 各乡镇之和 = 各村之和", **totals)
    return quality.failed("totals_reconcile", "全县合计、各乡镇之和、各村之和不一致", townships=wrong, numbers=totals)
