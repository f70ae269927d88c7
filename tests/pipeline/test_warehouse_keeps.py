"""The warehouse keeps what it ingested (SQLite, and PostgreSQL in CI): archiving the landing folder changes no
table, reference files moved away stay in force, a removed export is undone, an export moved into a sub-folder is
still read, and the command line says which WARN makes a day's figures doubtful."""

import datetime as dt
import shutil

import pandas as pd
import pytest

from yukuai_pipeline.archive import archive_before
from yukuai_pipeline.contracts import TABLES

DAYS = ["2023-02-17", "2023-02-18", "2023-02-19"]
EXPORT = "渝快社区注册用户_20230219.csv"
REFERENCES = ["社区基本信息_2023-02-17.xlsx", "基层队伍信息_2023-02-17.xlsx", "平台应用情况_2023-02-17.xlsx"]
MOMENTS = {
    "ingest_log": ["ingested_at"],
    "input_snapshots": ["stored_at"],
    "step_versions": ["recorded_at"],
}  # when, not what


def _dump(runner) -> dict[str, pd.DataFrame]:
    out = {}
    for table in TABLES:
        frame = runner.table(table).drop(columns=MOMENTS.get(table, []))
        out[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def _same(before: dict, after: dict, tables=None) -> None:
    for table in tables or before:
        pd.testing.assert_frame_equal(before[table], after[table], obj=table, check_dtype=False)


@pytest.fixture
def three_days(runner):
    for day in DAYS:
        assert runner.run(day).success, day
    return runner


def test_archiving_the_landing_folder_and_rerunning_every_day_gives_identical_tables(three_days, landing):
    runner = three_days
    before = _dump(runner)
    result = archive_before(landing, landing / "archive", runner.warehouse, dt.date(2023, 2, 20))
    moved = {source.name for source, _ in result.moved}
    assert {EXPORT, "渝快社区注册用户_20230218.csv", "注册用户明细_2023-02-17.xlsx", *REFERENCES} <= moved
    assert not (landing / EXPORT).exists() and (landing / "archive" / "2023-02" / EXPORT).exists()
    assert {p.name for p, _ in result.kept} >= {"渝快社区注册用户_20230220.csv"}  # not ingested yet: left alone
    for day in DAYS:
        assert runner.run(day).success, day
    _same(before, _dump(runner))


def test_reference_files_moved_out_of_the_folder_stay_in_force(three_days, landing, tmp_path):
    runner = three_days
    before = _dump(runner)
    elsewhere = tmp_path / "officers_own_backup"
    elsewhere.mkdir()
    for name in REFERENCES:
        shutil.move(landing / name, elsewhere / name)
    result = runner.run("2023-02-19")
    assert result.success
    checks = {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert checks["registry_available"].passed and checks["roster_file_usable"].passed
    _same(
        before,
        _dump(runner),
        [
            "community_registry",
            "village_targets",
            "roster_completeness",
            "roster_members",
            "cadre_quotas",
            "platform_activity",
            "township_progress",
            "village_progress",
        ],
    )


def test_a_removed_export_is_undone_and_said(three_days, landing, tmp_path):
    runner = three_days
    before = _dump(runner)
    day = dt.date(2023, 2, 19)
    shutil.move(landing / EXPORT, tmp_path / EXPORT)  # the officer deletes a bad export and reruns the day
    assert runner.run("2023-02-19").success
    assert runner.table("registration_counts", snapshot_date=day).empty
    progress = runner.table("township_progress").set_index(["snapshot_date", "township"])["completed"]
    assert progress[(day, "合计")] == progress[(dt.date(2023, 2, 18), "合计")]  # the day before's, carried
    issues = runner.table("data_quality_issues", snapshot_date=day)
    doubts = issues.loc[issues["check"] == "figures_doubtful", "message"].tolist()
    assert doubts == ["2023-02-19 无当日注册导出，沿用 2023-02-18 的数据"]
    shutil.move(tmp_path / EXPORT, landing / EXPORT)  # and it comes back
    assert runner.run("2023-02-19").success
    _same(before, _dump(runner), ["registration_counts", "township_progress", "village_progress"])


def test_an_export_moved_into_a_sub_folder_is_still_read(three_days, landing):
    runner = three_days
    before = _dump(runner)
    (landing / "2月").mkdir()
    shutil.move(landing / EXPORT, landing / "2月" / EXPORT)
    assert runner.run("2023-02-19").success
    _same(before, _dump(runner), ["registration_counts", "township_progress", "village_progress"])


def test_the_command_line_prints_the_days_warnings_and_exits_3(tmp_path, landing, monkeypatch, capsys):
    from yukuai_pipeline.cli import main
    from yukuai_pipeline.cli.runs import EXIT_DOUBTFUL

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("YUKUAI_LANDING_DIR", str(landing))
    monkeypatch.setenv("YUKUAI_DATABASE_URL", f"sqlite:///{tmp_path}/warehouse.db")
    monkeypatch.setenv("YUKUAI_REPORT_DIR", str(tmp_path / "reports"))
    assert main(["materialize", "--from", "2023-02-17", "--to", "2023-02-18"]) == 0
    assert "数据存疑" not in capsys.readouterr().out
    (landing / "渝快社区注册用户_20230218.csv").unlink()
    assert main(["materialize", "--date", "2023-02-18"]) == EXIT_DOUBTFUL == 3
    out = capsys.readouterr().out
    county = out.index("2023-02-18 全县合计：")
    warning = out.index("⚠ 2023-02-18 数据存疑，发送前请核对：")
    assert county < warning and "  - 2023-02-18 无当日注册导出，沿用 2023-02-17 的数据" in out
    assert main(["archive", "--before", "2023-02-18"]) == 0
    assert "已归档 " in capsys.readouterr().out
