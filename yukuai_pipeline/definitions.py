"""The one Definitions object of the code location (pyproject [tool.dagster], workspace.yaml)."""

import dagster as dg

from yukuai_pipeline.defs.alerting import (
    AlertingResource,
    alert_history,
    alert_history_job,
    alert_sensor,
    run_failure_alert_sensor,
)
from yukuai_pipeline.defs.assets import ALL_ASSETS
from yukuai_pipeline.defs.automation import (
    daily_refresh,
    daily_schedule,
    landing_sensor,
    roster_refresh,
    targets_refresh,
)
from yukuai_pipeline.defs.executors import build_executor
from yukuai_pipeline.defs.resources import YukuaiResource
from yukuai_pipeline.file_modes import restrict_umask


def build_definitions() -> dg.Definitions:
    """Definitions bound to the YUKUAI_* environment as it is now (the CLI calls this after reading its flags)."""
    return dg.Definitions(
        assets=[*ALL_ASSETS, alert_history],
        jobs=[daily_refresh, roster_refresh, targets_refresh, alert_history_job],
        schedules=[daily_schedule],
        sensors=[landing_sensor, alert_sensor, run_failure_alert_sensor],
        resources={"yukuai": YukuaiResource.from_env(), "alerting": AlertingResource.from_env()},
        executor=build_executor(),
    )


restrict_umask()  # the code server and its run workers write the database and reports: 0640/0750
defs = build_definitions()
