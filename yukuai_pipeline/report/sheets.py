"""The report's sheets, one function each: 乡镇进度 (the notice's attachment table as a printable progress notice,
with its notes, the legend and the day's doubts below it), 村（社区）进度, 基层队伍完整性, 数据质量问题, 干部分配任务,
平台应用 and 图表; 乡镇分析 is analysis_sheet.py. A sheet whose input has not landed says so in one line.
"""

import pandas as pd
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.metrics.data_dates import INPUTS, MISSING, data_dates, date_note, date_phrase, newest_date
from yukuai_pipeline.metrics.doubts import reasons_of_day
from yukuai_pipeline.quality.check_labels import check_label
from yukuai_pipeline.report import charts as report_charts
from yukuai_pipeline.report.analysis_sheet import activity_header, attachment_rows, legend
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
    TOWNSHIP_WIDTHS,
    VILLAGE_COLUMNS,
)
from yukuai_pipeline.report.data import ReportData
from yukuai_pipeline.report.print_setup import notice_page, print_ready

HEADER_ROW = 5  # title, 统计截止, the export's date, 填报单位/制表日期, then the table


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


def township_sheet(ws: Worksheet, data: ReportData) -> tuple[int, int]:
    """Sheet 1, the progress notice: the attachment's columns with 完成率 and 排名, 合计 last; 未匹配 users and the
    gap convention are notes below. Returns the first and last row of the attachment townships (the bar chart)."""
    rows = attachment_rows(data, unmatched=False)
    width, county = len(TOWNSHIP_COLUMNS), data.campaign.county
    put_line(ws, 1, f"{county.short_name}“渝快社区”小程序注册进度通报表", width, bold=True, size=16)
    put_line(ws, 2, f"统计截止：{data.snapshot_date.isoformat()}", width)
    put_line(ws, 3, _export_date(data), width)
    put_line(ws, 4, f"填报单位：{data.campaign.reporting_unit}", width - 3)
    day = data.snapshot_date  # the snapshot, never the clock: the same data gives the same file
    put_line(ws, 4, f"制表日期：{day.year}年{day.month}月{day.day}日", width, first=width - 2, horizontal="right")
    last = write_table(ws, HEADER_ROW, TOWNSHIP_COLUMNS, rows)
    for row in range(HEADER_ROW + 1, last + 1):
        ws.cell(row, 1).alignment = Alignment(horizontal="center")
    notes = [*_notes(data), legend(data.campaign.pace)]
    for offset, note in enumerate(notes, start=last + 2):
        put_line(ws, offset, note, width)
    _doubt_note(ws, last + 2 + len(notes), data, width)
    print_ready(ws, data.snapshot_date, header_row=HEADER_ROW, freeze=None)
    ws.freeze_panes = f"C{HEADER_ROW + 1}"  # without print titles: notice_page repeats the header only if needed
    notice_page(ws, TOWNSHIP_WIDTHS, HEADER_ROW, last)
    official = int(rows["township"].notna().sum())
    return HEADER_ROW + 1, HEADER_ROW + official


def _notes(data: ReportData) -> list[str]:
    """Why 合计 is not the sum of its column: users matched to no township count in the county's 完成数, and the
    notice's 合计 尚差 is 任务数 − 完成数, so townships over target offset others' gaps; both are said, with names."""
    frame, county = data.townships, report_charts.county_row(data)
    official = official_townships(frame)
    if county is None:
        return []
    total_target, total_done, total_gap = (int(county[c]) for c in ("target", "completed", "gap"))
    unmatched = frame[frame["seq"].isna() & (frame["township"] != data.campaign.county_row_label)]
    unmatched_users = int(unmatched["completed"].sum())
    notes = []
    if unmatched_users:
        notes.append(
            f"注：另有 {unmatched_users:,} 名用户无法匹配乡镇，已计入合计完成数"
            f"（各乡镇完成数之和 {int(official['completed'].sum()):,} 人，合计 {total_done:,} 人）。"
        )
    column_gap = int(official["gap"].sum())
    over = official[official["surplus"].fillna(0) > 0]
    gap = f"注：合计行尚差任务数按通知附件的算法 = 任务数合计 − 完成数合计 = {total_target:,} − {total_done:,}"
    gap += f" = {total_gap:,}" if total_done <= total_target else "，全县已超额完成，记为 0"
    if column_gap == total_gap:
        gap += "，与各乡镇尚差任务数之和相同。"
    else:
        why = [f"{unmatched_users:,} 名未匹配用户计入完成数合计"] if unmatched_users else []
        if len(over):
            why.append("超额完成的乡镇尚差记为 0，其超出部分在合计中抵减了其他乡镇的差额")
        gap += f"，比各乡镇尚差任务数之和 {column_gap:,} 少 {column_gap - total_gap:,}（{'；'.join(why)}）。"
    if len(over):
        named = "、".join(f"{t} {int(s):,} 人" for t, s in zip(over["township"], over["surplus"]))
        gap += f"超额完成：{named}。"
    return [*notes, gap]


def _export_date(data: ReportData) -> str:
    """The registration export's own date under 统计截止: from data_dates when the day has them (with 数据未更新
    when it is too old), else the county row's data_date."""
    note = date_note(data.data_dates, "registrations")
    if note:
        return note
    county = report_charts.county_row(data)
    when, label = None if county is None else county.get("data_date"), INPUTS["registrations"][0]
    if is_missing(when):
        return f"{label}：{MISSING}"
    return f"{label}数据日期：{pd.Timestamp(when).date().isoformat()}"


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
        put_line(ws, row + offset, text, width, bold=offset == 0, horizontal="left")
        ws.cell(row + offset, 1).font = Font(bold=offset == 0, color="C00000")


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
    width = len(ROSTER_GAP_COLUMNS)
    _date_line(ws, data, "roster", width)
    last = write_table(ws, 2, ROSTER_SUMMARY_COLUMNS, summary)
    gaps = data.roster[data.roster["status"] != "完整"]
    gaps = gaps.assign(_group=gaps["role_group"].map({g: i for i, g in enumerate(ROLE_GROUP_ORDER)}))
    gaps = _sorted_by_township(gaps, data, ["village", "_group"])
    put_line(ws, last + 2, f"未完整的队伍（{len(gaps)} 项；状态为“不完整”或“有误”）", width, bold=True)
    write_table(ws, last + 3, ROSTER_GAP_COLUMNS, gaps)
    print_ready(ws, data.snapshot_date, header_row=2, freeze="A3")


def _date_line(ws: Worksheet, data: ReportData, kind: str, width: int) -> None:
    """Row 1 of a sheet: the date of the input its figures come from (metrics/data_dates.py); old fixtures carry no
    dates and leave the row empty, so the table below stays in place."""
    note = date_note(data.data_dates, kind)
    if note:
        put_line(ws, 1, note, width)


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
    note = "；".join(n for n in (date_note(data.data_dates, "roster"), cadre_match_note(data)) if n)
    if note:  # row 1 names the dates; without them it stays empty, so the table is always in the same place
        put_line(ws, 1, note, len(QUOTA_COLUMNS))
    write_table(ws, 2, QUOTA_COLUMNS, _sorted_by_township(data.quotas, data, ["village", "cadre_name"]))
    print_ready(ws, data.snapshot_date, header_row=2, freeze="A3")


def cadre_match_note(data: ReportData) -> str:
    """Which registration export and roster the cadres' own registration (本人已注册…) was matched from, with
    数据未更新 where one is older than the campaign allows; empty when the day has no match (no person key)."""
    quotas = data.quotas
    if "export_date" not in quotas or not quotas["export_date"].notna().any():
        return ""
    found = {"registrations": newest_date(quotas["export_date"]), "roster": newest_date(quotas["roster_date"])}
    dates = data_dates(data.snapshot_date, found, data.campaign.max_age_days)
    return (
        f"本人已注册、本人已通过审核、推荐注册人数按用户注册导出（{date_phrase(dates, 'registrations')}）"
        f"与基层队伍名单（{date_phrase(dates, 'roster')}）逐人比对"
    )


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
    columns += [(activity_header(data, label, "累计"), f"count_total_{kind}", INT) for label, kind in ACTIVITY_KINDS]
    columns += [(activity_header(data, label, "近30日"), f"count_30d_{kind}", INT) for label, kind in ACTIVITY_KINDS]
    _date_line(ws, data, "activity", len(columns))
    write_table(ws, 2, columns, rows)
    print_ready(ws, data.snapshot_date, header_row=2, freeze="B3")


def chart_sheet(ws: Worksheet, township_ws: Worksheet, township_rows: tuple[int, int], data: ReportData) -> None:
    series = report_charts.progress_series(data)
    columns = [("日期", "date", DATE), ("完成数", "completed", INT), ("目标路径", "target_path", ONE_DECIMAL)]
    last = write_table(ws, 1, columns, series)
    report_charts.add_progress_line_chart(ws, 1, last, "E2")
    first, final = township_rows
    if final >= first:  # sheet 1 shows no status: the bars take it from the same rows in the same order
        statuses = list(official_townships(data.townships)["status"])
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
