"""The report's sheets, one function each: 乡镇进度 (the notice's attachment table with progress, pace and activity,
the legend and the day's doubts), 村（社区）进度, 基层队伍完整性, 数据质量问题, 干部分配任务, 平台应用 and 图表. A sheet
whose input has not landed says so in one line.
"""

import pandas as pd
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.campaign import Pace
from yukuai_pipeline.metrics.doubts import reasons_of_day
from yukuai_pipeline.quality.check_labels import check_label
from yukuai_pipeline.report import charts as report_charts
from yukuai_pipeline.report.cells import DATE, INT, ONE_DECIMAL, TEXT, is_missing, put_line, put_text, write_table
from yukuai_pipeline.report.charts import official_townships
from yukuai_pipeline.report.columns import (
    ACTIVITY_KINDS,
    ISSUE_COLUMNS,
    QUOTA_COLUMNS,
    ROLE_GROUP_ORDER,
    ROSTER_GAP_COLUMNS,
    ROSTER_SUMMARY_COLUMNS,
    TOWNSHIP_COLUMNS,
    VILLAGE_COLUMNS,
)
from yukuai_pipeline.report.data import ReportData, report_title
from yukuai_pipeline.report.print_setup import print_ready

UNMATCHED_REMARK = "无法匹配乡镇的用户"


def _sorted_by_township(frame: pd.DataFrame, data: ReportData, then: list[str]) -> pd.DataFrame:
    """Attachment order of townships (unknown ones last), then the given columns."""
    seq = dict(zip(data.townships["township"], data.townships["seq"].astype("Float64")))
    order = frame["township"].map(seq).astype("Float64")
    return (
        frame.assign(_order=order)
        .sort_values(["_order", "township", *then], kind="stable", na_position="last")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _attachment_rows(data: ReportData) -> tuple[pd.DataFrame, int]:
    """The townships in attachment order, then 未匹配 (if any), then the county row labelled like the notice;
    also how many attachment townships there are."""
    county_label, unmatched = data.campaign.county_row_label, data.campaign.unmatched_label
    frame = data.townships
    official = official_townships(frame)
    others = frame[frame["seq"].isna() & (frame["township"] != county_label)]
    county = frame[frame["township"] == county_label].assign(seq=county_label, township=None, rank=pd.NA)
    # 未匹配 has no target of its own: a pace status or a finishing date would mean nothing there.
    others = others.assign(status=None, required_daily=None, projected_date=None)
    rows = pd.concat([official.astype({"seq": "object"}), others, county], ignore_index=True)
    remarks = [
        UNMATCHED_REMARK
        if township == unmatched
        else (f"超额完成{int(surplus)}人" if not is_missing(surplus) and surplus > 0 else None)
        for township, surplus in zip(rows["township"], rows["surplus"])
    ]
    return rows.assign(remark=remarks), len(official)


def township_sheet(ws: Worksheet, data: ReportData) -> tuple[int, int]:
    """Sheet 1; returns the first and last row of the attachment townships (the bar chart reads them)."""
    rows, official = _attachment_rows(data)
    columns = TOWNSHIP_COLUMNS
    if data.activity is not None and not data.activity.empty:  # the notice's other indicators beside progress
        totals = data.activity.pivot_table(index="township", columns="kind", values="count_total", aggfunc="sum")
        county = data.campaign.county_row_label
        key = rows["township"].where(rows["seq"] != county, county)  # the county row carries 合计 in 序号
        rows = rows.join(totals.add_prefix("activity_"), on=key)
        columns = columns + [(label, f"activity_{kind}", INT) for label, kind in ACTIVITY_KINDS]
    width = len(columns)
    put_line(ws, 1, report_title(data), width, bold=True, size=14)
    put_line(ws, 2, _as_of(data), width)
    last = write_table(ws, 3, columns, rows)
    for row in range(4, last + 1):
        ws.cell(row, 1).alignment = Alignment(horizontal="center")
    put_line(ws, last + 2, _legend(data.campaign.pace), width)
    _doubt_note(ws, last + 3, data, width)
    print_ready(ws, data.snapshot_date, header_row=3, freeze="C4", title_rows="1:3")
    return 4, 3 + official


def _doubt_note(ws: Worksheet, row: int, data: ReportData, width: int) -> None:
    """Under the table, in red: why the day's figures are doubtful (metrics/doubts.py), so nobody sends them unread."""
    issues = data.issues
    reasons = reasons_of_day(issues[issues["stage"] == "township_progress"]) if len(issues) else []
    if not reasons:
        return
    lines = [
        f"⚠ 注意：本日数据存疑（{len(reasons)} 项），发送前请核对：",
        *(f"{i}. {r}" for i, r in enumerate(reasons, 1)),
    ]
    for offset, text in enumerate(lines):
        put_line(ws, row + offset, text, width, bold=offset == 0)
        ws.cell(row + offset, 1).font = Font(bold=offset == 0, color="C00000")
        ws.cell(row + offset, 1).alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)


def _as_of(data: ReportData) -> str:
    line = f"统计截止：{data.snapshot_date.isoformat()}"
    county = report_charts.county_row(data)
    data_date = None if county is None else county.get("data_date")
    if not is_missing(data_date) and pd.Timestamp(data_date).date() != data.snapshot_date:
        line += f"（数据所用导出日期：{pd.Timestamp(data_date).date().isoformat()}）"
    return line


def _legend(pace: Pace) -> str:
    on, behind, days = f"{pace.on_track_ratio:g}", f"{pace.behind_ratio:g}", pace.window_days
    return (
        f"图例：浅橙色底 = 滞后（近{days}日日均新增 < 所需日均×{on}，且 ≥ 所需日均×{behind}）；"
        f"浅红色底 = 严重滞后（< 所需日均×{behind}，或已过截止日仍未完成）。所需日均 = 尚差任务数 ÷ 距截止日天数；"
        "状态为空：历史数据尚不足以计算速度。"
    )


def village_sheet(ws: Worksheet, data: ReportData) -> None:
    rows = _sorted_by_township(data.villages, data, ["village"]) if len(data.villages) else data.villages
    write_table(ws, 1, VILLAGE_COLUMNS, rows)
    print_ready(ws, data.snapshot_date, header_row=1, freeze="C2")


def _nothing_yet(ws: Worksheet, data: ReportData, frame: pd.DataFrame | None, message: str) -> bool:
    """A sheet whose input has not landed says so in one line instead of showing an empty table."""
    if frame is not None and not frame.empty:
        return False
    put_text(ws.cell(1, 1), message)
    print_ready(ws, data.snapshot_date, header_row=1, freeze=None)
    return True


def roster_sheet(ws: Worksheet, data: ReportData) -> None:
    if _nothing_yet(ws, data, data.roster, "尚未收到基层队伍名单：名单落地后，这里按村（社区）列出五类队伍是否完整。"):
        return
    summary = _sorted_by_township(data.roster_summary, data, []) if len(data.roster_summary) else data.roster_summary
    last = write_table(ws, 1, ROSTER_SUMMARY_COLUMNS, summary)
    gaps = data.roster[data.roster["status"] != "完整"]
    gaps = gaps.assign(_group=gaps["role_group"].map({g: i for i, g in enumerate(ROLE_GROUP_ORDER)}))
    gaps = _sorted_by_township(gaps, data, ["village", "_group"])
    put_line(
        ws, last + 2, f"未完整的队伍（{len(gaps)} 项；状态为“不完整”或“有误”）", len(ROSTER_GAP_COLUMNS), bold=True
    )
    write_table(ws, last + 3, ROSTER_GAP_COLUMNS, gaps)
    print_ready(ws, data.snapshot_date, header_row=1, freeze="A2")


def issue_sheet(ws: Worksheet, data: ReportData) -> None:
    issues = data.issues
    if len(issues):  # a stable order, whatever order the database returned
        keys = [c for c in ("severity", "stage", "source_file", "row_number", "check", "field") if c in issues]
        issues = issues.sort_values(keys, kind="stable", na_position="last")
        issues = issues.assign(check=issues["check"].map(check_label))  # the officer reads the Chinese name
    last = write_table(ws, 1, ISSUE_COLUMNS, issues)
    if not len(issues):
        put_text(ws.cell(last + 2, 1), "本日没有数据质量问题。")
    print_ready(ws, data.snapshot_date, header_row=1, freeze="A2")


def quota_sheet(ws: Worksheet, data: ReportData) -> None:
    if _nothing_yet(
        ws,
        data,
        data.quotas,
        "尚无干部分配任务：需要基层队伍名单中的村（社区）“两委”成员，才能把村任务数按比例分配到人。",
    ):
        return
    write_table(ws, 1, QUOTA_COLUMNS, _sorted_by_township(data.quotas, data, ["village", "cadre_name"]))
    print_ready(ws, data.snapshot_date, header_row=1, freeze="A2")


def activity_sheet(ws: Worksheet, data: ReportData) -> None:
    """The notice's six other assessed functions (一（三）), township by township: total and last 30 days."""
    if _nothing_yet(
        ws, data, data.activity, "尚未收到平台应用明细：导出后放入落地目录，这里按乡镇列出六项应用的次数。"
    ):
        return
    wide = data.activity.pivot_table(
        index="township", columns="kind", values=["count_total", "count_30d"], aggfunc="sum", fill_value=0
    )
    wide.columns = [f"{measure}_{kind}" for measure, kind in wide.columns]
    wide = wide.reset_index()
    county = data.campaign.county_row_label
    body = _sorted_by_township(wide[wide["township"] != county], data, [])
    rows = pd.concat([body, wide[wide["township"] == county]], ignore_index=True)
    columns = [("乡镇（街道）", "township", TEXT)]
    columns += [(f"{label}（累计）", f"count_total_{kind}", INT) for label, kind in ACTIVITY_KINDS]
    columns += [(f"{label}（近30日）", f"count_30d_{kind}", INT) for label, kind in ACTIVITY_KINDS]
    write_table(ws, 1, columns, rows)
    print_ready(ws, data.snapshot_date, header_row=1, freeze="B2")


def chart_sheet(ws: Worksheet, township_ws: Worksheet, township_rows: tuple[int, int], data: ReportData) -> None:
    series = report_charts.progress_series(data)
    columns = [("日期", "date", DATE), ("完成数", "completed", INT), ("目标路径", "target_path", ONE_DECIMAL)]
    last = write_table(ws, 1, columns, series)
    report_charts.add_progress_line_chart(ws, 1, last, "E2")
    first, final = township_rows
    if final >= first:
        statuses = [township_ws.cell(row, _column("status")).value for row in range(first, final + 1)]
        report_charts.add_rate_bar_chart(
            ws,
            township_ws,
            first,
            final,
            name_col=_column("township"),
            rate_col=_column("completion_rate"),
            anchor="E25",
            statuses=statuses,
        )
    print_ready(ws, data.snapshot_date, header_row=1, freeze="A2")


def _column(key: str) -> int:
    """1-based column of a key on sheet 1."""
    return [k for _, k, _ in TOWNSHIP_COLUMNS].index(key) + 1
