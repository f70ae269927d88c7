"""The daily Excel report (SPEC §5). Sheet 1 is the notice's attachment table (酉阳民政发〔2023〕9号 附件) as a
printable progress notice; 乡镇分析 holds its pace and activity; further sheets hold villages, roster completeness,
data-quality issues, cadre quotas and charts. Every string that came from input data is written through put_text, so
it can never become a formula. The workbook is driven from here; its parts are `data.py` (ReportData), `sheets.py`,
`analysis_sheet.py`, `columns.py`, `cells.py` and `print_setup.py`.
"""

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from yukuai_pipeline import settings
from yukuai_pipeline.campaign import Campaign
from yukuai_pipeline.gc_paused import gc_paused
from yukuai_pipeline.report.analysis_sheet import analysis_sheet
from yukuai_pipeline.report.charts import official_townships, progress_chart_png
from yukuai_pipeline.report.data import ReportData, report_title
from yukuai_pipeline.report.org_sheet import org_sheet
from yukuai_pipeline.report.registry_sheet import registry_sheet
from yukuai_pipeline.report.score_sheet import score_sheet
from yukuai_pipeline.report.sheets import (
    activity_sheet,
    chart_sheet,
    issue_sheet,
    quota_sheet,
    roster_sheet,
    township_sheet,
    village_sheet,
)
from yukuai_pipeline.report.week_sheet import week_sheet
from yukuai_pipeline.report.xlsx_files import stable_workbook_bytes, write_atomically

# the report's API; ReportData (data.py) and progress_chart_png (charts.py) are offered here with the workbook
__all__ = [
    "ReportData",
    "build_workbook",
    "furthest_behind",
    "progress_chart_png",
    "report_file_name",
    "write_workbook",
]


def report_file_name(snapshot_date: dt.date, campaign: Campaign | None = None) -> str:
    """<county>渝快社区注册进度报表_YYYY-MM-DD.xlsx (the campaign in use when none is given)."""
    stem = (campaign or settings.campaign()).report_name
    return f"{stem}_{pd.Timestamp(snapshot_date).date().isoformat()}.xlsx"


def write_workbook(data: ReportData, directory: Path) -> Path:
    """Build the workbook and put it in place atomically, so readers never see a half-written file.

    The file is private to its owner (mkstemp); the caller widens it to the configured mode."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / report_file_name(data.snapshot_date, data.campaign)
    with gc_paused():
        payload = stable_workbook_bytes(build_workbook(data), data.snapshot_date)  # same data, same bytes
    return write_atomically(payload, path)


def build_workbook(data: ReportData) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    township_rows = township_sheet(wb.create_sheet("乡镇进度"), data)
    analysis_sheet(wb.create_sheet("乡镇分析"), data)
    week_sheet(wb.create_sheet("本周进展"), data)
    village_sheet(wb.create_sheet("村（社区）进度"), data)
    registry_sheet(wb.create_sheet("社区基本信息"), data)
    roster_sheet(wb.create_sheet("基层队伍完整性"), data)
    issue_sheet(wb.create_sheet("数据质量问题"), data)
    quota_sheet(wb.create_sheet("干部分配任务"), data)
    activity_sheet(wb.create_sheet("平台应用"), data)
    org_sheet(wb.create_sheet("社区社会组织"), data)
    score_sheet(wb.create_sheet("考核得分"), data)
    chart_sheet(wb.create_sheet("图表"), wb["乡镇进度"], township_rows, data)
    stamp = dt.datetime.combine(data.snapshot_date, dt.time())
    wb.properties.created = wb.properties.modified = stamp  # from the data, not the clock: same input, same file
    wb.properties.creator = wb.properties.lastModifiedBy = "yukuai-pipeline"
    wb.properties.title = f"{report_title(data)}（{data.snapshot_date.isoformat()}）"
    return wb


def furthest_behind(data: ReportData, n: int = 10) -> pd.DataFrame:
    """The n attachment townships with the lowest completion rate (ties in attachment order)."""
    rows = official_townships(data.townships)
    rows = rows.assign(_rate=rows["completion_rate"].astype("float64"))
    rows = rows.sort_values(["_rate", "seq"], kind="stable", na_position="last").head(n)
    return pd.DataFrame(
        {
            "乡镇（街道）": rows["township"].astype(str),
            "任务数": rows["target"].astype("Int64"),
            "完成数": rows["completed"].astype("Int64"),
            "尚差任务数": rows["gap"].astype("Int64"),
            "完成率": rows["_rate"],
            "状态": rows["status"],
        }
    ).reset_index(drop=True)
