"""A day after the last activity export: its figures are those of the export's own date, labelled with that date
and flagged 数据未更新 (the demo lands one activity export, on 2023-02-17; registration exports until 2023-02-24)."""

import datetime as dt

EXPORT_DAY, LAST_EXPORT, LATER = dt.date(2023, 2, 17), dt.date(2023, 2, 24), dt.date(2023, 2, 26)


def _check(result, name):
    (evaluation,) = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == name
    ]
    return evaluation


def test_activity_counts_and_ages_are_as_of_the_export_and_marked_stale(runner):
    first = runner.run(EXPORT_DAY.isoformat())
    assert first.success and _check(first, "inputs_current").passed
    assert runner.run(LAST_EXPORT.isoformat()).success  # the newest registration export: two days before LATER
    later = runner.run(LATER.isoformat())
    assert later.success
    rollup = runner.table("platform_activity_rollup", snapshot_date=LATER).sort_values(["township", "kind"])
    on_export_day = runner.table("platform_activity_rollup", snapshot_date=EXPORT_DAY).sort_values(["township", "kind"])
    assert set(rollup["activity_date"]) == {EXPORT_DAY}
    # nine days on, the 30-day window and the counts are still those of the export's own day, not shrinking
    assert rollup["count_30d"].tolist() == on_export_day["count_30d"].tolist()
    assert rollup["count_total"].tolist() == on_export_day["count_total"].tolist()
    overdue = runner.table("data_quality_issues", snapshot_date=LATER, stage="platform_activity")
    before = runner.table("data_quality_issues", snapshot_date=EXPORT_DAY, stage="platform_activity")
    assert sorted(overdue["message"]) == sorted(before["message"])  # requests do not "age" without new data
    stale = _check(later, "inputs_current")
    assert not stale.passed and stale.severity.value == "WARN"
    summary = stale.metadata["摘要 / summary"].value
    assert "平台应用明细（2023-02-17）" in summary and "用户注册" not in summary
