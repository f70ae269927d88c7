"""The report asset's work, without Dagster: the day's tables from the warehouse into the officer's workbook."""

import base64
import datetime as dt
from pathlib import Path

import pandas as pd

from yukuai_pipeline.file_modes import private_dir, private_file
from yukuai_pipeline.metrics import data_dates
from yukuai_pipeline.quality.checks import WARN, Check, Checks
from yukuai_pipeline.report.bulletin import write_bulletin
from yukuai_pipeline.report.township_returns import start_township_returns
from yukuai_pipeline.report.workbook import ReportData, furthest_behind, progress_chart_png, write_workbook
from yukuai_pipeline.steps.context import StepContext, StepResult

CHECKS = Checks(
    "excel_report",
    Check("report_written", WARN, "报表已生成。", "The workbook and chart were written."),
    Check(
        "inputs_current",
        WARN,
        "各类输入的数据日期在时效内（否则报表和通报标“数据未更新”）。",
        "Every input is recent enough for the day (campaign.yaml freshness); stale figures are labelled.",
    ),
)


CHART_NAME = "进度图_{day}.png"


def input_dates(ctx: StepContext, day: dt.date, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each input's own date in force on the day, read from the day's tables that carry it."""
    found = {}
    for kind, (_, table, column) in data_dates.INPUTS.items():
        frame = tables.get(table)
        if frame is None:
            frame = ctx.warehouse.read(table, {"snapshot_date": day})
        found[kind] = data_dates.newest_date(frame[column]) if column in frame else None
    return data_dates.data_dates(day, found, ctx.campaign.max_age_days)


def report_data(ctx: StepContext, day: dt.date) -> ReportData:
    read = ctx.warehouse.read
    history = ctx.warehouse.read_dates(
        "township_progress",
        on_or_before=day,
        columns=["snapshot_date", "completed"],
        where={"township": ctx.campaign.county_row_label},
    )
    townships = read("township_progress", {"snapshot_date": day})
    roster = read("roster_completeness", {"snapshot_date": day})
    return ReportData(
        snapshot_date=day,
        campaign=ctx.campaign,
        townships=townships,
        villages=read("village_progress", {"snapshot_date": day}),
        roster=roster,
        roster_summary=read("roster_township_summary", {"snapshot_date": day}),
        issues=read("data_quality_issues", {"snapshot_date": day}),
        quotas=_with_cadre_results(
            read("cadre_quotas", {"snapshot_date": day}), read("cadre_registration", {"snapshot_date": day})
        ),
        county_history=history,
        activity=read("platform_activity_rollup", {"snapshot_date": day}),
        data_dates=input_dates(ctx, day, {"township_progress": townships, "roster_completeness": roster}),
        community_orgs=read("community_orgs", {"snapshot_date": day}),
        scores=read("township_scores", {"snapshot_date": day}),
        registry_completeness=read("registry_completeness", {"snapshot_date": day}),
        registry_township_summary=read("registry_township_summary", {"snapshot_date": day}),
    )


def _with_cadre_results(quotas: pd.DataFrame, cadres: pd.DataFrame) -> pd.DataFrame:
    """Each cadre's quota beside whether they registered themselves and whom they brought in, and the dates of the
    export and roster that was matched from (empty without a person key: steps/cadre_registration.py)."""
    results = ["registered", "approved", "referred_users", "export_date", "roster_date"]
    if quotas.empty or cadres.empty:
        return quotas.assign(**dict.fromkeys(results))
    keys = ["township", "village", "person_key"]
    return quotas.merge(cadres[keys + results], on=keys, how="left")


def excel_report(ctx: StepContext, day: dt.date, report_dir: Path) -> StepResult:
    """Writes the workbook, the PNG chart, the 通报 (Word and text) and the townships' returns (one workbook each,
    and their zip) of the day;
    needs the day's progress tables in the warehouse."""
    data = report_data(ctx, day)
    if data.townships.empty:
        raise ValueError(f"{day} 还没有乡镇进度数据：请先物化该日（yukuai materialize --date {day}）")
    report_dir = private_dir(report_dir)
    under_way = start_township_returns(data, report_dir)  # a city's returns build while the workbook is written
    try:
        path = private_file(write_workbook(data, report_dir))
        chart = private_file(progress_chart_png(data, report_dir / CHART_NAME.format(day=day)))
    except BaseException:
        under_way.cancel()  # no returns beside a workbook that failed, and no workers left behind
        raise
    returns, archive = under_way.finish()
    bulletin, bulletin_text = (private_file(p) for p in write_bulletin(data, report_dir))
    image = base64.b64encode(chart.read_bytes()).decode()
    return StepResult(
        rows=len(data.townships),
        checks=[CHECKS.passed("report_written", f"已生成 {path.name}"), _inputs_current(data.data_dates)],
        metadata={
            "path": str(path.resolve()),
            "chart_path": str(chart.resolve()),
            "returns_zip": str(archive.resolve()),
            "bulletin_path": str(bulletin.resolve()),
            "bulletin_text_path": str(bulletin_text.resolve()),
            "township_returns": len(returns),
        },
        preview=furthest_behind(data, 10),
        markdown={
            "进度图 / chart": f"![进度图](data:image/png;base64,{image})",
            # the officer copies the day's 通报 into the township chat group from here
            "通报（可复制到工作群）/ bulletin": "```\n" + bulletin_text.read_text(encoding="utf-8") + "\n```",
        },
    )


def _inputs_current(dates: pd.DataFrame):
    stale = data_dates.stale_inputs(dates)
    if stale.empty:
        return CHECKS.passed("inputs_current", "各类输入均在时效内（或尚未收到）")
    table = pd.DataFrame(
        {
            "输入": stale["label"],
            "数据日期": stale["data_date"].astype(str),
            "已过天数": stale["age_days"],
            "时效（天）": stale["max_age_days"],
        }
    )
    names = "、".join(f"{label}（{when}）" for label, when in zip(stale["label"], stale["data_date"]))
    return CHECKS.failed("inputs_current", f"数据未更新：{names}", table=table)
