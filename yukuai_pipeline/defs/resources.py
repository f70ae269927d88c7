import datetime as dt
from pathlib import Path
from urllib.parse import quote

import dagster as dg

from yukuai_pipeline import settings
from yukuai_pipeline.settings import Settings
from yukuai_pipeline.steps.context import StepContext
from yukuai_pipeline.warehouse import Warehouse

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
            landing_dir=str(s.landing_dir),
            database_url=s.database_url,
            report_dir=str(s.report_dir),
            report_base_url=s.report_base_url,
        )

    def report_url(self, path: str | Path) -> str:
        """A report file's link: the base URL and the file's name, percent-encoded (the names are Chinese)."""
        return f"{self.report_base_url.rstrip('/')}/{quote(Path(path).name)}"

    def warehouse(self) -> Warehouse:
        # One engine per URL, county and process: a range of partitions run in one process shares its connection
        # pool; the handle is scoped to the county of the campaign in use (warehouse/tables.py)
        key = (self.database_url, settings.campaign().county.code)
        if key not in _WAREHOUSES:
            _WAREHOUSES[key] = Warehouse(self.database_url, county_code=key[1])
        return _WAREHOUSES[key]

    def context(self) -> StepContext:
        return StepContext(self.warehouse(), Path(self.landing_dir))

    @property
    def sql_kind(self) -> str:
        return "postgres" if self.database_url.startswith("postgresql") else "sqlite"


def partition_date(context) -> dt.date:
    return dt.date.fromisoformat(context.partition_key)
