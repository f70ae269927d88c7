"""A run killed in the middle of a partition write leaves the previous state; two runs of one day equal one run.

The children are real `yukuai materialize` processes (tests/support/interrupted_run.py holds them at the write); the
database is SQLite, and PostgreSQL when YUKUAI_TEST_POSTGRES_URL is set.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

FIRST, SECOND = "2023-02-17", "2023-02-18"
CHILD = Path(__file__).resolve().parents[1] / "support" / "interrupted_run.py"
PARTITIONED = [
    "community_registry",
    "village_targets",
    "registration_counts",
    "township_progress",
    "village_progress",
    "data_quality_issues",
    "roster_completeness",
    "roster_members",
    "roster_township_summary",
    "cadre_quotas",
    "platform_activity",
    "platform_activity_rollup",
]
LATE_USER = "0,YK99999901,补录用户,13900001111,桃花源街道,天山堡村,2023-02-18 09:30:00,已通过\r\n"
CORRECTED = "渝快社区注册用户_20230218_补录.csv"


def _corrected_export(landing: Path) -> None:
    """The day's export made again an hour later with one user more (one export stands for a day: it replaces the
    first one whole)."""
    raw = (landing / "渝快社区注册用户_20230218.csv").read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "gb18030"
    lines = raw.decode(encoding).splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if ",YK" in line)
    users = sum(",YK" in line for line in lines)
    text = "".join([*lines[: last + 1], LATE_USER, *lines[last + 1 :]])
    text = text.replace("导出时间：2023-02-19 08:00", "导出时间：2023-02-19 09:00").replace(
        f"共{users}人", f"共{users + 1}人"
    )
    (landing / CORRECTED).write_bytes(text.encode(encoding))


def _child(mode: str, argument: str, runner, tmp_path: Path, database_url: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        YUKUAI_LANDING_DIR=str(runner.resource.landing_dir),
        YUKUAI_DATABASE_URL=database_url,
        YUKUAI_REPORT_DIR=str(tmp_path / "reports"),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(CHILD.parent), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.Popen(
        [sys.executable, str(CHILD), mode, argument, "--", "materialize", "--date", SECOND],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _snapshot(runner, tables=PARTITIONED) -> dict[str, pd.DataFrame]:
    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sort_values(list(frame.columns)).reset_index(drop=True)

    return {t: ordered(runner.table(t)) for t in tables}


def _assert_same(before: dict, after: dict) -> None:
    for table, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[table], obj=table)


def _county_completed(runner, day: str) -> int:
    progress = runner.table("township_progress")
    row = progress[(progress["snapshot_date"].astype(str) == day) & (progress["township"] == "合计")]
    return int(row["completed"].iloc[0])


def test_sigkill_in_the_middle_of_a_partition_write_leaves_the_previous_state(runner, landing, tmp_path, database_url):
    assert runner.run(FIRST).success and runner.run(SECOND).success
    before, log_before = _snapshot(runner), runner.table("ingest_log")
    completed_before = _county_completed(runner, SECOND)
    _corrected_export(landing)

    # registration_counts is replaced, and the DELETE of the day's data_quality_issues has run: then SIGKILL.
    child = _child("freeze", "data_quality_issues", runner, tmp_path, database_url)
    deadline = time.monotonic() + 300
    line = ""
    while "MID-WRITE" not in line and time.monotonic() < deadline and child.poll() is None:
        line = child.stdout.readline()
    assert "MID-WRITE" in line, f"the child never reached the write: {child.stderr.read()[-2000:]}"
    os.killpg(child.pid, signal.SIGKILL)
    assert child.wait(timeout=60) == -signal.SIGKILL
    child.stdout.close(), child.stderr.close()

    runner.warehouse.dispose()  # a fresh connection: SQLite rolls the hot journal back, PostgreSQL has aborted
    _assert_same(before, _snapshot(runner))
    log_after = runner.table("ingest_log").set_index("file_name")
    assert set(log_after.index) - set(log_before["file_name"]) == {CORRECTED}
    assert log_after.loc[CORRECTED, "status"] == "landed"  # seen, not yet counted

    assert runner.run(SECOND).success
    assert _county_completed(runner, SECOND) == completed_before + 1
    assert _county_completed(runner, FIRST) == 28_632
    log = runner.table("ingest_log").set_index("file_name")
    assert log.loc[CORRECTED, "status"] == "accepted"
    assert log.loc["渝快社区注册用户_20230218.csv", "status"] == "superseded"


def test_two_runs_of_the_same_day_at_once_equal_one_run(runner, tmp_path, database_url):
    assert runner.run(FIRST).success and runner.run(SECOND).success
    single = _snapshot(runner, [*PARTITIONED, "ingest_log"])

    marks = tmp_path / "marks"
    marks.mkdir()
    children = [_child("collide", str(marks), runner, tmp_path / f"run{i}", database_url) for i in (1, 2)]
    outcomes = [(child.wait(timeout=600), child.stderr.read()) for child in children]
    for child in children:
        child.stdout.close(), child.stderr.close()
    assert [code for code, _ in outcomes] == [0, 0], [err[-2000:] for _, err in outcomes]
    assert len(list(marks.iterdir())) == 2  # both runs reached the write of the same partition

    after = _snapshot(runner, [*PARTITIONED, "ingest_log"])
    ingest_columns = [c for c in single["ingest_log"].columns if c not in ("ingested_at",)]
    single["ingest_log"], after["ingest_log"] = (
        single["ingest_log"][ingest_columns],
        after["ingest_log"][ingest_columns],
    )
    _assert_same(single, after)


def test_the_local_instance_queues_one_run_per_day(tmp_path, monkeypatch):
    """The run queue (daemon: sensor and schedule) is the first guard; the database lock above the second."""
    import dagster as dg

    from yukuai_pipeline.cli.instance import prepare_dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    prepare_dagster_home()
    with dg.DagsterInstance.get() as instance:
        queue = instance.get_concurrency_config().run_queue_config
    limits = {limit["key"]: limit for limit in queue.tag_concurrency_limits}
    assert limits["dagster/partition"]["limit"] == 1
    assert limits["dagster/partition"]["value"] == {"applyLimitPerUniqueValue": True}
    assert queue.max_concurrent_runs == 2
