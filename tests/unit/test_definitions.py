import datetime as dt
import json
from zoneinfo import ZoneInfo

import dagster as dg

from support.messy import ROWS, write_csv
from yukuai_pipeline.defs.automation import daily_schedule, landing_sensor
from yukuai_pipeline.defs.resources import YukuaiResource

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_definitions_load_with_every_asset_check_job_schedule_and_sensor():
    from yukuai_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {
        "township_targets",
        "community_registry",
        "village_targets",
        "registration_counts",
        "township_progress",
        "village_progress",
        "data_quality_issues",
        "roster_completeness",
        "cadre_quotas",
        "excel_report",
        "platform_activity",
        "community_orgs",
        "cadre_registration",
        "township_scores",
        "alert_history",
    }
    assert defs.resolve_job_def("daily_refresh") is not None and defs.resolve_job_def("roster_refresh") is not None
    assert defs.resolve_schedule_def("daily_refresh_schedule") is not None
    assert defs.resolve_sensor_def("landing_sensor") is not None
    checks = {k.name for k in graph.asset_check_keys}
    assert {
        "registration_files_usable",
        "places_matched",
        "totals_reconcile",
        "completed_not_falling",
        "target_matches_rule",
        "roster_file_usable",
        "roster_complete",
        "supervisor_not_on_committee",
    } <= checks


def test_schedule_runs_the_days_own_partition_at_0830_shanghai_and_only_on_campaign_days():
    from yukuai_pipeline.definitions import defs

    schedule = defs.resolve_schedule_def("daily_refresh_schedule")

    def tick(day: dt.date):
        when = dt.datetime(day.year, day.month, day.day, 8, 30, tzinfo=SHANGHAI)
        return schedule.evaluate_tick(
            dg.build_schedule_context(scheduled_execution_time=when, repository_def=defs.get_repository_def())
        )

    assert [r.partition_key for r in tick(dt.date(2023, 3, 1)).run_requests] == ["2023-03-01"]
    assert [r.partition_key for r in tick(dt.date(2023, 10, 31)).run_requests] == ["2023-10-31"]
    for outside in (dt.date(2023, 2, 16), dt.date(2023, 11, 1), dt.date(2026, 12, 6)):
        result = tick(outside)
        assert not result.run_requests
        assert result.skip_message == f"{outside} 不在活动日期内（2023-02-17 至 2023-10-31）/ not a campaign day"
    assert daily_schedule.cron_schedule == "30 8 * * *" and daily_schedule.execution_timezone == "Asia/Shanghai"


def test_partitions_are_the_campaigns_days_and_an_extension_adds_days():
    from yukuai_pipeline import settings
    from yukuai_pipeline.campaign import parse
    from yukuai_pipeline.defs.partitions import daily_partitions

    keys = daily_partitions.get_partition_keys()
    assert (keys[0], keys[-1], len(keys)) == ("2023-02-17", "2023-10-31", 257)
    campaign = settings.campaign()
    doc = settings.read_yaml(campaign.folder / "campaign.yaml")
    assert parse(doc, campaign.folder).last_day == dt.date(2023, 10, 31)
    assert parse({**doc, "extended_to": "2023-11-30"}, campaign.folder).last_day == dt.date(2023, 11, 30)
    assert parse({**doc, "extended_to": "2023-10-01"}, campaign.folder).last_day == dt.date(2023, 10, 31)


def _tick(folder, tmp_path, cursor=None):
    resource = YukuaiResource(
        landing_dir=str(folder), database_url=f"sqlite:///{tmp_path}/w.db", report_dir=str(tmp_path)
    )
    from yukuai_pipeline.definitions import defs

    context = dg.build_sensor_context(cursor=cursor, resources={"yukuai": resource}, definitions=defs)
    result = landing_sensor.evaluate_tick(context)
    return result.run_requests, result.cursor


def test_sensor_requests_one_run_per_new_file_and_none_for_a_repeat(tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    write_csv(folder / "注册用户_20230217.csv", ROWS)
    write_csv(folder / "注册用户_20230218.csv", ROWS)
    write_csv(folder / "注册用户_没有日期.csv", ROWS)
    requests, cursor = _tick(folder, tmp_path)
    assert sorted(r.partition_key for r in requests) == ["2023-02-17", "2023-02-18"]
    assert len(json.loads(cursor)) == 3  # the undated file is remembered so it is not re-reported every tick

    requests, cursor = _tick(folder, tmp_path, cursor)
    assert requests == []

    write_csv(folder / "注册用户_20230218.csv", ROWS[:2])  # content changed
    write_csv(folder / "注册用户_2099-01-01.csv", ROWS)  # a partition that does not exist yet
    requests, cursor = _tick(folder, tmp_path, cursor)
    assert [r.partition_key for r in requests] == ["2023-02-18"]
    assert "注册用户_2099-01-01.csv" not in json.loads(cursor)


def test_sensor_starts_from_what_the_warehouse_already_ingested(tmp_path, landing):
    from support.runner import PipelineRunner

    runner = PipelineRunner(landing, f"sqlite:///{tmp_path}/w.db", tmp_path)
    assert runner.run("2023-02-17").success
    requests, _ = _tick(landing, tmp_path)
    days = sorted({r.partition_key for r in requests})
    assert "2023-02-17" not in days and days[0] == "2023-02-18"


def test_the_city_location_has_only_the_rollup_and_runs_it_at_0930_on_campaign_days():
    from yukuai_pipeline.city_definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"city_progress"}  # no county asset: the city's UI shows no township, village or person
    schedule = defs.resolve_schedule_def("city_refresh_schedule")
    assert schedule.cron_schedule == "30 9 * * *" and schedule.execution_timezone == "Asia/Shanghai"

    def tick(day: dt.date):
        when = dt.datetime(day.year, day.month, day.day, 9, 30, tzinfo=SHANGHAI)
        return schedule.evaluate_tick(
            dg.build_schedule_context(scheduled_execution_time=when, repository_def=defs.get_repository_def())
        )

    assert [r.partition_key for r in tick(dt.date(2023, 3, 30)).run_requests] == ["2023-03-30"]
    assert (
        tick(dt.date(2026, 12, 6)).skip_message
        == "2026-12-06 不在活动日期内（2023-02-17 至 2023-10-31）/ not a campaign day"
    )


def test_every_county_job_carries_its_county(tmp_path):
    from yukuai_pipeline.definitions import defs
    from yukuai_pipeline.defs.resources import CAMPAIGN_TAG, COUNTY_TAG

    for name in ("daily_refresh", "roster_refresh", "targets_refresh", "alert_history_refresh"):
        tags = defs.resolve_job_def(name).tags
        assert tags[COUNTY_TAG] == "500242" and tags[CAMPAIGN_TAG].endswith("assets/campaigns/500242"), name


def test_the_city_location_loads_where_no_county_is_in_use():
    """A city deployment has every county's folder and no YUKUAI_COUNTY: the city's location reads no campaign."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "YUKUAI_COUNTY": "509999"}  # names no folder: asking for "the campaign in use" would fail
    env.pop("YUKUAI_ASSETS_DIR", None)
    code = "from yukuai_pipeline.city_definitions import defs; print(defs.resolve_job_def('city_refresh').name)"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "city_refresh", done.stderr[-2000:]


def test_county_in_folder_settings_and_report_links(monkeypatch, tmp_path):
    from yukuai_pipeline.settings import Settings

    monkeypatch.setenv("YUKUAI_LANDING_DIR", "/srv/yukuai/{county}/landing")
    monkeypatch.setenv("YUKUAI_REPORT_DIR", "/srv/yukuai/{county}/reports")
    settings = Settings.from_env()
    assert str(settings.landing_dir) == "/srv/yukuai/500242/landing"
    assert str(settings.report_dir) == "/srv/yukuai/500242/reports"
    resource = YukuaiResource.from_env()
    assert resource.landing_dir == "/srv/yukuai/{county}/landing"  # kept: each run's county fills it in
    linked = YukuaiResource(
        landing_dir="-", database_url="sqlite://", report_dir="-", report_base_url="https://{county}.yk.gov.cn/reports"
    )
    assert linked.report_url(tmp_path / "酉阳县报表.xlsx") == (
        "https://500242.yk.gov.cn/reports/%E9%85%89%E9%98%B3%E5%8E%BF%E6%8A%A5%E8%A1%A8.xlsx"
    )


def test_warehouse_roles_prints_the_row_level_security_of_a_county(capsys):
    from yukuai_pipeline.cli import main

    assert main(["warehouse-roles", "--county", "500242", "--role", "yukuai_500242"]) == 0
    out = capsys.readouterr().out
    assert (
        'CREATE POLICY "county_500242" ON "township_progress" TO "yukuai_500242" '
        "USING (county_code = '500242') WITH CHECK (county_code = '500242');"
    ) in out
    assert main(["warehouse-roles", "--county", "酉阳", "--role", "x"]) == 2
