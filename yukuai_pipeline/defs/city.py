"""The city's asset: city_progress of a day, from the warehouse every county writes (steps/city.py), with its
workbook and the check that every county was current. It belongs to the city's own code location
(city_definitions.py), which reads no county's personal data."""

import datetime as dt

import dagster as dg

from yukuai_pipeline import settings
from yukuai_pipeline.defs.outcomes import check_specs, materialize_result, table_metadata
from yukuai_pipeline.defs.resources import SQL_KIND, YukuaiResource, partition_date
from yukuai_pipeline.defs.todays_run import todays_run
from yukuai_pipeline.steps import city
from yukuai_pipeline.warehouse import Warehouse

SHANGHAI = "Asia/Shanghai"
_first, _last = settings.city_days()
city_partitions = dg.DailyPartitionsDefinition(
    start_date=str(_first), end_date=str(_last + dt.timedelta(days=1)), timezone=SHANGHAI, end_offset=1
)
_city_handles: dict[str, Warehouse] = {}


def city_warehouse(database_url: str) -> Warehouse:
    """The city's handle (county_code=None): one per URL and process."""
    if database_url not in _city_handles:
        _city_handles[database_url] = Warehouse(database_url, county_code=None)
    return _city_handles[database_url]


@dg.asset(
    name="city_progress",
    group_name="city",
    description="【全市】各区县注册进度：每个区县该日（或之前最近一天）的全县合计行，按完成率排名，加全市合计；"
    "写入 city_progress 表和全市报表。只含汇总数。\n\n"
    "Each county's county row of the day ranked by completion rate, with the city's total; aggregates only.",
    partitions_def=city_partitions,
    kinds={"pandas", SQL_KIND},
    owners=["team:city-civil-affairs"],
    check_specs=check_specs(city.CHECKS),
    metadata={**table_metadata("city_progress", SQL_KIND), "分组 / group": "全市（city）"},
)
def city_progress(context: dg.AssetExecutionContext, yukuai: YukuaiResource) -> dg.MaterializeResult:
    day = partition_date(context)
    result = city.city_step(city_warehouse(yukuai.database_url), day, settings.Settings.from_env().city_report_dir)
    return materialize_result(result, city.CHECKS, context.partition_key)


city_refresh = dg.define_asset_job(
    "city_refresh",
    selection=dg.AssetSelection.assets(city_progress),
    partitions_def=city_partitions,
    description="全市汇总：某天各区县合计的排名和全市合计。The city rollup of one day.",
)


@dg.schedule(
    job=city_refresh,
    cron_schedule="30 9 * * *",
    execution_timezone=SHANGHAI,
    name="city_refresh_schedule",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="每天 09:30（北京时间，各区县 08:30 的运行之后）汇总当天；活动日期之外不运行。"
    "The day's rollup at 09:30 Asia/Shanghai, after the counties' 08:30 runs; only on campaign days.",
)
def city_schedule(context: dg.ScheduleEvaluationContext):
    return todays_run(context, city_partitions)
