"""Tables stored once per (day, unit): a stored-once table (warehouse/stored_once.py) whose day as a whole is new
every day although most of it is not. cadre_registration holds every roster person every day; a village's people
keep their answers for weeks, but some village somewhere changes daily, and the data dates on every row change with
each export. Its contract says `stored_once: {per: [township, village], day_columns: [export_date, roster_date]}`,
and it is kept as

- `<table>__contents`: each distinct unit's rows once, under a content id, without the date or the day columns;
- `<table>__days`: one row per (county, day, unit) naming the content that unit uses that day, with the day columns;
- `<table>`: the view joining the two, with exactly the contract's columns, as for every stored-once table.

A content's rows hold the unit's own key values, so two units never share a content.
"""

import pandas as pd
import sqlalchemy as sa

from yukuai_pipeline.contracts import COUNTY_COLUMN, Contract, load_contract
from yukuai_pipeline.warehouse.date_partitions import declared
from yukuai_pipeline.warehouse.replacement import Replacement
from yukuai_pipeline.warehouse.stored_once import CONTENT, MAPPING, ORDER, _column, content_id, contents_name, day_of

# SQLite takes at most 32,766 bound values a statement; a city county has a few thousand villages
_CHUNK = 500


def days_name(table: str) -> str:
    return f"{table}__days"


def by_unit(contract: Contract) -> bool:
    return not contract.stored_as_ranges and bool(contract.stored_once_per or contract.stored_once_day_columns)


def day_map_name(table: str) -> str:
    """The table saying which content each day of a stored-once table uses: its own `__days` table when it is stored
    per unit, else the shared `snapshot_contents`."""
    return days_name(table) if by_unit(load_contract(table)) else MAPPING


def dated_tables(table: str) -> list[str]:
    """The tables a stored-once table's day is written to that are partitioned by month on PostgreSQL."""
    from yukuai_pipeline.warehouse import stored_as_ranges

    if load_contract(table).stored_as_ranges:
        return stored_as_ranges.dated_tables(table)
    return [day_map_name(table)]


def days_table(metadata: sa.MetaData, logical: sa.Table, contract: Contract) -> sa.Table:
    """(county, day, unit) -> content, with the day columns; keyed by (county, day, unit)."""
    partition = contract.partition_column or ""
    key = [COUNTY_COLUMN, partition, *contract.stored_once_per]
    columns = [_column(logical.c[c]) for c in [*key, *contract.stored_once_day_columns]]
    name = days_name(logical.name)
    table = sa.Table(
        name,
        metadata,
        *columns,
        sa.Column(CONTENT, sa.Text, nullable=False, comment="内容标识（见 " + contents_name(logical.name) + "）"),
        sa.Column("content_rows", sa.BigInteger, nullable=False, comment="该内容的行数"),
        sa.PrimaryKeyConstraint(*key),
        comment=f"{logical.name} 每天每个单元（{'、'.join(contract.stored_once_per) or '全天'}）所用的内容",
    )
    declared(table, partition)  # by month on PostgreSQL, like every daily table (date_partitions.py)
    # garbage collection asks which contents any day still uses
    sa.Index(f"ix_{name}_content", table.c[COUNTY_COLUMN], table.c[CONTENT])
    return table


def days_rows(logical: sa.Table, contents: sa.Table, days: sa.Table, contract: Contract) -> sa.Select:
    """The contract's columns in its order (the date and the day columns from each day's entry) and ORDER."""
    from_days = {contract.partition_column, *contract.stored_once_day_columns}
    joined = contents.join(
        days, sa.and_(days.c[COUNTY_COLUMN] == contents.c[COUNTY_COLUMN], days.c[CONTENT] == contents.c[CONTENT])
    )
    columns = [(days.c[c.name] if c.name in from_days else contents.c[c.name]).label(c.name) for c in logical.c]
    return sa.select(*columns, contents.c[ORDER]).select_from(joined)


def write(warehouse, conn: sa.Connection, item: Replacement, partition: str) -> None:
    """The day's units pointed at their contents: new contents stored, contents no day uses any more dropped. The
    caller holds the transaction and, on PostgreSQL, the lock of (table, county)."""
    from yukuai_pipeline.warehouse.tables import _tuples

    contract = load_contract(item.table)
    day = day_of(item, partition)
    county = item.where[COUNTY_COLUMN]
    contents, days = warehouse.table(contents_name(item.table)), warehouse.table(days_name(item.table))
    stored = [c for c in contents.columns if c.name not in (CONTENT, ORDER)]
    names = [c.name for c in stored]
    per, day_columns = list(contract.stored_once_per), list(contract.stored_once_day_columns)
    key = [c.name for c in contents.primary_key.columns if c.name not in (COUNTY_COLUMN, CONTENT)]
    frame = item.frame.drop(columns=[partition], errors="ignore").assign(**{COUNTY_COLUMN: county})
    # units in key order, each unit's rows in key order (all columns' order for a table without a key, as
    # stored_once.write): one unit's rows are one run of the frame, and the same rows are the same content
    order = [*per, *(c for c in (key or names) if c not in per)]
    frame = frame.sort_values(order, kind="stable", na_position="first")
    frame = frame.reset_index(drop=True)
    rows = _tuples(frame[names], stored, conn.dialect)
    units = frame.groupby(per, sort=False, dropna=False).indices if per else {(): range(len(frame))}
    _one_date_per_unit(item.table, frame, per, day_columns)
    # each unit's day columns, from its first row (checked above to be its only value)
    firsts = [int(positions[0]) for positions in units.values() if len(positions)]
    dated = frame.iloc[firsts][day_columns].to_dict("records") if day_columns else [{}] * len(firsts)
    entries, parts = [], {}
    for (unit, positions), dates in zip(((u, p) for u, p in units.items() if len(p)), dated):
        first, last = int(positions[0]), int(positions[-1]) + 1
        new = content_id(names, rows[first:last])
        parts[new] = (first, last)
        entries.append({**dict(zip(per, _as_tuple(unit))), **dates, CONTENT: new, "content_rows": last - first})
    this_day = sa.and_(days.c[COUNTY_COLUMN] == county, days.c[partition] == day)
    # a write first (never a read): SQLite takes its write lock at once (as stored_once.write)
    old = set(conn.execute(days.delete().where(this_day).returning(days.c[CONTENT])).scalars())
    if entries:
        warehouse._bulk_insert(conn, days, pd.DataFrame(entries).assign(**{COUNTY_COLUMN: county, partition: day}))
    of_county = contents.c[COUNTY_COLUMN] == county
    present = _present(conn, sa.select(contents.c[CONTENT]).where(of_county).distinct(), contents.c[CONTENT], parts)
    missing = [pd.RangeIndex(*parts[c]) for c in parts if c not in present]
    if missing:
        chosen = frame.iloc[[i for r in missing for i in r]]
        ids = [c for c in parts if c not in present for _ in range(*parts[c])]
        order = [i for r in missing for i in range(len(r))]
        warehouse._bulk_insert(conn, contents, chosen.assign(**{CONTENT: ids, ORDER: order}))
    unused = old - set(parts)
    used = _present(
        conn, sa.select(days.c[CONTENT]).where(days.c[COUNTY_COLUMN] == county).distinct(), days.c[CONTENT], unused
    )
    for chunk in _chunks(sorted(unused - used)):
        conn.execute(contents.delete().where(of_county, contents.c[CONTENT].in_(chunk)))


def _one_date_per_unit(table: str, frame: pd.DataFrame, per: list[str], day_columns: list[str]) -> None:
    """A day column (export_date, roster_date) has one value on all of a unit's rows: it is kept once per unit."""
    if not day_columns or frame.empty:
        return
    if per:
        distinct = frame.groupby(per, sort=False, dropna=False)[day_columns].nunique(dropna=False)
    else:
        distinct = frame[day_columns].nunique(dropna=False).to_frame().T
    broken = distinct[(distinct > 1).any(axis=1)]
    if len(broken):
        unit = broken.index[0] if per else ()
        raise ValueError(
            f"{table}：{dict(zip(per, _as_tuple(unit)))} 的 {day_columns} 在同一天有不同的值 / "
            "a day column must be the same on all of a unit's rows"
        )


def _present(conn: sa.Connection, query: sa.Select, column: sa.Column, ids) -> set[str]:
    """Which of the ids the query finds, asked a chunk at a time."""
    found: set[str] = set()
    for chunk in _chunks(sorted(ids)):
        found |= set(conn.execute(query.where(column.in_(chunk))).scalars())
    return found


def _chunks(values: list[str]):
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _as_tuple(unit) -> tuple:
    return unit if isinstance(unit, tuple) else (unit,)
