import datetime as dt
from pathlib import Path

import pandas as pd

from support.messy import ROWS, write_csv
from yukuai_pipeline.steps.context import load_attachment

FIRST, SECOND = "2023-02-17", "2023-02-18"
D1 = dt.date(2023, 2, 17)


def _checks(result) -> dict[str, bool]:
    return {
        e.event_specific_data.check_name: e.event_specific_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_golden_first_day_reproduces_the_notice_attachment(runner):
    assert runner.run(FIRST).success
    progress = runner.table("township_progress", snapshot_date=D1).set_index("township")
    attachment = load_attachment().set_index("township")
    towns = progress.loc[attachment.index]
    assert towns["resident_population"].astype(int).tolist() == attachment["resident_population"].tolist()
    assert towns["target"].astype(int).tolist() == attachment["target"].tolist()
    assert towns["completed"].astype(int).tolist() == attachment["completed_20230217"].tolist()
    assert towns["gap"].astype(int).tolist() == attachment["gap_20230217"].tolist()
    assert towns["seq"].astype(int).tolist() == list(range(1, 40))
    county = progress.loc["合计"]
    assert [int(county[c]) for c in ("resident_population", "target", "completed", "gap")] == [
        853_945,
        102_476,
        28_632,
        73_844,
    ]
    assert abs(county["users_per_10k"] - 28_632 / 853_945 * 10_000) < 1e-3
    assert set(progress.index) == set(attachment.index) | {"合计"}  # day 0 has no unmatched township
    # 可大乡 1145 / 2112 = 54.2 % is the attachment's best rate, 浪坪乡 91 / 1264 = 7.2 % its worst
    assert progress.loc["可大乡", "rank"] == 1 and progress.loc["浪坪乡", "rank"] == 39


def test_the_days_workbook_reproduces_the_attachment(runner, tmp_path):
    import openpyxl

    from yukuai_pipeline.report.workbook import report_file_name

    assert runner.run(FIRST).success
    book = openpyxl.load_workbook(tmp_path / "reports" / report_file_name(D1))
    sheet = book.worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(i for i, r in enumerate(rows) if r[:2] == ["序号", "乡镇（街道）"])
    assert rows[header] == [  # the attachment's columns with 完成率 and 排名, nothing else
        "序号",
        "乡镇（街道）",
        "常住人口数（人）",
        "任务数（人）",
        "完成数",
        "尚差任务数",
        "完成率",
        "排名",
    ]
    body = rows[header + 1 : header + 40]
    expected = load_attachment()
    assert [r[:6] for r in body] == expected[
        ["seq", "township", "resident_population", "target", "completed_20230217", "gap_20230217"]
    ].values.tolist()
    total = next(r for r in rows if r[0] == "合计")
    assert total[2:6] == [853_945, 102_476, 28_632, 73_844]
    assert rows.index(total) == header + 40  # 合计 right under the townships: day 0 has no 未匹配
    analysis = [list(r) for r in book["乡镇分析"].iter_rows(values_only=True)]  # the activity moved there
    labels = ["居民诉求", "信息发布", "村（居）务公开", "在线协商", "民主决策", "民主评议"]
    assert next(r for r in analysis if r[0] == "序号")[-6:] == labels
    assert next(r for r in analysis if r[0] == "合计")[-6:] == [480, 135, 321, 27, 7, 1]
    activity = book["平台应用"]
    county = next(r for r in activity.iter_rows(values_only=True) if r[0] == "合计")
    assert list(county[1:7]) == [480, 135, 321, 27, 7, 1]


def test_village_figures_add_up_and_every_registry_village_has_a_row(runner):
    assert runner.run(FIRST).success
    villages = runner.table("village_progress", snapshot_date=D1)
    registry = runner.table("community_registry", snapshot_date=D1)
    targets = runner.table("village_targets", snapshot_date=D1)
    assert int(villages["completed"].sum()) == 28_632
    assert int(targets["target"].sum()) == 102_476
    assert set(zip(registry["township"], registry["village"])) <= set(zip(villages["township"], villages["village"]))
    per_town = villages.groupby("township")["completed"].sum()
    assert per_town["浪坪乡"] == 91 and per_town["桃花源街道"] == 711


def test_materializing_a_range_twice_gives_identical_tables(runner):
    """A backfill of three days, then the same backfill again (the second pass replaces, never appends)."""
    days = [FIRST, SECOND, "2023-02-19"]
    tables = [
        "township_progress",
        "village_progress",
        "registration_counts",
        "village_targets",
        "community_registry",
        "data_quality_issues",
        "roster_completeness",
        "roster_members",
        "cadre_quotas",
        "platform_activity_rollup",
    ]

    def snapshot():
        frames = {t: runner.table(t) for t in tables}
        return {t: f.sort_values(list(f.columns)).reset_index(drop=True) for t, f in frames.items()}

    assert all(runner.run(day).success for day in days)
    before = snapshot()
    assert before["township_progress"]["snapshot_date"].nunique() == 3
    assert all(runner.run(day).success for day in days)
    after = snapshot()
    for t in tables:
        pd.testing.assert_frame_equal(before[t], after[t], obj=t)
    log = runner.table("ingest_log")
    assert not log.duplicated(["file_name", "sha256"]).any()


def test_a_bad_file_beside_the_days_export_is_refused_and_said_while_the_export_counts(runner, landing):
    """Every bad file is a file issue that stops no other file: the day's own export is still counted, and the day's
    figures are marked doubtful because a file of the day could not be read."""
    assert runner.run(FIRST).success
    assert runner.run(SECOND).success
    before = runner.table("township_progress")
    (landing / "注册用户_2023-02-18_补充.csv").write_bytes("序号,姓名\r\n1,张三\r\n".encode())
    result = runner.run(SECOND)
    assert result.success
    assert _checks(result)["files_complete"] is False
    pd.testing.assert_frame_equal(before, runner.table("township_progress"))
    log = runner.table("ingest_log").set_index("file_name")
    assert log.loc["注册用户_2023-02-18_补充.csv", "status"] == "rejected"
    assert "无法识别文件类型" in log.loc["注册用户_2023-02-18_补充.csv", "message"]
    issues = runner.table("data_quality_issues", snapshot_date=dt.date(2023, 2, 18))
    assert (issues["check"] == "file_unreadable").sum() == 1
    doubts = issues.loc[issues["check"] == "figures_doubtful", "message"]
    assert doubts.str.contains("《注册用户_2023-02-18_补充.csv》未计入：无法识别文件类型").any()


def test_bad_rows_are_quarantined_and_the_rest_counted(tmp_path, database_url):
    from support.runner import PipelineRunner

    folder = tmp_path / "own_landing"
    folder.mkdir()
    bad = [
        [9, "", "x", "13800001111", "龙潭镇", "某村", "2023-02-01", "已通过"],
        [10, "YK10", "x", "13800001111", "龙潭镇", "某村", "2023-02-01", "怪"],
    ]
    write_csv(folder / "注册用户_20230217.csv", ROWS + bad)
    runner = PipelineRunner(folder, database_url, tmp_path)
    result = runner.run(FIRST)
    assert result.success
    checks = _checks(result)
    assert checks["no_quarantined_rows"] is False and checks["village_figures_available"] is False
    progress = runner.table("township_progress", snapshot_date=D1).set_index("township")
    assert int(progress.loc["桃花源街道", "completed"]) == 1 and int(progress.loc["龙潭镇", "pending"]) == 1
    assert int(progress.loc["合计", "completed"]) == 1
    issues = runner.table("data_quality_issues", snapshot_date=D1)
    quarantined = issues[issues["quarantined"].astype(bool)].sort_values("row_number")
    assert quarantined["row_number"].astype(int).tolist() == [5, 6]
    assert quarantined["field"].tolist() == ["user_id", "status"]
    assert "13800001111" not in issues.to_string()


def test_platform_activity_reproduces_the_notices_six_numbers(runner):
    result = runner.run(FIRST)
    assert result.success
    rollup = runner.table("platform_activity_rollup", snapshot_date=D1)
    county = rollup[rollup["township"] == "合计"].set_index("kind")["count_total"].astype(int).to_dict()
    assert county == {"request": 480, "notice": 135, "disclosure": 321, "consultation": 27, "decision": 7, "review": 1}
    decisions = rollup[(rollup["kind"] == "decision") & (rollup["township"] != "合计")].set_index("township")
    assert int(decisions.loc["麻旺镇", "count_total"]) == 7 and int(decisions["count_total"].sum()) == 7
    villages = runner.table("platform_activity", snapshot_date=D1)
    assert len(villages) == 6 * runner.table("community_registry", snapshot_date=D1).shape[0]
    assert _checks(result)["requests_handled"] is False  # the demo has requests unhandled for more than 7 days


def test_week_over_week_compares_with_the_newest_day_a_week_back_even_across_missing_days(runner):
    for day in ("2023-02-17", "2023-02-24", "2023-02-25"):
        assert runner.run(day).success
    by_day = {
        d: runner.table("township_progress", snapshot_date=dt.date.fromisoformat(d)).set_index("township")
        for d in ("2023-02-17", "2023-02-24", "2023-02-25")
    }
    first, week, after = by_day["2023-02-17"], by_day["2023-02-24"], by_day["2023-02-25"]
    towns = first.index[first["seq"].notna()]
    assert (week.loc[towns, "new_this_week"] == week.loc[towns, "completed"] - first.loc[towns, "completed"]).all()
    assert (week.loc[towns, "last_week_rank"] == first.loc[towns, "rank"]).all()
    assert (week.loc[towns, "rank_change"] == first.loc[towns, "rank"] - week.loc[towns, "rank"]).all()
    assert week.loc["合计", "new_this_week"] == week.loc["合计", "completed"] - 28_632
    # 2023-02-18 was never run: the 25th is compared with the 17th, and says so
    assert set(after.loc[[*towns, "合计"], "last_week_date"]) == {dt.date(2023, 2, 17)}
    assert after.loc["合计", "new_this_week"] == after.loc["合计", "completed"] - 28_632
    villages = runner.table("village_progress", snapshot_date=dt.date(2023, 2, 24))
    assert villages["new_this_week"].notna().sum() > 200 and (villages["new_this_week"].dropna() >= 0).all()
    # the workbook's 本周进展 sheet shows the same numbers and names the day compared
    from openpyxl import load_workbook

    (path,) = Path(runner.resource.report_dir).glob("*_2023-02-24.xlsx")
    ws = load_workbook(path, read_only=True)["本周进展"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "本周进展：2023-02-24 与 2023-02-17 相比"
    header = list(rows[1])
    shown = {r[1]: dict(zip(header, r)) for r in rows[2:] if r[1] in towns}
    assert len(shown) == len(towns)
    for town, row in shown.items():
        assert row["本周新增"] == week.loc[town, "new_this_week"] and row["排名变化"] == week.loc[town, "rank_change"]
