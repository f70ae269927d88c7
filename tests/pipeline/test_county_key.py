"""Every table is keyed by county first: two counties' townships of the same name never merge, a county's handle
can neither read nor replace another county's rows, and a warehouse written before the county key is rebuilt in
place with its rows as 酉阳县 (500242)."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.warehouse import Replacement, Warehouse

DAY = dt.date(2023, 2, 17)
YOUYANG, OTHER = "500242", "509901"


def _progress(completed: int, township: str = "龙潭镇") -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "snapshot_date": [DAY],
            "township": [township],
            "target": [9698],
            "completed": [completed],
            "pending": [0],
            "rejected": [0],
            "gap": [9698 - completed],
            "surplus": [0],
        }
    )
    return conform_output(frame, load_contract("township_progress"))


def _write(warehouse: Warehouse, frame: pd.DataFrame) -> None:
    warehouse.replace([Replacement("township_progress", frame, {"snapshot_date": DAY})])


def test_the_same_township_name_in_two_counties_never_merges(database_url):
    youyang, other = Warehouse(database_url, county_code=YOUYANG), Warehouse(database_url, county_code=OTHER)
    _write(youyang, _progress(1427))
    _write(other, _progress(35))
    _write(other, _progress(36))  # the other county re-runs its day: only its own row is replaced
    assert youyang.read("township_progress")[["county_code", "completed"]].values.tolist() == [[YOUYANG, 1427]]
    assert other.read("township_progress")[["county_code", "completed"]].values.tolist() == [[OTHER, 36]]
    city = Warehouse(database_url, county_code=None).read("township_progress", order_by=["county_code"])
    assert city[["county_code", "township", "completed"]].values.tolist() == [
        [YOUYANG, "龙潭镇", 1427],
        [OTHER, "龙潭镇", 36],
    ]
    assert youyang.newest_date("township_progress") == DAY
    assert Warehouse(database_url, county_code="500243").newest_date("township_progress") is None


def test_a_county_handle_refuses_rows_of_another_county_and_the_city_handle_needs_the_county(database_url):
    youyang = Warehouse(database_url, county_code=YOUYANG)
    with pytest.raises(ValueError, match="509901"):
        _write(youyang, _progress(1).assign(county_code=OTHER))
    with pytest.raises(ValueError, match="区县代码"):
        _write(Warehouse(database_url, county_code=None), _progress(1))
    with pytest.raises(ValueError, match="6 位数字"):
        Warehouse(database_url, county_code="酉阳")
    assert youyang.read("township_progress").empty  # nothing half-written


def _old_form(warehouse: Warehouse) -> sa.MetaData:
    """The tables as they were before the county key: no county_code, keys and indexes without it, and the
    stored-once tables still plain daily tables (no contents tables, no snapshot_contents yet)."""
    old = sa.MetaData()
    plain = [t for t in warehouse.metadata.sorted_tables if t.name != "snapshot_contents" and "__" not in t.name]
    for table in [*plain, *warehouse.stored_once.values()]:
        columns = [c._copy() for c in table.columns if c.name != "county_code"]
        for column in columns:
            column.primary_key = False
        keys = [c.name for c in table.primary_key.columns if c.name != "county_code"]
        constraints = [sa.PrimaryKeyConstraint(*keys)] if keys else []
        new = sa.Table(table.name, old, *columns, *constraints)
        if not keys and "snapshot_date" in new.c:
            sa.Index(f"ix_{table.name}_snapshot_date", new.c.snapshot_date)
    return old


def test_a_warehouse_from_before_the_county_key_keeps_every_row_as_youyang(database_url):
    probe = Warehouse(database_url, county_code=YOUYANG)
    old = _old_form(probe)
    old.create_all(probe.engine)
    with probe.engine.begin() as conn:
        row = _progress(1427).astype("object")
        conn.execute(old.tables["township_progress"].insert(), row.where(row.notna(), None).to_dict("records"))
        conn.execute(
            old.tables["data_quality_issues"].insert(),
            [
                {
                    "snapshot_date": DAY,
                    "stage": "registrations",
                    "check": "invalid_row",
                    "severity": "WARN",
                    "message": "m",
                    "quarantined": False,
                }
            ]
            * 2,
        )
        conn.execute(
            old.tables["roster_township_summary"].insert(),
            [{"snapshot_date": DAY, "township": "龙潭镇", "villages_total": 12, "villages_complete": 10}],
        )
    probe.dispose()

    other = Warehouse(database_url, county_code=OTHER)  # whoever opens it first, the old rows were Youyang's
    other.ensure_tables()
    keys = sa.inspect(other.engine).get_pk_constraint("township_progress")["constrained_columns"]
    assert keys == ["county_code", "snapshot_date", "township"]
    city = Warehouse(database_url, county_code=None)
    assert city.read("township_progress")[["county_code", "completed"]].values.tolist() == [[YOUYANG, 1427]]
    youyang = Warehouse(database_url, county_code=YOUYANG)
    assert youyang.read("township_progress")[["township", "completed"]].values.tolist() == [["龙潭镇", 1427]]
    assert youyang.read("data_quality_issues")["county_code"].tolist() == [YOUYANG, YOUYANG]
    # a stored-once table gains the county key first, then is stored once: the row is Youyang's, read by day
    summary = city.read("roster_township_summary")
    assert summary[["county_code", "snapshot_date", "villages_complete"]].values.tolist() == [[YOUYANG, DAY, 10]]
    assert other.read("township_progress").empty
    _write(other, _progress(35))  # the new key takes the other county's 龙潭镇 beside Youyang's
    assert len(city.read("township_progress")) == 2
    Warehouse(database_url, county_code=YOUYANG).ensure_tables()  # a second opening changes nothing
    assert len(city.read("township_progress")) == 2
