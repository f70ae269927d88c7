"""The bad-input corpus (tests/bad_inputs.py) through the real entry points: every case gets exactly its expected
outcome, and no case ever ends in anything but InputFileError. Then the pipeline-level cases: refused files leave
every table as it was, the same export landed twice counts once, two disagreeing exports of one day are merged by
user ID."""

import datetime as dt
import os
import shutil
import time
import traceback

import dagster as dg
import pandas as pd
import pytest

from support import bad_inputs
from support.bad_inputs import ACCEPTED, REFUSED, ROWS, write_csv, write_xlsx
from yukuai_pipeline.intake.completeness import incomplete_reason
from yukuai_pipeline.intake.file_identity import identify
from yukuai_pipeline.intake.loading import load
from yukuai_pipeline.intake.readers import InputFileError
from yukuai_pipeline.metrics.counting import Labels, count_users, match_places
from yukuai_pipeline.places.names import VillageMatcher
from yukuai_pipeline.steps.context import township_matcher

CASES = {case.name: case for case in bad_inputs.cases()}
FIRST, D1 = "2023-02-17", dt.date(2023, 2, 17)
SLOW_LOAD_SECONDS = 60  # the million-row CSV; it takes well under half of that on a laptop


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_inputs")
    bad_inputs.build_corpus(folder)
    return folder


def _load(path, name):
    """(loaded, None) or (None, the InputFileError); anything else fails the case by name."""
    try:
        return load(path, identify(path)), None
    except InputFileError as err:
        return None, err
    except Exception:  # noqa: BLE001 - the point: a bare traceback is a failure of the reader
        pytest.fail(f"{name}: {path.name} raised something other than InputFileError:\n{traceback.format_exc()}")


def _plain(values: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in values.tolist()]


def test_the_corpus_is_big_enough():
    kinds = pd.Series([c.expected for c in CASES.values()]).value_counts()
    assert len(CASES) >= 30 and set(kinds.index) == {"accepted", "quarantined", "refused"}
    assert len({c.file_name for c in CASES.values()}) == len(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(corpus, name):
    case = CASES[name]
    path = corpus / case.file_name
    started = time.perf_counter()
    loaded, err = _load(path, name)
    seconds = time.perf_counter() - started
    if case.expected == REFUSED:
        assert err is not None, f"{name}: expected a refusal, got {len(loaded.accepted)} accepted rows"
        text = str(err)
        assert path.name in text and case.message in text and "处理办法" in text, f"{name}: {text}"
        return
    assert err is None, f"{name}: refused: {err}"
    assert seconds < SLOW_LOAD_SECONDS, f"{name}: took {seconds:.1f} s"
    assert (loaded.identity.kind, loaded.identity.snapshot_date) == (case.kind, case.snapshot_date)
    assert len(loaded.accepted) == case.accepted
    quarantined = loaded.issues[loaded.issues["quarantined"].astype(bool)]
    assert sorted(zip(quarantined["row_number"].astype(int), quarantined["field"])) == sorted(case.quarantined)
    if case.expected == ACCEPTED:
        assert loaded.issues.empty, loaded.issues.to_dict("records")
    for column, expected in case.values.items():
        assert _plain(loaded.accepted[column]) == expected, column
    _later_steps(case, loaded)


def _later_steps(case, loaded):
    """What place matching and counting make of the accepted rows (only where the case says)."""
    if not (case.townships or case.villages or case.count_issues or case.completed is not None):
        return
    villages = VillageMatcher(bad_inputs.registry()) if case.villages else None
    matched, _ = match_places(loaded.accepted, township_matcher(), villages, Labels())
    for raw, expected in case.townships.items():
        assert set(matched.loc[matched["township"] == raw, "township_std"]) == {expected}, raw
    for raw, expected in case.villages.items():
        assert set(matched.loc[matched["village"] == raw, "village_std"]) == {expected}, raw
    counts, issues = count_users(matched, case.snapshot_date)
    assert {i["check"] for i in issues} >= set(case.count_issues)
    if case.completed is not None:
        assert int(counts["completed"].sum()) == case.completed


# ---- pipeline level --------------------------------------------------------------------------------------------


def _checks(result) -> dict:
    return {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


GUARDED = ["township_progress", "village_progress", "registration_counts"]


def _rerun_registrations(runner, day: str):
    """daily_refresh for the day, limited to the registration counts and the marts built on them: the part of the
    job a registration file touches (a whole run per file would take minutes; tests/pipeline/test_pipeline.py refuses a
    file in a whole run)."""
    job = runner.defs.resolve_job_def("daily_refresh")
    return job.execute_in_process(
        partition_key=day,
        instance=runner.instance,
        raise_on_error=False,
        asset_selection=[dg.AssetKey(t) for t in GUARDED],
    )


def test_refused_files_fail_the_day_and_leave_every_table_as_it_was(runner, landing, tmp_path):
    assert runner.run(FIRST).success
    before = {t: _sorted(runner.table(t)) for t in [*GUARDED, "data_quality_issues"]}
    refused = [c for c in CASES.values() if c.expected == REFUSED and "20230217" in c.file_name]
    assert len(refused) >= 10
    folder = tmp_path / "refused"
    bad_inputs.build_corpus(folder, only=[c.name for c in refused])
    # One export stands for a day (the newest, never merged): the demo's own exports of the day are set aside while
    # each bad file is the day's export, so that the bad file is the one read.
    aside = tmp_path / "aside"
    aside.mkdir()
    for name in ("注册用户明细_2023-02-17.xlsx", "乡镇注册汇总_2023-02-17.xlsx"):
        shutil.move(landing / name, aside / name)
    for case in refused:
        dropped = landing / case.file_name
        shutil.copy(folder / case.file_name, dropped)
        result = _rerun_registrations(runner, FIRST)
        log = runner.table("ingest_log").set_index("file_name")
        if incomplete_reason(dropped):  # cut off as a file being copied is: waited for, not refused, nothing counted
            assert result.success, case.name
            assert _checks(result)["files_complete"].passed is False, case.name
            assert log.loc[case.file_name, "status"] == "waiting", case.name
        else:
            assert not result.success, case.name
            check = _checks(result)["registration_files_usable"]
            assert check.passed is False, case.name
            assert case.file_name in check.description and case.message in check.description, (
                case.name,
                check.description,
            )
            assert log.loc[case.file_name, "status"] == "rejected", case.name
        for table in GUARDED:
            pd.testing.assert_frame_equal(before[table], _sorted(runner.table(table)), obj=f"{case.name}: {table}")
        dropped.unlink()
    for path in aside.iterdir():
        shutil.move(path, landing / path.name)
    assert runner.run(FIRST).success
    for table, frame in before.items():
        pd.testing.assert_frame_equal(frame, _sorted(runner.table(table)), obj=table)


def test_two_exports_of_one_day_are_never_merged_the_newest_is_used(tmp_path, database_url):
    """One export stands for a day: of two user-level exports of one date, the one made last (its title's 导出时间,
    else its modification time) is used whole, and every other one is listed as superseded with the reason; a
    byte-identical copy under another name is superseded as such. Nothing is merged by user ID."""
    from support.runner import PipelineRunner

    folder = tmp_path / "own_landing"
    folder.mkdir()
    first, copy, corrected = (
        folder / "注册用户_20230217.csv",
        folder / "注册用户_20230217_重复上传.csv",
        folder / "注册用户明细_2023-02-17.xlsx",
    )
    write_csv(first, ROWS)
    shutil.copy(first, copy)
    later = [
        [1, "YK00000001", "张三", "13812345678", "桃花源街道", "另一个村", dt.datetime(2023, 2, 10), "已通过"],
        [2, "YK00000002", "李四", "13812345679", "龙潭镇", "某村", dt.datetime(2023, 2, 3, 9, 30), "待审核"],
        [3, "YK00000009", "赵九", "", "龙潭镇", "某村", dt.datetime(2023, 2, 12), "已通过"],
    ]
    write_xlsx(corrected, {"Sheet1": [bad_inputs.HEADER, *later]})
    for offset, path in enumerate((first, copy, corrected)):  # made one after the other: the corrected one last
        os.utime(path, (1_676_592_000 + offset * 60,) * 2)
    runner = PipelineRunner(folder, database_url, tmp_path)
    result = runner.run(FIRST)
    assert result.success
    progress = runner.table("township_progress", snapshot_date=D1).set_index("township")
    assert int(progress.loc["合计", "completed"]) == 2  # YK1 and YK9 of the corrected export only
    assert int(progress.loc["龙潭镇", "completed"]) == 1 and int(progress.loc["龙潭镇", "pending"]) == 1
    assert int(progress.loc["宜居乡", "rejected"]) == 0  # YK3 (已驳回) is in the older export only
    counts = runner.table("registration_counts", snapshot_date=D1)
    assert set(counts["source_files"]) == {"注册用户明细_2023-02-17.xlsx"}
    assert set(counts.loc[counts["township"] == "桃花源街道", "village"]) == {"另一个村"}
    log = runner.table("ingest_log").set_index("file_name")
    assert log.loc["注册用户明细_2023-02-17.xlsx", "status"] == "accepted"
    assert log.loc["注册用户_20230217.csv", "status"] == "superseded"
    assert "同日有更新的导出《注册用户明细_2023-02-17.xlsx》" in log.loc["注册用户_20230217.csv", "message"]
    assert log.loc["注册用户_20230217_重复上传.csv", "status"] == "superseded"
    assert "内容完全相同" in log.loc["注册用户_20230217_重复上传.csv", "message"]
    choice = _checks(result)["one_export_per_day"]
    assert choice.passed is False and "只用《注册用户明细_2023-02-17.xlsx》" in choice.description
    issues = runner.table("data_quality_issues", snapshot_date=D1)
    assert sorted(issues.loc[issues["check"] == "export_superseded", "source_file"]) == [
        "注册用户_20230217.csv",
        "注册用户_20230217_重复上传.csv",
    ]


def test_a_file_of_many_bad_rows_lists_a_thousand_of_each_and_counts_them_all(tmp_path):
    """A broken export's million bad rows are counted and left out, but not listed one by one: 1,000 issue rows per
    kind of problem, then one that says how many more and between which lines."""
    from yukuai_pipeline.intake.loading import ISSUES_PER_REASON

    rows = [[i, f"YK{i:08d}", "", "", "龙潭镇", "某村", "不是日期", "已通过"] for i in range(1, 2_501)]
    rows.append([2_501, "YK99999999", "", "", "龙潭镇", "某村", "2023-02-01 10:00:00", "已通过"])
    path = tmp_path / "注册用户_20230217.csv"
    write_csv(path, rows)
    loaded = load(path, identify(path))
    assert (loaded.rows, len(loaded.accepted), loaded.quarantined) == (2_501, 1, 2_500)
    dates = loaded.issues[loaded.issues["field"] == "registered_at"]
    assert len(dates) == ISSUES_PER_REASON + 1
    summary = dates.iloc[-1]
    assert "另有 1,500 行同样的问题，第 1002–2501 行" in summary["message"] and pd.isna(summary["value_masked"])
