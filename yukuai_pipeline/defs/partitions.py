import dagster as dg

from yukuai_pipeline import settings

# end_offset=1: today's Asia/Shanghai partition exists from the morning on, when that day's export lands.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=str(settings.campaign().baseline_date), timezone="Asia/Shanghai", end_offset=1
)
