"""The report asset's work, without Dagster: the day's tables from the warehouse into the officer's workbook."""

import base64
import datetime as dt
from pathlib import Path

from yukuai_pipeline.file_modes import private_dir, private_file
from yukuai_pipeline.quality.checks import WARN, Check, Checks
from yukuai_pipeline.report.workbook import ReportData, furthest_behind, progress_chart_png, write_workbook
from yukuai_pipeline.steps.context import StepContext, StepResult

CHECKS = Checks(
    "excel_report",
    Check("report_written", WARN, "报表已生成。", "The workbook and chart were written."),
)


CHART_NAME = "进度图_{day}.png"


def report_data(ctx: StepContext, day: dt.date) -> ReportData:
    read = ctx.warehouse.read
    history = ctx.warehouse.read_dates(
        "township_progress",
        on_or_before=day,
        columns=["snapshot_date", "completed"],
        where={"township": ctx.campaign.county_row_label},
    )
    return ReportData(
        snapshot_date=day,
        campaign=ctx.campaign,
        townships=read("township_progress", {"snapshot_date": day}),
        villages=read("village_progress", {"snapshot_date": day}),
        roster=read("roster_completeness", {"snapshot_date": day}),
        roster_summary=read("roster_township_summary", {"snapshot_date": day}),
        issues=read("data_quality_issues", {"snapshot_date": day}),
        quotas=read("cadre_quotas", {"snapshot_date": day}),
        county_history=history,
        activity=read("platform_activity_rollup", {"snapshot_date": day}),
    )


def excel_report(ctx: StepContext, day: dt.date, report_dir: Path) -> StepResult:
    """Writes the workbook and the PNG chart of the day; needs the day's progress tables in the warehouse."""
    data = report_data(ctx, day)
    if data.townships.empty:
        raise ValueError(f"{day} 还没有乡镇进度数据：请先物化该日（yukuai materialize --date {day}）")
    report_dir = private_dir(report_dir)
    path = private_file(write_workbook(data, report_dir))
    chart = private_file(progress_chart_png(data, report_dir / CHART_NAME.format(day=day)))
    image = base64.b64encode(chart.read_bytes()).decode()
    return StepResult(
        rows=len(data.townships),
        checks=[CHECKS.passed("report_written", f"已生成 {path.name}")],
        metadata={"path": str(path.resolve()), "chart_path": str(chart.resolve())},
        preview=furthest_behind(data, 10),
        markdown={"进度图 / chart": f"![进度图](data:image/png;base64,{image})"},
    )
