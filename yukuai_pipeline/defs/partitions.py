import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from yukuai_pipeline import settings

_campaign = settings.campaign()

# The campaign's days only, baseline to deadline (or campaign.yaml's `extended_to`): the launch dialog, the
# Partitions tab and the "missing" counts show real days, not every day since 2023. end_date is exclusive.
# end_offset=1: while the campaign runs, today's Asia/Shanghai partition exists from the morning on, when that
# day's export lands.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=str(_campaign.baseline_date),
    end_date=str(_campaign.last_day + dt.timedelta(days=1)),
    timezone="Asia/Shanghai",
    end_offset=1,
)


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
