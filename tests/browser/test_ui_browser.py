"""The data officer's flow in a real browser: catalog, asset graph, materialize the latest day, read a WARN check.

One `dagster dev` for the module (it takes 20-40 s to come up on 2 cores). Screenshots go to a temporary folder;
`make screenshots` sets YUKUAI_SCREENSHOT_DIR=docs to refresh the README's two pictures.
"""

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.browser import CHROMIUM_ARGS, DagsterDev, chromium_path, free_port
from yukuai_pipeline import settings
from yukuai_pipeline.defs.assets import GROUP_LABELS
from yukuai_pipeline.defs.partitions import daily_partitions
from yukuai_pipeline.warehouse import Warehouse

pytestmark = pytest.mark.browser

FIRST_LOAD_MS = 180_000  # the first page waits for the code server to load the definitions
RUN_TIMEOUT_S = 600
VIEWPORT = {"width": 1600, "height": 1000}
DOCS_SHOTS = {"asset-graph.png", "check-metadata.png", "dated-check.png", "alert-history.png"}


def _skip_without_chromium():
    if chromium_path() is None:
        pytest.skip("chromium is not installed (Debian package `chromium`; .ci/run installs it): no browser test")


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    target = os.environ.get("YUKUAI_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for name in DOCS_SHOTS & {p.name for p in folder.iterdir()}:
            shutil.copy2(folder / name, Path(target) / name)


@pytest.fixture(scope="module")
def ui(tmp_path_factory, demo_files):
    """The demo's first day materialized through the CLI into a temporary instance, then `dagster dev` on it."""
    _skip_without_chromium()
    root = tmp_path_factory.mktemp("ui")
    landing = root / "landing"
    landing.mkdir()
    baseline = str(settings.campaign().baseline_date)
    for path in demo_files.iterdir():  # only the first day: every landed file is then ingested, the sensor stays idle
        if baseline in path.name:
            shutil.copy2(path, landing / path.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUKUAI_ALERT", "YUKUAI_SMTP"))}
    reports_port = free_port()
    env.update(
        DAGSTER_HOME=str(root / "dagster_home"),
        YUKUAI_LANDING_DIR=str(landing),
        YUKUAI_DATABASE_URL=f"sqlite:///{root}/warehouse.db",
        YUKUAI_REPORT_DIR=str(root / "reports"),
        YUKUAI_REPORT_BASE_URL=f"http://127.0.0.1:{reports_port}",
    )
    (root / "reports").mkdir()
    yukuai = Path(sys.executable).with_name("yukuai")
    subprocess.run([str(yukuai), "materialize", "--date", baseline], env=env, check=True, capture_output=True)
    server = DagsterDev(env, root / "dagster-dev.log")
    env["YUKUAI_UI_BASE_URL"] = server.url  # the links in alerts point at this server
    # the report folder served read-only on loopback, as `make ui` does
    reports = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(reports_port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(root / "reports"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server.start()
    try:
        yield server, env
    finally:
        server.stop()
        reports.terminate()
        reports.wait(timeout=30)


@pytest.fixture(scope="module")
def page(ui):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
        yield context.new_page()
        browser.close()


def test_catalog_shows_chinese_descriptions_and_no_community_popup(ui, page, shots):
    server, _ = ui
    page.goto(f"{server.url}/assets")
    page.get_by_text("【数据接入】注册用户计数").wait_for(timeout=FIRST_LOAD_MS)
    text = page.inner_text("body")
    assert all(f"【{label}】" in text for label in GROUP_LABELS.values())
    assert "乡镇（街道）注册进度" in text and "基层队伍完整性" in text
    page.wait_for_timeout(2_500)  # the UI opens its community pop-up one second after the first page
    assert page.get_by_text("Join the Dagster community").count() == 0
    answer = page.request.post(f"{server.url}/graphql", data={"query": "{ shouldShowNux }"}).json()
    assert answer["data"]["shouldShowNux"] is False
    page.screenshot(path=shots / "catalog.png")


def test_asset_graph_shows_every_group_expanded_and_a_nodes_chinese_description(ui, page, shots):
    server, _ = ui
    # top-to-bottom fits the five groups on one screen; the UI keeps this choice in the browser's storage
    page.add_init_script("localStorage.setItem('asset-graph-direction', JSON.stringify('vertical'))")
    page.set_viewport_size({"width": 2560, "height": 1600})  # large enough for full nodes (kinds, checks)
    page.goto(f"{server.url}/asset-groups")
    page.get_by_text("reports", exact=True).first.wait_for(timeout=FIRST_LOAD_MS)
    page.keyboard.press("Alt+e")  # the graph's own shortcut: expand every group (kept in the URL)
    page.wait_for_url(re.compile(r"expanded="))
    page.reload()  # a fresh load zooms the expanded graph to fit
    for asset in ("registration_counts", "township_progress", "roster_completeness", "village_targets", "excel_report"):
        page.get_by_text(asset, exact=True).first.wait_for(timeout=FIRST_LOAD_MS)
    # node details (checks, partitions) load after the nodes themselves
    loading = page.get_by_text(re.compile(r"^Loading"))
    for _ in range(120):
        if loading.count() == 0:
            break
        page.wait_for_timeout(500)
    page.wait_for_timeout(1_000)
    page.screenshot(path=shots / "asset-graph.png")
    page.get_by_text("registration_counts", exact=True).first.click()
    page.get_by_text("【数据接入】注册用户计数").wait_for()
    assert "Registration counts: the day's landed exports" in page.inner_text("body")
    page.set_viewport_size(VIEWPORT)


def _launch_latest_partition(page, url: str) -> str:
    page.goto(f"{url}/locations/yukuai_pipeline/jobs/daily_refresh")
    page.get_by_role("button", name="Materialize all").click(timeout=FIRST_LOAD_MS)
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Latest", exact=True).click()
    dialog.get_by_role("button", name="Launch 1 run").click()
    toast = page.get_by_text(re.compile(r"Launched run [0-9a-f]+"))
    toast.wait_for()
    run_id = re.search(r"Launched run ([0-9a-f]+)", toast.inner_text()).group(1)
    page.get_by_role("link", name="View").first.click()
    return run_id


def _wait_for_run(page, run_id: str, log_tail) -> str:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        if page.get_by_text("Failure", exact=True).count():
            pytest.fail(f"run {run_id} failed:\n{log_tail()}")
        if page.get_by_text("Success", exact=True).count():
            return page.inner_text("body")
        page.wait_for_timeout(2_000)
    pytest.fail(f"run {run_id} did not finish within {RUN_TIMEOUT_S} s:\n{log_tail()}")


def test_officer_materializes_the_latest_day_and_reads_a_warn_check_naming_villages(ui, page, shots):
    server, env = ui
    latest = daily_partitions.get_last_partition_key()
    run_id = _launch_latest_partition(page, server.url)
    run_page = _wait_for_run(page, run_id, server.log_tail)
    assert latest in run_page and "daily_refresh" in run_page
    page.screenshot(path=shots / "run.png")

    page.goto(f"{server.url}/assets/roster_completeness?view=checks")
    page.get_by_text("roster_complete", exact=True).first.click(timeout=FIRST_LOAD_MS)
    page.get_by_text("严重程度 / severity").wait_for()
    completeness = Warehouse(env["YUKUAI_DATABASE_URL"]).read(
        "roster_completeness", {"snapshot_date": dt.date.fromisoformat(latest)}
    )
    broken = completeness[completeness["status"] != "完整"]
    first = min(zip(broken["township"], broken["village"]))
    metadata = page.inner_text("body")
    assert "WARN" in metadata and f"{first[0]}{first[1]}（" in metadata
    assert f"{broken[['township', 'village']].drop_duplicates().shape[0]} 个村（社区）基层队伍信息不完整" in metadata
    page.screenshot(path=shots / "check-metadata.png")


def test_the_officer_runs_a_campaign_day_from_the_default_dialog_and_reads_it_dated_in_chinese(ui, page, shots):
    """2023-03-30 typed into the launch dialog as it opens (the partitions are the campaign's days, so it needs no
    "Show all partitions"); the day's checks then say their date; the CLI's own run is in the job's Runs tab."""
    server, _ = ui
    day = "2023-03-30"
    page.goto(f"{server.url}/locations/yukuai_pipeline/jobs/daily_refresh")
    page.get_by_role("button", name="Materialize all").click(timeout=FIRST_LOAD_MS)
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Custom", exact=True).click()
    field = dialog.get_by_role("textbox").first
    field.fill(day)
    field.press("Enter")
    assert dialog.get_by_text("Could not find partition").count() == 0
    dialog.get_by_role("button", name="Launch 1 run").click()
    toast = page.get_by_text(re.compile(r"Launched run [0-9a-f]+"))
    toast.wait_for()
    run_id = re.search(r"Launched run ([0-9a-f]+)", toast.inner_text()).group(1)
    page.get_by_role("link", name="View").first.click()
    assert day in _wait_for_run(page, run_id, server.log_tail)

    page.goto(f"{server.url}/assets/township_progress?view=checks")
    page.get_by_text("completed_not_falling", exact=True).first.click(timeout=FIRST_LOAD_MS)
    page.get_by_text("数据日期 / data date").first.wait_for()
    # the evaluation's description can render after its metadata (CI on a loaded machine read the page in between)
    page.get_by_text(f"{day}：").first.wait_for(timeout=FIRST_LOAD_MS)
    body = page.inner_text("body")
    assert f"{day}：" in body and "完成数不下降" in body
    page.screenshot(path=shots / "dated-check.png")

    page.goto(f"{server.url}/locations/yukuai_pipeline/jobs/daily_refresh/runs")
    page.get_by_text("yukuai/trigger", exact=False).first.wait_for(timeout=FIRST_LOAD_MS)  # the CLI's run


def test_the_officer_downloads_the_days_workbook_and_finds_the_days_digest_in_the_alert_history(ui, page, shots):
    """The workbook one click away (the report server beside the UI), opened as Excel would; then, once the alert
    sensor's tick has looked at the 2023-03-30 run (every minute), its digest in alert_history."""
    import openpyxl

    server, env = ui
    day = "2023-03-30"
    page.goto(f"{server.url}/assets/excel_report?view=partitions&partition={day}")
    link = page.locator(f'a[href^="{env["YUKUAI_REPORT_BASE_URL"]}/"][href$=".xlsx"]').first
    link.wait_for(timeout=FIRST_LOAD_MS)
    with page.expect_download() as download:
        link.click()
    saved = shots / f"report-{day}.xlsx"
    download.value.save_as(saved)
    book = openpyxl.load_workbook(saved, read_only=True)
    first = book.worksheets[0]
    assert day in str(first["A1"].value) + str(first["A2"].value)
    book.close()

    deadline = time.monotonic() + 300  # the sensor ticks every minute; its refresh run follows
    while time.monotonic() < deadline:
        page.goto(f"{server.url}/assets/alert_history?view=events")
        page.get_by_text("alert_history").first.wait_for(timeout=FIRST_LOAD_MS)
        page.wait_for_timeout(3_000)  # the newest event's metadata loads after the list
        show = page.get_by_text("[Show Markdown]")
        if show.count():
            show.first.click()  # the latest alerts table opens in a dialog
            page.wait_for_timeout(1_000)
        body = page.inner_text("body")
        if "检查日报" in body and day in body:
            break
        page.wait_for_timeout(10_000)
    else:
        page.screenshot(path=shots / "alert-history-missing.png", full_page=True)
        pytest.fail(f"no digest of {day} in alert_history:\n{server.log_tail()}")
    page.screenshot(path=shots / "alert-history.png")
