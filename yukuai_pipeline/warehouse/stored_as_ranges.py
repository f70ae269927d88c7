"""Tables stored as ranges: each distinct row once per month with the first and last day it was seen. The issues a
day's files raise come back every day while the files are unchanged or grow (a registration export is the whole
list again each day): stored per day they were a third of a year's warehouse, though a year holds a few thousand
distinct issues. A contract saying `stored_once: {as: ranges, per: [...], day_columns: [...], order: [...]}` is
kept as

- `<table>__ranges`: each row without its date, with the first and last day of a run of days that have it
  (`first_seen`, `last_seen`, both in one month, `seen_month`); identical rows of one day are told apart by their
  count, so none is lost;
- `<table>__days`: one row per (county, day, `per`) that was written, with that day's value of each day column:
  a column such as the source file, new each day, that most of the day's rows share. A row holding that value keeps
  a flag instead (`<column>_from_day`), so the same issue on tomorrow's export is the same row;
- `<table>`: the view joining the two with exactly the contract's columns: one partition per day, as before.

Every write names its day and its `per` values (a stage writes its own issues). It takes the day out of the ranges
it replaces, then adds the day to the range of each of its rows that ends the day before or starts the day after
(joining the two), or starts a range. A range never crosses a month, so retention and PostgreSQL's month partitions
drop whole months of ranges as they drop days.
"""

import datetime as dt
import hashlib
from collections import Counter

import pandas as pd
import sqlalchemy as sa

from yukuai_pipeline.contracts import COUNTY_COLUMN, Contract, load_contract
from yukuai_pipeline.warehouse.date_partitions import declared, month_of
from yukuai_pipeline.warehouse.replacement import Replacement
from yukuai_pipeline.warehouse.stored_once import _column

ROW_ID, MONTH, FIRST, LAST = "row_id", "seen_month", "first_seen", "last_seen"
# SQLite takes at most 32,766 bound values a statement
_CHUNK = 500


def ranges_name(table: str) -> str:
    return f"{table}__ranges"


def days_name(table: str) -> str:
    return f"{table}__days"


def from_day(column: str) -> str:
    return f"{column}_from_day"


def dated_tables(table: str) -> list[str]:
    """The physical tables a write of one day goes to (each partitioned by month on PostgreSQL)."""
    return [days_name(table), ranges_name(table)]


def ranges_table(metadata: sa.MetaData, logical: sa.Table, contract: Contract) -> sa.Table:
    partition = contract.partition_column or ""
    name = ranges_name(logical.name)
    day_columns = contract.stored_once_day_columns
    table = sa.Table(
        name,
        metadata,
        # a day column is empty where its row takes the day's value
        *(_column(c, nullable=True if c.name in day_columns else None) for c in logical.columns if c.name != partition),
        *(
            sa.Column(
                from_day(c),
                sa.Boolean,
                nullable=False,
                comment=f"{logical.c[c].comment}取自当天的记录（见 {days_name(logical.name)}）",
            )
            for c in contract.stored_once_day_columns
        ),
        sa.Column(ROW_ID, sa.Text, nullable=False, comment="行标识（该行各列值的 BLAKE2b 摘要）"),
        sa.Column(MONTH, sa.Date, nullable=False, comment="所在月份（每月 1 日）：一段连续的日子不跨月"),
        sa.Column(FIRST, sa.Date, nullable=False, comment="本段第一天"),
        sa.Column(LAST, sa.Date, nullable=False, comment="本段最后一天（其间每个写入的日子都有这一行）"),
        comment=f"{logical.comment}；每行按月只存一次并记首末日期，按日查看请用视图 {logical.name}",
    )
    declared(table, MONTH)  # retention drops whole months (date_partitions.py)
    scope = [table.c[c] for c in contract.stored_once_per]
    sa.Index(f"ix_{name}_day", table.c[COUNTY_COLUMN], *scope, table.c[MONTH], table.c[LAST])
    sa.Index(f"ix_{name}_row", table.c[COUNTY_COLUMN], table.c[ROW_ID])
    return table


def days_table(metadata: sa.MetaData, logical: sa.Table, contract: Contract) -> sa.Table:
    partition = contract.partition_column or ""
    key = [COUNTY_COLUMN, partition, *contract.stored_once_per]
    table = sa.Table(
        days_name(logical.name),
        metadata,
        *(_column(logical.c[c]) for c in key),
        *(_column(logical.c[c], nullable=True) for c in contract.stored_once_day_columns),
        sa.Column(MONTH, sa.Date, nullable=False, comment="所在月份（每月 1 日）"),
        sa.PrimaryKeyConstraint(*key),
        comment=f"{logical.name} 写入过的日子（每个{'、'.join(contract.stored_once_per)}一行）及当天的共同取值",
    )
    declared(table, partition)
    return table


def days_rows(logical: sa.Table, ranges: sa.Table, days: sa.Table, contract: Contract) -> sa.Select:
    """The contract's columns in its order: each written day with the rows whose range holds it."""
    partition = contract.partition_column or ""
    joined = ranges.join(
        days,
        sa.and_(
            days.c[COUNTY_COLUMN] == ranges.c[COUNTY_COLUMN],
            *(days.c[c] == ranges.c[c] for c in contract.stored_once_per),
            days.c[MONTH] == ranges.c[MONTH],
            ranges.c[FIRST] <= days.c[partition],
            days.c[partition] <= ranges.c[LAST],
        ),
    )
    day_columns = set(contract.stored_once_day_columns)

    def value(name: str):
        if name == partition:
            return days.c[name]
        if name in day_columns:
            return sa.case((ranges.c[from_day(name)], days.c[name]), else_=ranges.c[name])
        return ranges.c[name]

    return sa.select(*(value(c.name).label(c.name) for c in logical.c)).select_from(joined)


def read_order(contract: Contract) -> list[str]:
    """A day's rows in a stable order: the scope, the contract's `order`, then every other column."""
    first = [COUNTY_COLUMN, contract.partition_column or "", *contract.stored_once_per, *contract.stored_once_order]
    return [*dict.fromkeys(first), *(c for c in contract.columns if c not in first)]


def write(warehouse, conn: sa.Connection, item: Replacement, partition: str) -> None:
    """The day's rows of the write's scope replaced. The caller holds the transaction and, on PostgreSQL, the lock
    of (table, county)."""
    from yukuai_pipeline.warehouse.tables import _tuples

    contract = load_contract(item.table)
    day = _day_of(item, contract, partition)
    county = item.where[COUNTY_COLUMN]
    ranges, days = warehouse.table(ranges_name(item.table)), warehouse.table(days_name(item.table))
    rest = {k: v for k, v in item.where.items() if k not in (COUNTY_COLUMN, partition)}
    scope = {c: rest[c] for c in contract.stored_once_per}
    frame = item.frame.drop(columns=[partition], errors="ignore").assign(**{COUNTY_COLUMN: county})
    frame = frame.reset_index(drop=True)
    day_columns = list(contract.stored_once_day_columns)
    # a write first (never a read): SQLite takes its write lock at once (as stored_once.write)
    entry = sa.and_(
        days.c[COUNTY_COLUMN] == county, days.c[partition] == day, *(days.c[c] == v for c, v in scope.items())
    )
    # the day's date returned too: a table without day columns still learns whether the day had an entry
    deleted = days.delete().where(entry).returning(days.c[partition], *(days.c[c] for c in day_columns))
    old = conn.execute(deleted).first()
    # a write of the whole scope sets the day's values; a narrower one (one check's rows) keeps them
    whole = set(rest) == set(scope)
    values = _day_values(frame, day_columns) if whole or old is None else dict(zip(day_columns, old[1:]))
    if len(frame) or (old is not None and not whole):  # an emptied day leaves no entry
        entry_row = {COUNTY_COLUMN: county, partition: day, MONTH: month_of(day), **scope, **values}
        conn.execute(days.insert().values(**entry_row))
    _take_out(conn, ranges, county, day, rest)
    for column in day_columns:
        same = frame[column].notna() & (frame[column] == values[column]) if values[column] is not None else False
        frame[from_day(column)] = same if isinstance(same, pd.Series) else False
        frame[column] = frame[column].where(~frame[from_day(column)], None)
    stored = [c for c in ranges.columns if c.name not in (ROW_ID, MONTH, FIRST, LAST)]
    names = [c.name for c in stored]
    counts: Counter = Counter()
    ids = []
    for row in _tuples(frame[names], stored, conn.dialect):
        ids.append(_row_id(names, row, counts[row]))
        counts[row] += 1
    frame[ROW_ID] = ids
    _put_in(warehouse, conn, ranges, frame, county, day, rest)


def _take_out(conn: sa.Connection, ranges: sa.Table, county: str, day: dt.date, rest: dict) -> None:
    """The day taken out of the ranges of the rows the write replaces: a range around it is cut in two."""
    before, after = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    match = [ranges.c[COUNTY_COLUMN] == county, ranges.c[MONTH] == month_of(day)]
    match += [ranges.c[k] == v for k, v in rest.items()]
    first, last = ranges.c[FIRST], ranges.c[LAST]
    later = sa.select(*(sa.literal(after, sa.Date).label(FIRST) if c.name == FIRST else c for c in ranges.columns))
    conn.execute(ranges.insert().from_select(list(ranges.columns.keys()), later.where(*match, first < day, last > day)))
    conn.execute(ranges.update().where(*match, first < day, last >= day).values({LAST: before}))
    conn.execute(ranges.update().where(*match, first == day, last > day).values({FIRST: after}))
    conn.execute(ranges.delete().where(*match, first == day, last == day))


def _put_in(
    warehouse, conn: sa.Connection, ranges: sa.Table, frame: pd.DataFrame, county: str, day: dt.date, rest: dict
) -> None:
    """Each row's range ending the day before or starting the day after (same month) takes the day; a row with
    both joins them into one; a row with neither starts its own."""
    month = month_of(day)
    before, after = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    ids = set(frame[ROW_ID])
    of_month = [ranges.c[COUNTY_COLUMN] == county, ranges.c[MONTH] == month]
    row, first, last = ranges.c[ROW_ID], ranges.c[FIRST], ranges.c[LAST]
    # the scope's ranges ending the day before and starting the day after, asked once each: a row of the day has
    # its scope's values, so its neighbours are among them
    scoped = [*of_month, *(ranges.c[k] == v for k, v in rest.items())]
    ending: set[str] = set()
    rights: dict[str, dt.date] = {}
    if month_of(before) == month:
        ending = set(conn.execute(sa.select(row).where(*scoped, last == before)).scalars())
    lefts = ids & ending
    if month_of(after) == month:
        found = conn.execute(sa.select(row, last).where(*scoped, first == after)).all()
        rights = {r: d for r, d in found if r in ids}
    both = sorted(lefts & set(rights))
    for chunk in _chunks(both):
        conn.execute(ranges.delete().where(*of_month, first == after, row.in_(chunk)))
    if both:
        joined = ranges.update().where(*of_month, last == before, row == sa.bindparam("rid"))
        conn.execute(joined.values({LAST: sa.bindparam("to")}), [{"rid": r, "to": rights[r]} for r in both])
    extend, stay = lefts - set(both), ending - lefts
    if len(extend) > len(stay):  # the usual next day: most rows go on, so all do and the few that end are put back
        conn.execute(ranges.update().where(*scoped, last == before).values({LAST: day}))
        for chunk in _chunks(sorted(stay)):
            conn.execute(ranges.update().where(*of_month, last == day, row.in_(chunk)).values({LAST: before}))
    else:
        for chunk in _chunks(sorted(extend)):
            conn.execute(ranges.update().where(*of_month, last == before, row.in_(chunk)).values({LAST: day}))
    for chunk in _chunks(sorted(set(rights) - set(both))):
        conn.execute(ranges.update().where(*of_month, first == after, row.in_(chunk)).values({FIRST: day}))
    taken = lefts | set(rights)
    new = frame[[r not in taken for r in frame[ROW_ID].tolist()]]
    if len(new):
        warehouse._bulk_insert(conn, ranges, new.assign(**{MONTH: month, FIRST: day, LAST: day}))


def _day_of(item: Replacement, contract: Contract, partition: str) -> dt.date:
    """The one day and scope a write replaces, its rows all inside them: anything else is a caller's bug."""
    where, frame = item.where, item.frame
    day = where.get(partition)
    frame_days = set(frame[partition].dropna()) if partition in frame.columns else set()
    scope = contract.stored_once_per
    problems = ["没有日期"] if day is None or frame_days - {day} else []
    problems += [f"没有给出 {c}" for c in scope if c not in where]
    problems += [f"不能按当天共同取值的列 {c} 筛选" for c in contract.stored_once_day_columns if c in where]
    problems += [f"没有 {c} 列" for c in where if c not in contract.columns]
    problems += ["不能追加或只写新行"] if item.upsert or item.only_new else []
    for column, value in where.items():
        if column in (COUNTY_COLUMN, partition) or column not in frame.columns or not len(frame):
            continue
        outside = frame[column].notna() if value is None else frame[column].astype(object) != value
        if outside.any():
            problems.append(f"第 {int(outside.to_numpy().argmax()) + 1} 行的 {column} 不是 {value}")
    if problems:
        raise ValueError(
            f"{item.table} 按天和 {list(scope)} 整体替换：{'；'.join(problems)} / a table stored as ranges is replaced "
            "one day and scope at a time, with rows inside them"
        )
    assert day is not None
    return day


def _day_values(frame: pd.DataFrame, columns: list[str]) -> dict:
    """Each day column's most common value among the rows (the smallest of equals); None when it has none."""
    values = {}
    for column in columns:
        counted = frame[column].dropna().value_counts()
        values[column] = min(counted[counted == counted.max()].index) if len(counted) else None
    return values


def _row_id(columns: list[str], row: tuple, occurrence: int) -> str:
    """128 bits: rows are only ever compared within one county and month"""
    digest = hashlib.blake2b("\x1f".join(columns).encode(), digest_size=16)
    digest.update(b"\x1e" + repr(row).encode() + b"\x1e" + str(occurrence).encode())
    return digest.hexdigest()


def split_by_scope(contract: Contract, frame: pd.DataFrame, where: dict) -> list[Replacement]:
    """A whole day's rows (an older warehouse's plain table, stored_once.convert) as one write per scope."""
    scope = list(contract.stored_once_per)
    if not scope:
        return [Replacement(contract.table or "", frame, where)]
    groups = frame.groupby(scope, sort=True, dropna=False) if len(frame) else []
    return [
        Replacement(
            contract.table or "", rows, {**where, **dict(zip(scope, key if isinstance(key, tuple) else (key,)))}
        )
        for key, rows in groups
    ]


def _chunks(values: list):
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
