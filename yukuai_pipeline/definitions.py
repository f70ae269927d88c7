"""The one Definitions object of the code location (pyproject [tool.dagster], workspace.yaml)."""

import dagster as dg

from yukuai_pipeline.defs.assets import ALL_ASSETS
from yukuai_pipeline.defs.automation import daily_refresh, daily_schedule, landing_sensor, targets_refresh
from yukuai_pipeline.defs.resources import YukuaiResource

defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=[daily_refresh, targets_refresh],
    schedules=[daily_schedule],
    sensors=[landing_sensor],
    resources={"yukuai": YukuaiResource.from_env()},
)
