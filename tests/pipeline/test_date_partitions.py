"""On PostgreSQL the daily tables are partitioned by month (warehouse/date_partitions.py): a month's partition is made
when its first row is written, an older warehouse's plain tables are rebuilt partitioned with every row kept, and
retention drops (or detaches) whole months (warehouse/retention.py), on SQLite by deleting the same rows."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.warehouse import Replacement, Warehouse, retention

FEB, MAR, APR = dt.date(2023, 2, 27), dt.date(2023, 3, 1), dt.date(2023, 4, 3)


def _counts(day: dt.date, completed: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "snapshot_date": day,
            "township": ["龙潭镇"],
            "village": ["龙潭村"],
            "completed": [completed],
            "pending": [0],
            "rejected": [0],
            "new_approved": [0],
            "source_kind": ["registrations"],
            "source_files": ["用户注册明细.xlsx"],
        }
    )


def _write(warehouse: Warehouse, *days: dt.date) -> None:
    for n, day in enumerate(days):
        warehouse.replace([Replacement("registration_counts", _counts(day, 10 + n), {"snapshot_date": day})])


def _children(warehouse: Warehouse, table: str) -> list[str]:
    query = sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:t) ORDER BY 1"
    )
    with warehouse.engine.connect() as conn:
        return list(conn.execute(query, {"t": table}).scalars())


def _postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("native partitioning is PostgreSQL's; SQLite keeps plain tables")


def test_a_months_partition_is_made_with_its_first_row(database_url):
    _postgresql_only(database_url)
    warehouse = Warehouse(database_url)
    _write(warehouse, FEB, MAR, APR, MAR)
    assert _children(warehouse, "registration_counts") == [
        "registration_counts__p202302",
        "registration_counts__p202303",
        "registration_counts__p202304",
    ]
    assert warehouse.read("registration_counts")["completed"].tolist() == [10, 13, 12]
    # a stored-once table's day map is partitioned too
    warehouse.replace(
        [
            Replacement(
                "roster_township_summary",
                pd.DataFrame(
                    {
                        "snapshot_date": [APR],
                        "township": ["龙潭镇"],
                        "villages_total": [1],
                        "villages_complete": [1],
                        "completeness": [1.0],
                    }
                ),
                {"snapshot_date": APR},
            )
        ]
    )
    assert _children(warehouse, "snapshot_contents") == ["snapshot_contents__p202304"]
    with warehouse.engine.connect() as conn:  # one partition scanned for one month's day
        plan = "\n".join(
            conn.execute(
                sa.text("EXPLAIN SELECT * FROM registration_counts WHERE snapshot_date = :d"), {"d": MAR}
            ).scalars()
        )
    assert "registration_counts__p202303" in plan and "__p202302" not in plan and "__p202304" not in plan


def test_an_older_plain_table_is_rebuilt_partitioned_with_every_row(database_url):
    _postgresql_only(database_url)
    logical = Warehouse(database_url).metadata.tables["registration_counts"]
    plain = sa.Table(logical.name, sa.MetaData(), *(c._copy() for c in logical.columns))
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        plain.create(conn)
        rows = pd.concat([_counts(FEB, 5), _counts(APR, 7)]).assign(county_code="500242")
        conn.execute(plain.insert(), rows.to_dict("records"))
    engine.dispose()
    warehouse = Warehouse(database_url)
    assert warehouse.read("registration_counts")["completed"].tolist() == [5, 7]
    assert _children(warehouse, "registration_counts") == [
        "registration_counts__p202302",
        "registration_counts__p202304",
    ]
    _write(warehouse, MAR)
    assert warehouse.read("registration_counts")["completed"].tolist() == [5, 10, 7]


def test_months_made_ahead_by_the_owner(database_url):
    _postgresql_only(database_url)
    warehouse = Warehouse(database_url)
    made = warehouse.create_months(FEB, APR)
    assert "township_progress" in made and "snapshot_contents" in made
    assert _children(warehouse, "township_progress") == [
        "township_progress__p202302",
        "township_progress__p202303",
        "township_progress__p202304",
    ]
    assert warehouse.create_months(FEB, APR) == made  # made again: nothing changes, nothing fails


def _summary(day: dt.date, complete: int) -> Replacement:
    frame = pd.DataFrame(
        {"snapshot_date": [day], "township": ["龙潭镇"], "villages_total": [12], "villages_complete": [complete]}
    ).assign(completeness=complete / 12)
    return Replacement("roster_township_summary", frame, {"snapshot_date": day})


def test_retention_removes_whole_months_and_contents_no_kept_day_uses(database_url):
    warehouse = Warehouse(database_url)
    _write(warehouse, FEB, MAR, APR)
    warehouse.replace([_summary(FEB, 10), _summary(MAR, 10), _summary(APR, 11)])
    city = Warehouse(database_url, county_code=None)
    assert retention.newest_day(city) == APR
    assert retention.first_kept_month(APR, 2) == dt.date(2023, 3, 1)
    removed = retention.drop_before(city, retention.first_kept_month(APR, 2))
    assert removed == {"registration_counts": ["2023-02"], "snapshot_contents": ["2023-02"]}
    assert city.read("registration_counts")["snapshot_date"].tolist() == [MAR, APR]
    assert city.read("roster_township_summary")["villages_complete"].tolist() == [10, 11]
    assert _content_rows(city) == 2  # February's content is March's too: kept
    retention.drop_before(city, APR)
    assert city.read("roster_township_summary")["villages_complete"].tolist() == [11]
    assert _content_rows(city) == 1
    assert retention.drop_before(city, APR) == {}  # nothing older left
    with pytest.raises(ValueError, match="全市的句柄"):
        retention.drop_before(warehouse, APR)
    with pytest.raises(ValueError, match="至少为 1"):
        retention.first_kept_month(APR, 0)


def test_retention_forgets_the_inputs_versions_no_kept_day_was_computed_from(database_url):
    warehouse = Warehouse(database_url)
    for day, version in ((FEB, "a" * 64), (APR, "b" * 64)):
        run = {"step": "village_targets", "snapshot_date": day, "inputs_version": version, "computed_on": day}
        seen = {"step": "village_targets", "inputs_version": version, "inputs": "{}", "outputs": "[]"}
        seen |= {"outcome": "{}", "recorded_at": dt.datetime(2023, 4, 1)}
        warehouse.replace(
            [
                Replacement(
                    "step_runs", _conformed("step_runs", run), {"step": "village_targets", "snapshot_date": day}
                ),
                Replacement("step_versions", _conformed("step_versions", seen), upsert=True),
            ]
        )
    city = Warehouse(database_url, county_code=None)
    retention.drop_before(city, MAR)
    assert city.read("step_runs")["inputs_version"].tolist() == ["b" * 64]
    assert city.read("step_versions")["inputs_version"].tolist() == ["b" * 64]


def _conformed(table: str, row: dict) -> pd.DataFrame:
    return conform_output(pd.DataFrame([row]), load_contract(table))


def test_a_detached_month_is_kept_as_a_table_of_its_own(database_url):
    _postgresql_only(database_url)
    city = Warehouse(database_url, county_code=None)
    _write(Warehouse(database_url), FEB, MAR)
    assert retention.drop_before(city, MAR, detach=True)["registration_counts"] == ["2023-02"]
    assert city.read("registration_counts")["snapshot_date"].tolist() == [MAR]
    with city.engine.connect() as conn:
        archived = conn.execute(sa.text("SELECT completed FROM registration_counts__p202302")).scalars().all()
    assert archived == [10] and _children(city, "registration_counts") == ["registration_counts__p202303"]


def _content_rows(warehouse: Warehouse) -> int:
    with warehouse.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM roster_township_summary__contents")).scalar() or 0)


def test_the_administrators_commands(database_url, monkeypatch, capsys):
    from yukuai_pipeline.cli import main

    monkeypatch.setenv("YUKUAI_DATABASE_URL", database_url)
    monkeypatch.delenv("YUKUAI_RETENTION_MONTHS", raising=False)
    assert main(["warehouse-partitions", "--from", "2023-02-17", "--through", "2023-03-31"]) == 0
    made = capsys.readouterr().out
    if database_url.startswith("postgresql"):  # the campaign's months, ahead of any run
        assert "2023-02 至 2023-03 每月的分区已就绪" in made
        assert _children(Warehouse(database_url), "village_progress") == [
            "village_progress__p202302",
            "village_progress__p202303",
        ]
    else:
        assert "SQLite 不分区" in made
    _write(Warehouse(database_url), FEB, MAR)
    assert main(["warehouse-retention"]) == 2 and "YUKUAI_RETENTION_MONTHS" in capsys.readouterr().err
    monkeypatch.setenv("YUKUAI_RETENTION_MONTHS", "1")
    assert main(["warehouse-retention"]) == 0
    said = capsys.readouterr().out
    assert "最新数据日期 2023-03-01，保留 2023-03 起的 1 个月" in said and "registration_counts: 2023-02" in said
    assert Warehouse(database_url).read("registration_counts")["snapshot_date"].tolist() == [MAR]
    monkeypatch.setenv("YUKUAI_RETENTION_MONTHS", "一年")
    with pytest.raises(ValueError, match="YUKUAI_RETENTION_MONTHS='一年'"):
        main(["warehouse-retention"])


def test_a_plain_day_map_under_the_stored_once_views_is_rebuilt_and_the_views_made_again(database_url):
    """A PostgreSQL warehouse of the last release: snapshot_contents plain, the views reading it."""
    _postgresql_only(database_url)
    from yukuai_pipeline.warehouse.stored_once import CreateView

    first = Warehouse(database_url)
    first.replace([_summary(FEB, 10), _summary(MAR, 11)])
    with first.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE plain_map AS SELECT * FROM snapshot_contents")
        conn.exec_driver_sql("DROP TABLE snapshot_contents CASCADE")  # the views go with it
        conn.exec_driver_sql("ALTER TABLE plain_map RENAME TO snapshot_contents")
        conn.exec_driver_sql("ALTER TABLE snapshot_contents ADD PRIMARY KEY (county_code, stored_table, snapshot_date)")
        for name in first.stored_once:
            conn.execute(CreateView(first.stored_once[name], first.days_rows(name)))
    first.dispose()
    again = Warehouse(database_url)
    assert again.read("roster_township_summary")["villages_complete"].tolist() == [10, 11]
    assert _children(again, "snapshot_contents") == ["snapshot_contents__p202302", "snapshot_contents__p202303"]
    with again.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM roster_township_summary")).scalar() == 2


def test_a_second_handle_finding_the_rebuild_done_under_the_lock_leaves_it(database_url, monkeypatch):
    _postgresql_only(database_url)
    first = Warehouse(database_url)
    _write(first, FEB)
    second = Warehouse(database_url)
    table = second.metadata.tables["registration_counts"]
    looks = iter([[table]])  # as if it had looked before the first handle's rebuild committed
    real = second._unpartitioned
    monkeypatch.setattr(second, "_unpartitioned", lambda conn: next(looks, None) or real(conn))
    second.ensure_tables()
    assert second.read("registration_counts")["completed"].tolist() == [10]
    assert _children(second, "registration_counts") == ["registration_counts__p202302"]
