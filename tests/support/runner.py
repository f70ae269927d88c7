"""Materializes days of the daily job in process, as `yukuai materialize` does, against one warehouse, and finds a
check's evaluation in a run's events."""

from pathlib import Path

import dagster as dg

from yukuai_pipeline.defs.assets import ALL_ASSETS
from yukuai_pipeline.defs.automation import daily_refresh
from yukuai_pipeline.defs.resources import YukuaiResource
from yukuai_pipeline.warehouse import Warehouse


class PipelineRunner:
    """Materializes days of the daily job in process, as `yukuai materialize` does, against one warehouse."""

    def __init__(self, landing: Path, database_url: str, tmp_path: Path):
        self.resource = YukuaiResource(
            landing_dir=str(landing), database_url=database_url, report_dir=str(tmp_path / "reports")
        )
        self.defs = dg.Definitions(assets=ALL_ASSETS, jobs=[daily_refresh], resources={"yukuai": self.resource})
        self.instance = dg.DagsterInstance.ephemeral()

    def run(self, day: str) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def("daily_refresh")
        return job.execute_in_process(partition_key=day, instance=self.instance, raise_on_error=False)

    @property
    def warehouse(self) -> Warehouse:
        return self.resource.warehouse()

    def table(self, name: str, **where):
        return self.warehouse.read(name, where or None)


def check_evaluation(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    """The one evaluation of the check `name` in a run (check names are unique across the assets)."""
    (evaluation,) = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == name
    ]
    return evaluation
