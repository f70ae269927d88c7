"""The attacks of the hostile-files issue, replayed on a copy of the demo (SQLite, and PostgreSQL in CI): a file still
being copied, swapped columns, dates that contradict themselves, a second export of a day, yesterday's export under
today's name, personal data in the wrong cells, files that cannot be read or named — each gives its stated outcome,
and the earlier days' tables stay exactly as they were."""

import datetime as dt
import os
import shutil

import pandas as pd
import pytest

from yukuai_pipeline.contracts import TABLES, load_contract
from yukuai_pipeline.defs.automation import plan_runs
from yukuai_pipeline.intake import landing as landing_folder
from yukuai_pipeline.intake.file_identity import identify

FIRST, SECOND, THIRD = "2023-02-17", "2023-02-18", "2023-02-19"
D3 = dt.date(2023, 2, 19)
EXPORT = "渝快社区注册用户_20230219.csv"
DAILY = [t for t in TABLES if load_contract(t).partition_column == "snapshot_date"]


def _earlier(runner, before: dt.date) -> dict[str, pd.DataFrame]:
    """Every day-partitioned table's rows of the days before `before`, in a stable order."""
    out = {}
    for table in DAILY:
        frame = runner.table(table)
        frame = frame[pd.to_datetime(frame["snapshot_date"]).dt.date < before].drop(
            columns=[c for c in ("ingested_at", "recorded_at") if c in frame.columns]
        )
        out[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def _same_earlier_days(runner, before, snapshot) -> None:
    after = _earlier(runner, before)
    for table, frame in snapshot.items():
        pd.testing.assert_frame_equal(frame, after[table], obj=table, check_dtype=False)


def _checks(result, asset: str = "registration_counts") -> dict:
    return {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.asset_key.path[-1] == asset
    }


def _county(runner, day: str) -> pd.Series:
    progress = runner.table("township_progress", snapshot_date=dt.date.fromisoformat(day))
    return progress.set_index("township").loc["合计"]


def _doubts(runner, day: str) -> list[str]:
    issues = runner.table("data_quality_issues", snapshot_date=dt.date.fromisoformat(day))
    rows = issues[issues["check"] == "figures_doubtful"].sort_values("row_number")
    return rows["message"].tolist()


def _decoded(raw: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("undecodable demo export")


@pytest.fixture
def two_days(runner):
    assert runner.run(FIRST).success and runner.run(SECOND).success
    return runner


def test_a_csv_still_being_copied_is_waited_for_not_counted(two_days, landing, tmp_path):
    runner = two_days
    before = _earlier(runner, D3)
    whole = (landing / EXPORT).read_bytes()
    cut = whole[: len(whole) // 2]
    assert not cut.endswith(b"\n")
    (landing / EXPORT).write_bytes(cut)  # what the sensor or the 08:30 schedule sees mid-copy
    result = runner.run(THIRD)
    assert result.success
    assert not _checks(result)["files_complete"].passed
    assert runner.table("registration_counts", snapshot_date=D3).empty  # nothing of the half file counted
    log = runner.table("ingest_log").set_index("file_name")
    assert log.loc[EXPORT, "status"] == "waiting"
    assert any("尚未写完" in d or "不完整" in d for d in _doubts(runner, THIRD))
    _same_earlier_days(runner, D3, before)
    (landing / EXPORT).write_bytes(whole)  # the copy finishes
    assert runner.run(THIRD).success
    assert int(_county(runner, THIRD)["completed"]) > int(_county(runner, SECOND)["completed"])
    assert _doubts(runner, THIRD) == []
    _same_earlier_days(runner, D3, before)


def test_a_file_cut_on_a_line_boundary_is_marked_doubtful_by_its_fall(two_days, landing):
    runner = two_days
    text, encoding = _decoded((landing / EXPORT).read_bytes())
    lines = text.splitlines(keepends=True)
    (landing / EXPORT).write_bytes("".join(lines[: len(lines) // 2]).encode(encoding))
    result = runner.run(THIRD)
    assert result.success
    assert not _checks(result, "township_progress")["figures_trustworthy"].passed
    assert any("全县完成数从前一天的" in d and "下降" in d for d in _doubts(runner, THIRD))


def test_swapped_township_and_village_values_are_refused_not_counted(two_days, landing):
    runner = two_days
    before = _earlier(runner, D3)
    text, encoding = _decoded((landing / EXPORT).read_bytes())
    lines = text.splitlines(keepends=True)
    header_at = next(i for i, line in enumerate(lines) if "用户ID" in line)
    swapped = []
    for line in lines[header_at + 1 :]:
        cells = line.rstrip("\r\n").split(",")
        if len(cells) >= 8 and cells[1].startswith("YK"):
            cells[4], cells[5] = cells[5], cells[4]
        swapped.append(",".join(cells) + "\r\n")
    (landing / EXPORT).write_bytes("".join(lines[: header_at + 1] + swapped).encode(encoding))
    result = runner.run(THIRD)
    assert not result.success
    check = _checks(result)["registration_files_usable"]
    assert not check.passed and "两列可能对调" in check.description and EXPORT in check.description
    _same_earlier_days(runner, D3, before)


def test_a_date_written_with_spaces_in_the_name_dates_the_file(landing):
    spaced = landing / "渝快社区注册用户 2023 02 19.csv"
    shutil.move(landing / EXPORT, spaced)
    identity = identify(spaced)
    assert (identity.name_date, identity.snapshot_date) == (D3, D3)


def test_yesterdays_export_under_todays_name_is_not_todays_figures(two_days, landing):
    runner = two_days
    (landing / EXPORT).unlink()
    shutil.copy(landing / "渝快社区注册用户_20230218.csv", landing / EXPORT)
    result = runner.run(THIRD)
    assert result.success
    log = runner.table("ingest_log").set_index("file_name")
    assert log.loc[EXPORT, "status"] == "superseded" and "内容完全相同" in log.loc[EXPORT, "message"]
    assert runner.table("registration_counts", snapshot_date=D3).empty
    doubts = _doubts(runner, THIRD)
    assert any("无当日注册导出，沿用 2023-02-18 的数据" in d for d in doubts), doubts


def test_an_export_re_saved_without_the_days_registrations_is_doubtful(two_days, landing):
    """Yesterday's export, re-exported (other bytes) under today's name: no user registered on the day at all."""
    runner = two_days
    text, encoding = _decoded((landing / "渝快社区注册用户_20230218.csv").read_bytes())
    (landing / EXPORT).write_bytes(
        text.replace("导出时间：2023-02-19 08:00", "导出时间：2023-02-19 09:00").encode(encoding)
    )
    assert runner.run(THIRD).success
    doubts = _doubts(runner, THIRD)
    assert any("当日没有任何新增注册" in d for d in doubts), doubts


def test_a_title_date_that_contradicts_the_name_is_reported(two_days, landing):
    runner = two_days
    text, encoding = _decoded((landing / EXPORT).read_bytes())
    (landing / EXPORT).write_bytes(text.replace("导出时间：2023-02-20 08:00", "统计截止：2023-02-20").encode(encoding))
    result = runner.run(THIRD)
    assert result.success
    check = _checks(result)["snapshot_date_consistent"]
    assert not check.passed
    assert "文件名日期为 2023-02-19，标题行为“统计截止：2023-02-20”" in check.description
    assert runner.table("registration_counts", snapshot_date=dt.date(2023, 2, 20)).empty  # no other day rewritten
    assert any("文件名日期为 2023-02-19" in d for d in _doubts(runner, THIRD))


def test_of_two_exports_of_a_day_the_one_exported_last_is_used(two_days, landing):
    runner = two_days
    text, encoding = _decoded((landing / EXPORT).read_bytes())
    lines = text.splitlines(keepends=True)
    body = [i for i, line in enumerate(lines) if ",YK" in line]
    corrected = lines[: body[0]] + lines[body[0] : body[-1] - 300 + 1] + lines[body[-1] + 1 :]  # 300 users gone
    later = "".join(corrected).replace("导出时间：2023-02-20 08:00", "导出时间：2023-02-20 09:30")
    (landing / "渝快社区注册用户_20230219_更正.csv").write_bytes(later.encode(encoding))
    os.utime(landing / EXPORT, None)  # the first export touched last: the title's 导出时间 decides, not the clock
    result = runner.run(THIRD)
    assert result.success
    counts = runner.table("registration_counts", snapshot_date=D3)
    assert set(counts["source_files"]) == {"渝快社区注册用户_20230219_更正.csv"}
    log = runner.table("ingest_log").set_index("file_name")
    assert log.loc[EXPORT, "status"] == "superseded" and "导出时间 2023-02-20 09:30" in log.loc[EXPORT, "message"]
    assert not _checks(result)["one_export_per_day"].passed


def test_personal_numbers_typed_into_place_cells_are_masked_everywhere(two_days, landing, tmp_path):
    runner = two_days
    text, encoding = _decoded((landing / EXPORT).read_bytes())
    lines = text.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if ",YK" in line)
    cells = lines[first].rstrip("\r\n").split(",")
    cells[4], cells[5] = "13987654321", "500242199001011234"
    lines[first] = ",".join(cells) + "\r\n"
    (landing / EXPORT).write_bytes("".join(lines).encode(encoding))
    assert runner.run(THIRD).success
    from support.leaks import leaks

    for table in TABLES:
        frame = runner.table(table)
        assert leaks(frame.astype(str).to_csv()) == [], table
    issues = runner.table("data_quality_issues", snapshot_date=D3)
    assert (issues["township"] == "139****4321").any()
    for path in (tmp_path / "reports").rglob("*.xlsx"):
        import openpyxl

        book = openpyxl.load_workbook(path)
        cells = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None)
        assert leaks(cells) == [], path.name
    events = runner.instance.all_logs(list(runner.instance.get_run_ids())[-1])
    assert leaks(" ".join(str(e) for e in events)) == []


def test_an_unreadable_file_a_gbk_name_and_an_undated_stray_stop_nothing(two_days, landing, monkeypatch):
    runner = two_days
    gbk_name = "注册用户_20230219_副本.csv".encode("gbk")
    shutil.copy(landing / EXPORT, os.fsencode(landing) + b"/" + gbk_name)
    (landing / "随手记.csv").write_text("备忘\n今天开会\n", encoding="utf-8")  # no date, no known header
    locked = landing / "锁定_20230219.csv"
    locked.write_text("x", encoding="utf-8")
    real = landing_folder.file_sha256

    def refuse_locked(path):
        if os.path.basename(path) == locked.name:
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(landing_folder, "file_sha256", refuse_locked)
    files = landing_folder.scan(landing)  # never raises
    names = {f.name for f in files}
    assert "注册用户_20230219_副本.csv" in names  # decoded from GBK, not raw bytes
    unreadable = next(f for f in files if f.name == locked.name)
    assert unreadable.error is not None and "无法读取" in str(unreadable.error)
    _runs, _, notes = plan_runs(files, {})
    assert any("随手记.csv" in n for n in notes)
    assert runner.run(SECOND).success  # an undated stray stops no day
    result = runner.run(THIRD)
    assert result.success  # the day's own export is counted; the unreadable file beside it is said, not counted
    check = _checks(result)["files_complete"]
    assert not check.passed and "《锁定_20230219.csv》无法读取" in check.description
    assert any("锁定_20230219.csv" in d for d in _doubts(runner, THIRD))
    log = runner.table("ingest_log").set_index("file_name")
    assert log.loc["锁定_20230219.csv", "status"] == "rejected"
