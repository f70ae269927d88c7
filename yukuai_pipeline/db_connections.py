"""How the pipeline connects to its databases, and the check of the Dagster instance's storage: every driver wait
is bounded (`connect_args`: SQLite's busy timeout, PostgreSQL's lock and connect timeouts, used by the warehouse and
here); `instance_database` reads from dagster.yaml which database the instance keeps its runs in; and
`check_instance_storage` makes sure, before Dagster opens the instance, that its folder takes a file and its
PostgreSQL answers and takes writes, raising a `DatabaseTrouble` (db_trouble.py) instead of Dagster's retries.
"""

import errno
import math
import os
import tempfile
from pathlib import Path

from yukuai_pipeline.db_trouble import Database, DatabaseTrouble, classify, trouble_for


def connect_args(url: str, lock_timeout: float) -> dict:
    """Driver arguments that bound every wait: SQLite's busy timeout; PostgreSQL's lock_timeout and connect_timeout
    (values already in the URL win)."""
    import sqlalchemy as sa

    if url.startswith("sqlite"):
        return {"timeout": lock_timeout}
    parsed = sa.engine.make_url(url)
    if not parsed.get_backend_name().startswith("postgresql"):
        return {}
    args: dict[str, int | str] = {}
    if "connect_timeout" not in parsed.query:
        args["connect_timeout"] = max(2, math.ceil(lock_timeout))  # libpq takes whole seconds, at least 2
    options = parsed.query.get("options", "")
    options = " ".join(options) if isinstance(options, tuple) else options
    if "lock_timeout" not in options:
        args["options"] = f"{options} -c lock_timeout={max(1, round(lock_timeout * 1000))}".strip()
    return args


# --- the Dagster instance's storage ------------------------------------------------------------------------------


def instance_database(home: Path | str) -> Database:
    """The storage of the Dagster instance in `home`: its PostgreSQL URL (dagster.yaml: storage.postgres or the
    older run_storage/event_log_storage/schedule_storage of dagster_postgres), else its SQLite folder."""
    home = Path(home)
    config_file = home / "dagster.yaml"
    setting = str(config_file)
    try:
        import yaml

        config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    except Exception:  # noqa: BLE001 - a missing or unreadable dagster.yaml: the default SQLite storage
        config = {}
    candidates = [((config.get("storage") or {}).get("postgres"))]
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        section = config.get(key) or {}
        if "postgres" in str(section.get("module", "")):
            candidates.append(section.get("config"))
    for section in candidates:
        if not isinstance(section, dict):
            continue
        url = _postgres_url(section)
        if url:
            env = section.get("postgres_url")
            if isinstance(env, dict) and env.get("env"):
                setting = str(env["env"])
            return Database(url, "Dagster 实例存储 ", setting)
    return Database(f"sqlite:///{home}", "Dagster 实例存储 ", setting)


def _env(value):
    if isinstance(value, dict) and set(value) == {"env"}:
        return os.environ.get(str(value["env"]), "")
    if isinstance(value, dict):
        return {k: _env(v) for k, v in value.items()}
    return value


def _postgres_url(section: dict) -> str | None:
    section = _env(section)
    if section.get("postgres_url"):
        return str(section["postgres_url"])
    db = section.get("postgres_db")
    if isinstance(db, dict) and db.get("username"):
        from urllib.parse import quote

        userinfo = quote(str(db["username"])) + (f":{quote(str(db['password']))}" if db.get("password") else "")
        return (
            f"{db.get('scheme', 'postgresql')}://{userinfo}@{db.get('hostname', '')}:{db.get('port', 5432)}"
            f"/{db.get('db_name', '')}"
        )
    return None


def check_instance_storage(home: Path | str, lock_timeout: float) -> None:
    """Before Dagster opens the instance: its folder takes a new file, and its PostgreSQL (when it has one) takes a
    login and is not read-only. Raises DatabaseTrouble; Dagster's own retries would print pages of warnings."""
    database = instance_database(home)
    try:
        with tempfile.NamedTemporaryFile(dir=home, prefix=".yukuai-write-check-"):
            pass
    except OSError as error:
        kinds: dict[int | None, str] = {
            errno.ENOSPC: "disk_full",
            errno.EDQUOT: "disk_full",
            errno.EROFS: "read_only",
            errno.EACCES: "permission",
            errno.EPERM: "permission",
        }
        kind = kinds.get(error.errno)
        if kind is None:
            raise
        trouble = trouble_for(kind, database)
        if kind == "read_only":
            trouble = DatabaseTrouble(
                kind,
                database,
                f"Dagster 实例文件夹 {home} 是只读的",
                "确认该文件夹可写、磁盘没有以只读方式挂载（mount），或把 DAGSTER_HOME 指向可写的文件夹",
            )
        elif kind == "permission":
            trouble = DatabaseTrouble(
                kind, database, f"没有写 Dagster 实例文件夹 {home} 的权限", "用有权限的用户运行，或改正 DAGSTER_HOME"
            )
        raise trouble from error
    if database.is_sqlite:
        return
    import sqlalchemy as sa

    database = Database(database.url, database.label, database.setting, lock_timeout)
    engine = sa.create_engine(
        database.url, connect_args=connect_args(database.url, lock_timeout), poolclass=sa.pool.NullPool
    )
    try:
        with engine.connect() as conn:
            read_only = conn.exec_driver_sql("SHOW transaction_read_only").scalar()
        if str(read_only).lower() == "on":
            raise trouble_for("read_only", database)
    except sa.exc.SQLAlchemyError as error:
        classified = classify(error, database)
        if classified is None:
            raise
        raise classified from error
    finally:
        engine.dispose()
