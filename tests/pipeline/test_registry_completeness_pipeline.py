"""社区基本信息 scored on the demo's first day: a row for every registry village, the faults the demo plants in its
registry export (read back from the file here, not from the demo's code) named with their reasons, the WARN check
registry_complete failing and naming them, and the per-township summary adding up."""

import datetime as dt
import re

import openpyxl
import pandas as pd

from support.runner import check_evaluation

DAY, D1 = "2023-02-17", dt.date(2023, 2, 17)
SHORT = re.compile(r"(村民|居民)委员会$")
WELL_FORMED = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")


def planted(landing) -> dict[str, set[str]]:
    """short village name -> the fields of its registry row that are missing or wrong, by reading the export."""
    rows = list(openpyxl.load_workbook(landing / "社区基本信息_2023-02-17.xlsx").active.iter_rows(values_only=True))
    header = list(rows[2])
    found: dict[str, set[str]] = {}
    for row in rows[3:]:
        if row[0] == "合计" or not isinstance(row[0], int):
            continue
        cell = dict(zip(header, row))
        population = int(str(cell["常住人口（人）"]).replace(",", ""))
        wrong = set()
        if not cell["办公地址"]:
            wrong.add("办公地址")
        if not cell["负责人"]:
            wrong.add("负责人")
        if not cell["联系电话"] or not WELL_FORMED.fullmatch(str(cell["联系电话"])):
            wrong.add("联系电话")
        if int(cell["户数"]) > population:
            wrong.add("户数")
        if wrong:
            found[SHORT.sub("", cell["村（社区）名称"])] = wrong
    return found


def test_the_demo_registry_is_scored_and_its_planted_faults_named(runner, landing):
    result = runner.run(DAY)
    assert result.success
    registry = runner.table("community_registry", snapshot_date=D1)
    table = runner.table("registry_completeness", snapshot_date=D1)
    assert len(table) == len(registry) and set(table["village_code"]) == set(registry["village_code"])
    assert table.columns[0] == "county_code" and (table["county_code"] == "500242").all()

    faults = planted(landing)
    assert {f for fs in faults.values() for f in fs} == {"办公地址", "负责人", "联系电话", "户数"}
    assert 5 <= len(faults) <= 10
    broken = table[table["missing"].notna()].set_index("village")
    assert set(broken.index) == set(faults)
    for village, fields in faults.items():
        assert set(broken.loc[village, "missing"].split("、")) == fields, village
        assert broken.loc[village, "fields_ok"] == broken.loc[village, "fields_required"] - len(fields)
    reasons = broken["reasons"]
    assert reasons.str.contains("办公地址未填写").sum() == 2 and reasons.str.contains("负责人未填写").sum() == 2
    assert reasons.str.contains(r"联系电话格式不正确（\d{3}\*+\d）", regex=True).sum() == 2
    assert reasons.str.contains(r"户数（\d+）多于常住人口（\d+）", regex=True).sum() == 1
    complete = table[table["missing"].isna()]
    assert (complete["fields_ok"] == complete["fields_required"]).all() and (complete["completeness"] == 1.0).all()
    # a 居委会 is not asked for its 村（居）民小组数
    types = registry.set_index("village_code")["committee_type"]
    assert (table["fields_required"] == table["village_code"].map(types).map({"村委会": 8, "居委会": 7})).all()

    summary = runner.table("registry_township_summary", snapshot_date=D1).set_index("township")
    assert int(summary["villages"].sum()) == len(registry)
    assert int(summary["villages_complete"].sum()) == len(registry) - len(faults)
    per_town = table.assign(ok=table["missing"].isna()).groupby("township")["ok"].mean().round(4)
    pd.testing.assert_series_equal(summary["completeness"].sort_index(), per_town.sort_index(), check_names=False)

    issues = runner.table("data_quality_issues", snapshot_date=D1, stage="community_registry")
    named = issues[issues["check"].isin(["registry_field_missing", "registry_field_invalid"])]
    assert len(named) == sum(len(f) for f in faults.values())
    assert set(named["check_label"]) == {"社区基本信息未填", "社区基本信息有误"}
    phones = named.loc[named["field"] == "contact_phone", "value_masked"]
    assert phones.str.fullmatch(r"\d{3}\*+\d").all() and len(phones) == 2
    log = runner.table("ingest_log").set_index("file_name")
    assert log.loc["社区基本信息_2023-02-17.xlsx", "status"] == "accepted"  # scores are not faults of the file

    check = check_evaluation(result, "registry_complete")
    assert not check.passed
    meta = {k: v.value if hasattr(v, "value") else v for k, v in check.metadata.items()}
    assert meta["villages_incomplete"] == len(faults) and meta["village_count"] == len(faults)
    assert all(village in meta["村（社区） / villages"] for village in faults)
    assert "未与名录核对" in meta["摘要 / summary"]
    assert "不完整的村（社区）" in meta["明细 / details"]
