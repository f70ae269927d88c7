"""The registration-count asset's checks, declared once (CHECKS) beside the functions that evaluate them, and the
data-quality issue rows they add: files still being written or unreadable, a second export of the day, a title date
that disagrees with the file name, a missing status column, a file whose own figures disagree, places not matched,
a summary export that disagrees with the detail.
"""

import pandas as pd

from yukuai_pipeline.intake.export_figures import stated_figures, summary_total_mismatches, user_export_mismatches
from yukuai_pipeline.intake.file_identity import FileIdentity
from yukuai_pipeline.intake.loading import LoadedFile
from yukuai_pipeline.metrics.counting import count_summary, match_places
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.quality.checks import ERROR, WARN, Check, Checks
from yukuai_pipeline.steps.context import USER_LEVEL, township_matcher

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


def warn_issue(check: str, message: str, **fields) -> dict:
    return {"check": check, "severity": "WARN", "message": message, "quarantined": False, **fields}


def waiting_issues(waiting: list[FileIdentity]) -> list[dict]:
    return [warn_issue("file_waiting", f"《{f.name}》未计入：{f.waiting}", source_file=f.name) for f in waiting]


def superseded_issues(superseded: list[tuple[FileIdentity, str]]) -> list[dict]:
    return [warn_issue("export_superseded", f"《{f.name}》未使用：{why}", source_file=f.name) for f, why in superseded]


def waiting_check(waiting: list[FileIdentity], strays: list[FileIdentity]) -> quality.CheckOutcome:
    if not waiting and not strays:
        return CHECKS.passed("files_complete", "当天的文件都已写完整、都能读取")
    said = [f"《{f.name}》{f.waiting}" for f in waiting]
    said += [f"《{f.name}》{f.error.problem}" for f in strays if f.error is not None]  # every stray has its error
    return CHECKS.failed(
        "files_complete",
        f"{len(said)} 个文件尚不完整或无法读取，未计入：{'；'.join(said)}",
        numbers={"files_waiting": len(waiting), "files_unreadable": len(strays)},
    )


def choice_check(chosen: list[LoadedFile] | None, superseded: list[tuple[FileIdentity, str]]) -> quality.CheckOutcome:
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


def date_issues(loaded: list[LoadedFile], lag_days: int) -> list[dict]:
    """A file whose name says one day and whose title line another: counted for the name's day, and said so."""
    issues = []
    for f in loaded:
        identity = f.identity
        if identity.name_date and identity.title and not identity.title.agrees_with(identity.name_date, lag_days):
            issues.append(
                warn_issue(
                    "snapshot_date_mismatch",
                    f"《{identity.name}》文件名日期为 {identity.name_date}，"
                    f"标题行为“{identity.title}”，两者不一致：按文件名计入 {identity.name_date}，请核对",
                    source_file=identity.name,
                )
            )
    return issues


def figure_mismatches(loaded: list[LoadedFile]) -> list[tuple[str, str]]:
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


def assumed_check(assumed: list) -> quality.CheckOutcome:
    if not assumed:
        return CHECKS.passed("status_column_present", "导出中有可识别的审核状态列")
    return CHECKS.failed(
        "status_column_present",
        "；".join(message for _, _, message in assumed),
        numbers={"users_assumed_approved": sum(len(f.accepted) for f, _, _ in assumed)},
    )


def date_check(issues: list[dict]) -> quality.CheckOutcome:
    wrong = [i["message"] for i in issues if i["check"] == "snapshot_date_mismatch"]
    if not wrong:
        return CHECKS.passed("snapshot_date_consistent", "文件名日期与标题行日期一致（或只有其一）")
    return CHECKS.failed("snapshot_date_consistent", "；".join(wrong), numbers={"files": len(wrong)})


def places_check(place_issues: list[dict], labels) -> quality.CheckOutcome:
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


def summary_reconciles(counts, summary_files, villages, labels) -> quality.CheckOutcome:
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
