"""The warehouse's reads and named queries: whole or filtered tables, the newest and oldest dates, a history up to
a date, and the statements of the alerts outbox (the newest kind of an alert key, the rows due for sending, a row
after a send) and of `alert_state` (the alert cursor, each channel's back-off). Callers ask by name; no SQL is
built outside the warehouse package.
"""

from collections.abc import Iterable

import pandas as pd
import sqlalchemy as sa

from yukuai_pipeline.contracts import COUNTY_COLUMN, conform_output, load_contract
from yukuai_pipeline.warehouse import area_coding
from yukuai_pipeline.warehouse.stored_as_ranges import read_order
from yukuai_pipeline.warehouse.stored_once import CONTENT, MAPPING, ORDER
from yukuai_pipeline.warehouse.tables import Replacement, WarehouseTables


class Warehouse(WarehouseTables):
    """One database's tables (`WarehouseTables`: schema and writes) with their reads and named queries."""

    def replace(self, replacements: Iterable[Replacement]) -> dict[str, int]:
        """WarehouseTables.replace, the rows' township and village codes filled first (warehouse/area_coding.py)."""
        return super().replace(area_coding.coded(self, list(replacements)))

    def read(self, name: str, where: dict | None = None, order_by: list[str] | None = None) -> pd.DataFrame:
        self.ensure_tables()
        table: sa.FromClause = self.table(name)
        query = sa.select(table)
        if name in self.stored_once:  # each day's rows in the order they were written (warehouse/stored_once.py)
            rows = self.days_rows(name).subquery()
            table, query = rows, sa.select(*(rows.c[c.name] for c in self.table(name).columns))
        for column, value in self.scoped(where).items():
            query = query.where(table.c[column] == value)
        for column in order_by or []:
            query = query.order_by(table.c[column])
        if name in self.stored_once and load_contract(name).stored_as_ranges:  # warehouse/stored_as_ranges.py
            query = query.order_by(*(table.c[c].asc().nulls_first() for c in read_order(load_contract(name))))
        elif name in self.stored_once:  # a day's rows in the order they were stored (key order)
            query = query.order_by(*(table.c[c] for c in [COUNTY_COLUMN, "snapshot_date", ORDER]))
        with self.engine.connect() as conn:
            result = conn.execute(query)
            # plain tuples: pandas reads SQLAlchemy Row objects one by one, some 20 times slower
            return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))

    def _filtered(self, table: sa.Table, query, column: str, before, on_or_before, where: dict | None):
        for name, value in self.scoped(where).items():
            query = query.where(table.c[name] == value)
        if before is not None:
            query = query.where(table.c[column] < before)
        if on_or_before is not None:
            query = query.where(table.c[column] <= on_or_before)
        return query

    def newest_date(
        self, name: str, *, before=None, on_or_before=None, where: dict | None = None, column: str = "snapshot_date"
    ):
        """The newest value of a date column (optionally before / on or before a date, among rows matching where)."""
        table = self.table(name)
        query = self._filtered(table, sa.select(sa.func.max(table.c[column])), column, before, on_or_before, where)
        return self.scalar(query)

    def oldest_date(self, name: str, *, before=None, where: dict | None = None, column: str = "snapshot_date"):
        table = self.table(name)
        return self.scalar(self._filtered(table, sa.select(sa.func.min(table.c[column])), column, before, None, where))

    def day_content(self, name: str, day) -> tuple[str, int] | None:
        """(content id, rows) of the content a stored-once table's day uses (warehouse/stored_once.py): equal ids,
        equal rows. None for a day not written, and for a table not stored once or stored as ranges (no one id for
        its day)."""
        if name not in self.stored_once or load_contract(name).stored_as_ranges:
            return None
        self.ensure_tables()
        mapping = self.table(MAPPING)
        query = sa.select(mapping.c[CONTENT], mapping.c.content_rows).where(
            mapping.c.stored_table == name, mapping.c.snapshot_date == day, *self._county(mapping)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).first()
        return None if found is None else (found[0], int(found[1]))

    def read_dates(
        self,
        name: str,
        *,
        before=None,
        on_or_before=None,
        where: dict | None = None,
        columns: list[str] | None = None,
        column: str = "snapshot_date",
    ) -> pd.DataFrame:
        """Rows of a table up to a date (its `column`), ordered by that date: a history, or the snapshots so far."""
        self.ensure_tables()
        table = self.table(name)
        chosen = [table.c[c] for c in columns] if columns else [table]
        query = self._filtered(table, sa.select(*chosen), column, before, on_or_before, where).order_by(table.c[column])
        with self.engine.connect() as conn:
            result = conn.execute(query)
            return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))

    # --- steps whose inputs did not change (steps/unchanged.py) -------------------------------------------------

    def step_run_like(self, step: str, inputs_version: str, day) -> dict | None:
        """The record of a day on which `step` had the same inputs version, with the version's row (step_versions):
        the day itself (run again), else the nearest earlier day, else the nearest later one (a backfill run newest
        first); None when there is none."""
        self.ensure_tables()
        runs, versions = self.table("step_runs"), self.table("step_versions")
        joined = runs.join(
            versions,
            sa.and_(
                versions.c[COUNTY_COLUMN] == runs.c[COUNTY_COLUMN],
                versions.c.step == runs.c.step,
                versions.c.inputs_version == runs.c.inputs_version,
            ),
        )
        same = (
            sa.select(runs.c.snapshot_date, runs.c.computed_on, versions)
            .select_from(joined)
            .where(runs.c.step == step, runs.c.inputs_version == inputs_version, *self._county(runs))
        )
        for query in (
            same.where(runs.c.snapshot_date == day),
            same.where(runs.c.snapshot_date < day).order_by(runs.c.snapshot_date.desc()),
            same.where(runs.c.snapshot_date > day).order_by(runs.c.snapshot_date),
        ):
            with self.engine.connect() as conn:
                row = conn.execute(query.limit(1)).mappings().first()
            if row is not None:
                return dict(row)
        return None

    def forget_step_run(self, step: str, day) -> None:
        """A day whose outputs no longer are what its record says (the step stopped early): nothing reuses them."""
        self.ensure_tables()
        runs = self.table("step_runs")
        with self.engine.begin() as conn:
            conn.execute(runs.delete().where(runs.c.step == step, runs.c.snapshot_date == day, *self._county(runs)))

    # --- the alerts outbox ----------------------------------------------------------------------------------------

    def last_alert_kind(self, alert_key: str) -> str | None:
        """failure / recovery / … of the newest alert with this key (one channel row is enough)."""
        table = self.table("alerts")
        query = (
            sa.select(table.c.kind)
            .where(table.c.alert_key == alert_key, *self._county(table))
            .order_by(table.c.created_at.desc(), table.c.alert_id.desc())
            .limit(1)
        )
        return self.scalar(query)

    def failing_days(self, asset: str, check: str) -> set:
        """The partition days whose newest check alert of (asset, check) is a failure: the days it still fails."""
        table = self.table("alerts")
        self.ensure_tables()
        query = (
            sa.select(table.c.partition_date, table.c.kind)
            .where(table.c.asset == asset, table.c.check == check, table.c.kind.in_(["failure", "recovery"]))
            .where(*self._county(table))
            .order_by(table.c.created_at, table.c.alert_id)
        )
        with self.engine.connect() as conn:
            newest = {day: kind for day, kind in conn.execute(query) if day is not None}
        return {day for day, kind in newest.items() if kind == "failure"}

    def due_alerts(self, now, max_attempts: int) -> list[dict]:
        """The undelivered alert rows whose retry time has come (`next_attempt_at` ≤ now) with fewer than
        `max_attempts` tries so far, oldest first, as dicts."""
        table = self.table("alerts")
        self.ensure_tables()
        query = (
            sa.select(table)
            .where(~table.c.delivered, table.c.next_attempt_at <= now, table.c.attempts < max_attempts)
            .where(*self._county(table))
            .order_by(table.c.created_at, table.c.alert_id)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def update_alert(self, alert_id: str, channel: str, **values) -> None:
        """Set `values` on one channel's row of an alert (after a send: attempts, delivered, error, next try)."""
        table = self.table("alerts")
        with self.engine.begin() as conn:
            conn.execute(
                table.update()
                .where(table.c.alert_id == alert_id, table.c.channel == channel, *self._county(table))
                .values(**values)
            )

    # --- alert_state: named values kept between ticks -------------------------------------------------------------

    def alert_state(self, name: str) -> str | None:
        """The value kept under `name` in `alert_state`, or None when there is none."""
        table = self.table("alert_state")
        return self.scalar(sa.select(table.c.value).where(table.c.name == name, *self._county(table)))

    def save_alert_state(self, name: str, value: str) -> None:
        """Keep `value` under `name` in `alert_state`, in place of the earlier value (an upsert)."""
        frame = conform_output(pd.DataFrame([{"name": name, "value": value}]), load_contract("alert_state"))
        self.replace([Replacement("alert_state", frame, upsert=True)])

    def delete_alert_state(self, name: str) -> None:
        """Remove the value kept under `name` in `alert_state` (none left is not an error)."""
        table = self.table("alert_state")
        with self.engine.begin() as conn:
            conn.execute(table.delete().where(table.c.name == name, *self._county(table)))

    def _county(self, table: sa.Table) -> list:
        """The condition keeping a statement inside this handle's county (none for the city's handle)."""
        return [table.c.county_code == self.county_code] if self.county_code is not None else []
