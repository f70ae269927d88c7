"""cadre_registration is stored once per village and day (warehouse/stored_by_unit.py): a village whose people's
answers did not change shares one copy across days, the day's data dates come from each day's entry, readers see
every day's rows as before, and content no day uses is deleted (SQLite, and PostgreSQL when the URL is given)."""

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


def _stored(warehouse: Warehouse) -> tuple[int, int, int]:
    """(content rows, distinct contents, day entries)."""
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}__contents")).scalar()
        contents = conn.execute(sa.text(f"SELECT count(DISTINCT content_id) FROM {TABLE}__contents")).scalar()
        entries = conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}__days")).scalar()
    return int(rows or 0), int(contents or 0), int(entries or 0)


def test_a_village_that_did_not_change_is_stored_once_and_each_day_keeps_its_own_dates(database_url):
    warehouse = Warehouse(database_url)
    # 龙潭村 changes on the second day (李四 registers), 新华村 never does
    for day, registered in zip(DAYS, [{"p1"}, {"p1", "p2"}, {"p1", "p2"}]):
        warehouse.replace([Replacement(TABLE, _day(day, registered), {"snapshot_date": day})])
    # 龙潭村 twice (2 rows each), 新华村 once (1 row); 3 days × 2 villages of entries
    assert _stored(warehouse) == (5, 3, 6)
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


def test_content_no_day_uses_is_deleted_and_an_emptied_day_leaves_nothing(database_url):
    warehouse = Warehouse(database_url)
    warehouse.replace([Replacement(TABLE, _day(DAYS[0], {"p1"}), {"snapshot_date": DAYS[0]})])
    warehouse.replace([Replacement(TABLE, _day(DAYS[1], {"p1", "p2"}), {"snapshot_date": DAYS[1]})])
    assert _stored(warehouse) == (5, 3, 4)
    # the second day rerun with the first day's answers: its 龙潭村 content is no day's any more
    warehouse.replace([Replacement(TABLE, _day(DAYS[1], {"p1"}), {"snapshot_date": DAYS[1]})])
    assert _stored(warehouse) == (3, 2, 4)
    warehouse.replace([Replacement(TABLE, _day(DAYS[1], set()).iloc[0:0], {"snapshot_date": DAYS[1]})])
    assert warehouse.read(TABLE, {"snapshot_date": DAYS[1]}).empty and _stored(warehouse) == (3, 2, 2)
    warehouse.replace([Replacement(TABLE, _day(DAYS[0], set()).iloc[0:0], {"snapshot_date": DAYS[0]})])
    assert _stored(warehouse) == (0, 0, 0)


def test_counties_never_share_a_villages_content(database_url):
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


def test_a_day_column_that_differs_within_a_village_is_refused_and_nothing_is_written(database_url):
    warehouse = Warehouse(database_url)
    warehouse.replace([Replacement(TABLE, _day(DAYS[0], {"p1"}), {"snapshot_date": DAYS[0]})])
    mixed = _day(DAYS[1], {"p1"})
    mixed.loc[mixed["person_key"] == "p1", "export_date"] = DAYS[0]
    with pytest.raises(ValueError, match=r"cadre_registration.*龙潭村.*export_date"):
        warehouse.replace([Replacement(TABLE, mixed, {"snapshot_date": DAYS[1]})])
    assert _stored(warehouse) == (3, 2, 2)  # the transaction rolled back: the first day as it was
    assert warehouse.read(TABLE, {"snapshot_date": DAYS[1]}).empty


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
    assert _stored(warehouse) == (5, 3, 6)  # 新华村 once; 龙潭村 as on the first two days, and as on the third
