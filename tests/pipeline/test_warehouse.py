"""Bulk inserts (COPY on PostgreSQL, one executemany on SQLite) store what table.insert() stored, and a failure
anywhere in a replace leaves every table as it was."""

import datetime as dt
import sqlite3

import pandas as pd
import psycopg
import pytest

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.warehouse import Replacement, Warehouse

DAY = dt.date(2023, 2, 17)


def _counts(day: dt.date, completed: list, township: str | None = "龙潭镇") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "snapshot_date": day,
            "township": township,
            "village": [f"村{i}" for i in range(len(completed))],
            "completed": completed,
            "pending": 0,
            "rejected": 0,
            "new_approved": 0,
            "source_kind": "registrations",
            "source_files": "渝快社区注册用户_20230217.csv",
        }
    )


def test_bulk_insert_round_trips_dates_missing_values_and_floats(database_url):
    warehouse = Warehouse(database_url)
    progress = pd.DataFrame(
        {
            "snapshot_date": [DAY, DAY],
            "seq": [1, None],
            "township": ["龙潭镇", "合计"],
            "resident_population": [80817, None],
            "target": [9698, 9698],
            "completed": [1427, 1427],
            "pending": [3, 3],
            "rejected": [0, 0],
            "gap": [8271, 8271],
            "surplus": [0, 0],
            "completion_rate": [0.1471, None],
            "users_per_10k": [176.57, None],
            "rank": [1, None],
            "new_7d_avg": [None, 2.5],
            "required_daily": [32.2, 32.2],
            "projected_date": [dt.date(2023, 10, 31), None],
            "status": ["滞后", None],
            "data_date": [DAY, DAY],
        }
    )
    progress = conform_output(progress.astype({"seq": "Int64", "rank": "Int64"}), load_contract("township_progress"))
    warehouse.replace([Replacement("township_progress", progress, {"snapshot_date": DAY})])
    back = warehouse.read("township_progress", order_by=["township"]).set_index("township")
    assert back.loc["龙潭镇", "projected_date"] == dt.date(2023, 10, 31) and back.loc["龙潭镇", "snapshot_date"] == DAY
    assert back.loc["龙潭镇", "completion_rate"] == 0.1471 and back.loc["合计", "new_7d_avg"] == 2.5
    assert pd.isna(back.loc["合计", "seq"]) and pd.isna(back.loc["合计", "projected_date"])
    assert pd.isna(back.loc["合计", "status"]) and back.loc["龙潭镇", "resident_population"] == 80817  # a float column
    warehouse.dispose()


def test_a_failing_replace_leaves_the_previous_rows(database_url):
    warehouse = Warehouse(database_url)
    warehouse.replace([Replacement("registration_counts", _counts(DAY, [5, 7]), {"snapshot_date": DAY})])
    # the driver's own NOT NULL error: the bulk insert runs on the DB-API cursor (executemany, COPY)
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.IntegrityError)):
        warehouse.replace(
            [
                Replacement("registration_counts", _counts(DAY, [9, 9, 9]), {"snapshot_date": DAY}),
                Replacement(
                    "registration_counts",
                    _counts(DAY + dt.timedelta(days=1), [1], township=None),
                    {"snapshot_date": DAY + dt.timedelta(days=1)},
                ),  # township is NOT NULL: the insert fails
            ]
        )
    kept = warehouse.read("registration_counts", order_by=["village"])
    assert kept["completed"].tolist() == [5, 7] and kept["snapshot_date"].tolist() == [DAY, DAY]
    warehouse.dispose()


def test_an_older_warehouse_gains_a_contracts_new_nullable_columns_and_keeps_its_rows(database_url):
    """ingest_log as it was before name_date, title_line and the county key: the columns are added, the rows kept
    (as 酉阳县's, the only county of that time)."""
    import sqlalchemy as sa

    warehouse = Warehouse(database_url)
    old = sa.MetaData()
    gone = ("name_date", "title_line", "county_code")
    columns = [c._copy() for c in warehouse.table("ingest_log").columns if c.name not in gone]
    for column in columns:
        column.primary_key = False
    sa.Table("ingest_log", old, *columns, sa.PrimaryKeyConstraint("file_name", "sha256"))
    old.create_all(warehouse.engine)
    with warehouse.engine.begin() as conn:
        conn.execute(
            old.tables["ingest_log"].insert(),
            [
                {
                    "file_name": "注册用户_20230217.csv",
                    "sha256": "ab" * 32,
                    "kind": "registrations",
                    "snapshot_date": DAY,
                    "status": "accepted",
                    "ingested_at": dt.datetime(2023, 2, 18, 8, 0),
                }
            ],
        )
    warehouse.ensure_tables()
    log = Warehouse(database_url).read("ingest_log")
    assert log[["county_code", "file_name", "status"]].values.tolist() == [
        ["500242", "注册用户_20230217.csv", "accepted"]
    ]
    assert {"name_date", "title_line"} <= set(log.columns) and log["title_line"].isna().all()
