"""The 乡镇分析 sheet: what sheet 1 (the notice table) leaves out — users per 10,000, the pace (daily average, what
is needed, the projected date, the status with its colour and legend), remarks and the six activity counts, township
by township in attachment order, then 未匹配 and 合计. Also the parts sheet 1 and 平台应用 share: the attachment rows,
the pace legend and the activity headers marked when the activity input is stale.
"""

import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.campaign import Pace
from yukuai_pipeline.metrics.data_dates import STALE, date_note
from yukuai_pipeline.report.cells import INT, is_missing, put_line, write_table
from yukuai_pipeline.report.charts import official_townships
from yukuai_pipeline.report.columns import ACTIVITY_KINDS, ANALYSIS_COLUMNS
from yukuai_pipeline.report.data import ReportData
from yukuai_pipeline.report.print_setup import print_ready, wrap_prose

UNMATCHED_REMARK = "无法匹配乡镇的用户"


def attachment_rows(data: ReportData, unmatched: bool = True) -> pd.DataFrame:
    """The townships in attachment order, then 未匹配 (if any and asked for), then the county row labelled like the
    notice (合计 in 序号)."""
    county_label = data.campaign.county_row_label
    frame = data.townships
    official = official_townships(frame)
    others = frame[frame["seq"].isna() & (frame["township"] != county_label)] if unmatched else frame.iloc[:0]
    county = frame[frame["township"] == county_label].assign(seq=county_label, township=None, rank=pd.NA)
    # 未匹配 has no target of its own: a pace status or a finishing date would mean nothing there.
    others = others.assign(status=None, required_daily=None, projected_date=None)
    rows = pd.concat([official.astype({"seq": "object"}), others, county], ignore_index=True)
    remarks = [
        UNMATCHED_REMARK
        if township == data.campaign.unmatched_label
        else (f"超额完成{int(surplus)}人" if not is_missing(surplus) and surplus > 0 else None)
        for township, surplus in zip(rows["township"], rows["surplus"])
    ]
    return rows.assign(remark=remarks)


def activity_stale(data: ReportData) -> bool:
    """True when data_dates marks the activity export older than the campaign allows."""
    dates = data.data_dates
    if dates is None or dates.empty:  # old fixtures carry no dates: nothing to say
        return False
    return bool(dates.loc[dates["input"] == "activity", "stale"].any())


def activity_header(data: ReportData, label: str, detail: str | None = None) -> str:
    """`居民诉求（累计）`, and `居民诉求（累计，数据未更新）` when the activity export is stale."""
    parts = [p for p in (detail, STALE if activity_stale(data) else None) if p]
    return f"{label}（{'，'.join(parts)}）" if parts else label


def legend(pace: Pace) -> str:
    on, behind, days = f"{pace.on_track_ratio:g}", f"{pace.behind_ratio:g}", pace.window_days
    return (
        f"图例：浅橙色底 = 滞后（近{days}日日均新增 < 所需日均×{on}，且 ≥ 所需日均×{behind}）；"
        f"浅红色底 = 严重滞后（< 所需日均×{behind}，或已过截止日仍未完成）。所需日均 = 尚差任务数 ÷ 距截止日天数；"
        "状态为空：历史数据尚不足以计算速度。"
    )


def analysis_sheet(ws: Worksheet, data: ReportData) -> None:
    rows, columns = attachment_rows(data), list(ANALYSIS_COLUMNS)
    if data.activity is not None and not data.activity.empty:  # the notice's other indicators beside progress
        totals = data.activity.pivot_table(index="township", columns="kind", values="count_total", aggfunc="sum")
        county = data.campaign.county_row_label
        key = rows["township"].where(rows["seq"] != county, county)  # the county row carries 合计 in 序号
        rows = rows.join(totals.add_prefix("activity_"), on=key)
        columns += [(activity_header(data, label), f"activity_{kind}", INT) for label, kind in ACTIVITY_KINDS]
    width = len(columns)
    title = f"乡镇分析：完成速度、状态与平台应用（统计截止：{data.snapshot_date.isoformat()}）"
    put_line(ws, 1, title, width, bold=True)
    note = date_note(data.data_dates, "activity")
    if note:  # old fixtures carry no dates: the row stays empty, the table stays in place
        put_line(ws, 2, note, width)
    last = write_table(ws, 3, columns, rows)
    for row in range(4, last + 1):
        ws.cell(row, 1).alignment = Alignment(horizontal="center")
    put_line(ws, last + 2, legend(data.campaign.pace), width)
    print_ready(ws, data.snapshot_date, header_row=3, freeze="C4", title_rows="3:3")
    wrap_prose(ws, last + 2, sum(ws.column_dimensions[get_column_letter(c)].width for c in range(1, width + 1)))
