"""Only what changed is recomputed (steps/unchanged.py), on SQLite and PostgreSQL: days whose reference files did not
change take the rows of the day that computed them — the same rows a full recompute gives — and say so in the UI;
a reference file that changes, or rows no longer as recorded, make the step compute again."""

import contextlib
import datetime as dt
import uuid

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.support.runner import PipelineRunner, check_evaluation
from yukuai_pipeline.contracts import TABLES
from yukuai_pipeline.defs.outcomes import UNCHANGED_KEY
from yukuai_pipeline.warehouse import Replacement

DAYS = ["2023-02-17", "2023-02-18", "2023-02-19"]
REUSED = ["community_registry", "village_targets", "roster_completeness", "platform_activity", "community_orgs"]
MOMENTS = {"ingest_log": ["ingested_at"], "input_snapshots": ["stored_at"]}  # when, not what


def _dump(runner) -> dict[str, pd.DataFrame]:
    out = {}
    for table in TABLES:
        if table in ("step_runs", "step_versions"):
            continue
        frame = runner.table(table).drop(columns=MOMENTS.get(table, []))
        out[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def _computed_on(runner, step: str) -> dict[str, str]:
    runs = runner.table("step_runs", step=step)
    return {str(r.snapshot_date): str(r.computed_on) for r in runs.itertuples()}


def _materialization(result, asset: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return event.materialization.metadata


@pytest.fixture
def three_days(runner):
    results = [runner.run(day) for day in DAYS]
    assert all(r.success for r in results)
    return runner, results


def test_reused_days_hold_exactly_what_a_full_recompute_gives(three_days, landing, database_url, tmp_path, monkeypatch):
    runner, _ = three_days
    for step in REUSED:
        assert _computed_on(runner, step) == dict.fromkeys(DAYS, DAYS[0]), step
    reused = _dump(runner)
    assert len(reused["roster_members"]) > 0 and set(reused["roster_members"]["snapshot_date"].astype(str)) == set(DAYS)

    monkeypatch.setenv("YUKUAI_RECOMPUTE", "1")
    with _second_warehouse(database_url, tmp_path) as url:
        again = PipelineRunner(landing, url, tmp_path / "recomputed")
        assert all(again.run(day).success for day in DAYS)
        assert again.table("step_runs").empty and again.table("step_versions").empty  # reuse off: nothing recorded
        recomputed = _dump(again)
        again.warehouse.dispose()
    for table, frame in reused.items():
        pd.testing.assert_frame_equal(frame, recomputed[table], obj=table, check_dtype=False)


@contextlib.contextmanager
def _second_warehouse(database_url: str, tmp_path):
    """Another empty warehouse of the same kind: a second SQLite file, or a second PostgreSQL schema."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/recomputed.db"
        return
    base = database_url.split("options=")[0].rstrip("?&")
    schema = f"yk_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def test_a_reused_day_says_since_when_in_the_ui_and_repeats_the_checks(three_days, monkeypatch):
    runner, (first, second, _) = three_days
    assert UNCHANGED_KEY not in _materialization(first, "roster_completeness")
    said = _materialization(second, "roster_completeness")[UNCHANGED_KEY].value
    assert said.startswith("输入自 2023-02-17 起未变，沿用当日算出的结果，未重算")
    assert _materialization(second, "roster_completeness")["dagster/row_count"].value == (
        _materialization(first, "roster_completeness")["dagster/row_count"].value
    )
    before, after = check_evaluation(first, "roster_complete"), check_evaluation(second, "roster_complete")
    assert after.passed == before.passed
    assert (
        after.description == before.description.replace("2023-02-17：", "2023-02-18：") + "（输入自 2023-02-17 起未变）"
    )
    assert after.metadata["village_count"] == before.metadata["village_count"]
    # the registration steps compute every day: their export is new every day
    assert UNCHANGED_KEY not in _materialization(second, "registration_counts")
    # a day run again keeps its rows and what it says (a stored-once table's day is its own source: nothing copied)
    again = runner.run(DAYS[1])
    assert again.success and _materialization(again, "roster_completeness")[UNCHANGED_KEY].value == said
    for step in REUSED:
        assert _computed_on(runner, step) == dict.fromkeys(DAYS, DAYS[0]), step
    assert (
        len(runner.table("roster_members", snapshot_date=dt.date(2023, 2, 18)))
        == len(runner.table("roster_members", snapshot_date=dt.date(2023, 2, 17)))
        > 0
    )
    # recomputed in full, a day no longer offers its rows to others (they are no longer what its record said)
    monkeypatch.setenv("YUKUAI_RECOMPUTE", "1")
    assert runner.run(DAYS[2]).success
    assert set(runner.table("step_runs")["snapshot_date"].astype(str)) == set(DAYS[:2])


def test_a_changed_registry_recomputes_it_and_every_step_reading_it(runner, landing):
    assert runner.run(DAYS[0]).success
    book = openpyxl.load_workbook(landing / "社区基本信息_2023-02-17.xlsx")
    sheet = book.active
    header_row = next(r for r in sheet.iter_rows(min_row=1, max_row=10) if any(c.value == "户数" for c in r))
    column = next(c.column for c in header_row if c.value == "户数")
    cell = sheet.cell(row=header_row[0].row + 1, column=column)
    cell.value = int(cell.value) + 7
    book.save(landing / "社区基本信息_2023-02-18.xlsx")
    assert runner.run(DAYS[1]).success and runner.run(DAYS[2]).success
    for step in REUSED:  # the registry itself, and the steps reading the registry of the day
        assert _computed_on(runner, step) == {DAYS[0]: DAYS[0], DAYS[1]: DAYS[1], DAYS[2]: DAYS[1]}, step
    registry = runner.table("community_registry")
    households = registry.groupby("snapshot_date")["households"].sum()
    assert households[dt.date(2023, 2, 18)] == households[dt.date(2023, 2, 17)] + 7


def test_rows_no_longer_as_recorded_are_computed_again(runner):
    assert runner.run(DAYS[0]).success
    warehouse = runner.warehouse
    versions = warehouse.read("step_versions", {"step": "platform_activity"})
    recorded = versions["outputs"].str.replace('"platform_activity", {}, ', '"platform_activity", {}, 1')
    assert (recorded != versions["outputs"]).all()  # 1278 rows recorded where the day holds 278
    warehouse.replace([Replacement("step_versions", versions.assign(outputs=recorded), upsert=True)])
    assert runner.run(DAYS[1]).success
    assert _computed_on(runner, "platform_activity") == {DAYS[0]: DAYS[0], DAYS[1]: DAYS[1]}
    assert _computed_on(runner, "community_orgs") == {DAYS[0]: DAYS[0], DAYS[1]: DAYS[0]}
