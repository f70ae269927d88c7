"""On PostgreSQL the daily tables are declared partitioned by month of their date (native range partitioning), so a
city's year can be pruned or archived a month at a time by dropping or detaching a partition instead of deleting
millions of rows (`retention.py`). A table is partitioned when its contract's partition column is a date that every
unique key includes (PostgreSQL's own rule): the progress and count tables, the quotas, the issues, the scores, and
the day maps of the stored-once tables. SQLite knows no partitioning: there the same tables are plain.

A month's partition `<table>__pYYYYMM` is created the first time a row of that month is written, under an advisory
lock per table, so two runs starting a new month together do not both create it.
"""

import datetime as dt
import hashlib
import logging
import re

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import ExecutableDDLElement

from yukuai_pipeline.contracts import Contract

_CHILD = re.compile(r"^(?P<table>[a-z][a-z0-9_]*)__p(?P<year>\d{4})(?P<month>\d{2})$")


def partition_date(contract: Contract, primary_key: list[str]) -> str | None:
    """The date column a table is partitioned by on PostgreSQL, or None: its partition column when that is a date
    and part of the primary key (every unique key of a partitioned table must hold the partition column)."""
    column = contract.partition_column
    if not column or contract.stored_once or column not in contract.columns:
        return None
    if str(contract.schema.columns[column].dtype) != "date" or (primary_key and column not in primary_key):
        return None
    return column


def declared(table: sa.Table, column: str) -> None:
    """Mark the table partitioned by range of `column` on PostgreSQL (other dialects ignore the option)."""
    table.dialect_options["postgresql"]["partition_by"] = f"RANGE ({column})"
    table.info["partition_date"] = column


def column_of(table: sa.Table) -> str | None:
    return table.info.get("partition_date")


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def child_name(table: str, month: dt.date) -> str:
    return f"{table}__p{month:%Y%m}"


def month_of_child(table: str, child: str) -> dt.date | None:
    match = _CHILD.fullmatch(child)
    if not match or match["table"] != table:
        return None
    return dt.date(int(match["year"]), int(match["month"]), 1)


class CreatePartition(ExecutableDDLElement):
    """CREATE TABLE <table>__pYYYYMM PARTITION OF <table> for one month, composed by SQLAlchemy's compiler from the
    validated identifiers; the bounds are dates the program computed."""

    def __init__(self, table: str, month: dt.date):
        self.table, self.month = table, month_of(month)


class DropPartition(ExecutableDDLElement):
    """A month's partition detached (kept as a plain table, e.g. to dump and archive) or dropped."""

    def __init__(self, table: str, month: dt.date, detach: bool):
        self.table, self.month, self.detach = table, month_of(month), detach


def _next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def months_from(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first day of each month from `first`'s through `last`'s."""
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = _next_month(month)
    return months


@compiles(CreatePartition)
def _create_partition(element: CreatePartition, compiler, **kw) -> str:
    quote = compiler.preparer.quote
    start, end = element.month.isoformat(), _next_month(element.month).isoformat()
    return (
        f"CREATE TABLE IF NOT EXISTS {quote(child_name(element.table, element.month))} "
        f"PARTITION OF {quote(element.table)} FOR VALUES FROM ('{start}') TO ('{end}')"
    )


@compiles(DropPartition)
def _drop_partition(element: DropPartition, compiler, **kw) -> str:
    quote = compiler.preparer.quote
    child = quote(child_name(element.table, element.month))
    if element.detach:
        return f"ALTER TABLE {quote(element.table)} DETACH PARTITION {child}"
    return f"DROP TABLE {child}"


_CHILDREN = sa.text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:parent)"
)
_IS_PARTITIONED = sa.text("SELECT c.relkind = 'p' FROM pg_class c WHERE c.oid = to_regclass(:parent)")


def months(conn: sa.Connection, table: str) -> set[dt.date]:
    """The months `table` has a partition for."""
    found = (month_of_child(table, name) for name in conn.execute(_CHILDREN, {"parent": table}).scalars())
    return {m for m in found if m is not None}


def is_partitioned(conn: sa.Connection, table: str) -> bool:
    return bool(conn.execute(_IS_PARTITIONED, {"parent": table}).scalar())


def ensure_months(conn: sa.Connection, table: str, days) -> set[dt.date]:
    """The partitions of the days' months, created where missing, in the caller's transaction; returns the months
    the table then has."""
    wanted = {month_of(d) for d in days if d is not None}
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key(table))))
    present = months(conn, table)
    for month in sorted(wanted - present):
        conn.execute(CreatePartition(table, month))
    return present | wanted


def _lock_key(table: str) -> int:
    digest = hashlib.blake2b(f"partitions|{table}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def rebuild(conn: sa.Connection, table: sa.Table) -> int:
    """A plain table of an older warehouse rebuilt partitioned, in the caller's transaction: renamed aside, created
    from its contract, a partition per month its rows hold, the rows copied, the old one dropped. Row-level security
    policies belong to the old table and go with it: `yukuai warehouse-roles` must be applied again (said in the
    log). Returns the rows kept."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from yukuai_pipeline.warehouse.migrations import set_aside

    operations = Operations(MigrationContext.configure(conn))
    secured = conn.execute(_ROW_SECURITY, {"parent": table.name}).scalar()
    aside = f"{table.name}__before_partitions"
    set_aside(conn, operations, sa.inspect(conn), table.name, aside)
    table.create(conn)
    column = column_of(table) or ""
    old = sa.table(aside, *(sa.column(c.name) for c in table.columns))
    ensure_months(conn, table.name, conn.execute(sa.select(old.c[column]).distinct()).scalars().all())
    names = [c.name for c in table.columns]
    copied = conn.execute(table.insert().from_select(names, sa.select(*(old.c[c] for c in names)))).rowcount
    operations.drop_table(aside)
    if secured:
        _log.warning(
            "表 %s 已改为按月分区，原有的行级安全策略随旧表删除：请以属主重新执行 yukuai warehouse-roles 的语句 / "
            "%s is now partitioned by month; its row-level security policies went with the old table: apply "
            "`yukuai warehouse-roles` again",
            table.name,
            table.name,
        )
    return int(copied or 0)


_ROW_SECURITY = sa.text("SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = to_regclass(:parent)")
_log = logging.getLogger(__name__)
