"""Retention: the daily tables keep their newest months; older whole months go, for every county at once (an
administrator's step for the whole warehouse, `yukuai warehouse-retention`).

On PostgreSQL a month is one partition per table (date_partitions.py): it is dropped, or detached and kept as a plain
table `<table>__pYYYYMM` for the administrator to dump and archive. On SQLite the same rows are deleted. The
stored-once tables follow their day maps: a content no remaining day uses is deleted; so is a step's inputs version
no remaining day was computed from (step_versions). What is not daily stays:
the ingest log, the input snapshots a day's tables were computed from (a roster in force can be older than every
kept month), the campaigns and the alerts.
"""

import datetime as dt

import sqlalchemy as sa

from yukuai_pipeline.contracts import COUNTY_COLUMN, load_contract
from yukuai_pipeline.warehouse import date_partitions
from yukuai_pipeline.warehouse.stored_once import CONTENT, MAPPING, contents_name


def first_kept_month(newest: dt.date, keep_months: int) -> dt.date:
    """The oldest month kept when the newest `keep_months` months up to `newest` are kept."""
    if keep_months < 1:
        raise ValueError(f"保留月数至少为 1（收到 {keep_months}）/ keep at least one month")
    month = date_partitions.month_of(newest)
    for _ in range(keep_months - 1):
        month = date_partitions.month_of(month - dt.timedelta(days=1))
    return month


def newest_day(warehouse) -> dt.date | None:
    """The newest day any daily table holds."""
    days = [
        warehouse.scalar(sa.select(sa.func.max(t.c[column])))
        for t in _daily(warehouse)
        if (column := date_partitions.column_of(t))
    ]
    return max((d for d in days if d is not None), default=None)


def drop_before(warehouse, first_kept: dt.date, detach: bool = False) -> dict[str, list[str]]:
    """Every daily table's months before `first_kept`'s month removed (detached on PostgreSQL when `detach`);
    contents no remaining day uses deleted. Returns the months removed per table ('YYYY-MM')."""
    if warehouse.county_code is not None:
        raise ValueError("保留期限作用于全库所有区县：请用全市的句柄（county_code=None）/ use the city's handle")
    if detach and warehouse.dialect != "postgresql":
        raise ValueError("只有 PostgreSQL 的分区可以分离保存；SQLite 只能删除 / only PostgreSQL partitions detach")
    warehouse.ensure_tables()
    cutoff = date_partitions.month_of(first_kept)
    removed: dict[str, list[str]] = {}
    with warehouse.engine.begin() as conn:
        for table in _daily(warehouse):
            column = date_partitions.column_of(table) or ""
            if warehouse.dialect == "postgresql":
                old = sorted(m for m in date_partitions.months(conn, table.name) if m < cutoff)
                for month in old:
                    conn.execute(date_partitions.DropPartition(table.name, month, detach))
                warehouse._months.pop(table.name, None)
            else:
                query = sa.select(table.c[column]).where(table.c[column] < cutoff).distinct()
                old = sorted({date_partitions.month_of(d) for d in conn.execute(query).scalars()})
                conn.execute(table.delete().where(table.c[column] < cutoff))
            if old:
                removed[table.name] = [f"{m:%Y-%m}" for m in old]
        for name in warehouse.stored_once:
            if not load_contract(name).stored_as_ranges:  # its ranges are dated themselves (stored_as_ranges.py)
                _unused_contents(warehouse, conn, name)
        _unused_versions(warehouse, conn)
    return removed


def _daily(warehouse) -> list[sa.Table]:
    return [t for t in warehouse.metadata.sorted_tables if date_partitions.column_of(t)]


def _unused_versions(warehouse, conn: sa.Connection) -> None:
    """A step's inputs versions (steps/unchanged.py) that no remaining day of step_runs was computed from."""
    runs, versions = warehouse.table("step_runs"), warehouse.table("step_versions")
    used = sa.select(sa.literal(1)).where(
        runs.c[COUNTY_COLUMN] == versions.c[COUNTY_COLUMN],
        runs.c.step == versions.c.step,
        runs.c.inputs_version == versions.c.inputs_version,
    )
    conn.execute(versions.delete().where(~used.exists()))


def _unused_contents(warehouse, conn: sa.Connection, name: str) -> None:
    """A stored-once table's contents that no day of its day map refers to any more."""
    contents, days = warehouse.table(contents_name(name)), warehouse.table(MAPPING)
    used = sa.select(sa.literal(1)).where(
        days.c[COUNTY_COLUMN] == contents.c[COUNTY_COLUMN],
        days.c[CONTENT] == contents.c[CONTENT],
        days.c.stored_table == name,
    )
    conn.execute(contents.delete().where(~used.exists()))
