"""Every row a county's run writes carries its township's and village's statistical codes (warehouse/area_coding.py):
from the campaign's code list and the registry of the row's day, whether the registry is written in the same
transaction or was stored before; the 合计 and 未匹配 rows keep an empty code (SQLite, and PostgreSQL when given)."""

import datetime as dt

import pandas as pd

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.warehouse import Replacement, Warehouse

DAY = dt.date(2023, 2, 17)
NEXT = dt.date(2023, 2, 18)
# 麻旺镇 of the demo registry under a code the statistics bureau's list does not give it: the list wins
REGISTRY = [
    ("龙潭镇", "龙潭村", "500242101201"),
    ("龙潭镇", "新华村", "500242101202"),
    ("麻旺镇", "麻旺村", "500242199201"),
]


def _registry(day: dt.date) -> pd.DataFrame:
    frame = pd.DataFrame(REGISTRY, columns=["township", "village", "village_code"]).assign(
        snapshot_date=day,
        registry_date=DAY,
        village_full_name=lambda f: f["village"] + "村民委员会",
        resident_population=1000,
        source_file="社区基本信息.xlsx",
    )
    return conform_output(frame, load_contract("community_registry"))


def _counts(day: dt.date) -> pd.DataFrame:
    places = [("龙潭镇", "龙潭村"), ("龙潭镇", "新华村"), ("麻旺镇", "麻旺村"), ("未匹配", "未匹配")]
    frame = pd.DataFrame(places, columns=["township", "village"]).assign(
        snapshot_date=day,
        completed=5,
        pending=0,
        rejected=0,
        new_approved=1,
        source_kind="detail",
        source_files="x.xlsx",
    )
    return conform_output(frame, load_contract("registration_counts"))


def _text(column: pd.Series) -> dict:
    return {k: None if pd.isna(v) else v for k, v in column.items()}


def test_codes_come_from_the_registry_of_the_batch_or_of_the_store_and_the_list(database_url):
    warehouse = Warehouse(database_url)  # 酉阳县's handle: its township_codes.csv is the statistics bureau's list
    warehouse.replace(
        [
            Replacement("community_registry", _registry(DAY), {"snapshot_date": DAY}),
            Replacement("registration_counts", _counts(DAY), {"snapshot_date": DAY}),
        ]
    )
    warehouse.replace([Replacement("community_registry", _registry(NEXT), {"snapshot_date": NEXT})])
    warehouse.replace([Replacement("registration_counts", _counts(NEXT), {"snapshot_date": NEXT})])
    for day in (DAY, NEXT):
        counts = warehouse.read("registration_counts", {"snapshot_date": day}).set_index("village")
        assert _text(counts["township_code"]) == {
            "龙潭村": "500242101",
            "新华村": "500242101",
            "麻旺村": "500242102",
            "未匹配": None,
        }
        assert _text(counts["village_code"]) == {
            "龙潭村": "500242101201",
            "新华村": "500242101202",
            "麻旺村": "500242199201",
            "未匹配": None,
        }
    registry = warehouse.read("community_registry", {"snapshot_date": NEXT})
    assert registry["township_code"].tolist() == ["500242101", "500242101", "500242102"]


def test_a_day_without_a_registry_still_gets_the_listed_township_codes(database_url):
    warehouse = Warehouse(database_url)
    warehouse.replace([Replacement("registration_counts", _counts(DAY), {"snapshot_date": DAY})])
    counts = warehouse.read("registration_counts", {"snapshot_date": DAY}).set_index("village")
    assert _text(counts["township_code"]) == {
        "龙潭村": "500242101",
        "新华村": "500242101",
        "麻旺村": "500242102",
        "未匹配": None,
    }
    assert counts["village_code"].isna().all()


def test_a_warehouse_from_before_the_codes_gains_them_and_keeps_its_rows(database_url):
    """A stored-once table (a view over its contents) written before township_code existed: the column is added to
    the contents, the view made again, the old row read with an empty code and a new write coded."""
    import sqlalchemy as sa

    table = "roster_township_summary"
    summary = pd.DataFrame(
        {"snapshot_date": DAY, "township": ["龙潭镇"], "villages_total": [12], "villages_complete": [10]}
    ).assign(completeness=10 / 12)
    Warehouse(database_url).replace([Replacement(table, summary, {"snapshot_date": DAY})])
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:  # the warehouse as the release before wrote it
        conn.execute(sa.text(f"DROP VIEW {table}"))
        conn.execute(sa.text(f"ALTER TABLE {table}__contents DROP COLUMN township_code"))
    engine.dispose()
    warehouse = Warehouse(database_url)
    old = warehouse.read(table, {"snapshot_date": DAY})
    assert old[["township", "villages_total"]].values.tolist() == [["龙潭镇", 12]] and old["township_code"].isna().all()
    newer = summary.assign(snapshot_date=NEXT, villages_complete=11)  # a content of its own (the old one's id was
    # taken over the columns of its time)
    warehouse.replace([Replacement(table, newer, {"snapshot_date": NEXT})])
    assert warehouse.read(table, {"snapshot_date": NEXT})["township_code"].tolist() == ["500242101"]


def _targets() -> pd.DataFrame:
    frame = pd.DataFrame({"seq": [1, 2], "township": ["龙潭镇", "麻旺镇"]}).assign(
        campaign_id="c",
        township_type="镇",
        resident_population=1000,
        target=120,
        rule_target=120,
        rate_per_10k=1200,
        target_source="通知附件",
    )
    return conform_output(frame, load_contract("township_targets"))


def test_rows_of_no_day_take_the_lists_codes_only(database_url):
    """The campaign's targets are written by a step that does not wait for the registry (on Celery it may run
    first): their codes come from the code list alone, so the same inputs give the same rows in any order."""
    youyang, other = Warehouse(database_url), Warehouse(database_url, county_code="509901")
    other_registry = _registry(DAY).assign(village_code=["509901101201", "509901101202", "509901102201"])
    other.replace([Replacement("community_registry", other_registry, {"snapshot_date": DAY})])
    for handle in (youyang, other):
        handle.replace([Replacement("township_targets", _targets(), {"campaign_id": "c"})])
    assert _text(youyang.read("township_targets").set_index("township")["township_code"]) == {
        "龙潭镇": "500242101",
        "麻旺镇": "500242102",
    }
    # 509901 has no code list (the campaign in use is 酉阳县's): its targets carry no code, its daily rows do
    assert other.read("township_targets")["township_code"].isna().all()
    other.replace([Replacement("registration_counts", _counts(DAY), {"snapshot_date": DAY})])
    counts = other.read("registration_counts", {"snapshot_date": DAY}).set_index("village")
    assert counts.loc["龙潭村", "township_code"] == "509901101"


def test_a_frame_of_two_days_takes_each_days_registry(database_url):
    """Rows of two days written in one replacement: each day's villages coded from that day's registry (the
    second day's registry files 龙潭村 under another code), in the frame's own row order."""
    warehouse = Warehouse(database_url)
    moved = _registry(NEXT).assign(village_code=["500242101299", "500242101202", "500242102201"])
    warehouse.replace(
        [
            Replacement("community_registry", _registry(DAY), {"snapshot_date": DAY}),
            Replacement("community_registry", moved, {"snapshot_date": NEXT}),
        ]
    )
    both = pd.concat([_counts(DAY), _counts(NEXT)], ignore_index=True)
    warehouse.replace([Replacement("registration_counts", both, {})])
    rows = warehouse.read("registration_counts").set_index(["snapshot_date", "village"])["village_code"]
    assert rows[(DAY, "龙潭村")] == "500242101201" and rows[(NEXT, "龙潭村")] == "500242101299"
