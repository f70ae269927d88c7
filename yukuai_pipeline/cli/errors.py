"""How a command's failure reaches the terminal: database trouble as the one line of db_trouble.py, said for the
databases of this process's configuration (the warehouse of YUKUAI_DATABASE_URL, the Dagster instance of
DAGSTER_HOME), and library log records kept off the terminal, an error record in one line without its traceback.
"""

import contextlib
import logging
import os
from collections.abc import Iterator

from yukuai_pipeline.db_connections import instance_database
from yukuai_pipeline.db_trouble import Database, DatabaseTrouble, classify


def for_cli(error) -> DatabaseTrouble | None:
    """`classify` with the databases of this process's configuration: the warehouse and the Dagster instance."""
    if isinstance(error, DatabaseTrouble):
        return error
    from yukuai_pipeline.settings import Settings

    try:
        settings = Settings.from_env()
        warehouse = Database(settings.database_url, lock_timeout=settings.db_lock_timeout)
    except ValueError:
        return None
    home = os.environ.get("DAGSTER_HOME")
    instance = instance_database(home) if home else None
    return classify(error, warehouse, instance)


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        lines = record.getMessage().strip().splitlines() or [""]
        return f"{record.levelname}: {lines[0]}"


@contextlib.contextmanager
def quiet_python_logging() -> Iterator[None]:
    """For the command line: library log records (e.g. dagster-postgres's connection retries) stay off the
    terminal, and an error record is one line without its traceback. The run's full log is in the instance."""
    handler = logging.StreamHandler()
    handler.setLevel(logging.ERROR)
    handler.setFormatter(_OneLine())
    root = logging.getLogger()
    root.addHandler(handler)  # with a handler on the root, Python's last-resort handler no longer prints warnings
    try:
        yield
    finally:
        root.removeHandler(handler)
