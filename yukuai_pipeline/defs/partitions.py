import datetime as dt

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
