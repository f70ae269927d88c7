"""When the day's figures cannot be trusted as they stand, and why — one list, read by the check that alerts, the
command line (exit status 3), and the note under the report's first table.

A figure is doubtful when something about the files it comes from is half-understood (a header not recognised,
the status column missing, the export's own totals disagreeing, a date that contradicts itself, a file still being
written), when it is carried over from an earlier day, or when it behaves as no real count does (the county's
完成数 falling sharply, no new registration at all on a busy campaign day).
"""

from typing import Any

import pandas as pd

# data_quality_issues.check -> what it means for the figures (the issue's own message says the details)
DOUBT_CHECKS = {
    "file_waiting": "有文件尚未写完，未计入",
    "file_unreadable": "有文件无法读取，未计入",
    "no_export_for_day": "当日没有导出，沿用此前数据",
    "unrecognised_header": "导出中有表头未能识别，该列未读取",
    "ambiguous_header": "导出中有表头有歧义，该列未读取",
    "duplicate_header": "导出中有两列表头指向同一字段",
    "status_assumed": "导出缺少审核状态列，全部按“已通过”计数",
    "export_total_mismatch": "导出自带的合计与明细不符",
    "summary_mismatch": "同日汇总表与用户明细不符",
    "snapshot_date_mismatch": "文件名日期与标题行日期不一致",
    "sharp_fall": "全县完成数比前一天骤降",
    "no_new_registrations": "当日没有任何新增注册",
}
FIGURES_DOUBTFUL = "figures_doubtful"  # one issue row per reason of the day (stage township_progress), in order


def doubts(issues: pd.DataFrame) -> list[str]:
    """The distinct messages of the issues that make the figures doubtful, in a stable order."""
    if issues.empty:
        return []
    concerned = issues[issues["check"].isin(list(DOUBT_CHECKS))]
    order = {check: i for i, check in enumerate(DOUBT_CHECKS)}
    concerned = concerned.assign(_order=concerned["check"].map(order)).sort_values(["_order", "message"], kind="stable")
    return list(dict.fromkeys(concerned["message"].astype(str)))


def assemble(
    found: pd.DataFrame, county_completed: int, previous_completed: int | None, max_fall_ratio: float, county_label: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """(the issue rows the progress step adds, every reason the day's figures are doubtful) from the registration
    issues of the day (and of the day whose data are shown) and the county's count against the day before."""
    own: list[dict[str, Any]] = []
    fall = falling_sharply(county_completed, previous_completed, max_fall_ratio)
    if fall:
        own.append(
            {"check": "sharp_fall", "severity": "WARN", "message": fall, "township": county_label, "quarantined": False}
        )
    reasons = doubts(pd.concat([found, pd.DataFrame(own, columns=["check", "message"])], ignore_index=True))
    return own + reason_rows(reasons, county_label), reasons


def reason_rows(reasons: list[str], county_label: str) -> list[dict[str, Any]]:
    """The day's reasons as data_quality_issues rows, numbered in order (row_number) for whoever reads them back."""
    return [
        {
            "check": FIGURES_DOUBTFUL,
            "severity": "WARN",
            "message": reason,
            "township": county_label,
            "row_number": i,
            "quarantined": False,
        }
        for i, reason in enumerate(reasons, 1)
    ]


def reasons_of_day(issues: pd.DataFrame) -> list[str]:
    """The reasons stored by reason_rows, in their order: what the CLI prints and the report notes."""
    if issues.empty:
        return []
    rows = issues[issues["check"] == FIGURES_DOUBTFUL].sort_values("row_number", kind="stable")
    reasons: list[str] = rows["message"].astype(str).tolist()
    return reasons


def headline(reasons: list[str]) -> str:
    return f"本日数据存疑（{len(reasons)} 项）：" + "；".join(reasons)


def falling_sharply(completed: int, previous: int | None, max_fall_ratio: float) -> str | None:
    if not previous or completed >= previous or (previous - completed) / previous <= max_fall_ratio:
        return None
    return (
        f"全县完成数从前一天的 {previous:,} 降到 {completed:,}（下降 {(previous - completed) / previous:.1%}，"
        f"超过 {max_fall_ratio:.0%}）：导出可能不完整或审核状态列读错"
    )


def no_new_registrations(new_today: int, daily_average_before: float | None, threshold: float) -> str | None:
    if new_today or daily_average_before is None or pd.isna(daily_average_before) or daily_average_before < threshold:
        return None
    return f"当日没有任何新增注册（此前日均 {daily_average_before:,.0f} 人）：文件可能是前一天的导出，请核对导出时间"
