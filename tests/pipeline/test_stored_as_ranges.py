"""data_quality_issues is stored as ranges (warehouse/stored_as_ranges.py): an issue seen on many days is one row
with its first and last day, the day's file name is kept with the day, and every day reads exactly the rows written
for it — whatever order days are written, rewritten or emptied in, across months and through retention (SQLite, and
PostgreSQL when YUKUAI_TEST_POSTGRES_URL is set)."""

import datetime as dt
import itertools
import random
from collections import Counter

import pandas as pd
import pytest
import sqlalchemy as sa

from yukuai_pipeline.warehouse import Replacement, Warehouse, retention

TABLE = "data_quality_issues"
FEB = [dt.date(2023, 2, d) for d in range(17, 27)]


def _export(day: dt.date) -> str:
    return f"渝快社区注册用户_{day:%Y%m%d}.csv"


def _issue(day: dt.date, village: str, row: int, stage: str = "registration_counts", **more) -> dict:
    return {
        "snapshot_date": day,
        "stage": stage,
        "source_file": _export(day),
        "check": "unknown_village",
        "check_label": "村（社区）找不到",
        "severity": "WARN",
        "township": "钟多街道",
        "village": village,
        "row_number": row,
        "field": "village",
        "value_masked": village,
        "message": f"钟多街道的村（社区）“{village}”在社区基本信息中找不到，1 行计入“未匹配”",
        "quarantined": False,
        **more,
    }


def _write(warehouse: Warehouse, day: dt.date, rows: list[dict], stage: str = "registration_counts", **narrower):
    frame = pd.DataFrame(rows, columns=list(_issue(day, "", 0)))
    warehouse.replace([Replacement(TABLE, frame, {"snapshot_date": day, "stage": stage, **narrower})])


def _ranges(warehouse: Warehouse) -> pd.DataFrame:
    ranges = warehouse.table(f"{TABLE}__ranges")
    with warehouse.engine.connect() as conn:
        found = conn.execute(sa.select(ranges).order_by(ranges.c.first_seen, ranges.c.row_number))
        return pd.DataFrame(found.fetchall(), columns=list(found.keys()))


def test_an_issue_seen_on_many_days_is_one_range_read_with_each_days_file(database_url):
    warehouse = Warehouse(database_url)
    roster = {"stage": "registration_counts", "source_file": "基层队伍信息_2023-02-17.xlsx", "check": "roster_note"}
    for i, day in enumerate(FEB):
        # the export grows: a new unmatched village on day 4; the roster's note names its own file every day
        rows = [_issue(day, "堰明社区", 29788), _issue(day, "桃木村", 29799), _issue(day, "桃木村", 29799)]
        rows += [_issue(day, "槽银社区", 29813)] if i >= 3 else []
        rows += [_issue(day, "兴坪村", 12, **roster)]
        _write(warehouse, day, rows)
    stored = _ranges(warehouse)
    # 50 rows over ten days are five ranges: the duplicate row is kept as its own range, not folded away
    assert len(stored) == 5
    assert sorted(Counter(zip(stored["village"], stored["first_seen"], stored["last_seen"])).items()) == [
        (("兴坪村", FEB[0], FEB[-1]), 1),
        (("堰明社区", FEB[0], FEB[-1]), 1),
        (("桃木村", FEB[0], FEB[-1]), 2),
        (("槽银社区", FEB[3], FEB[-1]), 1),
    ]
    assert stored["source_file_from_day"].astype(bool).tolist().count(False) == 1  # only the roster's own file
    day = warehouse.read(TABLE, {"snapshot_date": FEB[5]})
    assert len(day) == 5 and set(day["snapshot_date"]) == {FEB[5]}
    assert Counter(day["source_file"]) == {_export(FEB[5]): 4, "基层队伍信息_2023-02-17.xlsx": 1}
    # read in the contract's order: the file, then the row number
    assert day[day["source_file"] == _export(FEB[5])]["row_number"].tolist() == [29788, 29799, 29799, 29813]
    assert len(warehouse.read(TABLE)) == 10 * 4 + 7


def test_rewriting_a_day_cuts_and_joins_ranges(database_url):
    warehouse = Warehouse(database_url)
    for day in FEB[:5]:
        _write(warehouse, day, [_issue(day, "堰明社区", 29788)])
    _write(warehouse, FEB[2], [])  # the middle day rerun without the issue: two ranges either side
    assert sorted(zip(_ranges(warehouse)["first_seen"], _ranges(warehouse)["last_seen"])) == [
        (FEB[0], FEB[1]),
        (FEB[3], FEB[4]),
    ]
    assert warehouse.read(TABLE, {"snapshot_date": FEB[2]}).empty
    _write(warehouse, FEB[2], [_issue(FEB[2], "堰明社区", 29788)])  # and back: one range again
    assert list(zip(_ranges(warehouse)["first_seen"], _ranges(warehouse)["last_seen"])) == [(FEB[0], FEB[4])]
    # another stage's write of the same day leaves this stage's rows alone
    _write(warehouse, FEB[2], [_issue(FEB[2], "白梨村", 5, stage="roster_completeness")], stage="roster_completeness")
    assert sorted(warehouse.read(TABLE, {"snapshot_date": FEB[2]})["stage"]) == [
        "registration_counts",
        "roster_completeness",
    ]


def test_a_narrower_write_replaces_only_its_rows_and_keeps_the_days_file(database_url):
    warehouse = Warehouse(database_url)
    day = FEB[0]
    _write(warehouse, day, [_issue(day, "堰明社区", 29788)])
    refused = _issue(day, "", 0, check="file_unusable", severity="ERROR", message="文件无法读取", quarantined=True)
    _write(warehouse, day, [refused], check="file_unusable")
    _write(warehouse, day, [refused], check="file_unusable")  # twice: still one
    read = warehouse.read(TABLE, {"snapshot_date": day})
    assert sorted(read["check"]) == ["file_unusable", "unknown_village"]
    assert set(read["source_file"]) == {_export(day)}


def test_a_write_outside_its_day_or_scope_is_refused_and_nothing_changes(database_url):
    warehouse = Warehouse(database_url)
    _write(warehouse, FEB[0], [_issue(FEB[0], "堰明社区", 29788)])
    frame = pd.DataFrame([_issue(FEB[0], "桃木村", 29799)])
    with pytest.raises(ValueError, match="没有给出 stage"):
        warehouse.replace([Replacement(TABLE, frame, {"snapshot_date": FEB[0]})])
    with pytest.raises(ValueError, match="第 1 行的 stage 不是 roster_completeness"):
        warehouse.replace([Replacement(TABLE, frame, {"snapshot_date": FEB[0], "stage": "roster_completeness"})])
    assert warehouse.read(TABLE)["village"].tolist() == ["堰明社区"]


def test_ranges_do_not_cross_a_month_and_retention_drops_whole_months(database_url):
    warehouse = Warehouse(database_url)
    days = [dt.date(2023, 1, 30), dt.date(2023, 1, 31), dt.date(2023, 2, 1), dt.date(2023, 2, 2)]
    for day in days:
        _write(warehouse, day, [_issue(day, "堰明社区", 29788)])
    assert list(zip(_ranges(warehouse)["first_seen"], _ranges(warehouse)["last_seen"])) == [
        (days[0], days[1]),
        (days[2], days[3]),
    ]
    retention.drop_before(Warehouse(database_url, county_code=None), dt.date(2023, 2, 1))
    assert sorted(set(warehouse.read(TABLE)["snapshot_date"])) == days[2:]
    assert len(_ranges(warehouse)) == 1


def test_any_order_of_writes_reads_back_as_written(database_url):
    """Random writes (a fixed seed) of days across a month's end, two stages, repeated and duplicate rows, reruns and
    empty days: after each, every day reads exactly the rows last written for it, and the ranges of one row never
    overlap."""
    warehouse = Warehouse(database_url)
    chance = random.Random(20230217)
    days = [dt.date(2023, 1, 27) + dt.timedelta(days=i) for i in range(10)]
    pool = [("堰明社区", 1), ("桃木村", 2), ("槽银社区", 3), ("兴坪村", 4)]
    model: dict[tuple, Counter] = {}
    for _ in range(40):
        day, stage = chance.choice(days), chance.choice(["registration_counts", "roster_completeness"])
        rows = [_issue(day, *chance.choice(pool), stage=stage) for _ in range(chance.randint(0, 4))]
        _write(warehouse, day, rows, stage=stage)
        model[(day, stage)] = Counter((r["village"], r["source_file"]) for r in rows)
        read = warehouse.read(TABLE)
        for (d, s), expected in model.items():
            mine = read[(read["snapshot_date"] == d) & (read["stage"] == s)]
            assert Counter(zip(mine["village"], mine["source_file"])) == expected, (d, s)
    stored = _ranges(warehouse)
    assert (stored["first_seen"].map(lambda d: d.replace(day=1)) == stored["seen_month"]).all()
    assert (stored["last_seen"].map(lambda d: d.replace(day=1)) == stored["seen_month"]).all()
    for _, same in stored.groupby("row_id"):
        spans = sorted(zip(same["first_seen"], same["last_seen"]))
        # apart, and not next to each other within a month (those are joined)
        for left, right in itertools.pairwise(spans):
            assert left[1] + dt.timedelta(days=1) < right[0] or left[1].month != right[0].month
