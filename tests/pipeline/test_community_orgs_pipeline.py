"""The demo's community social organisation list (社区社会组织信息_2023-02-17.xlsx) through the daily job: a row
for every registry village against the benchmark, the planted faults quarantined with their lines, the benchmark
check naming the villages below it, the list still in force the next day, and no phone or ID number kept anywhere."""

import datetime as dt

import pandas as pd

from support.leaks import leaks
from yukuai_pipeline.demo import DEFAULT_SEED, demo_township_villages
from yukuai_pipeline.demo.orgs import FIRST_ROW, demo_orgs

FIRST, SECOND = "2023-02-17", "2023-02-18"
D1, D2 = dt.date(2023, 2, 17), dt.date(2023, 2, 18)


def _evaluations(result) -> dict:
    return {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.asset_key.to_user_string() == "community_orgs"
    }


def _line(seq: int) -> int:
    """The spreadsheet line of the export's 序号 (title, 统计截止 and header above the rows)."""
    return int(seq) + FIRST_ROW - 1


def test_the_first_days_list_is_counted_checked_and_kept_without_personal_numbers(runner):
    result = runner.run(FIRST)
    assert result.success
    planted = demo_orgs(demo_township_villages(), D1, DEFAULT_SEED)
    faults = planted.attrs

    registry = runner.table("community_registry", snapshot_date=D1)
    villages = runner.table("community_orgs", snapshot_date=D1)
    assert sorted(zip(villages["township"], villages["village"])) == sorted(
        zip(registry["township"], registry["village"])
    )
    types = dict(zip(registry["village"], registry["committee_type"]))
    expected_type = villages["village"].map(types).map({"居委会": "城市社区", "村委会": "农村社区"})
    assert (villages["village_type"] == expected_type).all()
    assert (villages["benchmark"].astype(int) == villages["village_type"].map({"城市社区": 10, "农村社区": 5})).all()
    assert set(villages["orgs_date"]) == {D1} and villages["benchmark_source"].str.contains("民发〔2017〕191号").all()
    counted = villages["registered"] + villages["filed"]
    assert (villages["meets_benchmark"].astype(bool) == (counted >= villages["benchmark"])).all()
    # every row of the export is one organisation of one village, but for the copy typed twice
    assert int(villages["orgs_total"].sum()) == len(planted) - 1
    assert int(villages["invalid"].sum()) == len(faults["wrong_check_rows"]) + 1 + 1  # + the O typo, + no 指导单位

    issues = runner.table("data_quality_issues", snapshot_date=D1, stage="community_orgs")
    quarantined = issues[issues["quarantined"].astype(bool)]
    bad_codes = faults["wrong_check_rows"] + faults["illegal_char_rows"]
    assert sorted(zip(quarantined["row_number"].astype(int), quarantined["field"])) == sorted(
        [(_line(s), "credit_code") for s in bad_codes] + [(_line(faults["missing_guide_rows"][0]), "supervisor_unit")]
    )
    assert (quarantined["source_file"] == "社区社会组织信息_2023-02-17.xlsx").all()
    codes = quarantined[quarantined["field"] == "credit_code"]
    assert codes["value_masked"].str.fullmatch(r"51500242MJ[0-9A-Z]{8}").all()  # a code is no personal number
    ((original, copy),) = faults["duplicate_rows"]
    (duplicate,) = issues[issues["check"] == "duplicate_org"].itertuples()
    assert duplicate.row_number == _line(copy) and f"与第 {_line(original)} 行是同一组织" in duplicate.message
    (note,) = issues[issues["check"] == "credit_code_note"].itertuples()
    assert note.row_number == _line(faults["not_civil_affairs_rows"][0]) and not note.quarantined

    checks = _evaluations(result)
    assert checks["orgs_file_usable"].passed and not checks["credit_codes_valid"].passed
    assert not checks["org_records_valid"].passed
    benchmark = checks["orgs_meet_benchmark"]
    below = villages[~villages["meets_benchmark"].astype(bool)]
    assert not benchmark.passed and 0 < len(below) < len(villages)
    assert benchmark.metadata["village_count"].value == len(below)
    named = benchmark.metadata["村（社区） / villages"].value.split(" 等 ")[0].split("、")
    assert set(named) <= {f"{t}{v}" for t, v in zip(below["township"], below["village"])} and len(named) == min(
        20, len(below)
    )

    stored = runner.table("community_orgs_input")
    assert len(stored) == len(planted) and not {"leader_phone", "leader_id_number"} & set(stored.columns)
    assert planted["联系电话"].str.fullmatch(r"1[3-9]\d{9}").all()  # the export has them: there is something to leak
    for table in (
        "community_orgs_input",
        "community_orgs",
        "community_orgs_rollup",
        "data_quality_issues",
        "file_columns",
    ):
        assert leaks(runner.table(table).astype(str).to_csv()) == [], table
    assert leaks("\n".join(str(e) for e in result.all_events)) == []

    # the next day has no list of its own: the one of 2023-02-17 holds, with its date
    assert runner.run(SECOND).success
    later = runner.table("community_orgs", snapshot_date=D2)
    assert set(later["orgs_date"]) == {D1}
    columns = ["township", "village", "orgs_total", "registered", "filed", "invalid", "meets_benchmark"]
    pd.testing.assert_frame_equal(
        later[columns].sort_values(["township", "village"]).reset_index(drop=True),
        villages[columns].sort_values(["township", "village"]).reset_index(drop=True),
    )
