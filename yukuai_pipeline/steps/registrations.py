"""The registration-count asset's work, without Dagster: the one export that stands for the day, read, checked
against its own figures and its headers, counted per village, written as one partition.

Nothing about the day's figures is left unsaid: a file still being written, a second export of the same day, a
header not understood, a status column missing, a file whose own totals disagree — each is a WARN check and a
data-quality issue, and those that concern the counts mark the day's figures as doubtful (metrics/doubts.py).
"""

import datetime as dt

import pandas as pd

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.intake import landing
from yukuai_pipeline.intake.file_identity import FileIdentity
from yukuai_pipeline.intake.loading import LoadedFile
from yukuai_pipeline.intake.readers import InputFileError
from yukuai_pipeline.metrics import doubts
from yukuai_pipeline.metrics.counting import count_summary, count_users, match_places, misplaced_places
from yukuai_pipeline.places.names import village_matcher
from yukuai_pipeline.quality import header_report
from yukuai_pipeline.steps.context import (
    SUMMARY,
    USER_LEVEL,
    StepContext,
    StepResult,
    file_issues,
    header_outputs,
    issues_frame,
    load_file,
    log_replacements,
    log_row,
    township_matcher,
    with_source,
)
from yukuai_pipeline.steps.registration_checks import (
    CHECKS,
    assumed_check,
    choice_check,
    date_check,
    date_issues,
    figure_mismatches,
    places_check,
    summary_reconciles,
    superseded_issues,
    waiting_check,
    waiting_issues,
    warn_issue,
)
from yukuai_pipeline.warehouse import Replacement

STAGE = "registration_counts"


def registration_counts(ctx: StepContext, day: dt.date) -> StepResult:
    files = ctx.scan(lambda d: d == day)
    earlier = _other_days(ctx, day)
    details = landing.one_per_date(files, USER_LEVEL, day, earlier)
    summaries = landing.one_per_date(files, SUMMARY, day, earlier)
    waiting = landing.waiting_for_date(files, day)
    strays = landing.unusable_for_date(files, day)  # files of the day that could not even be identified
    refused: list[tuple[FileIdentity, InputFileError]] = []  # the day's chosen exports that cannot be used
    loaded: list[LoadedFile] = []
    for identity in (details.chosen, summaries.chosen):
        if identity is None:
            continue
        try:
            loaded.append(load_file(identity))
        except InputFileError as err:
            refused.append((identity, err))
    registry = ctx.registry_for(day)
    for f in list(loaded):
        misplaced = misplaced_places(f.accepted, township_matcher(), registry)
        if misplaced:
            loaded.remove(f)
            refused.append(
                (f.identity, InputFileError(f.identity.name, misplaced, "核对导出的列是否错位，重新导出后放入"))
            )
    broken = [f for f in strays if getattr(f.error, "likely_kind", None) in (USER_LEVEL, SUMMARY)]
    if refused or broken or (strays and not loaded):
        # the day's export itself is unusable, or a file that looks like one is (it may be the newer export), or the
        # only files of the day are: nothing is counted, every table keeps what it held, and the blocking check says
        # why in the reader's words
        refused += [(f, f.error) for f in strays if f.error is not None]  # every stray has its error
        for identity, file_error in refused:
            ctx.refuse(day, STAGE, identity, file_error)
        failed = CHECKS.failed(
            "registration_files_usable", "；".join(str(e) for _, e in refused), numbers={"refused_files": len(refused)}
        )
        return StepResult(0, CHECKS.rest_skipped([failed], "输入文件无法使用，未检查"))
    superseded = details.superseded + summaries.superseded
    if not loaded:
        return _no_export(ctx, day, waiting, superseded)
    return _count_and_store(ctx, day, loaded, superseded, waiting, registry, strays)


def _other_days(ctx: StepContext, day: dt.date) -> dict[str, tuple[str, dt.date]]:
    """sha256 -> (file, date) of registration exports already ingested for other dates."""
    log = ctx.warehouse.read("ingest_log")
    taken = log[
        log["kind"].isin([USER_LEVEL, SUMMARY])
        & log["status"].isin(["accepted", "partial"])
        & log["snapshot_date"].notna()
        & (log["snapshot_date"] != day)
    ]
    return {sha: (name, date) for sha, name, date in zip(taken["sha256"], taken["file_name"], taken["snapshot_date"])}


def _previous_data_date(ctx: StepContext, day: dt.date) -> dt.date | None:
    return ctx.warehouse.newest_date("registration_counts", before=day)


def _no_export(
    ctx: StepContext, day: dt.date, waiting: list[FileIdentity], superseded: list[tuple[FileIdentity, str]]
) -> StepResult:
    """No usable export for the day: its counts are removed (a deleted export is undone), and the progress tables use
    the newest earlier day, saying so. While a file of the day is still being written, the day's counts are left as
    they are: the run its settling triggers decides."""
    previous = _previous_data_date(ctx, day)
    carried = f"沿用 {previous} 的数据" if previous else "此前也没有任何注册数据"
    summary = f"{day} 无当日注册导出，{carried}"
    if waiting:
        summary = f"{day} 的导出尚未写完，当日计数保持不变，写完后重新计算"
    issues = [warn_issue("no_export_for_day", summary)] if not waiting else []
    issues += waiting_issues(waiting) + superseded_issues(superseded)
    counts = [] if waiting else [Replacement("registration_counts", _empty_counts(), {"snapshot_date": day})]
    ctx.warehouse.replace(
        [
            *counts,
            Replacement(
                "data_quality_issues", issues_frame(issues, day, STAGE), {"snapshot_date": day, "stage": STAGE}
            ),
            *log_replacements(
                [log_row(f, "superseded", why) for f, why in superseded]
                + [log_row(f, "waiting", f.waiting) for f in waiting]
            ),
        ]
    )
    checks = [
        CHECKS.passed("registration_files_usable", "没有需要读取的文件"),
        CHECKS.failed("registration_export_present", summary, numbers={"carried_from": str(previous or "")}),
        waiting_check(waiting, []),
        choice_check(None, superseded),
    ]
    return StepResult(
        0, CHECKS.rest_skipped(checks, "当天没有可用的导出，未检查"), {"data_date": str(previous) if previous else None}
    )


def _empty_counts() -> pd.DataFrame:
    contract = load_contract("registration_counts")
    return pd.DataFrame({c: pd.Series(dtype="object") for c in contract.columns})


def _count_and_store(
    ctx: StepContext,
    day: dt.date,
    loaded: list[LoadedFile],
    superseded: list[tuple[FileIdentity, str]],
    waiting: list[FileIdentity],
    registry: pd.DataFrame,
    strays: list[FileIdentity],
) -> StepResult:
    villages = village_matcher(registry)
    user_files = [f for f in loaded if f.identity.kind == USER_LEVEL]
    summary_files = [f for f in loaded if f.identity.kind == SUMMARY]
    used = user_files or summary_files
    headers = header_outputs(loaded)
    issues = list(headers.issues)
    for f in loaded:
        issues += file_issues(f)
    if user_files:
        users = pd.concat([with_source(f) for f in user_files], ignore_index=True)
        matched, place_issues = match_places(users, township_matcher(), villages, ctx.labels)
        counts, count_issues = count_users(matched, day)
        source_kind = USER_LEVEL
    else:
        rows = pd.concat([with_source(f) for f in summary_files], ignore_index=True)
        matched, place_issues = match_places(rows, township_matcher(), villages, ctx.labels)
        counts, count_issues = count_summary(matched), []
        source_kind = SUMMARY
    issues += place_issues + count_issues
    assumed = [(f, meaning, message) for f in used for _, meaning, message in header_report.missing_meanings(f)]
    issues += [
        warn_issue(meaning.get("issue", "optional_column_missing"), message, source_file=f.identity.name)
        for f, meaning, message in assumed
    ]
    mismatches = figure_mismatches(loaded)
    issues += [warn_issue("export_total_mismatch", problem, source_file=name) for name, problem in mismatches]
    issues += date_issues(loaded, ctx.campaign.export_lag_days)
    issues += waiting_issues(waiting) + superseded_issues(superseded)
    issues += [
        warn_issue("file_unreadable", f"《{f.name}》未计入：{f.error.problem}", source_file=f.name)
        for f in strays
        if f.error is not None  # every stray has its error (landing.unusable_for_date)
    ]
    reconciled = (
        summary_reconciles(counts, summary_files, villages, ctx.labels) if summary_files and user_files else None
    )
    if reconciled is not None and not reconciled.passed:
        issues.append(warn_issue("summary_mismatch", reconciled.summary, source_file=summary_files[0].identity.name))
    if user_files:
        quiet = _quiet_day(ctx, day, matched)
        issues += [warn_issue("no_new_registrations", quiet, source_file=user_files[0].identity.name)] if quiet else []
    log_rows = [
        log_row(
            f.identity,
            "superseded" if f not in used else ("partial" if len(f.issues) else "accepted"),
            "同日已有用户明细，汇总表仅用于核对" if f not in used else None,
            f,
        )
        for f in loaded
    ]
    log_rows += [log_row(f, "superseded", why) for f, why in superseded]
    log_rows += [log_row(f, "waiting", f.waiting) for f in waiting]
    log_rows += [log_row(f, "rejected", str(f.error)) for f in strays]
    counts = counts.assign(
        snapshot_date=day, source_kind=source_kind, source_files="、".join(f.identity.name for f in used)
    )
    counts = conform_output(counts, load_contract("registration_counts"))
    ctx.warehouse.replace(
        [
            Replacement("registration_counts", counts, {"snapshot_date": day}),
            Replacement(
                "data_quality_issues", issues_frame(issues, day, STAGE), {"snapshot_date": day, "stage": STAGE}
            ),
            *log_replacements(log_rows),
            *headers.replacements,
        ]
    )
    checks = [
        CHECKS.passed("registration_files_usable", f"读取 {len(loaded)} 个文件"),
        CHECKS.passed("registration_export_present", "、".join(f.identity.name for f in used)),
        waiting_check(waiting, strays),
        choice_check(used, superseded),
        headers.check,
        assumed_check(assumed),
        date_check(issues),
        places_check(place_issues, ctx.labels),
        CHECKS.failed(
            "export_total_matches_rows",
            f"导出文件自带的合计与明细不符：{mismatches[0][1]}",
            table=pd.DataFrame({"文件": [n for n, _ in mismatches], "问题": [p for _, p in mismatches]}),
        )
        if mismatches
        else CHECKS.passed("export_total_matches_rows", "导出文件自带的合计与明细一致"),
    ]

    checks.append(
        reconciled
        if reconciled is not None
        else CHECKS.skipped("summary_matches_detail", "当天没有同时落地的汇总表和用户明细，无需核对")
    )
    quarantined = sum(f.quarantined for f in loaded)
    metadata = {
        "files": "、".join(f.identity.name for f in loaded),
        "source_kind": source_kind,
        "rows_read": sum(f.rows for f in loaded),
        "rows_quarantined": quarantined,
        "completed": int(counts["completed"].sum()),
        "pending": int(counts["pending"].sum()),
        "issues": len(issues),
    }
    return StepResult(len(counts), checks, metadata, counts.head(10), markdown=headers.markdown)


def _quiet_day(ctx: StepContext, day: dt.date, users: pd.DataFrame) -> str | None:
    """No user at all registered on the day, after a busy week: probably the day before's export under a new name."""
    start = pd.Timestamp(day)
    on_day = int(((users["registered_at"] >= start) & (users["registered_at"] < start + pd.Timedelta(days=1))).sum())
    county = ctx.warehouse.read_dates(
        "township_progress", before=day, columns=["new_7d_avg"], where={"township": ctx.campaign.county_row_label}
    )
    average = county["new_7d_avg"].iloc[-1] if len(county) else None
    return doubts.no_new_registrations(on_day, average, ctx.campaign.doubt.zero_new_after_daily_average)
