"""The registration-count asset's work, without Dagster: the one export that stands for the day, read, checked
against its own figures and its headers, counted per village, written as one partition.

Nothing about the day's figures is left unsaid: a file still being written, a second export of the same day, a
header not understood, a status column missing, a file whose own totals disagree — each is a WARN check and a
data-quality issue, and those that concern the counts mark the day's figures as doubtful (metrics/doubts.py).
"""

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from yukuai_pipeline.metrics import doubts
from yukuai_pipeline.quality import header_report
from yukuai_pipeline.intake import landing
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.intake.export_figures import stated_figures, summary_total_mismatches, user_export_mismatches
from yukuai_pipeline.intake.files import FileIdentity, LoadedFile
from yukuai_pipeline.places.names import village_matcher
from yukuai_pipeline.intake.readers import InputFileError
from yukuai_pipeline.metrics.counting import count_summary, count_users, match_places, misplaced_places
from yukuai_pipeline.steps.context import (SUMMARY, USER_LEVEL, StepResult, Steps, _with_source, file_issues, header_outputs,
                                   issues_frame, load_file, log_replacements, log_row, township_matcher)
from yukuai_pipeline.warehouse import Replacement

STAGE = "registration_counts"


def registration_counts(steps: Steps, day: dt.date) -> StepResult:
    files = steps.scan(lambda d: d == day)
    earlier = _other_days(steps, day)
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
    registry = steps.registry_for(day)
    for f in list(loaded):
        misplaced = misplaced_places(f.accepted, township_matcher(), registry)
        if misplaced:
            loaded.remove(f)
            refused.append((f.identity, InputFileError(f.identity.name, misplaced, "核对导出的列是否错位，重新导出后放入")))
    broken = [f for f in strays if getattr(f.error, "likely_kind", None) in (USER_LEVEL, SUMMARY)]
    if refused or broken or (strays and not loaded):
        # the day's export itself is unusable, or a file that looks like one is (it may be the newer export), or the
        # only files of the day are: nothing is counted, every table keeps what it held, and the blocking check says
        # why in the reader's words
        refused += [(f, f.error) for f in strays]
        for identity, err in refused:
            steps.refuse(day, STAGE, identity, err)
        return StepResult(0, [quality.failed("registration_files_usable", "；".join(str(e) for _, e in refused),
                                             "ERROR", numbers={"refused_files": len(refused)})])
    superseded = details.superseded + summaries.superseded
    if not loaded:
        return _no_export(steps, day, waiting, superseded)
    return _count_and_store(steps, day, loaded, superseded, waiting, registry, strays)


def _other_days(steps: Steps, day: dt.date) -> dict[str, tuple[str, dt.date]]:
    """sha256 -> (file, date) of registration exports already ingested for other dates."""
    log = steps.warehouse.table("ingest_log")
    query = sa.select(log.c.sha256, log.c.file_name, log.c.snapshot_date).where(
        log.c.kind.in_([USER_LEVEL, SUMMARY]), log.c.snapshot_date != day,
        log.c.status.in_(["accepted", "partial"]))
    with steps.warehouse.engine.connect() as conn:
        return {sha: (name, date) for sha, name, date in conn.execute(query)}


def _previous_data_date(steps: Steps, day: dt.date) -> dt.date | None:
    table = steps.warehouse.table("registration_counts")
    return steps.warehouse.scalar(sa.select(sa.func.max(table.c.snapshot_date)).where(table.c.snapshot_date < day))


def _no_export(steps: Steps, day: dt.date, waiting: list[FileIdentity],
               superseded: list[tuple[FileIdentity, str]]) -> StepResult:
    """No usable export for the day: its counts are removed (a deleted export is undone), and the progress tables use
    the newest earlier day, saying so. While a file of the day is still being written, the day's counts are left as
    they are: the run its settling triggers decides."""
    previous = _previous_data_date(steps, day)
    carried = f"沿用 {previous} 的数据" if previous else "此前也没有任何注册数据"
    summary = f"{day} 无当日注册导出，{carried}"
    if waiting:
        summary = f"{day} 的导出尚未写完，当日计数保持不变，写完后重新计算"
    issues = [_issue("no_export_for_day", summary)] if not waiting else []
    issues += _waiting_issues(waiting) + _superseded_issues(superseded)
    counts = [] if waiting else [Replacement("registration_counts", _empty_counts(), {"snapshot_date": day})]
    steps.warehouse.replace([
        *counts,
        Replacement("data_quality_issues", issues_frame(issues, day, STAGE), {"snapshot_date": day, "stage": STAGE}),
        *log_replacements([log_row(f, "superseded", why) for f, why in superseded] +
                          [log_row(f, "waiting", f.waiting) for f in waiting]),
    ])
    checks = [quality.passed("registration_files_usable", "没有需要读取的文件", "ERROR"),
              quality.failed("registration_export_present", summary, numbers={"carried_from": str(previous or "")}),
              _waiting_check(waiting, []), _choice_check(None, superseded)]
    return StepResult(0, checks, {"data_date": str(previous) if previous else None})


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
        return quality.passed("files_complete", "当天的文件都已写完整、都能读取")
    said = [f"《{f.name}》{f.waiting}" for f in waiting] + [f"《{f.name}》{f.error.problem}" for f in strays]
    return quality.failed("files_complete", f"{len(said)} 个文件尚不完整或无法读取，未计入：{'；'.join(said)}",
                          numbers={"files_waiting": len(waiting), "files_unreadable": len(strays)})


def _choice_check(chosen: list[LoadedFile] | None, superseded: list[tuple[FileIdentity, str]]) -> quality.CheckOutcome:
    used = "、".join(f"《{f.identity.name}》" for f in chosen or [])
    if not superseded:
        return quality.passed("one_export_per_day", f"当天只有一份导出{('：' + used) if used else ''}")
    table = pd.DataFrame({"文件": [f.name for f, _ in superseded], "未使用的原因": [why for _, why in superseded]})
    return quality.failed("one_export_per_day", f"当天有 {len(superseded) + (1 if used else 0)} 份导出，只用"
                          f"{used or '其中一份'}（按导出时间取最新，不合并）；{len(superseded)} 份未使用",
                          numbers={"exports_superseded": len(superseded)}, table=table)


def _date_issues(loaded: list[LoadedFile], lag_days: int) -> list[dict]:
    """A file whose name says one day and whose title line another: counted for the name's day, and said so."""
    issues = []
    for f in loaded:
        identity = f.identity
        if identity.name_date and identity.title and not identity.title.agrees_with(identity.name_date, lag_days):
            issues.append(_issue("snapshot_date_mismatch", f"《{identity.name}》文件名日期为 {identity.name_date}，"
                                 f"标题行为“{identity.title}”，两者不一致：按文件名计入 {identity.name_date}，请核对",
                                 source_file=identity.name))
    return issues


def _count_and_store(steps: Steps, day: dt.date, loaded: list[LoadedFile],
                     superseded: list[tuple[FileIdentity, str]], waiting: list[FileIdentity],
                     registry: pd.DataFrame, strays: list[FileIdentity]) -> StepResult:
    villages = village_matcher(registry)
    user_files = [f for f in loaded if f.identity.kind == USER_LEVEL]
    summary_files = [f for f in loaded if f.identity.kind == SUMMARY]
    used = user_files or summary_files
    headers = header_outputs(loaded)
    issues = list(headers.issues)
    for f in loaded:
        issues += file_issues(f)
    if user_files:
        users = pd.concat([_with_source(f) for f in user_files], ignore_index=True)
        matched, place_issues = match_places(users, township_matcher(), villages, steps.labels)
        counts, count_issues = count_users(matched, day)
        source_kind = USER_LEVEL
    else:
        rows = pd.concat([_with_source(f) for f in summary_files], ignore_index=True)
        matched, place_issues = match_places(rows, township_matcher(), villages, steps.labels)
        counts, count_issues = count_summary(matched), []
        source_kind = SUMMARY
    issues += place_issues + count_issues
    assumed = [(f, meaning, message) for f in used for _, meaning, message in header_report.missing_meanings(f)]
    issues += [_issue(meaning.get("issue", "optional_column_missing"), message, source_file=f.identity.name)
               for f, meaning, message in assumed]
    mismatches = _figure_mismatches(loaded)
    issues += [_issue("export_total_mismatch", problem, source_file=name) for name, problem in mismatches]
    issues += _date_issues(loaded, steps.campaign.get("intake", {}).get("export_lag_days", 1))
    issues += _waiting_issues(waiting) + _superseded_issues(superseded)
    issues += [_issue("file_unreadable", f"《{f.name}》未计入：{f.error.problem}", source_file=f.name) for f in strays]
    reconciled = _summary_reconciles(counts, summary_files, villages, steps.labels) if summary_files and user_files else None
    if reconciled is not None and not reconciled.passed:
        issues.append(_issue("summary_mismatch", reconciled.summary, source_file=summary_files[0].identity.name))
    if user_files:
        quiet = _quiet_day(steps, day, matched)
        issues += [_issue("no_new_registrations", quiet, source_file=user_files[0].identity.name)] if quiet else []
    log_rows = [log_row(f.identity, "superseded" if f not in used else ("partial" if len(f.issues) else "accepted"),
                        "同日已有用户明细，汇总表仅用于核对" if f not in used else None, f) for f in loaded]
    log_rows += [log_row(f, "superseded", why) for f, why in superseded]
    log_rows += [log_row(f, "waiting", f.waiting) for f in waiting]
    log_rows += [log_row(f, "rejected", str(f.error)) for f in strays]
    counts = counts.assign(snapshot_date=day, source_kind=source_kind,
                           source_files="、".join(f.identity.name for f in used))
    counts = conform_output(counts, load_contract("registration_counts"))
    steps.warehouse.replace([
        Replacement("registration_counts", counts, {"snapshot_date": day}),
        Replacement("data_quality_issues", issues_frame(issues, day, STAGE), {"snapshot_date": day, "stage": STAGE}),
        *log_replacements(log_rows),
        *headers.replacements,
    ])
    checks = [
        quality.passed("registration_files_usable", f"读取 {len(loaded)} 个文件", "ERROR"),
        quality.passed("registration_export_present", "、".join(f.identity.name for f in used)),
        _waiting_check(waiting, strays), _choice_check(used, superseded), headers.check,
        _assumed_check(assumed), _date_check(issues), _places_check(place_issues, steps.labels),
        quality.failed("export_total_matches_rows", f"导出文件自带的合计与明细不符：{mismatches[0][1]}",
                       table=pd.DataFrame({"文件": [n for n, _ in mismatches], "问题": [p for _, p in mismatches]}))
        if mismatches else quality.passed("export_total_matches_rows", "导出文件自带的合计与明细一致"),
    ]

    if reconciled is not None:
        checks.append(reconciled)
    quarantined = sum(f.quarantined for f in loaded)
    metadata = {"files": "、".join(f.identity.name for f in loaded), "source_kind": source_kind,
                "rows_read": sum(f.rows for f in loaded), "rows_quarantined": quarantined,
                "completed": int(counts["completed"].sum()), "pending": int(counts["pending"].sum()),
                "issues": len(issues)}
    return StepResult(len(counts), checks, metadata, counts.head(10), markdown=headers.markdown)


def _quiet_day(steps: Steps, day: dt.date, users: pd.DataFrame) -> str | None:
    """No user at all registered on the day, after a busy week: probably the day before's export under a new name."""
    start = pd.Timestamp(day)
    on_day = int(((users["registered_at"] >= start) & (users["registered_at"] < start + pd.Timedelta(days=1))).sum())
    progress = steps.warehouse.table("township_progress")
    query = (sa.select(progress.c.new_7d_avg).where(progress.c.snapshot_date < day,
                                                     progress.c.township == steps.campaign["county_row_label"])
             .order_by(progress.c.snapshot_date.desc()).limit(1))
    average = steps.warehouse.scalar(query)
    threshold = float(steps.campaign.get("doubt", {}).get("zero_new_after_daily_average", 10))
    return doubts.no_new_registrations(on_day, average, threshold)


def _figure_mismatches(loaded: list[LoadedFile]) -> list[tuple[str, str]]:
    found = []
    for f in loaded:
        contract = f.header.contract
        if f.identity.kind == USER_LEVEL:
            stated = stated_figures(f.notes, contract.vocabularies.get("status", {}))
            statuses = f.accepted["status"] if "status" in f.accepted.columns else None
            problems = user_export_mismatches(stated, f.rows, statuses, f.quarantined,
                                              contract.vocabulary_labels.get("status", {}))
        else:
            problems = summary_total_mismatches(f.total_rows, f.accepted)
        found += [(f.identity.name, p) for p in problems]
    return found


def _assumed_check(assumed: list) -> quality.CheckOutcome:
    if not assumed:
        return quality.passed("status_column_present", "导出中有可识别的审核状态列")
    return quality.failed("status_column_present", "；".join(message for _, _, message in assumed),
                          numbers={"users_assumed_approved": sum(len(f.accepted) for f, _, _ in assumed)})


def _date_check(issues: list[dict]) -> quality.CheckOutcome:
    wrong = [i["message"] for i in issues if i["check"] == "snapshot_date_mismatch"]
    if not wrong:
        return quality.passed("snapshot_date_consistent", "文件名日期与标题行日期一致（或只有其一）")
    return quality.failed("snapshot_date_consistent", "；".join(wrong), numbers={"files": len(wrong)})


def _places_check(place_issues: list[dict], labels) -> quality.CheckOutcome:
    if not place_issues:
        return quality.passed("places_matched", "所有用户的乡镇（街道）和村（社区）均已匹配")
    townships = sorted({i["township"] for i in place_issues if i["check"] == "unknown_township"})
    villages = sorted({f"{i['township']}{i['village']}" for i in place_issues if i["check"] == "unknown_village"})
    return quality.failed("places_matched", f"{len(townships)} 个乡镇名称、{len(villages)} 个村（社区）名称无法匹配，"
                          f"相关用户计入“{labels.unmatched}”", townships=townships, villages=villages,
                          table=pd.DataFrame(place_issues)[["township", "village", "row_number", "message"]].head(20))


def _summary_reconciles(counts, summary_files, villages, labels) -> quality.CheckOutcome:
    rows = pd.concat([f.accepted for f in summary_files], ignore_index=True)
    matched, _ = match_places(rows.drop(columns=["village"], errors="ignore"), township_matcher(), villages, labels)
    stated = count_summary(matched).groupby("township")["completed"].sum()
    counted = counts.groupby("township")["completed"].sum()
    differ = [t for t in stated.index if int(stated[t]) != int(counted.get(t, 0))]
    if not differ:
        return quality.passed("summary_matches_detail", "汇总表与用户明细一致")
    table = pd.DataFrame({"township": differ, "summary": [int(stated[t]) for t in differ],
                          "detail": [int(counted.get(t, 0)) for t in differ]})
    return quality.failed("summary_matches_detail", f"{len(differ)} 个乡镇（街道）汇总表完成数与用户明细不一致",
                          townships=differ, table=table)
