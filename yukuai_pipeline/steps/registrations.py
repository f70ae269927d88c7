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
from yukuai_pipeline.intake.export_figures import stated_figures, summary_total_mismatches, user_export_mismatches
from yukuai_pipeline.intake.file_identity import FileIdentity
from yukuai_pipeline.intake.loading import LoadedFile
from yukuai_pipeline.intake.readers import InputFileError
from yukuai_pipeline.metrics import doubts
from yukuai_pipeline.metrics.counting import count_summary, count_users, match_places, misplaced_places
from yukuai_pipeline.places.names import village_matcher
from yukuai_pipeline.quality import header_report
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.quality.checks import ERROR, WARN, Check, Checks
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
from yukuai_pipeline.warehouse import Replacement

CHECKS = Checks(
    "registration_counts",
    Check(
        "registration_files_usable",
        ERROR,
        "当天的注册导出文件都能使用（否则阻断）。",
        "Every export of the day is usable; blocks otherwise.",
        blocking=True,
    ),
    Check(
        "registration_export_present",
        WARN,
        "当天有注册数据导出（没有时沿用此前最近一天并说明）。",
        "An export for the day has landed.",
    ),
    Check(
        "files_complete",
        WARN,
        "当天的文件已完整写入（复制中的文件不计入）。",
        "No file of the day is still being written or cut off.",
    ),
    Check(
        "one_export_per_day",
        WARN,
        "当天只有一份导出；有多份时只用最新的一份并列出其余。",
        "One export stands for the day, never merged.",
    ),
    Check(
        "columns_recognised",
        WARN,
        "导出文件的每个表头都已识别。",
        "Every header cell of the day's files is understood.",
    ),
    Check(
        "status_column_present",
        WARN,
        "导出中有审核状态列（缺少时全部按已通过计数并告警）。",
        "The export has a status column.",
    ),
    Check(
        "snapshot_date_consistent",
        WARN,
        "文件名日期与标题行日期一致。",
        "The file name's date agrees with its title line.",
    ),
    Check(
        "places_matched", WARN, "用户的乡镇、村（社区）名称都能匹配。", "Every user's township and village is known."
    ),
    Check(
        "export_total_matches_rows", WARN, "导出文件的合计行与明细一致。", "The export's own 合计 row matches its rows."
    ),
    Check(
        "summary_matches_detail",
        WARN,
        "同日汇总表与用户明细一致。",
        "A same-day summary export agrees with the user-level one.",
    ),
)


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
    issues = [_issue("no_export_for_day", summary)] if not waiting else []
    issues += _waiting_issues(waiting) + _superseded_issues(superseded)
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
        _waiting_check(waiting, []),
        _choice_check(None, superseded),
    ]
    return StepResult(
        0, CHECKS.rest_skipped(checks, "当天没有可用的导出，未检查"), {"data_date": str(previous) if previous else None}
    )


def _empty_counts() -> pd.DataFrame:
    contract = load_contract("registration_counts")
    return pd.DataFrame({c: pd.Series(dtype="object") for c in contract.columns})


def _issue(check: str, message: str, **fields) -> dict:
    return {"check": check, "severity": "WARN", "message": message, "quarantined": False, **fields}


def _waiting_issues(waiting: list[FileIdentity]) -> list[dict]:
    return [_issue("file_waiting", f"《{f.name}》未计入：{f.waiting}", source_file=f.name) for f in waiting]


def _superseded_issues(superseded: list[tuple[FileIdentity, str]]) -> list[dict]:
    return [_issue("export_superseded", f"《{f.name}》未使用：{why}", source_file=f.name) for f, why in superseded]


def _waiting_check(waiting: list[FileIdentity], strays: list[FileIdentity]) -> quality.CheckOutcome:
    if not waiting and not strays:
        return CHECKS.passed("files_complete", "当天的文件都已写完整、都能读取")
    said = [f"《{f.name}》{f.waiting}" for f in waiting]
    said += [f"《{f.name}》{f.error.problem}" for f in strays if f.error is not None]  # every stray has its error
    return CHECKS.failed(
        "files_complete",
        f"{len(said)} 个文件尚不完整或无法读取，未计入：{'；'.join(said)}",
        numbers={"files_waiting": len(waiting), "files_unreadable": len(strays)},
    )


def _choice_check(chosen: list[LoadedFile] | None, superseded: list[tuple[FileIdentity, str]]) -> quality.CheckOutcome:
    used = "、".join(f"《{f.identity.name}》" for f in chosen or [])
    if not superseded:
        return CHECKS.passed("one_export_per_day", f"当天只有一份导出{('：' + used) if used else ''}")
    table = pd.DataFrame({"文件": [f.name for f, _ in superseded], "未使用的原因": [why for _, why in superseded]})
    return CHECKS.failed(
        "one_export_per_day",
        f"当天有 {len(superseded) + (1 if used else 0)} 份导出，只用"
        f"{used or '其中一份'}（按导出时间取最新，不合并）；{len(superseded)} 份未使用",
        numbers={"exports_superseded": len(superseded)},
        table=table,
    )


def _date_issues(loaded: list[LoadedFile], lag_days: int) -> list[dict]:
    """A file whose name says one day and whose title line another: counted for the name's day, and said so."""
    issues = []
    for f in loaded:
        identity = f.identity
        if identity.name_date and identity.title and not identity.title.agrees_with(identity.name_date, lag_days):
            issues.append(
                _issue(
                    "snapshot_date_mismatch",
                    f"《{identity.name}》文件名日期为 {identity.name_date}，"
                    f"标题行为“{identity.title}”，两者不一致：按文件名计入 {identity.name_date}，请核对",
                    source_file=identity.name,
                )
            )
    return issues


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
        _issue(meaning.get("issue", "optional_column_missing"), message, source_file=f.identity.name)
        for f, meaning, message in assumed
    ]
    mismatches = _figure_mismatches(loaded)
    issues += [_issue("export_total_mismatch", problem, source_file=name) for name, problem in mismatches]
    issues += _date_issues(loaded, ctx.campaign.export_lag_days)
    issues += _waiting_issues(waiting) + _superseded_issues(superseded)
    issues += [
        _issue("file_unreadable", f"《{f.name}》未计入：{f.error.problem}", source_file=f.name)
        for f in strays
        if f.error is not None  # every stray has its error (landing.unusable_for_date)
    ]
    reconciled = (
        _summary_reconciles(counts, summary_files, villages, ctx.labels) if summary_files and user_files else None
    )
    if reconciled is not None and not reconciled.passed:
        issues.append(_issue("summary_mismatch", reconciled.summary, source_file=summary_files[0].identity.name))
    if user_files:
        quiet = _quiet_day(ctx, day, matched)
        issues += [_issue("no_new_registrations", quiet, source_file=user_files[0].identity.name)] if quiet else []
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
        _waiting_check(waiting, strays),
        _choice_check(used, superseded),
        headers.check,
        _assumed_check(assumed),
        _date_check(issues),
        _places_check(place_issues, ctx.labels),
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


def _figure_mismatches(loaded: list[LoadedFile]) -> list[tuple[str, str]]:
    found = []
    for f in loaded:
        contract = f.header.contract
        if f.identity.kind == USER_LEVEL:
            stated = stated_figures(f.notes, contract.vocabularies.get("status", {}))
            statuses = f.accepted["status"] if "status" in f.accepted.columns else None
            problems = user_export_mismatches(
                stated, f.rows, statuses, f.quarantined, contract.vocabulary_labels.get("status", {})
            )
        else:
            problems = summary_total_mismatches(f.total_rows, f.accepted)
        found += [(f.identity.name, p) for p in problems]
    return found


def _assumed_check(assumed: list) -> quality.CheckOutcome:
    if not assumed:
        return CHECKS.passed("status_column_present", "导出中有可识别的审核状态列")
    return CHECKS.failed(
        "status_column_present",
        "；".join(message for _, _, message in assumed),
        numbers={"users_assumed_approved": sum(len(f.accepted) for f, _, _ in assumed)},
    )


def _date_check(issues: list[dict]) -> quality.CheckOutcome:
    wrong = [i["message"] for i in issues if i["check"] == "snapshot_date_mismatch"]
    if not wrong:
        return CHECKS.passed("snapshot_date_consistent", "文件名日期与标题行日期一致（或只有其一）")
    return CHECKS.failed("snapshot_date_consistent", "；".join(wrong), numbers={"files": len(wrong)})


def _places_check(place_issues: list[dict], labels) -> quality.CheckOutcome:
    if not place_issues:
        return CHECKS.passed("places_matched", "所有用户的乡镇（街道）和村（社区）均已匹配")
    townships = sorted({i["township"] for i in place_issues if i["check"] == "unknown_township"})
    villages = sorted({f"{i['township']}{i['village']}" for i in place_issues if i["check"] == "unknown_village"})
    return CHECKS.failed(
        "places_matched",
        f"{len(townships)} 个乡镇名称、{len(villages)} 个村（社区）名称无法匹配，相关用户计入“{labels.unmatched}”",
        townships=townships,
        villages=villages,
        table=pd.DataFrame(place_issues)[["township", "village", "row_number", "message"]].head(20),
    )


def _summary_reconciles(counts, summary_files, villages, labels) -> quality.CheckOutcome:
    rows = pd.concat([f.accepted for f in summary_files], ignore_index=True)
    matched, _ = match_places(rows.drop(columns=["village"], errors="ignore"), township_matcher(), villages, labels)
    stated = count_summary(matched).groupby("township")["completed"].sum()
    counted = counts.groupby("township")["completed"].sum()
    differ = [t for t in stated.index if int(stated[t]) != int(counted.get(t, 0))]
    if not differ:
        return CHECKS.passed("summary_matches_detail", "汇总表与用户明细一致")
    table = pd.DataFrame(
        {
            "township": differ,
            "summary": [int(stated[t]) for t in differ],
            "detail": [int(counted.get(t, 0)) for t in differ],
        }
    )
    return CHECKS.failed(
        "summary_matches_detail",
        f"{len(differ)} 个乡镇（街道）汇总表完成数与用户明细不一致",
        townships=differ,
        table=table,
    )
