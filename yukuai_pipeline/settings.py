"""The one place where configuration is read: YUKUAI_* environment variables and the data folders."""

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import yaml

if TYPE_CHECKING:
    import datetime as dt

    from yukuai_pipeline.campaign import Campaign

log = logging.getLogger(__name__)
_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_DIR = _PACKAGE_DIR.parent


def _data_dir(name: str) -> Path:
    """assets/ and schemas/ sit at the top of a checkout; an installed wheel carries them in _data/."""
    for candidate in (_CHECKOUT_DIR / name, _PACKAGE_DIR / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"找不到数据目录 {name}/ (looked beside the package and in yukuai_pipeline/_data)")


def assets_root() -> Path:
    """assets/: the shared reference data and campaigns/, one campaign folder per county (by statistical code)."""
    return _data_dir("assets")


# The campaign folder of the run being executed (its tag yukuai/campaign, defs/resources.py): a run carries its
# county with it, so a process that serves several counties' runs (a Celery worker, a test) uses the run's own.
_RUN_CAMPAIGN: ContextVar[Path | None] = ContextVar("run_campaign", default=None)


@contextmanager
def run_campaign(folder: Path | None) -> Iterator[None]:
    """Within the block, assets_dir() and campaign() are the run's campaign folder (unchanged when None)."""
    token = _RUN_CAMPAIGN.set(folder) if folder is not None else None
    try:
        yield
    finally:
        if token is not None:
            _RUN_CAMPAIGN.reset(token)


def serves_every_county() -> bool:
    """YUKUAI_SERVES_EVERY_COUNTY=1 (set on a Celery worker shared by the counties of a city): a step of a run that
    names no county is refused rather than computed for this process's own county."""
    return os.environ.get("YUKUAI_SERVES_EVERY_COUNTY", "").strip() in ("1", "true", "yes")


def assets_dir() -> Path:
    """The campaign folder in use (campaign.yaml, its target table, township aliases, roster rules): the running
    run's (run_campaign), else YUKUAI_ASSETS_DIR (any folder of those files, e.g. a whole city's townships), else
    YUKUAI_COUNTY's folder assets/campaigns/<code>, else the one folder there is. `yukuai campaign import` makes a
    county's folder."""
    pinned = _RUN_CAMPAIGN.get()
    if pinned is not None:
        return pinned
    override = os.environ.get("YUKUAI_ASSETS_DIR")
    if override:
        return Path(override)
    campaigns = assets_root() / "campaigns"
    county = os.environ.get("YUKUAI_COUNTY", "").strip()
    if county:
        if not (campaigns / county / "campaign.yaml").is_file():
            raise FileNotFoundError(
                f"YUKUAI_COUNTY={county!r}：找不到 {campaigns / county}/campaign.yaml；先用 `yukuai campaign import` "
                "导入该区县的通知 / no campaign folder for this county code"
            )
        return campaigns / county
    found = sorted(p.parent for p in campaigns.glob("*/campaign.yaml"))
    if len(found) != 1:
        codes = "、".join(p.name for p in found) or "（无）"
        raise FileNotFoundError(
            f"{campaigns} 里有 {len(found)} 个区县的活动（{codes}）：用 YUKUAI_COUNTY=<区县代码> 选一个 / "
            "set YUKUAI_COUNTY to one of these county codes"
        )
    return found[0]


def city_days() -> tuple["dt.date", "dt.date"]:
    """The city rollup's days: YUKUAI_CITY_FROM and YUKUAI_CITY_TO (YYYY-MM-DD), else from the earliest baseline
    to the latest last day of the campaign folders in assets/campaigns/ (or of YUKUAI_ASSETS_DIR's campaign)."""
    import datetime as dt

    folders = sorted(p.parent for p in (assets_root() / "campaigns").glob("*/campaign.yaml"))
    if os.environ.get("YUKUAI_ASSETS_DIR") or not folders:
        folders = [assets_dir()]
    campaigns = [_campaign(folder) for folder in folders]
    first = os.environ.get("YUKUAI_CITY_FROM", "").strip()
    last = os.environ.get("YUKUAI_CITY_TO", "").strip()
    return (
        dt.date.fromisoformat(first) if first else min(c.baseline_date for c in campaigns),
        dt.date.fromisoformat(last) if last else max(c.last_day for c in campaigns),
    )


def schemas_dir() -> Path:
    return _data_dir("schemas")


def campaign() -> "Campaign":
    """The campaign of the assets folder in use, parsed once (campaign.py)."""
    return _campaign(assets_dir())


@lru_cache(maxsize=4)
def _campaign(folder: Path) -> "Campaign":
    from yukuai_pipeline.campaign import parse

    return parse(read_yaml(folder / "campaign.yaml"), folder)


def landing_template(env: Mapping[str, str] | None = None) -> str:
    """YUKUAI_LANDING_DIR as written, `{county}` and all."""
    return (os.environ if env is None else env).get("YUKUAI_LANDING_DIR", "data/landing")


def report_template(env: Mapping[str, str] | None = None) -> str:
    """YUKUAI_REPORT_DIR as written, `{county}` and all."""
    return (os.environ if env is None else env).get("YUKUAI_REPORT_DIR", "data/reports")


def county_path(template: str) -> Path:
    """A folder setting with `{county}` in it (/srv/yukuai/{county}/landing) as the county in use's folder: one
    setting for every county of a city. The resource does the same for the county of the run it executes."""
    return Path(for_county(template))


def for_county(template: str) -> str:
    """`{county}` in a setting replaced by the county code in use (nothing else in it is touched)."""
    return template.replace("{county}", campaign().county.code) if "{county}" in template else template


def read_yaml(path: Path):
    """A YAML file, by libyaml's C parser when PyYAML was built with it (several times faster), else PyYAML's own."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    database_url: str
    report_dir: Path
    dagster_home: Path
    ui_base_url: str
    file_mode: int = 0o640
    dir_mode: int = 0o750
    # seconds a database lock is waited for before giving up (SQLite busy timeout, PostgreSQL lock_timeout)
    db_lock_timeout: float = 30.0
    # seconds a landed file must stay unchanged before it is read (a file still being copied is not counted)
    settle_seconds: float = 10.0
    # where `yukuai archive` moves ingested files (read like the landing folder); empty: <landing>/archive
    archive_dir: Path | None = None
    # where the officer's browser fetches the report folder: `make ui`'s loopback file server, or nginx's /reports/
    report_base_url: str = "http://127.0.0.1:3001"
    # the city's workbooks (aggregates only): a folder apart from every county's report folder
    city_report_dir: Path = Path("data/city/reports")
    # months of daily tables `yukuai warehouse-retention` keeps (the newest ones); None: keep everything
    retention_months: int | None = None

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            landing_dir=county_path(landing_template(env)),
            database_url=env.get("YUKUAI_DATABASE_URL", "sqlite:///data/warehouse.db"),
            report_dir=county_path(report_template(env)),
            dagster_home=Path(env.get("DAGSTER_HOME", "data/dagster_home")),
            ui_base_url=env.get("YUKUAI_UI_BASE_URL", "http://127.0.0.1:3000"),
            file_mode=_octal(env, "YUKUAI_FILE_MODE", 0o640),
            dir_mode=_octal(env, "YUKUAI_DIR_MODE", 0o750),
            db_lock_timeout=db_lock_timeout(env),
            settle_seconds=_seconds(env, "YUKUAI_SETTLE_SECONDS", 10.0),
            archive_dir=Path(env["YUKUAI_ARCHIVE_DIR"]) if env.get("YUKUAI_ARCHIVE_DIR") else None,
            report_base_url=env.get("YUKUAI_REPORT_BASE_URL") or "http://127.0.0.1:3001",
            city_report_dir=Path(env.get("YUKUAI_CITY_REPORT_DIR") or "data/city/reports"),
            retention_months=_months(env, "YUKUAI_RETENTION_MONTHS"),
        )


# Alert delivery defaults (alerts/delivery.py reads them too): a WeCom robot takes 20 messages a minute.
ALERT_TIMEOUT_SECONDS = 5.0  # per request
ALERT_MAX_PER_TICK = 20  # sends attempted per tick
ALERT_TICK_BUDGET_SECONDS = 30.0  # seconds of sending per tick


@dataclass(frozen=True)
class AlertSettings:
    """Alert channels (YUKUAI_ALERT_* / YUKUAI_SMTP_*; none set = alerts are only recorded in `alerts`), the time by
    which a day's export must have landed, and the delivery budget. Secrets are kept as the variable's value here;
    the Dagster resource turns them back into EnvVar so that the UI never shows them."""

    ui_base_url: str = "http://127.0.0.1:3000"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    email_from: str | None = None
    email_to: str | None = None
    freshness_deadline: str = "10:00"
    # digest: one message per finished day run and channel (new failures, still failing since, recovered);
    # immediate: one message per failure and recovery. immediate_checks are sent at once in digest mode too.
    mode: str = "digest"
    immediate_checks: tuple[str, ...] = ()
    timeout_seconds: float = ALERT_TIMEOUT_SECONDS
    max_per_tick: int = ALERT_MAX_PER_TICK
    tick_budget_seconds: float = ALERT_TICK_BUDGET_SECONDS

    SECRET_VARIABLES: ClassVar[dict[str, str]] = {
        "webhook_secret": "YUKUAI_ALERT_WEBHOOK_SECRET",
        "smtp_password": "YUKUAI_SMTP_PASSWORD",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "AlertSettings":
        env = os.environ if env is None else env
        return cls(
            ui_base_url=env.get("YUKUAI_UI_BASE_URL", "http://127.0.0.1:3000"),
            webhook_url=env.get("YUKUAI_ALERT_WEBHOOK_URL") or None,
            webhook_secret=env.get("YUKUAI_ALERT_WEBHOOK_SECRET") or None,
            smtp_host=env.get("YUKUAI_SMTP_HOST") or None,
            smtp_port=int(env.get("YUKUAI_SMTP_PORT", "587")),
            smtp_user=env.get("YUKUAI_SMTP_USER") or None,
            smtp_password=env.get("YUKUAI_SMTP_PASSWORD") or None,
            smtp_starttls=env.get("YUKUAI_SMTP_STARTTLS", "true").lower() not in ("0", "false", "no"),
            email_from=env.get("YUKUAI_ALERT_EMAIL_FROM") or None,
            email_to=env.get("YUKUAI_ALERT_EMAIL_TO") or None,
            freshness_deadline=env.get("YUKUAI_FRESHNESS_DEADLINE", "10:00"),
            mode=_alert_mode(env.get("YUKUAI_ALERT_MODE", "")),
            immediate_checks=tuple(
                c.strip() for c in env.get("YUKUAI_ALERT_IMMEDIATE_CHECKS", "").split(",") if c.strip()
            ),
            timeout_seconds=_positive(env, "YUKUAI_ALERT_TIMEOUT_SECONDS", ALERT_TIMEOUT_SECONDS, float),
            max_per_tick=int(_positive(env, "YUKUAI_ALERT_MAX_PER_TICK", ALERT_MAX_PER_TICK, int)),
            tick_budget_seconds=_positive(env, "YUKUAI_ALERT_TICK_BUDGET_SECONDS", ALERT_TICK_BUDGET_SECONDS, float),
        )


def _alert_mode(text: str) -> str:
    mode = text.strip().lower() or "digest"
    if mode not in ("digest", "immediate"):
        log.warning("YUKUAI_ALERT_MODE=%r 应为 digest 或 immediate，使用 digest / unknown mode, using digest", text)
        return "digest"
    return mode


def _positive(env: Mapping[str, str], name: str, default: float, kind: type[int] | type[float]) -> float:
    """A positive number from the environment; unset, unreadable or not positive gives the default (with a
    warning): a typo in an alert setting must not stop the code location from loading."""
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        value: float | None = kind(text.strip())
    except ValueError:
        value = None
    if value is None or not value > 0 or value == float("inf"):
        log.warning("%s=%r 不是正数，使用默认值 %s / not a positive number, using the default", name, text, default)
        return default
    return value


# processes writing a city's township returns beside the county workbook (report/township_returns.py): one per
# core, at most 4 (each holds the day's report data); 1 writes them in the report's own process
REPORT_WORKERS_MAX = 4


def report_workers(env: Mapping[str, str] | None = None) -> int:
    """YUKUAI_REPORT_WORKERS, a whole number ≥ 1; unset or unreadable: one per core, at most REPORT_WORKERS_MAX."""
    env = os.environ if env is None else env
    default = max(1, min(os.cpu_count() or 1, REPORT_WORKERS_MAX))
    return int(_positive(env, "YUKUAI_REPORT_WORKERS", default, int))


def reuse_unchanged(env: Mapping[str, str] | None = None) -> bool:
    """Whether a step whose inputs did not change takes its rows from the day that computed them (steps/unchanged.py);
    YUKUAI_RECOMPUTE=1 recomputes every step of every day (to compare, or when in doubt)."""
    env = os.environ if env is None else env
    return env.get("YUKUAI_RECOMPUTE", "").strip().lower() not in ("1", "true", "yes")


def db_lock_timeout(env=None) -> float:
    """YUKUAI_DB_LOCK_TIMEOUT: how many seconds a locked database is waited for (default 30)."""
    text = (os.environ if env is None else env).get("YUKUAI_DB_LOCK_TIMEOUT")
    if not text:
        return 30.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 86400:
        raise ValueError(
            f"YUKUAI_DB_LOCK_TIMEOUT={text!r}：应为 0 到 86400 之间的秒数，例如 30 / "
            "seconds between 0 and 86400, e.g. 30"
        )
    return seconds


def archive_dir(landing_dir: str | Path) -> Path:
    """Where ingested files are archived: YUKUAI_ARCHIVE_DIR, else the folder `archive` inside the landing folder."""
    configured = os.environ.get("YUKUAI_ARCHIVE_DIR")
    return Path(configured) if configured else Path(landing_dir) / "archive"


def _seconds(env, name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ValueError(f"{name}={text!r}：应为 0 到 3600 之间的秒数 / seconds between 0 and 3600")
    return seconds


def _months(env, name: str) -> int | None:
    text = (env.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 1200:
        raise ValueError(f"{name}={text!r}：应为 1 到 1200 之间的月数 / a number of months from 1 to 1200")
    return int(text)


def _octal(env, name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    try:
        mode = int(text, 8)
    except ValueError:
        raise ValueError(f"{name}={text!r}：应为八进制权限，例如 0640 / an octal mode such as 0640") from None
    if not 0 <= mode <= 0o777:
        raise ValueError(f"{name}={text!r}：权限应在 0000–0777 之间 / must be within 0000-0777")
    return mode


# --------------------------------------------------------------------------------------------------------------
# Input limits (intake/limits/): a landed file past one of them is refused before it is parsed.
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputLimits:
    """How big a landed file may be. The defaults are far above any county or city export (README, "Reliability
    and privacy") and far below what exhausts the machine: a workbook costs ~200 bytes of memory a cell."""

    file_bytes: int = 2 * 1024**3  # any file, as it lies on disk
    rows: int = 20_000_000  # a CSV's records (estimated from its size); a sheet also stops at Excel's 1,048,576
    columns: int = 500  # a CSV record's fields; a sheet's columns from A
    cells: int = 16_777_216  # a workbook's sheets together, each rows × columns from A1 (1,048,576 × 16)
    csv_cells: int = 200_000_000  # a CSV: estimated records × columns
    sheets: int = 100  # sheets in a workbook
    uncompressed_bytes: int = 4 * 1024**3  # an .xlsx's parts, inflated
    compression_ratio: int = 500  # inflated ÷ compressed size of one part over 16 MB
    zip_entries: int = 10_000  # parts in an .xlsx package


INPUT_LIMIT_VARIABLES = {
    "file_bytes": "YUKUAI_MAX_FILE_BYTES",
    "rows": "YUKUAI_MAX_ROWS",
    "columns": "YUKUAI_MAX_COLUMNS",
    "cells": "YUKUAI_MAX_CELLS",
    "csv_cells": "YUKUAI_MAX_CSV_CELLS",
    "sheets": "YUKUAI_MAX_SHEETS",
    "uncompressed_bytes": "YUKUAI_MAX_UNCOMPRESSED_BYTES",
    "compression_ratio": "YUKUAI_MAX_COMPRESSION_RATIO",
    "zip_entries": "YUKUAI_MAX_ZIP_ENTRIES",
}


def input_limits(env=None) -> InputLimits:
    """InputLimits from the YUKUAI_MAX_* variables (whole numbers; 1_000_000 and 1,000,000 are read too); read at
    every call, so a changed variable applies to the next file."""
    env = os.environ if env is None else env
    values = {}
    for field_name, variable in INPUT_LIMIT_VARIABLES.items():
        text = env.get(variable, "").strip()
        if not text:
            continue
        try:
            value = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"{variable}={text!r}：应为正整数 / must be a positive whole number")
        values[field_name] = value
    return InputLimits(**values)


# --------------------------------------------------------------------------------------------------------------
# Executor (defs/executors.py): where a run's steps execute. in_process (default) runs them in the run's own
# process; celery sends each step to dagster-celery workers over the broker (deploy/README.md, "分布式执行（Celery）").
# --------------------------------------------------------------------------------------------------------------

EXECUTOR_KINDS = ("in_process", "celery")


@dataclass(frozen=True)
class ExecutorSettings:
    """YUKUAI_EXECUTOR and, for celery, the broker, result backend and queue the workers listen on. The broker URL
    may hold a password: defs/executors.py hands the executor the variable's name (Dagster resolves it when the run
    starts), never its value, so the UI does not show it."""

    kind: str = "in_process"
    celery_broker: str = "pyamqp://guest@127.0.0.1:5672//"
    celery_backend: str = "rpc://"
    # the queue the steps are sent to; the workers must consume it (-q); dagster-celery's own default is "dagster"
    celery_queue: str = "dagster"

    VARIABLES: ClassVar[dict[str, str]] = {
        "celery_broker": "YUKUAI_CELERY_BROKER",
        "celery_backend": "YUKUAI_CELERY_BACKEND",
        "celery_queue": "YUKUAI_CELERY_QUEUE",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "ExecutorSettings":
        env = os.environ if env is None else env
        text = env.get("YUKUAI_EXECUTOR", "")
        kind = text.strip().lower().replace("-", "_") or "in_process"
        if kind not in EXECUTOR_KINDS:
            raise ValueError(
                f"YUKUAI_EXECUTOR={text!r}：应为 in_process（默认）或 celery / must be in_process (default) or celery"
            )
        defaults = cls()
        values = {
            field: (env.get(variable) or "").strip() or getattr(defaults, field)
            for field, variable in cls.VARIABLES.items()
        }
        return cls(kind=kind, **values)
