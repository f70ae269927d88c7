"""The city rollup's work: every county's campaign and its newest county row up to the day, from the one
warehouse all counties write, into `city_progress` (metrics/city.py) and the city's workbook. It reads through the
city's handle (county_code=None) and only the county rows: no township's or person's data leaves a county."""

import datetime as dt
from pathlib import Path

import pandas as pd

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.file_modes import private_dir, private_file
from yukuai_pipeline.metrics.city import CITY_CODE, city_progress, newest_county_rows
from yukuai_pipeline.quality.checks import WARN, Check, Checks
from yukuai_pipeline.report.city_workbook import write_city_workbook
from yukuai_pipeline.steps.context import StepResult
from yukuai_pipeline.warehouse import Replacement, Warehouse

CHECKS = Checks(
    "city_progress",
    Check(
        "counties_current",
        WARN,
        "每个区县都有当天的合计（没有的沿用旧数据或无数据，列出）。",
        "Every county has its county row of the day (those reusing an older day or with none are named).",
    ),
)
_ROW_COLUMNS = ["county_code", "snapshot_date", "township", "completed"]


def campaigns_on(warehouse: Warehouse, day: dt.date) -> pd.DataFrame:
    """Each county's campaign in force on `day`: the newest whose baseline day is not after it."""
    campaigns = warehouse.read("county_campaigns")
    if campaigns.empty:
        return campaigns
    started = campaigns[campaigns["baseline_date"] <= day].sort_values("baseline_date")
    return started.groupby("county_code", sort=False).tail(1).reset_index(drop=True)


def city_rollup(warehouse: Warehouse, day: dt.date) -> pd.DataFrame:
    """city_progress of `day`, written (replacing that day's rows) and returned."""
    if warehouse.county_code is not None:
        raise ValueError("全市汇总要用全市的数据库连接（county_code=None）/ the rollup needs the city's handle")
    counties = campaigns_on(warehouse, day)
    if counties.empty:
        raise ValueError(f"数据库里还没有 {day} 已开始的区县活动：请先物化各区县（yukuai materialize）/ no county yet")
    rows = [
        warehouse.read_dates(
            "township_progress",
            on_or_before=day,
            where={"county_code": county.county_code, "township": county.county_row_label},
            columns=_ROW_COLUMNS,
        )
        for county in counties.itertuples()
    ]
    frame = city_progress(counties, newest_county_rows(pd.concat(rows, ignore_index=True), counties, day), day)
    frame = conform_output(frame, load_contract("city_progress"))
    warehouse.replace([Replacement("city_progress", frame, {"snapshot_date": day})])
    return frame


def newest_day(warehouse: Warehouse) -> dt.date | None:
    """The newest day any county has materialized (the city report's default day)."""
    return warehouse.newest_date("township_progress")


def city_report(warehouse: Warehouse, day: dt.date, report_dir: Path) -> tuple[pd.DataFrame, Path]:
    """The day's rollup written to city_progress and to the city's workbook (0640 in a 0750 folder)."""
    progress = city_rollup(warehouse, day)
    path = private_file(write_city_workbook(progress, day, private_dir(report_dir)))
    return progress, path


def city_step(warehouse: Warehouse, day: dt.date, report_dir: Path) -> StepResult:
    """The rollup as the city's asset shows it: the ranked table, the workbook's path and whether every county
    was current."""
    progress, path = city_report(warehouse, day, report_dir)
    counties = progress[progress["county_code"] != CITY_CODE]
    behind = counties[counties["status"] != "当日"]
    if behind.empty:
        check = CHECKS.passed("counties_current", f"{len(counties)} 个区县都有当天的合计", counties=len(counties))
    else:
        named = [
            f"{r.county_name}（{r.status}{'，' + str(r.data_date) if r.data_date else ''}）"
            for r in behind.itertuples()
        ]
        check = CHECKS.failed(
            "counties_current",
            f"{len(behind)} 个区县没有当天的合计：" + "、".join(named),
            numbers={"counties": len(counties), "behind": len(behind)},
        )
    city = progress[progress["county_code"] == CITY_CODE].iloc[0]
    return StepResult(
        rows=len(progress),
        checks=[check],
        metadata={"path": str(path.resolve()), "全市合计 / city row": _city_line(city)},
        preview=progress,
        preview_title="区县排名 / counties ranked",
    )


def _city_line(city: pd.Series) -> str:
    """The city row in words; when some county's figure is older than the day, the oldest data date is named."""
    done = "—" if pd.isna(city["completed"]) else f"{int(city['completed']):,}"
    rate = "—" if pd.isna(city["completion_rate"]) else f"{city['completion_rate']:.2%}"
    dated = "" if city["status"] == "当日" or pd.isna(city["data_date"]) else f"（含旧数据，最早 {city['data_date']}）"
    return f"任务数 {int(city['target']):,}，完成数 {done}，完成率 {rate}{dated}"
