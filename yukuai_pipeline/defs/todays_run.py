"""The schedules' run of the day: shared by a county's daily schedule and the city's. No campaign is read here, so
the city's code location (which has no county of its own) can use it."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg


def todays_run(context: dg.ScheduleEvaluationContext, partitions: dg.DailyPartitionsDefinition):
    """The run of the scheduled day's own partition (Asia/Shanghai), or why there is none: a day outside the
    partitions. Not build_schedule_from_partitioned_job: past the last day that one re-runs the last partition
    every morning."""
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    day = when.astimezone(ZoneInfo("Asia/Shanghai")).date()
    if not partitions.has_partition_key(day.isoformat()):
        first, last = partitions.get_first_partition_key(), partitions.get_last_partition_key()
        return dg.SkipReason(f"{day} 不在活动日期内（{first} 至 {last}）/ not a campaign day")
    return dg.RunRequest(run_key=day.isoformat(), partition_key=day.isoformat())
