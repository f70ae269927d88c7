"""Per-township returns (乡镇回执): one workbook per attachment township holding only its own rows, a deterministic
zip of them all, private modes, safe file names and literal text. No Dagster: hand-made frames of three townships."""

import datetime as dt
import multiprocessing
import stat
import time
import zipfile

import openpyxl
import pandas as pd
import pytest

from yukuai_pipeline import settings
from yukuai_pipeline.metrics.data_dates import data_dates
from yukuai_pipeline.report import township_returns
from yukuai_pipeline.report.data import ReportData
from yukuai_pipeline.report.township_returns import safe_file_stem, township_workbook, write_township_returns

DAY = dt.date(2023, 2, 17)
HYPERLINK = '=HYPERLINK("http://x","点我")'
SHEETS = ["本乡镇概况", "村（社区）进度", "基层队伍缺口", "干部分配任务", "数据问题"]


def townships(third: str = "浪坪乡") -> pd.DataFrame:
    """township_progress of the day: three attachment townships (listed out of seq order), 未匹配 and 合计."""
    columns = ["seq", "township", "target", "completed", "gap", "completion_rate", "rank"]
    columns += ["new_this_week", "last_week_rank", "rank_change", "status", "required_daily", "new_7d_avg"]
    rows = [
        (3, third, 500, 50, 450, 0.1, 3, None, None, None, "严重滞后", 15.0, 0.5),
        (1, "桃花源街道", 1000, 400, 600, 0.4, 1, 50, 2, 1, "按期", 8.5, 9.0),
        (2, "龙潭镇", 800, 200, 600, 0.25, 2, 20, 1, -1, "滞后", 8.0, 3.5),
        (None, "未匹配", 0, 12, 0, None, None, None, None, None, None, None, None),
        (None, "合计", 2300, 662, 1650, 662 / 2300, None, 70, None, None, None, None, None),
    ]
    frame = pd.DataFrame(rows, columns=columns).assign(snapshot_date=DAY, last_week_date=DAY - dt.timedelta(days=7))
    return frame.astype({"seq": "Int64", "rank": "Int64", "new_this_week": "Int64", "rank_change": "Int64"})


def villages() -> pd.DataFrame:
    columns = ["township", "village", "target", "completed", "gap", "completion_rate", "rank", "status"]
    rows = [
        ("桃花源街道", "桃花源社区", 600, 150, 450, 0.25, 2, "滞后"),
        ("桃花源街道", HYPERLINK, 400, 250, 150, 0.625, 1, "按期"),
        ("龙潭镇", "龙潭村", 800, 200, 600, 0.25, 1, "滞后"),
        ("未匹配", "未匹配", None, 12, None, None, None, None),
    ]
    return pd.DataFrame(rows, columns=columns).assign(snapshot_date=DAY, pending=0)


def roster() -> pd.DataFrame:
    columns = ["township", "village", "role_group", "role_group_label", "actual", "status", "reasons"]
    rows = [
        ("桃花源街道", "桃花源社区", "committee", "“两委”成员", 5, "完整", None),
        ("桃花源街道", "桃花源社区", "worker", "社区专职工作者", 0, "不完整", "缺少专职工作者"),
        ("龙潭镇", "龙潭村", "supervisor", "务监会成员", 3, "有误", "@身份证号校验失败"),
        ("浪坪乡", "浪坪村", "committee", "“两委”成员", 7, "完整", None),
    ]
    return pd.DataFrame(rows, columns=columns).assign(invalid_records=0, required_min=3, required_max=9)


def quotas() -> pd.DataFrame:
    columns = ["township", "village", "cadre_name", "roles", "village_target", "quota"]
    rows = [
        ("桃花源街道", "桃花源社区", "张三", "书记", 600, 300),
        ("桃花源街道", "桃花源社区", "李四", "委员", 600, 300),
        ("龙潭镇", "龙潭村", "王五", "主任", 800, 800),
    ]
    return pd.DataFrame(rows, columns=columns)


def issues() -> pd.DataFrame:
    columns = ["check", "severity", "township", "village", "row_number", "field", "value_masked", "message"]
    rows = [
        ("phone", "WARN", "桃花源街道", "桃花源社区", 5, "手机号", "138****0000", "手机号位数不对"),
        ("nickname", "ERROR", "龙潭镇", "龙潭村", 9, "昵称", "=1+1", "昵称像公式"),
        ("bad_file", "ERROR", None, None, None, None, None, "整份文件无法读取"),  # a whole file: no township
        ("unmatched", "WARN", "未匹配", None, 11, "乡镇", "某某乡", "无法匹配"),
    ]
    frame = pd.DataFrame(rows, columns=columns).astype({"row_number": "Int64"})
    quarantined = frame["severity"] == "ERROR"
    return frame.assign(stage="registrations", source_file="注册_0217.xlsx", quarantined=quarantined, snapshot_date=DAY)


def report_data(**changes) -> ReportData:
    fields = {
        "snapshot_date": DAY,
        "campaign": settings.campaign(),
        "townships": townships(),
        "villages": villages(),
        "roster": roster(),
        "roster_summary": pd.DataFrame(),
        "issues": issues(),
        "quotas": quotas(),
        "county_history": pd.DataFrame(),
        "data_dates": data_dates(DAY, {"registrations": DAY, "roster": DAY - dt.timedelta(days=100)}, {}),
    }
    return ReportData(**{**fields, **changes})


@pytest.fixture(autouse=True)
def default_modes(monkeypatch):
    monkeypatch.delenv("YUKUAI_FILE_MODE", raising=False)
    monkeypatch.delenv("YUKUAI_DIR_MODE", raising=False)


@pytest.fixture
def written(tmp_path):
    paths, archive = write_township_returns(report_data(), tmp_path / "out")
    return tmp_path / "out", paths, archive


def _books(paths) -> dict[str, openpyxl.Workbook]:
    return {p.name.split("_回执_")[0]: openpyxl.load_workbook(p) for p in paths}


def _column(ws, col: int, first_row: int = 2) -> list:
    return [ws.cell(row, col).value for row in range(first_row, ws.max_row + 1)]


def _overview(ws) -> dict[str, tuple]:
    return {ws.cell(row, 1).value: (ws.cell(row, 2).value, ws.cell(row, 3).value) for row in range(4, 15)}


def test_one_file_per_attachment_township_in_seq_order(written):
    out, paths, archive = written
    folder = out / "乡镇回执_2023-02-17"
    expected = [f"{t}_回执_2023-02-17.xlsx" for t in ("桃花源街道", "龙潭镇", "浪坪乡")]
    assert [p.name for p in paths] == expected and all(p.parent == folder for p in paths)
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)  # no 合计, 未匹配 or temporary file
    assert sorted(p.name for p in out.iterdir()) == ["乡镇回执_2023-02-17", "酉阳县乡镇回执_2023-02-17.zip"]
    assert archive == out / "酉阳县乡镇回执_2023-02-17.zip"
    assert openpyxl.load_workbook(paths[0]).sheetnames == SHEETS


def test_overview_holds_the_townships_own_figures(written):
    books = _books(written[1])
    frame = townships().set_index("township")
    for township, book in books.items():
        ws, row = book["本乡镇概况"], frame.loc[township]
        assert ws["A1"].value == f"{township} 渝快社区注册进度回执"
        assert ws["A2"].value == "统计截止：2023-02-17"
        got = _overview(ws)
        assert [got[k][0] for k in ("任务数（人）", "完成数", "尚差任务数", "全县排名")] == [
            row["target"], row["completed"], row["gap"], row["rank"]
        ]  # fmt: skip
        assert got["完成率"][0] == pytest.approx(row["completion_rate"])
        assert got["状态"][0] == row["status"] and got["所需日均"][0] == pytest.approx(row["required_daily"])
        assert got["日均新增（近7日）"][0] == pytest.approx(row["new_7d_avg"])
        assert got["全县排名"][1].startswith("共 3 个乡镇（街道）")  # 未匹配 and 合计 are not ranked
    assert _overview(books["龙潭镇"]["本乡镇概况"])["排名变化"][0] == -1
    assert _overview(books["桃花源街道"]["本乡镇概况"])["本周新增"] == (50, "与 2023-02-10 相比，完成数 − 上周完成数")
    assert _overview(books["浪坪乡"]["本乡镇概况"])["本周新增"] == (None, "暂无数据")


def test_overview_names_the_date_of_each_input(written):
    ws = openpyxl.load_workbook(written[1][0])["本乡镇概况"]
    lines = _column(ws, 1, first_row=16)
    assert "用户注册导出数据日期：2023-02-17" in lines
    assert "基层队伍名单数据日期：2022-11-09（100 天前，数据未更新）" in lines
    assert "平台应用明细：无数据" in lines


def test_villages_only_of_the_township_ranked_within_it(written):
    books = _books(written[1])
    ws = books["桃花源街道"]["村（社区）进度"]
    assert _column(ws, 2) == [HYPERLINK, "桃花源社区"] and _column(ws, 11) == [1, 2]  # best first
    assert _column(books["龙潭镇"]["村（社区）进度"], 2) == ["龙潭村"]
    assert books["浪坪乡"]["村（社区）进度"]["A1"].value == "本乡镇（街道）暂无村（社区）进度数据。"
    for township, book in books.items():
        assert set(_column(book["村（社区）进度"], 1)) <= {township, None}


def test_roster_gaps_quotas_and_issues_are_the_townships_own(written):
    books = _books(written[1])
    gaps = books["桃花源街道"]["基层队伍缺口"]
    assert gaps.max_row == 2 and [gaps.cell(2, c).value for c in (1, 3, 8, 9)] == [
        "桃花源街道", "社区专职工作者", "不完整", "缺少专职工作者"
    ]  # fmt: skip
    assert books["浪坪乡"]["基层队伍缺口"]["A1"].value == "本乡镇（街道）各村（社区）五类队伍均完整。"
    assert _column(books["桃花源街道"]["干部分配任务"], 3) == ["张三", "李四"]
    assert _column(books["龙潭镇"]["干部分配任务"], 6) == [800]
    assert "暂无干部分配任务" in books["浪坪乡"]["干部分配任务"]["A1"].value
    issue = books["龙潭镇"]["数据问题"]
    assert [issue.cell(1, c).value for c in (2, 7, 8, 9, 10, 11)] == [
        "来源文件", "行号", "字段", "原值（已脱敏）", "说明", "是否隔离"
    ]  # fmt: skip
    assert [issue.cell(2, c).value for c in (2, 5, 7, 8, 10, 11)] == [
        "注册_0217.xlsx", "龙潭镇", 9, "昵称", "昵称像公式", "是"
    ]  # fmt: skip
    assert issue.max_row == 2  # neither the file-level issue nor 未匹配's
    assert _column(books["桃花源街道"]["数据问题"], 9) == ["138****0000"]  # masked upstream, written as it is
    assert books["浪坪乡"]["数据问题"]["A1"].value == "本乡镇（街道）本日没有数据质量问题。"


def test_formula_like_values_stay_text(written):
    books = _books(written[1])
    village = books["桃花源街道"]["村（社区）进度"]["B2"]
    masked = books["龙潭镇"]["数据问题"]["I2"]
    reason = books["龙潭镇"]["基层队伍缺口"]["I2"]
    for cell, text in ((village, HYPERLINK), (masked, "=1+1"), (reason, "@身份证号校验失败")):
        assert cell.value == text and cell.data_type == "s" and cell.quotePrefix


def test_zip_holds_exactly_the_files_byte_for_byte(written):
    _, paths, archive = written
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist() == sorted(p.name for p in paths)
        for path in paths:
            assert zf.read(path.name) == path.read_bytes()
        assert {info.date_time for info in zf.infolist()} == {(2023, 2, 17, 0, 0, 0)}


def test_files_and_folders_are_private(written):
    out, paths, archive = written
    for path in [*paths, archive]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    for folder in (out, out / "乡镇回执_2023-02-17"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o750, folder


def test_same_data_gives_the_same_bytes(tmp_path, written):
    _, paths, archive = written
    again, again_archive = write_township_returns(report_data(), tmp_path / "again")
    assert again_archive.read_bytes() == archive.read_bytes()
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_returns_built_in_worker_processes_are_the_same_bytes(tmp_path, written, monkeypatch):
    """A city's returns are built by a process pool beside the county workbook; the files must not differ."""
    _, paths, archive = written
    monkeypatch.setattr(township_returns, "PARALLEL_FROM", 2)  # the 3 townships here go to the workers
    pools, real = [], township_returns._in_workers
    monkeypatch.setattr(township_returns, "_in_workers", lambda *args: pools.append(real(*args)) or pools[-1])
    under_way = township_returns.start_township_returns(report_data(), tmp_path / "pool", workers=2)
    again, again_archive = under_way.finish()
    assert len(pools) == 1 and isinstance(pools[0], township_returns._Pending)  # not the one-process fallback
    assert [p.name for p in again] == [p.name for p in paths]
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]
    assert again_archive.read_bytes() == archive.read_bytes()


def test_a_daemonic_process_builds_the_returns_itself(monkeypatch):
    """A Celery prefork worker is daemonic and may start no processes: the returns are built in it."""
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    assert township_returns._in_workers(report_data(), [("龙潭镇", "x.xlsx")], 2) is None


def test_rerun_replaces_the_day_and_drops_a_township_no_longer_present(written):
    out, paths, _ = written
    note = paths[0].parent / "说明.txt"
    note.write_text("不是回执")
    fewer = townships()
    fewer = fewer[fewer["township"] != "浪坪乡"]
    changed = fewer.assign(completed=fewer["completed"].where(fewer["township"] != "龙潭镇", 333))
    again, archive = write_township_returns(report_data(townships=changed), out)
    folder = paths[0].parent
    assert sorted(p.name for p in folder.glob("*.xlsx")) == sorted(p.name for p in again) and len(again) == 2
    assert note.exists()  # only returns of the day are removed
    assert _overview(openpyxl.load_workbook(again[1])["本乡镇概况"])["完成数"][0] == 333
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist() == sorted(p.name for p in again)


def test_a_hostile_township_name_cannot_leave_the_folder(tmp_path):
    out = tmp_path / "out"
    paths, archive = write_township_returns(report_data(townships=townships("../x")), out)
    folder = out / "乡镇回执_2023-02-17"
    assert paths[2] == folder / "x_回执_2023-02-17.xlsx" and paths[2].is_file()
    assert sorted(p.name for p in out.iterdir()) == sorted([folder.name, archive.name])
    assert not (tmp_path / "x_回执_2023-02-17.xlsx").exists()
    with zipfile.ZipFile(archive) as zf:
        assert all("/" not in name and not name.startswith(".") for name in zf.namelist())
    assert openpyxl.load_workbook(paths[2])["本乡镇概况"]["A1"].value == "../x 渝快社区注册进度回执"


@pytest.mark.parametrize(
    "name, stem",
    [("a/b\\c", "abc"), ("..", ""), ("桃花\x00源\u202e街道\n", "桃花源街道"), ('龙:潭*?"<>|镇. ', "龙潭镇")],
)
def test_safe_file_stem(name, stem):
    assert safe_file_stem(name) == stem


def test_names_left_empty_or_shared_get_the_seq(tmp_path):
    frame = townships("..").assign(township=lambda f: f["township"].replace("龙潭镇", "桃花源街道/"))
    paths, _ = write_township_returns(report_data(townships=frame), tmp_path)
    stems = ["桃花源街道（序号1）", "桃花源街道（序号2）", "乡镇3"]
    assert [p.name for p in paths] == [f"{stem}_回执_2023-02-17.xlsx" for stem in stems]


def test_parts_not_landed_say_so(tmp_path):
    empty = pd.DataFrame()
    data = report_data(roster=empty, quotas=empty, issues=empty, villages=empty, data_dates=empty)
    book = township_workbook(data, "桃花源街道")
    assert book["本乡镇概况"]["A16"].value == "各项数据的日期：暂无记录。"
    assert book["基层队伍缺口"]["A1"].value.startswith("尚未收到基层队伍名单")
    for sheet in ("村（社区）进度", "干部分配任务", "数据问题"):
        assert book[sheet].max_row == 1 and book[sheet]["A1"].value.startswith("本乡镇（街道）")


@pytest.mark.parametrize("name", ["合计", "未匹配", "不存在乡"])
def test_only_attachment_townships_get_a_return(name):
    with pytest.raises(ValueError, match="不是附件中的乡镇"):
        township_workbook(report_data(), name)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "cores"), ("1", 1), ("3", 3), ("0", "cores"), ("zwei", "cores")],
)
def test_report_workers_setting(monkeypatch, value, expected):
    monkeypatch.setattr(settings.os, "cpu_count", lambda: 8)
    env = {} if value is None else {"YUKUAI_REPORT_WORKERS": value}
    # unset or unreadable: one per core, capped at 4 (each worker holds the day's report data)
    assert settings.report_workers(env) == (settings.REPORT_WORKERS_MAX if expected == "cores" else expected)


def test_cancelled_returns_write_nothing_and_leave_no_workers(tmp_path, monkeypatch):
    """The county workbook failed: the returns under way are dropped, their worker processes end, no file is written."""
    monkeypatch.setattr(township_returns, "PARALLEL_FROM", 2)
    under_way = township_returns.start_township_returns(report_data(), tmp_path / "pool", workers=2)
    workers = list(under_way.pending.pool._processes.values())  # forked at the first chunk's submission
    assert workers
    under_way.cancel()
    deadline = time.monotonic() + 60  # the pool's own thread joins them too: wait until it has, not on a join here
    while any(worker.is_alive() for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(worker.is_alive() for worker in workers)
    assert not (tmp_path / "pool").exists()


def test_the_report_step_cancels_the_returns_when_its_workbook_fails(tmp_path, monkeypatch):
    from yukuai_pipeline.steps import report as report_step

    cancelled = []

    class UnderWay:
        def cancel(self):
            cancelled.append(True)

        def finish(self):
            raise AssertionError("the returns must not be written beside a failed workbook")

    def failing_workbook(data, directory):
        raise OSError("disk full")

    monkeypatch.setattr(report_step, "report_data", lambda ctx, day: report_data())
    monkeypatch.setattr(report_step, "start_township_returns", lambda data, directory: UnderWay())
    monkeypatch.setattr(report_step, "write_workbook", failing_workbook)
    with pytest.raises(OSError, match="disk full"):
        report_step.excel_report(None, dt.date(2023, 2, 17), tmp_path / "reports")
    assert cancelled == [True]
