"""Two counties in one warehouse, each run as its own county (its campaign folder, landing and report folders):
酉阳县 from its notice and 演示县 (509901, fictional) imported from its own notice, half of whose townships carry
酉阳县's names. Their 龙潭镇 never merge, each county's workbook holds only its own places, and the city's
rollup and workbook hold only the counties' totals."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from yukuai_pipeline import settings
from yukuai_pipeline.demo.second_county import CODE, NOTICE_NAME, TOWNSHIPS, attachment_rows
from yukuai_pipeline.warehouse import Warehouse

DAY = "2023-02-17"
YOUYANG = "500242"


def _yukuai(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "yukuai_pipeline.cli", *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode in (0, 3), f"yukuai {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def city(tmp_path_factory, demo_files) -> dict:
    root = tmp_path_factory.mktemp("city")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("YUKUAI_", "DAGSTER_"))}
    base |= {"YUKUAI_SETTLE_SECONDS": "0", "YUKUAI_DATABASE_URL": f"sqlite:///{root}/warehouse.db"}
    base["YUKUAI_CITY_REPORT_DIR"] = str(root / "city" / "reports")
    youyang = base | {
        "YUKUAI_LANDING_DIR": str(root / YOUYANG / "landing"),
        "YUKUAI_REPORT_DIR": str(root / YOUYANG / "reports"),
        "DAGSTER_HOME": str(root / YOUYANG / "dagster_home"),
    }
    shutil.copytree(demo_files, youyang["YUKUAI_LANDING_DIR"])
    other = base | {
        "YUKUAI_ASSETS_DIR": str(root / CODE / "campaign"),
        "YUKUAI_LANDING_DIR": str(root / CODE / "landing"),
        "YUKUAI_REPORT_DIR": str(root / CODE / "reports"),
        "DAGSTER_HOME": str(root / CODE / "dagster_home"),
    }
    _yukuai(base, "demo-notice", "--out", str(root / CODE / "notice"))
    notice = str(root / CODE / "notice" / NOTICE_NAME)
    _yukuai(base, "campaign", "import", notice, "--county-code", CODE, "--out", other["YUKUAI_ASSETS_DIR"])
    _yukuai(other, "demo-data", "--days", "1")
    _yukuai(youyang, "materialize", "--date", DAY)
    _yukuai(other, "materialize", "--date", DAY)
    printed = _yukuai(base, "city", "--date", DAY)
    return {"root": root, "url": base["YUKUAI_DATABASE_URL"], "youyang": youyang, "other": other, "printed": printed}


def _attachment_completed(township: str) -> int:
    table = pd.read_csv(settings.assets_root() / "campaigns" / YOUYANG / "attachment_2023.csv")
    return int(table.set_index("township").loc[township, "completed_20230217"])


def test_the_two_counties_longtan_stay_apart_with_each_countys_own_numbers(city):
    progress = Warehouse(city["url"], county_code=None).read("township_progress")
    longtan = progress[progress["township"] == "龙潭镇"].set_index("county_code")["completed"].to_dict()
    theirs = {row[1]: row[4] for row in attachment_rows()}
    assert longtan == {YOUYANG: _attachment_completed("龙潭镇"), CODE: theirs["龙潭镇"]}
    totals = progress[progress["township"] == "合计"].set_index("county_code")["completed"].to_dict()
    assert totals == {YOUYANG: 28_632, CODE: sum(theirs.values())}  # 28,632: the notice's 截至2月17日
    own = Warehouse(city["url"], county_code=CODE).read("township_progress")
    # the county's handle sees its own rows only; none unmatched: its exports write its own name before a township
    assert set(own["township"]) == {*TOWNSHIPS, "合计"}


def test_the_two_longtan_have_their_own_codes_from_the_list_and_from_the_registry(city):
    progress = Warehouse(city["url"], county_code=None).read("township_progress")
    named = progress[progress["township"] != "合计"]
    codes = named.groupby("county_code")["township_code"].agg(lambda c: {str(v)[:6] for v in c})
    assert codes.to_dict() == {YOUYANG: {YOUYANG}, CODE: {CODE}}  # every township has one, its county's
    assert progress.loc[progress["township"] == "合计", "township_code"].isna().all()
    longtan = named[named["township"] == "龙潭镇"].set_index("county_code")["township_code"]
    # 酉阳县's from its township_codes.csv (the statistics bureau's); 演示县 has no list: its registry's codes
    registry = Warehouse(city["url"], county_code=CODE).read("community_registry", {"snapshot_date": DAY})
    theirs = registry.loc[registry["township"] == "龙潭镇", "village_code"].str[:9].unique().tolist()
    assert longtan.to_dict() == {YOUYANG: "500242101", CODE: theirs[0]} and len(theirs) == 1
    villages = Warehouse(city["url"], county_code=None).read("village_progress").dropna(subset=["village_code"])
    assert (villages["village_code"].str[:9] == villages["township_code"]).all()


def test_each_countys_villages_and_targets_are_its_own(city):
    villages = Warehouse(city["url"], county_code=None).read("village_progress")
    codes = villages.groupby("county_code")["village_code"].agg(lambda c: {str(v)[:6] for v in c.dropna()})
    assert codes.to_dict() == {YOUYANG: {YOUYANG}, CODE: {CODE}}
    targets = Warehouse(city["url"], county_code=None).read("county_campaigns").set_index("county_code")
    assert targets.loc[YOUYANG, "target"] == 102_476 and targets.loc[CODE, "short_name"] == "演示县"


def test_the_city_rollup_adds_the_counties_totals(city):
    rollup = Warehouse(city["url"], county_code=None).read("city_progress").set_index("county_code")
    other = sum(row[4] for row in attachment_rows())
    assert rollup.loc[YOUYANG, "completed"] == 28_632 and rollup.loc[CODE, "completed"] == other
    assert rollup.loc["500000", "completed"] == 28_632 + other
    assert rollup.loc["500000", "target"] == 102_476 + sum(row[3] for row in attachment_rows())
    assert set(rollup["status"]) == {"当日"}
    assert "全市合计（500000）" in city["printed"]


def _cells(path: Path) -> str:
    workbook = load_workbook(path, read_only=True)
    return "\n".join(str(v) for ws in workbook for row in ws.iter_rows(values_only=True) for v in row if v is not None)


ID_OR_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dXx])(?!\d)")


def test_each_report_folder_holds_only_its_countys_places_and_the_citys_only_totals(city):
    root = city["root"]
    youyang_only = {"桃花源街道", "龚滩镇"}
    other_only = set(TOWNSHIPS[6:])
    (youyang_book,) = (root / YOUYANG / "reports").glob("*.xlsx")
    (other_book,) = (root / CODE / "reports").glob("*.xlsx")
    (city_book,) = (root / "city" / "reports").glob("*.xlsx")
    youyang_text, other_text, city_text = _cells(youyang_book), _cells(other_book), _cells(city_book)
    assert youyang_only <= set(re.findall(r"\S+", youyang_text)) and not any(t in youyang_text for t in other_only)
    assert all(t in other_text for t in other_only) and not any(t in other_text for t in youyang_only)
    other_villages = Warehouse(city["url"], county_code=CODE).read("village_progress")["village"].dropna()
    youyang_cells = set(youyang_text.split("\n"))
    assert not (set(other_villages) - set(_youyang_villages(city))) & youyang_cells
    assert "演示县" in city_text and "酉阳县" in city_text
    assert not any(t in city_text for t in (*TOWNSHIPS, *youyang_only)), "the city's workbook names no township"
    assert not ID_OR_PHONE.search(city_text)
    assert youyang_book.stat().st_mode & 0o777 == 0o640 and city_book.parent.stat().st_mode & 0o777 == 0o750


def _youyang_villages(city) -> list[str]:
    return Warehouse(city["url"], county_code=YOUYANG).read("village_progress")["village"].dropna().tolist()


def test_the_city_location_materializes_the_rollup_with_its_check(city, monkeypatch):

    from yukuai_pipeline.city_definitions import defs
    from yukuai_pipeline.defs.resources import YukuaiResource

    monkeypatch.setenv("YUKUAI_CITY_REPORT_DIR", str(city["root"] / "city" / "ui_reports"))
    resource = YukuaiResource(landing_dir="-", database_url=city["url"], report_dir="-")
    job = defs.resolve_job_def("city_refresh")
    result = job.execute_in_process(partition_key=DAY, resources={"yukuai": resource}, raise_on_error=False)
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.passed and "2 个区县都有当天的合计" in str(check.description)
    (workbook,) = (city["root"] / "city" / "ui_reports").glob("*.xlsx")
    assert "龙潭镇" not in _cells(workbook) and "全市合计" in _cells(workbook)


def test_one_process_serves_both_counties_runs_by_their_tags(city, tmp_path):
    """As a Celery worker does: the process's own environment is 酉阳县's, yet a run tagged with 演示县's campaign
    reads 演示县's folders (YUKUAI_*_DIR with {county}) and writes 演示县's rows."""
    import dagster as dg

    from yukuai_pipeline.defs.assets import ALL_ASSETS
    from yukuai_pipeline.defs.automation import daily_refresh
    from yukuai_pipeline.defs.resources import CAMPAIGN_TAG, COUNTY_TAG, YukuaiResource

    for code, env in ((YOUYANG, city["youyang"]), (CODE, city["other"])):
        shutil.copytree(env["YUKUAI_LANDING_DIR"], tmp_path / code / "landing")
    url = f"sqlite:///{tmp_path}/warehouse.db"
    resource = YukuaiResource(
        landing_dir=f"{tmp_path}/{{county}}/landing", database_url=url, report_dir=f"{tmp_path}/{{county}}/reports"
    )
    job = dg.Definitions(assets=ALL_ASSETS, jobs=[daily_refresh], resources={"yukuai": resource}).resolve_job_def(
        "daily_refresh"
    )
    other = {COUNTY_TAG: CODE, CAMPAIGN_TAG: city["other"]["YUKUAI_ASSETS_DIR"]}
    with dg.DagsterInstance.ephemeral() as instance:
        for tags in ({}, other):
            assert job.execute_in_process(partition_key=DAY, instance=instance, tags=tags).success
        runs = instance.get_runs()
    assert sorted(r.tags[COUNTY_TAG] for r in runs) == sorted([YOUYANG, CODE])  # the job's own tag, or the run's
    rows = Warehouse(url, county_code=None).read("township_progress", {"township": "合计"})
    assert rows.set_index("county_code")["completed"].to_dict() == {
        YOUYANG: 28_632,
        CODE: sum(row[4] for row in attachment_rows()),
    }
    assert [p.name[:3] for p in (tmp_path / CODE / "reports").glob("*.xlsx")] == ["演示县"]
    assert [p.name[:3] for p in (tmp_path / YOUYANG / "reports").glob("*.xlsx")] == ["酉阳县"]


def test_a_worker_serving_every_county_refuses_a_run_that_names_none(tmp_path, monkeypatch):
    import dagster as dg

    from yukuai_pipeline.defs.assets import township_targets
    from yukuai_pipeline.defs.resources import YukuaiResource

    monkeypatch.setenv("YUKUAI_SERVES_EVERY_COUNTY", "1")
    resource = YukuaiResource(landing_dir=str(tmp_path), database_url=f"sqlite:///{tmp_path}/w.db", report_dir="-")
    result = dg.materialize([township_targets], resources={"yukuai": resource}, raise_on_error=False)
    assert not result.success  # the asset graph's run carries no county tag
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "没有区县标签" in str(failure.event_specific_data.error)
    assert Warehouse(f"sqlite:///{tmp_path}/w.db", county_code=None).read("township_targets").empty
    tagged = {"yukuai/county": YOUYANG, "yukuai/campaign": str(settings.assets_root() / "campaigns" / YOUYANG)}
    assert dg.materialize([township_targets], resources={"yukuai": resource}, tags=tagged).success
