"""Reference tables are stored once per distinct content (warehouse/stored_once.py): days with the same rows share
one copy, readers see one partition per day as before, content no day uses is deleted, and a warehouse written with
plain daily tables is converted in place with every report query giving the same answer (SQLite, and PostgreSQL
when YUKUAI_TEST_POSTGRES_URL is set)."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from benchmarks.storage import as_plain_tables
from yukuai_pipeline.contracts import TABLES
from yukuai_pipeline.steps.context import StepContext
from yukuai_pipeline.steps.report import report_data
from yukuai_pipeline.warehouse import Replacement, Warehouse

DAYS = [dt.date(2023, 2, 17), dt.date(2023, 2, 18), dt.date(2023, 2, 19)]
TABLE = "roster_township_summary"


def _summary(day: dt.date, complete: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "snapshot_date": day,
            "township": ["龙潭镇", "桃花源街道"],
            "villages_total": [12, 9],
            "villages_complete": [complete, 9],
            "completeness": [complete / 12, 1.0],
        }
    )


def _stored(warehouse: Warehouse) -> tuple[int, int]:
    """(content rows, mapping rows) of the test table."""
    with warehouse.engine.connect() as conn:
        contents = conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}__contents")).scalar()
        days = conn.execute(
            sa.text("SELECT count(*) FROM snapshot_contents WHERE stored_table = :t"), {"t": TABLE}
        ).scalar()
    return int(contents or 0), int(days or 0)


def test_days_with_the_same_rows_share_one_copy_and_unused_content_is_deleted(database_url):
    warehouse = Warehouse(database_url)
    for day, complete in zip(DAYS, [10, 10, 11]):
        warehouse.replace([Replacement(TABLE, _summary(day, complete), {"snapshot_date": day})])
    assert _stored(warehouse) == (4, 3)  # two distinct contents of two townships, three days
    by_day = warehouse.read(TABLE).set_index(["snapshot_date", "township"])["villages_complete"]
    assert by_day.to_dict() == {
        (DAYS[0], "龙潭镇"): 10,
        (DAYS[0], "桃花源街道"): 9,
        (DAYS[1], "龙潭镇"): 10,
        (DAYS[1], "桃花源街道"): 9,
        (DAYS[2], "龙潭镇"): 11,
        (DAYS[2], "桃花源街道"): 9,
    }
    # the third day corrected to the others' rows: its old content is no day's any more, so it is gone
    warehouse.replace([Replacement(TABLE, _summary(DAYS[2], 10), {"snapshot_date": DAYS[2]})])
    assert _stored(warehouse) == (2, 3)
    # rows come back in key order (桃 U+6843 before 龙 U+9F99), as SQLite's key index gave them from a plain table
    assert warehouse.read(TABLE, {"snapshot_date": DAYS[2]})["villages_complete"].tolist() == [9, 10]
    # a day emptied keeps its mapping row (zero rows) and shares nothing
    empty = _summary(DAYS[1], 10).iloc[0:0]
    warehouse.replace([Replacement(TABLE, empty, {"snapshot_date": DAYS[1]})])
    assert warehouse.read(TABLE, {"snapshot_date": DAYS[1]}).empty and _stored(warehouse) == (2, 3)


def test_a_county_never_shares_another_countys_content(database_url):
    for county in ("500242", "509901"):
        Warehouse(database_url, county_code=county).replace(
            [Replacement(TABLE, _summary(DAYS[0], 10), {"snapshot_date": DAYS[0]})]
        )
    city = Warehouse(database_url, county_code=None)
    assert sorted(city.read(TABLE)["county_code"]) == ["500242", "500242", "509901", "509901"]
    assert _stored(city) == (4, 2)
    Warehouse(database_url, county_code="509901").replace(
        [Replacement(TABLE, _summary(DAYS[0], 9), {"snapshot_date": DAYS[0]})]
    )
    mine = Warehouse(database_url, county_code="500242").read(TABLE)
    assert mine["villages_complete"].tolist() == [9, 10]


def test_a_warehouse_of_daily_copies_is_converted_and_every_report_query_is_unchanged(runner):
    for day in DAYS:
        assert runner.run(day.isoformat()).success, day
    warehouse = runner.warehouse
    before = {t: warehouse.read(t) for t in TABLES}
    reports = {day: report_data(StepContext(warehouse, runner.resource.landing_dir), day) for day in DAYS}
    with warehouse.engine.connect() as conn:  # the villages' targets: the same registry and targets every day
        targets = "SELECT count(DISTINCT content_id) FROM snapshot_contents WHERE stored_table = 'village_targets'"
        assert conn.execute(sa.text(targets)).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM village_targets__contents")).scalar() == len(
            warehouse.read("village_targets", {"snapshot_date": DAYS[0]})
        )
    kept = as_plain_tables(warehouse)
    assert kept["roster_members"] % 3 == 0 and kept["roster_members"] > 3 * 20_000  # every day's copy, as before
    warehouse.dispose()

    converted = Warehouse(runner.resource.database_url)
    for table in TABLES:  # snapshot_contents too: the converted contents are the very contents a run writes
        after = converted.read(table)
        key = list(before[table].columns)
        pd.testing.assert_frame_equal(
            before[table].sort_values(key).reset_index(drop=True),
            after[key].sort_values(key).reset_index(drop=True),
            obj=table,
        )
    for day in DAYS:
        again = report_data(StepContext(converted, runner.resource.landing_dir), day)
        for field, value in vars(reports[day]).items():
            if isinstance(value, pd.DataFrame):
                pd.testing.assert_frame_equal(value, getattr(again, field), obj=f"{day} {field}")
    with converted.engine.connect() as conn:
        members = conn.execute(sa.text("SELECT count(*) FROM roster_members__contents")).scalar()
        shared = conn.execute(
            sa.text("SELECT count(DISTINCT content_id) FROM snapshot_contents WHERE stored_table = 'roster_members'")
        ).scalar()
    assert shared == 1 and members == kept["roster_members"] // 3  # the one roster, stored once
    # and the pipeline writes on top of the converted warehouse as before
    assert runner.run("2023-02-20").success
    assert len(converted.read("roster_members", {"snapshot_date": dt.date(2023, 2, 20)})) == members


def _plain_summary(database_url: str, drop: str | None = None, extra: str | None = None) -> None:
    """roster_township_summary as an older warehouse held it: a plain daily table (less `drop`, plus `extra`)."""
    logical = Warehouse(database_url).stored_once[TABLE]
    columns = [sa.Column(c.name, c.type, nullable=c.nullable) for c in logical.columns if c.name != drop]
    columns += [sa.Column(extra, sa.Text)] if extra else []
    plain = sa.Table(TABLE, sa.MetaData(), *columns)
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        plain.create(conn)
        for day in DAYS[:2]:
            rows = _summary(day, 10).drop(columns=[drop] if drop else []).assign(county_code="500242")
            conn.execute(plain.insert(), rows.to_dict("records"))
    engine.dispose()


def test_an_older_plain_table_is_converted_with_a_column_it_lacked_left_empty(database_url):
    _plain_summary(database_url, drop="completeness")
    warehouse = Warehouse(database_url)
    rows = warehouse.read(TABLE)
    assert rows[["snapshot_date", "township", "villages_complete"]].values.tolist() == [
        [DAYS[0], "桃花源街道", 9],
        [DAYS[0], "龙潭镇", 10],
        [DAYS[1], "桃花源街道", 9],
        [DAYS[1], "龙潭镇", 10],
    ]
    assert rows["completeness"].isna().all() and _stored(warehouse) == (2, 2)


def test_an_older_table_with_a_column_the_contract_does_not_know_is_refused_and_left_as_it_was(database_url):
    _plain_summary(database_url, extra="remark")
    with pytest.raises(RuntimeError, match=r"roster_township_summary .*多出 \['remark'\]"):
        Warehouse(database_url).ensure_tables()
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar() == 4
        assert "remark" in {c["name"] for c in sa.inspect(conn).get_columns(TABLE)}
    engine.dispose()


def test_a_view_that_no_longer_matches_its_contract_is_made_again(database_url):
    """e.g. after a contract gained a column: the next handle drops and recreates the view SQL users query."""
    warehouse = Warehouse(database_url)
    warehouse.replace([Replacement(TABLE, _summary(DAYS[0], 10), {"snapshot_date": DAYS[0]})])
    with warehouse.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP VIEW {TABLE}")
        conn.exec_driver_sql(f"CREATE VIEW {TABLE} AS SELECT county_code, township FROM {TABLE}__contents")
    warehouse.dispose()
    again = Warehouse(database_url)
    again.ensure_tables()
    with again.engine.connect() as conn:
        rows = pd.read_sql(sa.text(f"SELECT * FROM {TABLE} ORDER BY township"), conn)
    assert list(rows.columns) == list(again.stored_once[TABLE].columns.keys())
    assert rows["villages_complete"].tolist() == [9, 10] and set(rows["snapshot_date"].astype(str)) == {"2023-02-17"}


def test_two_handles_converting_an_older_warehouse_at_once_convert_it_once(database_url, monkeypatch):
    """Two processes opening the warehouse together both see a plain table; the second waits for the first's
    migration lock and, asking again under it, finds the conversion done (it used to fail once)."""
    _plain_summary(database_url)
    first, second = Warehouse(database_url), Warehouse(database_url)
    seen_before = second._plain_stored_once(sa.inspect(second.engine))
    assert [t.name for t in seen_before] == [TABLE]
    first.ensure_tables()
    looks = iter([seen_before])  # the second's first look came before the first's commit
    real = second._plain_stored_once
    monkeypatch.setattr(second, "_plain_stored_once", lambda inspector: next(looks, None) or real(inspector))
    second.ensure_tables()
    assert len(second.read(TABLE)) == 4 and _stored(second) == (2, 2)


def test_a_day_pointed_at_another_days_content_shares_it_unless_that_content_changed(database_url):
    """Replacement.same_as (steps/unchanged.py): the day takes the source day's content with no row copied; if the
    source day no longer has the content id the caller saw, the whole transaction fails and nothing is written."""
    from yukuai_pipeline.warehouse.replacement import SameAs
    from yukuai_pipeline.warehouse.stored_once import ContentGone

    warehouse = Warehouse(database_url)
    warehouse.replace([Replacement(TABLE, _summary(DAYS[0], 10), {"snapshot_date": DAYS[0]})])
    content, rows = warehouse.day_content(TABLE, DAYS[0])
    assert rows == 2
    same = SameAs(DAYS[0], content)
    warehouse.replace([Replacement(TABLE, pd.DataFrame(), {"snapshot_date": DAYS[1]}, same_as=same)])
    assert warehouse.day_content(TABLE, DAYS[1]) == (content, 2) and _stored(warehouse) == (2, 2)
    shared = warehouse.read(TABLE, {"snapshot_date": DAYS[1]}).set_index("township")["villages_complete"]
    assert shared.to_dict() == {"龙潭镇": 10, "桃花源街道": 9}

    warehouse.replace([Replacement(TABLE, _summary(DAYS[0], 11), {"snapshot_date": DAYS[0]})])  # source rewritten
    with pytest.raises(ContentGone):
        warehouse.replace(
            [
                Replacement(TABLE, _summary(DAYS[2], 12), {"snapshot_date": DAYS[2]}),
                Replacement(TABLE, pd.DataFrame(), {"snapshot_date": DAYS[1]}, same_as=same),
            ]
        )
    assert warehouse.day_content(TABLE, DAYS[2]) is None  # nothing of the failed transaction stayed
    assert warehouse.day_content(TABLE, DAYS[1]) == (content, 2)  # and the day kept what it had
