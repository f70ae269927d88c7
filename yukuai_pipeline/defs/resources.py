import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import dagster as dg

from yukuai_pipeline import settings
from yukuai_pipeline.settings import Settings
from yukuai_pipeline.steps.context import StepContext
from yukuai_pipeline.warehouse import Warehouse

# the warehouse's kind as the asset graph shows it (kinds and metadata of every table asset)
SQL_KIND = "postgres" if Settings.from_env().database_url.startswith("postgresql") else "sqlite"
_WAREHOUSES: dict[tuple[str, str], Warehouse] = {}


class YukuaiResource(dg.ConfigurableResource):
    """Where the pipeline reads and writes: landing folder, warehouse URL, report folder (YUKUAI_* env vars)."""

    landing_dir: str
    database_url: str
    report_dir: str
    report_base_url: str = "http://127.0.0.1:3001"  # the report folder as the officer's browser reaches it

    @classmethod
    def from_env(cls) -> "YukuaiResource":
        s = Settings.from_env()
        return cls(
            landing_dir=settings.landing_template(),  # `{county}` kept: each run's county fills it in
            database_url=s.database_url,
            report_dir=settings.report_template(),
            report_base_url=s.report_base_url,
        )

    def report_url(self, path: str | Path) -> str:
        """A report file's link: the base URL and the file's name, percent-encoded (the names are Chinese)."""
        base = settings.for_county(self.report_base_url)  # {county}: each county's own address
        return f"{base.rstrip('/')}/{quote(Path(path).name)}"

    def warehouse(self) -> Warehouse:
        # One engine per URL, county and process: a range of partitions run in one process shares its connection
        # pool; the handle is scoped to the county of the campaign in use (warehouse/tables.py)
        key = (self.database_url, settings.campaign().county.code)
        if key not in _WAREHOUSES:
            _WAREHOUSES[key] = Warehouse(self.database_url, county_code=key[1])
        return _WAREHOUSES[key]

    def landing(self) -> Path:
        """The landing folder of the county in use: `{county}` in YUKUAI_LANDING_DIR becomes its code, so one
        setting serves every county of a city (/srv/yukuai/{county}/landing)."""
        return settings.county_path(self.landing_dir)

    def reports(self) -> Path:
        """The report folder of the county in use (`{county}` in YUKUAI_REPORT_DIR, as for the landing folder)."""
        return settings.county_path(self.report_dir)

    def context(self) -> StepContext:
        return StepContext(self.warehouse(), self.landing())

    @contextmanager
    def step_context(self, context: dg.AssetExecutionContext) -> Iterator[StepContext]:
        """The step's context under its run's campaign (the run's yukuai/campaign tag): whichever process executes
        the step — the run's own, or a Celery worker serving every county — works for the run's county."""
        folder = context.run.tags.get(CAMPAIGN_TAG)
        if folder is None and settings.serves_every_county():
            raise dg.Failure(
                "这次运行没有区县标签（yukuai/campaign），而本进程为多个区县执行步骤：不知道该算哪个区县。请从作业"
                "（daily_refresh 等，它们带着区县）启动，不要用资产图上的 Materialize。/ This run names no county and "
                "this worker serves several: launch the county's job instead of the asset graph's Materialize."
            )
        with settings.run_campaign(Path(folder) if folder else None):
            yield self.context()

    @property
    def sql_kind(self) -> str:
        return "postgres" if self.database_url.startswith("postgresql") else "sqlite"


COUNTY_TAG, CAMPAIGN_TAG = "yukuai/county", "yukuai/campaign"


def campaign_tags() -> dict[str, str]:
    """Every run of a county's jobs carries its county code (filter the Runs page by it) and its campaign folder."""
    campaign = settings.campaign()
    return {COUNTY_TAG: campaign.county.code, CAMPAIGN_TAG: str(campaign.folder.resolve())}


def partition_date(context) -> dt.date:
    return dt.date.fromisoformat(context.partition_key)
