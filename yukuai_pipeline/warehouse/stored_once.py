"""Tables stored once per distinct content. A reference input's tables (the roster in force and its completeness,
the registry, the platform activity, the community organisations) hold the same rows day after day until a newer
file lands; copied into every daily partition they were almost all of a warehouse's size. A contract saying
`stored_once: true` is therefore kept as

- `<table>__contents`: each distinct day's rows once, under a content id (the SHA-256 of the rows as stored), with
  no date;
- `snapshot_contents`: one row per (county, table, day) naming the content that day uses;
- `<table>`: a view joining the two with exactly the contract's columns, so the report, the UI, BI users and any
  SQL see one partition per day with the same rows as before.

Writing a day hashes its rows; content already stored is not stored again, and content no day refers to any more
is deleted in the same transaction. An existing warehouse's table is converted in place (`convert`), row for row.
"""

import hashlib

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import ExecutableDDLElement

from yukuai_pipeline.contracts import COUNTY_COLUMN, Contract, load_contract
from yukuai_pipeline.warehouse.replacement import Replacement

MAPPING = "snapshot_contents"
CONTENT = "content_id"
# a row's place in its content: reads give a day's rows in key order (all columns' order for a table without a key)
ORDER = "content_row"
_ASIDE = "{}__before_stored_once"


def contents_name(table: str) -> str:
    return f"{table}__contents"


def contents_table(metadata: sa.MetaData, logical: sa.Table, contract: Contract) -> sa.Table:
    """The physical table of a stored-once contract: its columns less the date, plus the content id, keyed by
    (county, content id, the rest of the contract's key)."""
    # fresh columns: copies would keep the logical table's primary-key flags
    columns = [_column(c) for c in logical.columns if c.name != contract.partition_column]
    content = sa.Column(CONTENT, sa.Text, nullable=False, comment="内容标识（见 snapshot_contents）")
    order = sa.Column(ORDER, sa.BigInteger, nullable=False, comment="该内容中的行序")
    rest = [c for c in contract.primary_key if c not in (COUNTY_COLUMN, contract.partition_column)]
    name = contents_name(logical.name)
    if contract.primary_key:
        key = sa.PrimaryKeyConstraint(COUNTY_COLUMN, CONTENT, *rest)
        table = sa.Table(name, metadata, *columns, content, order, key)
    else:
        table = sa.Table(name, metadata, *columns, content, order)
        sa.Index(f"ix_{name}_content", table.c[COUNTY_COLUMN], table.c[CONTENT])
    table.comment = f"{logical.comment}；每份不同内容只存一次，按日查看请用视图 {logical.name}"
    return table


def _column(column: sa.Column, nullable: bool | None = None) -> sa.Column:
    nullable = column.nullable if nullable is None else nullable
    return sa.Column(column.name, column.type, nullable=nullable, comment=column.comment)


def days_rows(logical: sa.Table, contents: sa.Table, mapping: sa.Table, partition: str) -> sa.Select:
    """The contract's columns in its order, the date from each day's mapping row, and the rows' order (ORDER)."""
    joined = contents.join(
        mapping,
        sa.and_(
            mapping.c.stored_table == sa.literal(logical.name, sa.Text),
            mapping.c[COUNTY_COLUMN] == contents.c[COUNTY_COLUMN],
            mapping.c[CONTENT] == contents.c[CONTENT],
        ),
    )
    columns = [(mapping.c[c.name] if c.name == partition else contents.c[c.name]).label(c.name) for c in logical.c]
    return sa.select(*columns, contents.c[ORDER]).select_from(joined)


class CreateView(ExecutableDDLElement):
    """CREATE VIEW <table> over `days_rows`: exactly the contract's columns, composed by SQLAlchemy's compiler from
    the validated identifiers (no SQL is built from strings elsewhere). On PostgreSQL the view runs with the
    reader's rights (security_invoker), so the tables' row-level security still applies (warehouse/access.py); a
    plain view would read with its owner's rights."""

    def __init__(self, logical: sa.Table, rows: sa.Select):
        inner = rows.subquery()
        self.name = logical.name
        self.select = sa.select(*(inner.c[c.name] for c in logical.c))


class DropView(ExecutableDDLElement):
    def __init__(self, name: str):
        self.name = name


@compiles(CreateView)
def _create_view(element: CreateView, compiler, **kw) -> str:
    name = compiler.preparer.quote(element.name)
    body = compiler.sql_compiler.process(element.select, literal_binds=True)
    # steps starting together in separate processes (multiprocess or Celery executor) may both find the view
    # missing: the second one's statement must not fail
    if compiler.dialect.name == "postgresql":
        return f"CREATE OR REPLACE VIEW {name} WITH (security_invoker = true) AS {body}"
    return f"CREATE VIEW IF NOT EXISTS {name} AS {body}"


@compiles(DropView)
def _drop_view(element: DropView, compiler, **kw) -> str:
    return f"DROP VIEW IF EXISTS {compiler.preparer.quote(element.name)}"


def content_id(columns: list[str], rows: list[tuple]) -> str:
    """The rows' identity, order included: the SHA-256 of the column names and of each row's values as the driver
    stores them."""
    digest = hashlib.sha256("\x1f".join(columns).encode())
    for row in rows:
        digest.update(b"\x1e" + repr(row).encode())
    return digest.hexdigest()


def day_of(item: Replacement, partition: str):
    """The one day a replacement of a stored-once table writes; anything else is a caller's bug, said plainly."""
    day = item.where.get(partition)
    frame_days = set(item.frame[partition].dropna()) if partition in item.frame.columns else set()
    if day is None or set(item.where) != {COUNTY_COLUMN, partition} or item.upsert or frame_days - {day}:
        raise ValueError(
            f"{item.table} 只能按天整体替换（一个区县一天）/ a stored-once table is replaced one day at a time"
        )
    return day


def write(warehouse, conn: sa.Connection, item: Replacement, partition: str) -> None:
    """Point the day at its content, storing the content first if it is new and dropping the day's former content
    if no day uses it any more. The caller holds the transaction and, on PostgreSQL, the lock of (table, county)."""
    from yukuai_pipeline.warehouse import stored_as_ranges
    from yukuai_pipeline.warehouse.tables import _tuples

    if load_contract(item.table).stored_as_ranges:
        stored_as_ranges.write(warehouse, conn, item, partition)
        return
    day = day_of(item, partition)
    county = item.where[COUNTY_COLUMN]
    contents, mapping = warehouse.table(contents_name(item.table)), warehouse.table(MAPPING)
    stored = [c for c in contents.columns if c.name not in (CONTENT, ORDER)]
    frame = item.frame.drop(columns=[partition], errors="ignore").assign(**{COUNTY_COLUMN: county})
    # rows in key order (as a plain table's key index gave them), all columns for a table without a key: the same
    # rows in any order are one content, whatever order a database scans an old table in
    key = [c.name for c in contents.primary_key.columns if c.name not in (COUNTY_COLUMN, CONTENT)]
    frame = frame.sort_values(key or [c.name for c in stored], kind="stable", na_position="first")
    frame = frame.reset_index(drop=True)
    new = content_id([c.name for c in stored], _tuples(frame[[c.name for c in stored]], stored, conn.dialect))
    this_day = sa.and_(
        mapping.c[COUNTY_COLUMN] == county, mapping.c.stored_table == item.table, mapping.c[partition] == day
    )
    # a write first (never a read): SQLite then takes the write lock at once, so two writers wait for each other
    # instead of both holding read locks and one failing at once as a deadlock
    old = conn.execute(mapping.delete().where(this_day).returning(mapping.c[CONTENT])).scalar()
    conn.execute(
        mapping.insert().values(
            **{COUNTY_COLUMN: county, "stored_table": item.table, partition: day, CONTENT: new},
            content_rows=len(frame),
        )
    )
    of_county = contents.c[COUNTY_COLUMN] == county
    if (
        len(frame)
        and conn.execute(sa.select(sa.literal(1)).where(of_county, contents.c[CONTENT] == new)).first() is None
    ):
        warehouse._bulk_insert(conn, contents, frame.assign(**{CONTENT: new, ORDER: range(len(frame))}))
    if old is not None and old != new:
        _drop_if_unused(warehouse, conn, item.table, county, old)


def dated_tables(table: str) -> list[str]:
    """The tables a stored-once table's day is written to, each partitioned by month on PostgreSQL."""
    from yukuai_pipeline.warehouse import stored_as_ranges

    return stored_as_ranges.dated_tables(table) if load_contract(table).stored_as_ranges else [MAPPING]


class ContentGone(LookupError):
    """The day a replacement was to share content with no longer uses that content."""


def point(warehouse, conn: sa.Connection, item: Replacement, partition: str) -> None:
    """`item.same_as`: the day uses the content another day uses, no row copied. The other day must still use the
    content id the caller saw (a concurrent run may have rewritten it): else ContentGone, and nothing is written."""
    assert item.same_as is not None
    if load_contract(item.table).stored_as_ranges:
        raise ValueError(f"{item.table}: 按范围存储的表不能整天共用内容 / only a whole day's content is shared")
    day, county = day_of(item, partition), item.where[COUNTY_COLUMN]
    mapping = warehouse.table(MAPPING)
    of_table = sa.and_(mapping.c[COUNTY_COLUMN] == county, mapping.c.stored_table == item.table)
    this_day = sa.and_(of_table, mapping.c[partition] == day)
    # a write first (never a read): SQLite then takes the write lock at once (as `write`)
    old = conn.execute(mapping.delete().where(this_day).returning(mapping.c[CONTENT])).scalar()
    source = conn.execute(
        sa.select(mapping.c[CONTENT], mapping.c.content_rows).where(of_table, mapping.c[partition] == item.same_as.day)
    ).first()
    if source is None or source[0] != item.same_as.content_id:
        raise ContentGone(f"{item.table} {item.same_as.day}")
    conn.execute(
        mapping.insert().values(
            **{COUNTY_COLUMN: county, "stored_table": item.table, partition: day, CONTENT: source[0]},
            content_rows=source[1],
        )
    )
    if old is not None and old != source[0]:
        _drop_if_unused(warehouse, conn, item.table, county, old)


def _drop_if_unused(warehouse, conn: sa.Connection, table: str, county: str, content: str) -> None:
    mapping, contents = warehouse.table(MAPPING), warehouse.table(contents_name(table))
    still_used = sa.select(sa.literal(1)).where(
        mapping.c[COUNTY_COLUMN] == county, mapping.c.stored_table == table, mapping.c[CONTENT] == content
    )
    if conn.execute(still_used).first() is None:
        conn.execute(contents.delete().where(contents.c[COUNTY_COLUMN] == county, contents.c[CONTENT] == content))


def convert(warehouse, conn: sa.Connection, logical: sa.Table, partition: str) -> int:
    """An existing warehouse's plain table turned into contents + mapping + view (or ranges + days + view), every
    (county, day) partition written as `write` would write it; returns the rows read. A table stored as ranges that
    an older release stored per village (its view over `__contents` and `__days`) is converted the same way from its
    view. Runs in the caller's transaction."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    operations = Operations(MigrationContext.configure(conn))
    inspector = sa.inspect(conn)
    present = {c["name"] for c in inspector.get_columns(logical.name)}
    expected = set(logical.columns.keys())
    required = {c.name for c in logical.columns if not c.nullable}
    if (
        present - expected or required - present
    ):  # nothing is dropped or made up silently: said as ensure_tables says it
        raise RuntimeError(
            f"数据库表 {logical.name} 的列与契约 schemas/tables/{logical.name}.yaml 不一致"
            f"（多出 {sorted(present - expected)}，缺少 {sorted(required - present)}）：请备份后删除该表再重新物化。"
        )
    from yukuai_pipeline.warehouse.migrations import set_aside

    aside = _ASIDE.format(logical.name)
    # a nullable column the contract gained since the table was written reads as empty
    old = sa.Table(aside, sa.MetaData(), *(_column(c) for c in logical.columns if c.name in present))
    if logical.name in inspector.get_view_names():
        _view_aside(warehouse, conn, operations, logical, old, partition)
    else:
        set_aside(conn, operations, inspector, logical.name, aside)
    days = conn.execute(sa.select(old.c[COUNTY_COLUMN], old.c[partition]).distinct()).all()
    _ensure_months(warehouse, conn, logical.name, [day for _, day in days])
    read = 0
    for county, day in days:
        result = conn.execute(sa.select(old).where(old.c[COUNTY_COLUMN] == county, old.c[partition] == day))
        frame = pd.DataFrame([tuple(r) for r in result.fetchall()], columns=list(result.keys()))
        frame = frame.reindex(columns=list(logical.columns.keys()))
        read += len(frame)
        whole_day = Replacement(logical.name, frame, {COUNTY_COLUMN: county, partition: day})
        for item in _as_written(whole_day):
            write(warehouse, conn, item, partition)
    operations.drop_table(aside)
    return read


def _view_aside(warehouse, conn: sa.Connection, operations, logical: sa.Table, aside: sa.Table, partition: str) -> None:
    """The rows of an older storage's view copied into `aside` (with an index per day, read once per day next), then
    the view and its tables dropped and the new tables created in their place."""
    from yukuai_pipeline.warehouse.stored_as_ranges import days_name, ranges_name

    sa.Index(f"ix_{aside.name}_day", aside.c[COUNTY_COLUMN], aside.c[partition])
    aside.create(conn)
    view = sa.table(logical.name, *(sa.column(c.name) for c in aside.c))
    conn.execute(aside.insert().from_select(list(aside.c.keys()), sa.select(*view.c)))
    conn.execute(DropView(logical.name))
    present = set(sa.inspect(conn).get_table_names())
    for name in (contents_name(logical.name), days_name(logical.name), ranges_name(logical.name)):
        if name in present:
            operations.drop_table(name)
    for name in dated_tables(logical.name):
        warehouse.table(name).create(conn)


def _as_written(whole_day: Replacement) -> list[Replacement]:
    """A day's rows as the pipeline writes them: whole, or one write per scope for a table stored as ranges."""
    from yukuai_pipeline.warehouse.stored_as_ranges import split_by_scope

    contract = load_contract(whole_day.table)
    if not contract.stored_as_ranges:
        return [whole_day]
    return split_by_scope(contract, whole_day.frame, whole_day.where)


def _ensure_months(warehouse, conn: sa.Connection, name: str, days: list) -> None:
    """On PostgreSQL the day map the days go to is partitioned by month (date_partitions.py): its months first."""
    from yukuai_pipeline.warehouse import date_partitions

    if conn.dialect.name != "postgresql":
        return
    for target in map(warehouse.table, dated_tables(name)):
        if date_partitions.column_of(target) and date_partitions.is_partitioned(conn, target.name):
            date_partitions.ensure_months(conn, target.name, days)
