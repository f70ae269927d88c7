"""Warehouse migrations that `ensure_tables` applies in place: a table written before the county key existed is
rebuilt with `county_code` as its first key column, every row kept and given the county it was written for.

Before the city edition one warehouse held one county's rows, and the pipeline served only 酉阳县: its rows become
county 500242 whichever county's handle opens the warehouse first (YUKUAI_LEGACY_COUNTY names another county for a
warehouse that was run with another county's campaign folder). Each table is rebuilt under its own name in the
caller's transaction (the old table renamed aside, the new one created from its contract, the rows copied, the old
one dropped), so a failure leaves the warehouse as it was.
"""

import os

import sqlalchemy as sa

from yukuai_pipeline.contracts import COUNTY_COLUMN
from yukuai_pipeline.warehouse import date_partitions

# the county every row belonged to before tables had a county column (the pipeline served only 酉阳县)
LEGACY_COUNTY_CODE = "500242"


def legacy_county_code() -> str:
    return os.environ.get("YUKUAI_LEGACY_COUNTY", "").strip() or LEGACY_COUNTY_CODE


_ASIDE = "{}__before_county"


def tables_without_county(inspector, tables: list[sa.Table]) -> list[sa.Table]:
    """The existing tables that were written before the county key (no `county_code` column yet)."""
    present = set(inspector.get_table_names())
    return [
        t
        for t in tables
        if t.name in present and COUNTY_COLUMN not in {c["name"] for c in inspector.get_columns(t.name)}
    ]


def set_aside(conn: sa.Connection, operations, inspector, name: str, aside: str) -> None:
    """Rename a table aside before its new form is created under its name. Index and constraint names are per
    schema, so they are dropped first, before the new table claims the same names."""
    for index in inspector.get_indexes(name):
        if index["name"]:
            operations.drop_index(index["name"], table_name=name)
    if conn.dialect.name == "postgresql":
        primary_key = inspector.get_pk_constraint(name).get("name")
        if primary_key:
            operations.drop_constraint(primary_key, name, type_="primary")
    operations.rename_table(name, aside)


def add_county_key(conn: sa.Connection, table: sa.Table, county_code: str) -> int:
    """Rebuild `table` (its old form in the database) with `county_code` first in its key; returns the rows kept.
    Statements are composed by Alembic and SQLAlchemy from the contract's validated identifiers; the county
    travels as a bound value."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    operations = Operations(MigrationContext.configure(conn))
    inspector = sa.inspect(conn)
    old_columns = {c["name"] for c in inspector.get_columns(table.name)}
    kept = [c.name for c in table.columns if c.name in old_columns]
    aside = _ASIDE.format(table.name)
    set_aside(conn, operations, inspector, table.name, aside)
    table.create(conn)
    old = sa.table(aside, *(sa.column(c) for c in kept))
    by_date = date_partitions.column_of(table)
    if by_date and conn.dialect.name == "postgresql":  # created partitioned: its rows' months first
        date_partitions.ensure_months(conn, table.name, conn.execute(sa.select(old.c[by_date]).distinct()).scalars())
    rows = sa.select(sa.literal(county_code, sa.Text), *(old.c[c] for c in kept))
    copied = conn.execute(table.insert().from_select([COUNTY_COLUMN, *kept], rows)).rowcount
    operations.drop_table(aside)
    return int(copied or 0)
