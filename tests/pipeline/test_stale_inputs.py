"""A day after the last activity export: its figures are those of the export's own date, labelled with that date
and flagged 数据未更新 (the demo lands one activity export, on 2023-02-17; registration exports until 2023-02-24).
The 考核得分 of that day keeps the date of each part's input, and its sheet and the bulletin say which part is old."""

import datetime as dt

from openpyxl import load_workbook

from support.runner import check_evaluation

EXPORT_DAY, LAST_EXPORT, LATER = dt.date(2023, 2, 17), dt.date(2023, 2, 24), dt.date(2023, 2, 26)


def test_activity_counts_and_ages_are_as_of_the_export_and_marked_stale(runner, tmp_path):
    first = runner.run(EXPORT_DAY.isoformat())
    assert first.success and check_evaluation(first, "inputs_current").passed
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
    stale = check_evaluation(later, "inputs_current")
    assert not stale.passed and stale.severity.value == "WARN"
    summary = stale.metadata["摘要 / summary"].value
    assert "平台应用明细（2023-02-17）" in summary and "用户注册" not in summary

    # the day's scores: each part with its own input's date, the activity part nine days old
    scores = runner.table("township_scores", snapshot_date=LATER)
    assert len(scores) == 39
    assert set(scores["activity_data_date"]) == {EXPORT_DAY}
    assert set(scores["registration_data_date"]) == {LAST_EXPORT}  # the newest registration export, not the day
    for part in ("registry", "roster", "orgs"):  # the demo's reference snapshots, all landed on its first day
        assert set(scores[f"{part}_data_date"]) == {EXPORT_DAY}, part
    reports = tmp_path / "reports"
    sheet = load_workbook(reports / f"酉阳县渝快社区注册进度报表_{LATER}.xlsx", read_only=True)["考核得分"]
    line = next(sheet.iter_rows(min_row=3, max_row=3, max_col=1, values_only=True))[0]
    assert line == (
        "各部分所用数据的日期：注册完成率（用户注册导出）2023-02-24；社区基本信息完整率（社区基本信息）2023-02-17；"
        "基层队伍信息完整率（基层队伍名单）2023-02-17；社区社会组织达标率（社区社会组织信息）2023-02-17；"
        "六项应用使用率（平台应用明细）2023-02-17（9 天前，数据未更新）。"
    )
    text = (reports / f"酉阳县渝快社区注册工作通报_{LATER}.txt").read_text(encoding="utf-8")
    assert "以上得分中，六项应用使用率按2023年2月17日的平台应用明细计算（9 天前，数据未更新）。" in text
