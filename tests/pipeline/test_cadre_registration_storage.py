"""cadre_registration is stored as ranges (warehouse/stored_as_ranges.py): a person whose answers did not change is
one row with the first and last day, the day's data dates come from each day's entry, readers see every day's rows
as before, and a rerun or emptied day leaves nothing behind (SQLite, and PostgreSQL when the URL is given)."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.warehouse import Replacement, Warehouse

TABLE = "cadre_registration"
DAYS = [dt.date(2023, 2, 17), dt.date(2023, 2, 18), dt.date(2023, 2, 19)]
PEOPLE = [("龙潭镇", "龙潭村", "p1", "张三"), ("龙潭镇", "龙潭村", "p2", "李四"), ("龙潭镇", "新华村", "p3", "王五")]


def _day(day: dt.date, registered: set[str], export_date: dt.date | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(PEOPLE, columns=["township", "village", "person_key", "name"]).assign(
        snapshot_date=day,
        role_groups="committee",
        has_token=True,
        export_date=export_date or day,
        roster_date=DAYS[0],
        referred_users=0,
        referred_approved=0,
    )
    frame["registered"] = frame["approved"] = frame["person_key"].isin(registered)
    return conform_output(frame.iloc[::-1], load_contract(TABLE))  # written out of order on purpose


def _stored(warehouse: Warehouse) -> tuple[int, int]:
    """(ranges, day entries)."""
    with warehouse.engine.connect() as conn:
        ranges = conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}__ranges")).scalar()
        entries = conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}__days")).scalar()
    return int(ranges or 0), int(entries or 0)


def test_a_person_who_did_not_change_is_stored_once_and_each_day_keeps_its_own_dates(database_url):
    warehouse = Warehouse(database_url)
    # 龙潭村 changes on the second day (李四 registers), 新华村 never does
    for day, registered in zip(DAYS, [{"p1"}, {"p1", "p2"}, {"p1", "p2"}]):
        warehouse.replace([Replacement(TABLE, _day(day, registered), {"snapshot_date": day})])
    # p1 and p3 one range each over the three days, p2 two (before and after registering); one entry a day
    assert _stored(warehouse) == (4, 3)
    rows = warehouse.read(TABLE)
    assert rows[["snapshot_date", "village", "person_key", "registered", "export_date"]].values.tolist() == [
        [DAYS[0], "新华村", "p3", False, DAYS[0]],
        [DAYS[0], "龙潭村", "p1", True, DAYS[0]],
        [DAYS[0], "龙潭村", "p2", False, DAYS[0]],
        [DAYS[1], "新华村", "p3", False, DAYS[1]],
        [DAYS[1], "龙潭村", "p1", True, DAYS[1]],
        [DAYS[1], "龙潭村", "p2", True, DAYS[1]],
        [DAYS[2], "新华村", "p3", False, DAYS[2]],
        [DAYS[2], "龙潭村", "p1", True, DAYS[2]],
        [DAYS[2], "龙潭村", "p2", True, DAYS[2]],
    ]
    assert set(rows["roster_date"]) == {DAYS[0]}
    # the SQL view gives BI users the same rows
    with warehouse.engine.connect() as conn:
        viewed = conn.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE registered")).scalar()
    assert viewed == 5


def test_a_rerun_day_joins_its_ranges_and_an_emptied_day_leaves_nothing(database_url):
    warehouse = Warehouse(database_url)
    warehouse.replace([Replacement(TABLE, _day(DAYS[0], {"p1"}), {"snapshot_date": DAYS[0]})])
    warehouse.replace([Replacement(TABLE, _day(DAYS[1], {"p1", "p2"}), {"snapshot_date": DAYS[1]})])
    assert _stored(warehouse) == (4, 2)
    # the second day rerun with the first day's answers: p2's second range is gone, its first takes the day
    warehouse.replace([Replacement(TABLE, _day(DAYS[1], {"p1"}), {"snapshot_date": DAYS[1]})])
    assert _stored(warehouse) == (3, 2)
    assert warehouse.read(TABLE, {"snapshot_date": DAYS[1]})["registered"].tolist() == [False, True, False]
    warehouse.replace([Replacement(TABLE, _day(DAYS[1], set()).iloc[0:0], {"snapshot_date": DAYS[1]})])
    assert warehouse.read(TABLE, {"snapshot_date": DAYS[1]}).empty and _stored(warehouse) == (3, 1)
    warehouse.replace([Replacement(TABLE, _day(DAYS[0], set()).iloc[0:0], {"snapshot_date": DAYS[0]})])
    assert _stored(warehouse) == (0, 0)


def test_counties_never_share_a_row(database_url):
    for county in ("500242", "509901"):
        Warehouse(database_url, county_code=county).replace(
            [Replacement(TABLE, _day(DAYS[0], {"p1"}), {"snapshot_date": DAYS[0]})]
        )
    Warehouse(database_url, county_code="509901").replace(
        [Replacement(TABLE, _day(DAYS[0], set()), {"snapshot_date": DAYS[0]})]
    )
    mine = Warehouse(database_url, county_code="500242").read(TABLE)
    assert mine["registered"].tolist() == [False, True, False]
    city = Warehouse(database_url, county_code=None)
    assert city.read(TABLE)["registered"].tolist() == [False, True, False, False, False, False]


def test_a_row_whose_data_date_is_not_the_days_keeps_its_own(database_url):
    warehouse = Warehouse(database_url)
    warehouse.replace([Replacement(TABLE, _day(DAYS[0], {"p1"}), {"snapshot_date": DAYS[0]})])
    mixed = _day(DAYS[1], {"p1"})
    mixed.loc[mixed["person_key"] == "p1", "export_date"] = DAYS[0]
    warehouse.replace([Replacement(TABLE, mixed, {"snapshot_date": DAYS[1]})])
    second = warehouse.read(TABLE, {"snapshot_date": DAYS[1]}).set_index("person_key")["export_date"]
    assert second.to_dict() == {"p1": DAYS[0], "p2": DAYS[1], "p3": DAYS[1]}  # the day's date is the most common
    # p1's row names its date itself, so it is a range of its own; p2 and p3 go on from the first day
    assert _stored(warehouse) == (4, 2)


def test_a_write_of_part_of_a_day_is_refused_and_nothing_is_written(database_url):
    warehouse = Warehouse(database_url)
    warehouse.replace([Replacement(TABLE, _day(DAYS[0], {"p1"}), {"snapshot_date": DAYS[0]})])
    other = _day(DAYS[1], {"p1"})
    with pytest.raises(ValueError, match=r"cadre_registration.*没有日期"):
        warehouse.replace([Replacement(TABLE, other, {"snapshot_date": DAYS[0]})])
    assert _stored(warehouse) == (3, 1)  # the transaction rolled back: the first day as it was


def test_an_older_plain_table_is_converted_row_for_row(database_url):
    logical = Warehouse(database_url).stored_once[TABLE]
    plain = sa.Table(TABLE, sa.MetaData(), *(sa.Column(c.name, c.type, nullable=c.nullable) for c in logical.c))
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        plain.create(conn)
        for day, registered in zip(DAYS, [{"p1"}, {"p1"}, {"p2"}]):
            rows = _day(day, registered, export_date=DAYS[0]).assign(county_code="500242")
            conn.execute(plain.insert(), rows.to_dict("records"))
    engine.dispose()
    warehouse = Warehouse(database_url)
    rows = warehouse.read(TABLE)
    assert len(rows) == 9 and set(rows["export_date"]) == {DAYS[0]}
    assert rows.groupby("snapshot_date")["registered"].sum().tolist() == [1, 1, 1]
    assert _stored(warehouse) == (5, 3)  # p3 once; p1 and p2 as on the first two days, and as on the third


def test_a_warehouse_stored_per_village_is_converted_row_for_row(database_url):
    """An older release kept cadre_registration per village: a view over `__contents` and `__days`. Opened now, the
    view's rows are stored as ranges, the old tables are gone, and every day reads as before."""
    logical = Warehouse(database_url).stored_once[TABLE]
    older = sa.Table(
        f"{TABLE}__contents", sa.MetaData(), *(sa.Column(c.name, c.type, nullable=c.nullable) for c in logical.c)
    )
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        older.create(conn)
        conn.execute(sa.text(f"CREATE TABLE {TABLE}__days (county_code TEXT, content_id TEXT)"))
        for day, registered in zip(DAYS, [{"p1"}, {"p1"}, {"p2"}]):
            conn.execute(older.insert(), _coded(day, registered).assign(county_code="500242").to_dict("records"))
        columns = ", ".join(c.name for c in logical.c)
        conn.execute(sa.text(f"CREATE VIEW {TABLE} AS SELECT {columns} FROM {TABLE}__contents"))
    engine.dispose()
    warehouse = Warehouse(database_url)
    rows = warehouse.read(TABLE)
    assert len(rows) == 9 and rows.groupby("snapshot_date")["registered"].sum().tolist() == [1, 1, 1]
    assert rows["export_date"].tolist() == [d for d in DAYS for _ in range(3)]
    assert _stored(warehouse) == (5, 3)
    assert f"{TABLE}__contents" not in sa.inspect(warehouse.engine).get_table_names()
    # and the pipeline writes on: the third day written again is the same ranges
    warehouse.replace([Replacement(TABLE, _coded(DAYS[2], {"p2"}), {"snapshot_date": DAYS[2]})])
    assert _stored(warehouse) == (5, 3)


def _coded(day: dt.date, registered: set[str]) -> pd.DataFrame:
    """A day's rows with their statistical codes, as the pipeline stores them."""
    return _day(day, registered).assign(township_code="500242104", village_code="500242104001")
