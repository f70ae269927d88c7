"""The warehouse's table machinery: the SQLAlchemy Core tables built from the output contracts (plain identifiers
only, new nullable columns added in place), the probe write, and the writes: every `Replacement` of a run in one
transaction, with a PostgreSQL advisory lock per partition, bulk inserts (COPY on PostgreSQL) and upserts. The
reads and the named queries are in `queries.py`; `Warehouse` is imported from the package.
"""

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
import sqlalchemy as sa

from yukuai_pipeline.contracts import COUNTY_COLUMN, TABLES, Contract, load_contract
from yukuai_pipeline.file_modes import create_private_file, private_dir
from yukuai_pipeline.warehouse import stored_once
from yukuai_pipeline.warehouse.county_scope import IN_USE, narrowed, scope, stamped, valid_county_code
from yukuai_pipeline.warehouse.replacement import Replacement

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

_SQL_TYPES = {
    "str": sa.Text,
    "string": sa.Text,
    "Int64": sa.BigInteger,
    "int64": sa.BigInteger,
    "float64": sa.Float,
    "Float64": sa.Float,
    "date": sa.Date,
    "datetime64[ns]": sa.DateTime,
    "bool": sa.Boolean,
    "boolean": sa.Boolean,
}


def _sql_type(contract: Contract, column: str):
    dtype = str(contract.schema.columns[column].dtype)
    for name, sql_type in _SQL_TYPES.items():
        if dtype == name or dtype.startswith(name + "[") or (name == "str" and "string" in dtype):
            return sql_type()
    raise ValueError(f"schemas/tables/{contract.kind}.yaml: no SQL type for {column} ({dtype})")


_T = TypeVar("_T")

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")


def sql_identifier(name: str, where: str) -> str:
    """Table and column names come from the YAML contracts (configuration): only plain lower-case SQL identifiers
    are accepted, so no contract can smuggle quoting or SQL into a statement. Values always travel as parameters."""
    if not _IDENTIFIER.fullmatch(str(name)):
        raise ValueError(f"{where}: {name!r} is not a plain SQL identifier (a-z, 0-9, _; starts with a letter)")
    return name


def build_metadata() -> tuple[sa.MetaData, dict[str, sa.Table]]:
    """The physical tables to create, and the stored-once contracts' logical tables (read through their views)."""
    from yukuai_pipeline.warehouse import stored_as_ranges
    from yukuai_pipeline.warehouse.date_partitions import declared, partition_date
    from yukuai_pipeline.warehouse.stored_once import contents_table

    metadata, views = sa.MetaData(), sa.MetaData()
    stored_once = {}
    for name in TABLES:
        contract = load_contract(name)
        sql_identifier(name, f"schemas/tables/{name}.yaml")
        columns = [
            sa.Column(
                sql_identifier(c, f"schemas/tables/{name}.yaml"),
                _sql_type(contract, c),
                nullable=contract.nullable(c),
                comment=contract.column_title(c),
            )
            for c in contract.columns
        ]
        constraints = [sa.PrimaryKeyConstraint(*contract.primary_key)] if contract.primary_key else []
        if contract.stored_once:
            if not contract.partition_column:
                raise ValueError(f"schemas/tables/{name}.yaml: stored_once needs a partition_column")
            stored_once[name] = sa.Table(name, views, *columns, *constraints, comment=contract.comment)
            if contract.stored_as_ranges:
                stored_as_ranges.ranges_table(metadata, stored_once[name], contract)
                stored_as_ranges.days_table(metadata, stored_once[name], contract)
                continue
            contents_table(metadata, stored_once[name], contract)
            continue
        table = sa.Table(name, metadata, *columns, *constraints, comment=contract.comment)
        if by_date := partition_date(contract, list(contract.primary_key)):  # on PostgreSQL (date_partitions.py)
            declared(table, by_date)
        if contract.partition_column and not contract.primary_key:
            partition = contract.partition_column
            sa.Index(f"ix_{name}_{partition}", table.c[COUNTY_COLUMN], table.c[partition])
    return metadata, stored_once


class WarehouseTables:
    """The tables of one database and their writes; `Warehouse` adds the reads and the named queries.

    A handle is scoped to one county (`county_code`, by default the campaign in use): every row it writes is
    stamped with that county and every delete and read is filtered by it, so a county's run can neither see nor
    replace another county's rows, whatever names their townships share. `county_code=None` is the city's
    handle: it reads every county and writes only frames that name their county themselves.
    """

    def __init__(self, url: str, lock_timeout: float | None = None, county_code: str | None = IN_USE):
        from yukuai_pipeline.db_connections import connect_args
        from yukuai_pipeline.db_trouble import Database, annotate_errors
        from yukuai_pipeline.settings import db_lock_timeout

        self.url = url
        # how long a lock held by another program is waited for: YUKUAI_DB_LOCK_TIMEOUT seconds (default 30)
        self.lock_timeout = db_lock_timeout() if lock_timeout is None else lock_timeout
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            path, _, query = url.removeprefix("sqlite:///").partition("?")
            uri = "uri=true" in query.lower()
            if uri:  # sqlite:///file:/path/warehouse.db?mode=ro&uri=true
                path = path.removeprefix("file:")
            database = Path(path).expanduser()
            if not (uri and "mode=ro" in query.lower()):  # a read-only database is opened as it is, never created
                private_dir(database.parent)
                create_private_file(database)  # SQLite gives its journals the database file's mode
        self.engine = sa.create_engine(url, connect_args=connect_args(url, self.lock_timeout))
        # driver errors say what failed, in which database and what to do, in one line (db_trouble)
        annotate_errors(self.engine, Database(url, lock_timeout=self.lock_timeout))
        self.metadata, self.stored_once = build_metadata()
        self.county_code = scope(county_code)
        self._row_security_active: dict[str, bool] = {}
        self._months: dict[str, set[dt.date]] = {}  # each partitioned table's months known to exist (PostgreSQL)
        self._ready = False

    def scoped(self, where: dict | None) -> dict:
        """`where` narrowed to this handle's county (unchanged for the city's handle)."""
        return narrowed(where, self.county_code)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def ensure_tables(self) -> None:
        if self._ready:
            return
        self._migrate_county_key()
        self._create_tables()
        self._store_once()
        inspector = sa.inspect(self.engine)
        added = {}
        for table in self.metadata.sorted_tables:
            existing = {c["name"] for c in inspector.get_columns(table.name)}
            expected = set(table.columns.keys())
            addable = {c for c in expected - existing if table.c[c].nullable}
            if existing - expected or expected - existing - addable:
                raise RuntimeError(
                    f"数据库表 {table.name} 的列与契约 schemas/tables/{table.name}.yaml 不一致"
                    f"（多出 {sorted(existing - expected)}，缺少 {sorted(expected - existing)}）："
                    "请备份后删除该表（或整个数据库）再重新物化。"
                )
            if addable:
                added[table.name] = sorted(addable)
        if added:
            self._add_columns(added)
        self._partition_by_date()
        self._create_views()
        self._ready = True

    def _create_tables(self) -> None:
        """The contracts' tables not in the database yet, created under the migration lock: the first steps of a
        run start together in separate processes (multiprocess or Celery executor) on a new warehouse, and both would
        find a table missing and create it."""
        if set(self.metadata.tables) <= set(sa.inspect(self.engine).get_table_names()):
            return
        with self._migrating() as conn:
            self.metadata.create_all(conn, checkfirst=True)

    def _store_once(self) -> None:
        """A stored-once contract whose table is still a plain table (a warehouse written before): converted in one
        transaction, every day's rows kept (warehouse/stored_once.py)."""
        from yukuai_pipeline.warehouse.stored_once import convert

        if not self._plain_stored_once(sa.inspect(self.engine)):
            return
        with self._migrating() as conn:
            for table in self._plain_stored_once(sa.inspect(conn)):
                convert(self, conn, table, load_contract(table.name).partition_column or "")

    def _plain_stored_once(self, inspector) -> list[sa.Table]:
        """Stored-once tables still plain, and tables stored as ranges that an older release kept per village."""
        from yukuai_pipeline.warehouse.stored_once import contents_name

        tables = set(inspector.get_table_names())
        older = {name for name in self.stored_once if load_contract(name).stored_as_ranges}
        return [
            t
            for name, t in self.stored_once.items()
            if name in tables or (name in older and contents_name(name) in tables)
        ]

    def _partition_by_date(self) -> None:
        """On PostgreSQL, a daily table written before it was declared partitioned (date_partitions.py) is rebuilt
        partitioned by month in one transaction, every row kept. The stored-once views read two of these tables:
        they are dropped first and made again by `_create_views`."""
        from yukuai_pipeline.warehouse import date_partitions
        from yukuai_pipeline.warehouse.stored_once import DropView

        if self.dialect != "postgresql":
            return
        with self.engine.connect() as conn:
            if not self._unpartitioned(conn):
                return
        with self._migrating() as conn:
            stale = self._unpartitioned(conn)
            if stale:
                for name in self.stored_once:
                    conn.execute(DropView(name))
            for table in stale:
                date_partitions.rebuild(conn, table)

    def _unpartitioned(self, conn: sa.Connection) -> list[sa.Table]:
        from yukuai_pipeline.warehouse import date_partitions

        wanted = [t for t in self.metadata.sorted_tables if date_partitions.column_of(t)]
        return [t for t in wanted if not date_partitions.is_partitioned(conn, t.name)]

    @contextmanager
    def _migrating(self) -> Iterator[sa.Connection]:
        """One transaction holding the warehouse's migration lock (SQLite's write lock, a PostgreSQL advisory lock),
        committed at the end. Two processes opening an older warehouse at once both find work to do: the second
        waits here, and the caller asks again under the lock what is left, so it finds the work done."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # sqlite3 would run each DDL statement in its own commit
            elif self.dialect == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key("migrations", {}))))
            yield conn
            conn.commit()

    def _create_views(self) -> None:
        """Each stored-once table's view, made again when its columns no longer match the contract's."""
        from yukuai_pipeline.warehouse.stored_once import CreateView, DropView

        inspector = sa.inspect(self.engine)
        views = set(inspector.get_view_names())
        with self.engine.begin() as conn:
            for name, logical in self.stored_once.items():
                if name in views:
                    if [c["name"] for c in inspector.get_columns(name)] == list(logical.columns.keys()):
                        continue
                    conn.execute(DropView(name))
                conn.execute(CreateView(logical, self.days_rows(name)))

    def _migrate_county_key(self) -> None:
        """Tables written before the county key: rebuilt in one transaction with their rows given the county they
        were written for (warehouse/migrations.py)."""
        from yukuai_pipeline.warehouse.migrations import add_county_key, legacy_county_code, tables_without_county

        # a stored-once table written before the county key is still a plain table: it gains the key first
        known = [*self.metadata.sorted_tables, *self.stored_once.values()]
        if not tables_without_county(sa.inspect(self.engine), known):
            return
        with self._migrating() as conn:
            for table in tables_without_county(sa.inspect(conn), known):
                add_county_key(conn, table, valid_county_code(legacy_county_code()))

    def _add_columns(self, added: dict[str, list[str]]) -> None:
        """A contract that gained nullable columns: they are added to the existing table (rows keep their values,
        the new columns are empty), so an older warehouse stays readable. Alembic writes the ALTER TABLE from the
        table's validated identifiers."""
        from alembic.migration import MigrationContext
        from alembic.operations import Operations

        with self.engine.begin() as conn:
            operations = Operations(MigrationContext.configure(conn))
            for name, columns in added.items():
                for column in columns:
                    operations.add_column(name, self.table(name).c[column]._copy())

    def check_writable(self) -> None:
        """Connect and write a probe row in a transaction that is rolled back: a database that is down, refuses the
        login, is locked beyond the lock timeout or read-only raises here, before any run starts (the caller says
        it in one line, db_trouble). Nothing is left behind."""
        probe = sa.Table("yukuai_write_check", sa.MetaData(), sa.Column("x", sa.Integer))
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                # Python's sqlite3 runs DDL outside a transaction unless one is open: open one, taking the write lock
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            probe.create(conn, checkfirst=True)
            conn.execute(probe.insert(), [{"x": 1}])
            conn.rollback()

    def days_rows(self, name: str) -> sa.Select:
        """A stored-once table's rows per day with their written order (the view's query, before the view)."""
        from yukuai_pipeline.warehouse import stored_as_ranges
        from yukuai_pipeline.warehouse.stored_once import MAPPING, contents_name, days_rows

        contract, logical = load_contract(name), self.stored_once[name]
        if contract.stored_as_ranges:
            ranges, days = self.table(stored_as_ranges.ranges_name(name)), self.table(stored_as_ranges.days_name(name))
            return stored_as_ranges.days_rows(logical, ranges, days, contract)
        contents = self.table(contents_name(name))
        return days_rows(logical, contents, self.table(MAPPING), contract.partition_column or "")

    def table(self, name: str) -> sa.Table:
        """A table by name; a stored-once contract's name gives its view (read-only, same columns)."""
        return self.stored_once[name] if name in self.stored_once else self.metadata.tables[name]

    def replace(self, replacements: Iterable[Replacement]) -> dict[str, int]:
        """All replacements in ONE transaction: a crash or an error leaves the previous state untouched."""
        self.ensure_tables()
        replacements = [stamped(item, self.county_code) for item in replacements]
        if self.dialect == "postgresql":
            self._ensure_months(replacements)
        written: dict[str, int] = {}
        with self.engine.begin() as conn:
            self._lock_partitions(conn, replacements)
            for item in replacements:
                table = self.table(item.table)
                if item.table in self.stored_once:
                    partition = load_contract(item.table).partition_column or ""
                    # a day sharing another day's content points at it; a copied frame (a table stored as ranges)
                    # is written like any other
                    shared = item.same_as is not None and item.same_as.content_id is not None
                    (stored_once.point if shared else stored_once.write)(self, conn, item, partition)
                elif item.upsert:
                    records = _records(item.frame[list(table.columns.keys())])
                    if records:
                        conn.execute(self._upsert(table, item.only_new), records)
                else:
                    delete = table.delete()
                    for column, value in item.where.items():
                        delete = delete.where(table.c[column] == value)
                    conn.execute(delete)
                    if len(item.frame):
                        self._bulk_insert(conn, table, item.frame)
                written[item.table] = written.get(item.table, 0) + len(item.frame)
        return written

    def _ensure_months(self, replacements: list[Replacement]) -> None:
        """The month partitions the replacements' rows go to, created where missing in a short transaction of their
        own (creating one locks its table: held through a long write it would block readers and invite deadlocks)."""
        from yukuai_pipeline.warehouse import date_partitions

        wanted: dict[str, set[dt.date]] = {}
        for item in replacements:
            for table, days in self._partition_days(item):
                wanted.setdefault(table, set()).update(days)
        for table, days in wanted.items():
            months = {date_partitions.month_of(d) for d in days}
            if months <= self._months.get(table, set()):
                continue
            try:
                with self.engine.begin() as conn:
                    self._months[table] = date_partitions.ensure_months(conn, table, days)
            except sa.exc.ProgrammingError as err:  # only the tables' owner creates partitions
                if getattr(err.orig, "sqlstate", "") != "42501":
                    raise
                missing = "、".join(sorted(f"{m:%Y-%m}" for m in months))
                raise RuntimeError(
                    f"表 {table} 没有 {missing} 月的分区，当前数据库角色无权创建：请以仓库表的属主执行 "
                    f"yukuai warehouse-partitions --through <日期> / {table} has no partition for {missing} and "
                    "this role may not create one: run `yukuai warehouse-partitions` as the tables' owner"
                ) from err

    def create_months(self, first: dt.date, last: dt.date) -> list[str]:
        """Every partitioned table's partitions for the months from `first` through `last`, made ahead (PostgreSQL;
        nothing on SQLite): a deployment whose county roles may not create tables needs them before their runs.
        Returns the tables given months."""
        from yukuai_pipeline.warehouse import date_partitions

        self.ensure_tables()
        if self.dialect != "postgresql":
            return []
        months = date_partitions.months_from(first, last)
        tables = [t.name for t in self.metadata.sorted_tables if date_partitions.column_of(t)]
        with self.engine.begin() as conn:
            for table in tables:
                self._months[table] = date_partitions.ensure_months(conn, table, months)
        return tables

    def _partition_days(self, item: Replacement) -> list[tuple[str, set[dt.date]]]:
        """(partitioned table, the days a replacement writes to it): the table itself, or a stored-once table's
        day map."""
        from yukuai_pipeline.warehouse import date_partitions

        if item.table in self.stored_once:
            day = item.where.get(load_contract(item.table).partition_column or "")
            return [(t, {day}) for t in stored_once.dated_tables(item.table)] if day is not None else []
        column = date_partitions.column_of(self.metadata.tables[item.table])
        if not column:
            return []
        days = set(item.frame[column].dropna()) if column in item.frame.columns else set()
        if item.where.get(column) is not None:
            days.add(item.where[column])
        return [(item.table, {_as_date(d) for d in days})]

    def _lock_partitions(self, conn, replacements: list[Replacement]) -> None:
        """Serialise concurrent replaces of the same partition (the sensor and the schedule asking for one day).

        Under PostgreSQL's READ COMMITTED, a second DELETE that waited for the first transaction does not see the
        rows that transaction inserted, so both runs' rows would survive. A transaction-scoped advisory lock per
        (table, partition), taken in sorted order (no deadlock), makes the second replace start after the first has
        committed. SQLite needs nothing: one writer holds the whole database until it commits.
        """
        if self.dialect != "postgresql":
            return
        # a stored-once table's days share contents: its writes are serialised per (table, county)
        keys = sorted(
            {
                _lock_key(item.table, {COUNTY_COLUMN: item.where.get(COUNTY_COLUMN)})
                if item.table in self.stored_once
                else _lock_key(item.table, item.where)
                for item in replacements
                if not item.upsert
            }
        )
        for key in keys:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))

    def _bulk_insert(self, conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
        """Rows as plain tuples straight to the driver, inside the caller's transaction: COPY on PostgreSQL, one
        executemany on SQLite. Values go through each column type's own SQLAlchemy bind processor, so the stored
        values are those table.insert() would store. The statements are composed by SQLAlchemy and psycopg from
        the table's (validated) identifiers; no value is ever part of the SQL text."""
        columns = list(table.columns)
        if self.dialect == "postgresql" and self._row_security(conn, table):
            # PostgreSQL has no COPY FROM into a table whose row-level security applies to this role (a county's
            # role in a city deployment, warehouse/access.py): one pipelined executemany instead
            conn.execute(table.insert(), _records(frame[[c.name for c in columns]]))
            return
        rows = _tuples(frame[[c.name for c in columns]], columns, conn.dialect)
        driver_connection = conn.connection.driver_connection
        # None only once the pooled connection has been given back; this one is checked out, inside the caller's
        # transaction
        assert driver_connection is not None, "the connection was closed"
        cursor = driver_connection.cursor()
        try:
            if self.dialect == "postgresql":
                from psycopg import sql

                copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
                )
                with cursor.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                insert = table.insert().compile(dialect=conn.dialect, column_keys=[c.name for c in columns])
                assert insert.positiontup is not None, "placeholders not positional"  # SQLite's are (qmark)
                assert list(insert.positiontup) == [c.name for c in columns], "placeholders out of column order"
                cursor.executemany(str(insert), rows)
        finally:
            cursor.close()

    def _row_security(self, conn: sa.Connection, table: sa.Table) -> bool:
        """Whether row-level security applies to this connection's role on `table` (asked once per table)."""
        if table.name not in self._row_security_active:
            active = conn.execute(sa.select(sa.func.row_security_active(table.name))).scalar()
            self._row_security_active[table.name] = bool(active)
        return self._row_security_active[table.name]

    def _upsert(self, table: sa.Table, only_new: bool):
        statement: PostgresqlInsert | SqliteInsert
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            statement = postgresql_insert(table)
        elif self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(table)
        else:
            raise NotImplementedError(f"upsert on {self.dialect}")
        keys = [c.name for c in table.primary_key.columns]
        if only_new:
            return statement.on_conflict_do_nothing(index_elements=keys)
        updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
        return statement.on_conflict_do_update(index_elements=keys, set_=updates)

    def scalar(self, query: sa.Select[_T]) -> _T | None:
        self.ensure_tables()
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def dispose(self) -> None:
        self.engine.dispose()


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, (dt.datetime, pd.Timestamp)) else value


def _lock_key(table: str, where: dict) -> int:
    text = table + "|" + "|".join(f"{k}={where[k]}" for k in sorted(where))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain Python values, None for every kind of missing: what the drivers take."""
    return frame.astype("object").where(frame.notna(), None)


def _tuples(frame: pd.DataFrame, columns: list[sa.Column], dialect) -> list[tuple]:
    plain = _plain(frame)
    values = []
    for column in columns:
        cells = plain[column.name].tolist()
        if isinstance(column.type, sa.Integer) and frame[column.name].dtype.kind == "f":
            # 80817.0 as 80817: COPY takes no decimal point into a bigint (a real fraction is left to fail loudly)
            cells = [int(v) if isinstance(v, float) and v.is_integer() else v for v in cells]
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        values.append(cells if process is None else [None if v is None else process(v) for v in cells])
    return list(zip(*values))


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain values, for the upserts' executemany."""
    return [] if frame.empty else _plain(frame).to_dict("records")
