"""The Excel report: sheet 1 is the notice's attachment table as a printable progress notice (its notes below, the
analysis on 乡镇分析), every sheet names the date of its input, input text never becomes a formula, charts, print
setup, PNG, and a LibreOffice round trip when soffice is installed. No Dagster: hand-made frames."""

import datetime as dt
import math
import re
import shutil
import subprocess
import zipfile
import zlib

import openpyxl
import pandas as pd
import pytest
import yaml

from yukuai_pipeline import settings
from yukuai_pipeline.campaign import parse
from yukuai_pipeline.metrics import data_dates
from yukuai_pipeline.metrics.township_score import PARTS, township_scores, weights_of
from yukuai_pipeline.report import charts as report_charts
from yukuai_pipeline.report.workbook import (
    ReportData,
    furthest_behind,
    progress_chart_png,
    report_file_name,
    write_workbook,
)

DAY = dt.date(2023, 2, 17)
NOTICE_HEADERS = ["序号", "乡镇（街道）", "常住人口数（人）", "任务数（人）", "完成数", "尚差任务数", "完成率", "排名"]
ANALYSIS_HEADERS = [
    "序号",
    "乡镇（街道）",
    "完成率",
    "每万人用户数",
    "日均新增(近7日)",
    "所需日均",
    "预计完成日期",
    "状态",
    "备注",
]
HEADER, FIRST, TOTAL = 5, 6, 45  # sheet 1: the header row, 桃花源街道 (序号 1), 合计
HYPERLINK = '=HYPERLINK("http://x","点我")'
NICKNAMES = ["+86用户", "-小红", "@群主", " =1+1", "\t=2+2"]
DANGEROUS = {HYPERLINK, *NICKNAMES}


@pytest.fixture(scope="module")
def attachment() -> pd.DataFrame:
    return pd.read_csv(settings.assets_dir() / "attachment_2023.csv")


def _status(rate: float) -> str:
    return "严重滞后" if rate < 0.1 else ("滞后" if rate < 0.3 else "按期")


def township_rows(attachment: pd.DataFrame, unmatched: int = 0) -> pd.DataFrame:
    """township_progress of 2023-02-17 as the warehouse returns it (integers as floats, like SQL may)."""
    rate = attachment["completed_20230217"] / attachment["target"]
    frame = pd.DataFrame(
        {
            "snapshot_date": DAY,
            "seq": attachment["seq"].astype(float),
            "township": attachment["township"],
            "resident_population": attachment["resident_population"].astype(float),
            "target": attachment["target"],
            "completed": attachment["completed_20230217"].astype(float),
            "pending": 0,
            "rejected": 0,
            "gap": attachment["gap_20230217"],
            "surplus": 0,
            "completion_rate": rate,
            "users_per_10k": attachment["completed_20230217"] / attachment["resident_population"] * 10000,
            "rank": rate.rank(ascending=False, method="min"),
            "new_7d_avg": 30.5,
            "required_daily": 8.0,
            "projected_date": DAY + dt.timedelta(days=60),
            "status": rate.map(_status),
            "data_date": DAY,
        }
    )
    extra = []
    if unmatched:
        extra.append(
            {
                "seq": None,
                "township": "未匹配",
                "resident_population": None,
                "target": 0,
                "completed": unmatched,
                "gap": 0,
                "surplus": unmatched,
                "status": "已完成",
                "projected_date": DAY,
            }
        )  # what progress computes for a row without a target
    extra.append(
        {
            "seq": None,
            "township": "合计",
            "resident_population": 853945,
            "target": 102476,
            "completed": 28632 + unmatched,
            "gap": 73844 - unmatched,  # the county's 任务数 − 完成数, as progress computes it
            "surplus": 0,
            "completion_rate": (28632 + unmatched) / 102476,
            "users_per_10k": 335.3,
        }
    )
    extra = pd.DataFrame(extra).assign(snapshot_date=DAY, pending=0, rejected=0, data_date=DAY)
    return pd.concat([frame, extra], ignore_index=True)


def villages() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "snapshot_date": DAY,
            "seq": None,
            "township": ["浪坪乡", "桃花源街道", "桃花源街道"],
            "village": ["浪坪村", HYPERLINK, "桃花源社区"],
            "village_code": ["500242230201", "500242001001", None],
            "resident_population": [1200.0, 3000.0, None],
            "target": [144, 360, None],
            "completed": [10, 50, 7],
            "pending": [1, 0, 0],
            "rejected": 0,
            "gap": [134, 310, None],
            "surplus": 0,
            "completion_rate": [10 / 144, 50 / 360, None],
            "users_per_10k": [83.3, 166.7, None],
            "rank": [1, 1, 2],
            "new_7d_avg": None,
            "required_daily": None,
            "projected_date": None,
            "status": ["严重滞后", "滞后", None],
            "data_date": DAY,
        }
    )


def issues() -> pd.DataFrame:
    rows = [
        {
            "stage": "registrations",
            "source_file": "注册用户_20230217.xlsx",
            "check": "nickname",
            "severity": "WARN",
            "township": "桃花源街道",
            "village": HYPERLINK,
            "row_number": 5.0,
            "field": "昵称",
            "value_masked": name,
            "message": f"昵称可疑：{name}",
            "quarantined": False,
        }
        for name in NICKNAMES
    ]
    rows.append(
        {
            "stage": "registrations",
            "source_file": "=cmd|' /C calc'!A0.xlsx",
            "check": "bad_file",
            "severity": "ERROR",
            "township": None,
            "village": None,
            "row_number": None,
            "field": None,
            "value_masked": None,
            "message": "@SUM(1)",
            "quarantined": True,
        }
    )
    return pd.DataFrame(rows).assign(snapshot_date=DAY)


def roster() -> pd.DataFrame:
    base = {
        "snapshot_date": DAY,
        "roster_date": DAY,
        "township": "桃花源街道",
        "village": HYPERLINK,
        "village_code": "500242001001",
        "committee_type": "居委会",
        "invalid_records": 0,
        "source_file": "名单.xlsx",
    }
    return pd.DataFrame(
        [
            {
                **base,
                "role_group": "committee",
                "role_group_label": "“两委”成员",
                "required_min": 5,
                "required_max": 9,
                "actual": 5,
                "status": "完整",
                "reasons": None,
            },
            {
                **base,
                "role_group": "worker",
                "role_group_label": "社区专职工作者",
                "required_min": 1,
                "required_max": None,
                "actual": 0,
                "status": "不完整",
                "reasons": "-缺少专职工作者",
            },
            {
                **base,
                "role_group": "supervisor",
                "role_group_label": "务监会成员",
                "required_min": 3,
                "required_max": 5,
                "actual": 3,
                "invalid_records": 1,
                "status": "有误",
                "reasons": "@身份证号校验失败",
            },
        ]
    )


def report_data(attachment, *, unmatched: int = 0, with_roster: bool = True) -> ReportData:
    days = pd.date_range("2023-02-10", DAY).date
    completed = [28000 + 90 * i for i in range(len(days) - 1)] + [28632]
    history = pd.DataFrame({"snapshot_date": days, "completed": completed})
    summary = pd.DataFrame(
        {
            "snapshot_date": [DAY],
            "township": ["桃花源街道"],
            "villages_total": [1.0],
            "villages_complete": [0.0],
            "completeness": [0.0],
        }
    )
    quotas = pd.DataFrame(
        {
            "township": "桃花源街道",
            "village": [HYPERLINK, HYPERLINK],
            "cadre_name": ["@群主", "-小红"],
            "roles": ["+86用户", "委员"],
            "village_target": [360.0, 360.0],
            "quota": [180.0, 180.0],
        }
    )
    empty = pd.DataFrame()
    return ReportData(
        snapshot_date=DAY,
        campaign=settings.campaign(),
        townships=township_rows(attachment, unmatched),
        villages=villages(),
        roster=roster() if with_roster else empty,
        roster_summary=summary if with_roster else empty,
        issues=issues(),
        quotas=quotas if with_roster else empty,
        county_history=history,
    )


@pytest.fixture(scope="module")
def workbook_path(attachment, tmp_path_factory):
    return write_workbook(report_data(attachment), tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def book(workbook_path):
    return openpyxl.load_workbook(workbook_path)


def _row(ws, row: int, width: int) -> list:
    return [ws.cell(row, col).value for col in range(1, width + 1)]


def test_file_name_and_sheets(workbook_path, book):
    assert workbook_path.name == "酉阳县渝快社区注册进度报表_2023-02-17.xlsx" == report_file_name(DAY)
    assert book.sheetnames == [
        "乡镇进度",
        "乡镇分析",
        "本周进展",
        "村（社区）进度",
        "社区基本信息",
        "基层队伍完整性",
        "数据质量问题",
        "干部分配任务",
        "平台应用",
        "社区社会组织",
        "考核得分",
        "图表",
    ]
    assert [p.name for p in workbook_path.parent.iterdir()] == [workbook_path.name]  # no temporary file left


def test_sheet1_is_the_attachment_table_as_a_progress_notice(book, attachment):
    ws = book["乡镇进度"]
    assert ws["A1"].value == "酉阳县“渝快社区”小程序注册进度通报表"  # a progress title, not 目标任务安排表
    assert ws["A2"].value == "统计截止：2023-02-17"
    assert ws["A3"].value == "用户注册导出数据日期：2023-02-17"  # the export's own date, under 统计截止
    assert ws["A4"].value == "填报单位：酉阳土家族苗族自治县民政局"
    assert ws["F4"].value == "制表日期：2023年2月17日"  # the snapshot's date, not the clock's
    assert _row(ws, HEADER, 9) == [*NOTICE_HEADERS, None]  # exactly the notice's columns, 完成率 and 排名
    columns = ["seq", "township", "resident_population", "target", "completed_20230217", "gap_20230217"]
    for offset, expected in enumerate(attachment[columns].itertuples(index=False)):
        assert _row(ws, FIRST + offset, 6) == list(expected)
        for col in (1, 3, 4, 5, 6, 7, 8):
            assert ws.cell(FIRST + offset, col).data_type == "n"
    assert _row(ws, TOTAL, 8) == ["合计", None, 853945, 102476, 28632, 73844, pytest.approx(28632 / 102476), None]
    assert ws.cell(TOTAL + 1, 1).value is None  # the notes start under a blank row
    notes = [ws.cell(r, 1).value for r in range(TOTAL + 2, ws.max_row + 1)]
    assert notes[0].startswith("注：合计行尚差任务数") and "与各乡镇尚差任务数之和相同" in notes[0]
    assert notes[1].startswith("图例：") and "滞后" in notes[1]  # the legend is below the table
    assert "未匹配" not in notes[0] and "超额完成" not in notes[0]  # nothing to explain today


def test_sheet1_prints_the_campaigns_reporting_unit(attachment, tmp_path):
    """A county whose report a section compiles names it in campaign.yaml; the shipped folder has no such key and
    prints the bureau (test_sheet1_is_the_attachment_table_as_a_progress_notice)."""
    folder = tmp_path / "500242"
    shutil.copytree(settings.assets_dir(), folder)
    with (folder / "campaign.yaml").open("a", encoding="utf-8") as yaml_file:
        yaml_file.write("reporting_unit: 酉阳县民政局社会事务科\n")
    with settings.run_campaign(folder):
        assert settings.campaign().reporting_unit == "酉阳县民政局社会事务科"
        path = write_workbook(report_data(attachment), tmp_path / "out")
    ws = openpyxl.load_workbook(path)["乡镇进度"]
    assert ws["A4"].value == "填报单位：酉阳县民政局社会事务科"
    assert ws["F4"].value == "制表日期：2023年2月17日"  # the line it shares is unchanged
    assert settings.campaign().reporting_unit == "酉阳土家族苗族自治县民政局"  # outside the block: the default


@pytest.mark.parametrize("value", ["''", "'   '", "'" + "民" * 31 + "'", '"民政局\\n社会事务科"', "123", "[民政局]"])
def test_a_reporting_unit_that_would_not_print_on_one_line_is_refused(value):
    doc = settings.read_yaml(settings.assets_dir() / "campaign.yaml")
    assert parse(doc, settings.assets_dir()).reporting_unit == "酉阳土家族苗族自治县民政局"
    assert parse({**doc, "reporting_unit": " 酉阳县民政局 "}, settings.assets_dir()).reporting_unit == "酉阳县民政局"
    assert parse({**doc, "reporting_unit": "民" * 30}, settings.assets_dir()).reporting_unit == "民" * 30
    with pytest.raises(ValueError, match="reporting_unit（填报单位）应为 1 至 30 个字的一行文字"):
        parse({**doc, "reporting_unit": yaml.safe_load(value)}, settings.assets_dir())


def test_sheet1_formats_and_highlights(book):
    ws = book["乡镇进度"]
    for col in (3, 4, 5, 6):  # counts with thousands separators, on the townships and on 合计
        assert ws.cell(FIRST, col).number_format == ws.cell(TOTAL, col).number_format == "#,##0"
    assert ws.cell(FIRST, 8).number_format == "#,##0" and ws.cell(TOTAL, 7).number_format == "0.0%"
    assert ws.cell(FIRST, 7).number_format == "0.0%" and ws.cell(FIRST, 7).value == pytest.approx(711 / 6028)
    assert ws.cell(FIRST, 1).number_format == "General"  # 序号 is no count
    langping, banxi, mawang = FIRST + 38, FIRST + 8, FIRST + 3  # 91 / 1264 严重滞后; 227 / 1784 滞后; 麻旺镇 按期
    assert ws.cell(langping, 2).value == "浪坪乡" and ws.cell(langping, 1).fill.fgColor.rgb.endswith("FFC7CE")
    assert ws.cell(banxi, 2).value == "板溪镇" and ws.cell(banxi, 5).fill.fgColor.rgb.endswith("FCE4D6")
    assert ws.cell(mawang, 2).value == "麻旺镇" and ws.cell(mawang, 2).fill.fill_type is None
    assert ws.cell(TOTAL, 8).value is None  # the county row has no rank


def test_the_analysis_sheet_holds_the_pace_as_sheet1_did(book):
    ws = book["乡镇分析"]
    assert "2023-02-17" in ws["A1"].value and ws["A2"].value is None  # no data dates in this fixture
    assert _row(ws, 3, 10) == [*ANALYSIS_HEADERS, None]  # no activity in this fixture: no activity columns
    first = 4
    assert _row(ws, first, 9) == [
        1,
        "桃花源街道",
        pytest.approx(711 / 6028),
        pytest.approx(711 / 50226 * 10000),
        30.5,
        8.0,
        dt.datetime(2023, 4, 18),
        "滞后",
        None,
    ]
    assert [ws.cell(first, c).number_format for c in (3, 4, 7)] == ["0.0%", "0.0", "yyyy-mm-dd"]
    langping, banxi, mawang = first + 38, first + 8, first + 3
    assert _row(ws, langping, 2) == [39, "浪坪乡"] and ws.cell(langping, 8).value == "严重滞后"
    assert ws.cell(langping, 1).fill.fgColor.rgb.endswith("FFC7CE")
    assert ws.cell(banxi, 8).value == "滞后" and ws.cell(banxi, 5).fill.fgColor.rgb.endswith("FCE4D6")
    assert ws.cell(mawang, 8).value == "按期" and ws.cell(mawang, 2).fill.fill_type is None
    assert _row(ws, first + 39, 3) == ["合计", None, pytest.approx(28632 / 102476)]
    assert "浅红色底 = 严重滞后" in ws.cell(first + 41, 1).value  # the legend of the colours


def test_unmatched_users_are_a_note_under_sheet1_not_a_row(attachment, tmp_path):
    book = openpyxl.load_workbook(write_workbook(report_data(attachment, unmatched=12), tmp_path))
    ws = book["乡镇进度"]
    assert "未匹配" not in {c.value for row in ws.iter_rows(max_row=TOTAL) for c in row}
    assert _row(ws, TOTAL, 6) == ["合计", None, 853945, 102476, 28644, 73832]  # the county counts them
    notes = [ws.cell(r, 1).value for r in range(TOTAL + 2, ws.max_row + 1)]
    assert notes[0].startswith("注：另有 12 名用户无法匹配乡镇，已计入合计完成数")
    assert notes[0].endswith("（各乡镇完成数之和 28,632 人，合计 28,644 人）。")
    assert "= 102,476 − 28,644 = 73,832，比各乡镇尚差任务数之和 73,844 少 12" in notes[1]
    assert notes[1].endswith("（12 名未匹配用户计入完成数合计）。")
    analysis = book["乡镇分析"]  # the analysis keeps the row, without a pace of its own
    assert _row(analysis, 43, 2) == [None, "未匹配"] and analysis.cell(43, 9).value == "无法匹配乡镇的用户"
    assert analysis.cell(43, 7).value is None and analysis.cell(43, 8).value is None


def test_the_gap_note_names_townships_over_target(attachment, tmp_path):
    data = report_data(attachment)
    frame = data.townships
    keda, county = frame["township"] == "可大乡", frame["township"] == "合计"
    frame.loc[keda, ["completed", "gap", "surplus"]] = [2112 + 100, 0, 100]  # 100 over its 2,112
    frame.loc[county, ["completed", "gap"]] = [28632 - 1145 + 2212, 102476 - (28632 - 1145 + 2212)]
    book = openpyxl.load_workbook(write_workbook(data, tmp_path))
    ws = book["乡镇进度"]
    assert _row(ws, TOTAL, 6) == ["合计", None, 853945, 102476, 29699, 72777]
    gap_note = ws.cell(TOTAL + 2, 1).value
    assert "= 102,476 − 29,699 = 72,777，比各乡镇尚差任务数之和 72,877 少 100" in gap_note
    assert "超额完成的乡镇尚差记为 0" in gap_note and gap_note.endswith("超额完成：可大乡 100 人。")
    assert book["乡镇分析"].cell(4 + 21, 9).value == "超额完成100人"


def _activity() -> pd.DataFrame:
    kinds = ["request", "notice", "disclosure", "consultation", "decision", "review"]
    rows = [(t, k, 2, 1) for t in ("桃花源街道", "浪坪乡") for k in kinds] + [("合计", k, 4, 2) for k in kinds]
    return pd.DataFrame(rows, columns=["township", "kind", "count_total", "count_30d"]).assign(snapshot_date=DAY)


@pytest.mark.parametrize("activity_age", [3, 41])
def test_every_sheet_names_the_date_of_its_input(attachment, tmp_path, activity_age):
    data = report_data(attachment)
    data.activity = _activity()
    dates = {"registrations": DAY, "activity": DAY - dt.timedelta(days=activity_age), "roster": DAY, "registry": DAY}
    data.data_dates = data_dates.data_dates(DAY, dates, {})
    book = openpyxl.load_workbook(write_workbook(data, tmp_path))
    stale = activity_age > data_dates.DEFAULT_MAX_AGE_DAYS["activity"]
    when = (DAY - dt.timedelta(days=activity_age)).isoformat()
    note = f"平台应用明细数据日期：{when}" + (f"（{activity_age} 天前，数据未更新）" if stale else "")
    mark = "，数据未更新" if stale else ""
    analysis, platform = book["乡镇分析"], book["平台应用"]
    assert analysis["A2"].value == note == platform["A1"].value
    labels = ["居民诉求", "信息发布", "村（居）务公开", "在线协商", "民主决策", "民主评议"]
    assert _row(analysis, 3, 15)[9:] == [label + ("（数据未更新）" if stale else "") for label in labels]
    assert platform["B2"].value == f"居民诉求（累计{mark}）" and platform["H2"].value == f"居民诉求（近30日{mark}）"
    assert _row(analysis, 4 + 39, 15)[9:] == [4] * 6  # the county's totals beside 合计
    assert book["基层队伍完整性"]["A1"].value == "基层队伍名单数据日期：2023-02-17"
    assert _row(book["基层队伍完整性"], 2, 2) == ["乡镇（街道）", "村（社区）数"]
    assert book["乡镇进度"]["A3"].value == "用户注册导出数据日期：2023-02-17"


def test_score_and_quota_sheets_name_the_dates_of_their_inputs(attachment, tmp_path):
    data = report_data(attachment)
    roster_day, activity_day = dt.date(2023, 2, 10), DAY - dt.timedelta(days=41)
    data.data_dates = data_dates.data_dates(DAY, {"registrations": DAY, "roster": roster_day}, {})
    towns = pd.DataFrame({"township": ["桃花源街道", "浪坪乡"], "seq": [1, 39]})
    shares = {p: pd.Series({"桃花源街道": 1.0, "浪坪乡": 0.5}) for p in PARTS if p != "orgs"}  # no organisation list
    # registry: a score written before the dates were kept (its date column empty, its share there)
    dates = {"registration": DAY, "registry": None, "roster": roster_day, "orgs": None, "activity": activity_day}
    data.scores = township_scores(towns, shares, weights_of(None), dates).assign(snapshot_date=DAY)
    data.quotas = data.quotas.assign(
        registered=[True, False], approved=[True, False], referred_users=[2, 0], export_date=DAY, roster_date=roster_day
    )
    book = openpyxl.load_workbook(write_workbook(data, tmp_path))
    scores = book["考核得分"]
    assert scores["A3"].value == (
        "各部分所用数据的日期：注册完成率（用户注册导出）2023-02-17；"
        "社区基本信息完整率（社区基本信息）日期未记录（重新物化当天即可补上）；"
        "基层队伍信息完整率（基层队伍名单）2023-02-10；社区社会组织达标率（社区社会组织信息）无数据；"
        "六项应用使用率（平台应用明细）2023-01-07（41 天前，数据未更新）。"
    )
    assert scores.row_dimensions[3].height > 13.5 and scores["A3"].alignment.wrap_text  # wrapped, not cut off
    assert _row(scores, 4, 4) == ["排名", "序号", "乡镇（街道）", "考核得分"]
    assert _row(scores, 5, 4) == [1, 1, "桃花源街道", 90.0]  # 100 less the 10 points of the missing orgs part
    assert scores.freeze_panes == "D5" and scores.print_title_rows == "$1:$4"
    quotas = book["干部分配任务"]
    assert quotas["A1"].value == (
        "基层队伍名单数据日期：2023-02-10；本人已注册、本人已通过审核、推荐注册人数按用户注册导出（2023-02-17）"
        "与基层队伍名单（2023-02-10）逐人比对"
    )
    assert quotas["I2"].value == "本人已注册" and quotas.freeze_panes == "A3"


@pytest.mark.parametrize(
    "sheet, header",
    [
        (
            "村（社区）进度",
            [
                "乡镇（街道）",
                "村（社区）",
                "社区编码",
                "常住人口",
                "任务数",
                "完成数",
                "待审核",
                "尚差任务数",
                "完成率",
                "每万人用户数",
                "乡镇内排名",
                "日均新增(近7日)",
                "所需日均",
                "预计完成日期",
                "状态",
            ],
        ),
        ("基层队伍完整性", ["乡镇（街道）", "村（社区）数", "完整村数", "完整率"]),
        (
            "数据质量问题",
            [
                "环节",
                "来源文件",
                "检查项",
                "严重程度",
                "乡镇（街道）",
                "村（社区）",
                "行号",
                "字段",
                "原值（已脱敏）",
                "说明",
                "是否隔离",
            ],
        ),
        (
            "干部分配任务",
            [
                *("乡镇（街道）", "村（社区）", "姓名", "职务", "村任务数", "分配任务数（按任务数）", "村尚差任务数"),
                *("分配任务数（按尚差）", "本人已注册", "本人已通过审核", "推荐注册人数"),
            ],
        ),
    ],
)
def test_sheet_headers(book, sheet, header):
    # row 1 names the roster's date (and, on 干部分配任务, the dates the cadres' own registration was matched from)
    row = 2 if sheet in ("基层队伍完整性", "干部分配任务") else 1
    assert _row(book[sheet], row, len(header) + 1) == [*header, None]


def test_villages_in_attachment_order_and_roster_gaps(book):
    ws = book["村（社区）进度"]
    assert [ws.cell(r, 2).value for r in (2, 3, 4)] == [HYPERLINK, "桃花源社区", "浪坪村"]  # seq 1 before seq 39
    assert ws.cell(2, 4).value == 3000 and ws.cell(2, 4).number_format == "#,##0"
    roster_ws = book["基层队伍完整性"]
    texts = [c.value for row in roster_ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "不完整" in texts and "有误" in texts and "完整" not in texts[4:]  # complete groups are not listed
    assert "-缺少专职工作者" in texts and "社区专职工作者" in texts


def test_formula_like_input_stays_literal_text_everywhere(book, workbook_path):
    found = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} became a formula"
                if cell.value in DANGEROUS:
                    assert cell.data_type == "s"
                    found.setdefault(cell.value, set()).add(ws.title)
    assert found[HYPERLINK] == {"村（社区）进度", "基层队伍完整性", "数据质量问题", "干部分配任务"}
    for name in ("+86用户", "-小红", "@群主"):
        assert "数据质量问题" in found[name]
    assert {"-小红", "@群主", "+86用户"} <= {k for k, sheets in found.items() if "干部分配任务" in sheets}
    with zipfile.ZipFile(workbook_path) as archive:  # and no formula element in the file at all
        assert not any("<f>" in archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets"))


def test_empty_roster_and_quotas_explain_themselves(attachment, tmp_path):
    book = openpyxl.load_workbook(write_workbook(report_data(attachment, with_roster=False), tmp_path))
    assert "尚未收到基层队伍名单" in book["基层队伍完整性"]["A1"].value
    assert "尚无干部分配任务" in book["干部分配任务"]["A1"].value


def test_charts_and_their_data(workbook_path):
    ws = openpyxl.load_workbook(workbook_path)["图表"]
    assert len(ws._charts) == 2
    assert _row(ws, 1, 3) == ["日期", "完成数", "目标路径"]
    assert _row(ws, 2, 3) == [dt.datetime(2023, 2, 10), 28000, 28632.0]  # before the baseline: the path is flat
    assert _row(ws, 9, 3) == [dt.datetime(2023, 2, 17), 28632, 28632.0]
    assert _row(ws, 10, 3) == [dt.datetime(2023, 10, 31), None, 102476.0]
    bars = next(c for c in ws._charts if c.tagname == "barChart")  # names and rates read from sheet 1's rows
    assert bars.series[0].cat.numRef.f == f"'乡镇进度'!$B${FIRST}:$B${FIRST + 38}"
    assert bars.series[0].val.numRef.f == f"'乡镇进度'!$G${FIRST}:$G${FIRST + 38}"
    colours = {p.idx: p.graphicalProperties.solidFill.srgbClr for p in bars.series[0].dPt}
    assert colours[38] == "d62728" and colours[8] == "f28e2b" and colours[3] == "1f77b4"  # by status, like the PNG


def test_print_ready(book):
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
        assert "2023-02-17" in ws.oddHeader.right.text and "&P" in ws.oddFooter.center.text
    for ws in book.worksheets[1:]:  # one page wide, as many tall as needed, the header row on every page
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0
    for name in ("村（社区）进度", "数据质量问题"):
        assert book[name].print_title_rows == "$1:$1"
    assert book["干部分配任务"].print_title_rows == "$2:$2"  # row 1 names the dates of its inputs
    assert book["乡镇分析"].print_title_rows == "$3:$3"
    notice = book["乡镇进度"]  # an explicit scale: fit-to-page shrank 20 columns to 6 pt
    assert not notice.sheet_properties.pageSetUpPr.fitToPage
    assert 83 <= notice.page_setup.scale <= 100 and 11 * notice.page_setup.scale / 100 >= 9
    assert [b.id for b in notice.row_breaks.brk] == [TOTAL]  # the table on one page, its notes on the next
    assert notice.freeze_panes == f"C{FIRST}" and book["数据质量问题"].freeze_panes == "A2"
    assert notice.column_dimensions["C"].width >= 16  # 常住人口数（人）: CJK counts double
    assert {notice.row_dimensions[r].height for r in range(FIRST, TOTAL + 1)} == {13.5}


def test_same_input_gives_the_same_file(attachment, tmp_path, workbook_path):
    again = write_workbook(report_data(attachment), tmp_path)
    assert again.read_bytes() == workbook_path.read_bytes()
    assert openpyxl.load_workbook(again).properties.created == dt.datetime(2023, 2, 17)


def test_furthest_behind(attachment):
    table = furthest_behind(report_data(attachment))
    assert list(table.columns) == ["乡镇（街道）", "任务数", "完成数", "尚差任务数", "完成率", "状态"]
    assert len(table) == 10 and table.iloc[0].tolist()[:4] == ["浪坪乡", 1264, 91, 1173]
    assert table["完成率"].is_monotonic_increasing and "合计" not in set(table["乡镇（街道）"])


@pytest.mark.parametrize("font", ["installed", "none"])
def test_progress_chart_png(attachment, tmp_path, monkeypatch, font):
    if font == "none":  # the English fallback, as on a machine without CJK fonts
        monkeypatch.setattr(report_charts, "cjk_font_name", lambda: None)
    path = progress_chart_png(report_data(attachment), tmp_path / "progress.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["progress.png"]


def _soffice() -> str:
    soffice = shutil.which("soffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed; CI installs libreoffice-calc")
    return soffice


def _pdf(xlsx, tmp_path) -> bytes:
    """The workbook as LibreOffice prints it."""
    outdir = tmp_path / "pdf"
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}"
    command = [_soffice(), profile, "--headless", "--convert-to", "pdf", "--outdir", str(outdir), str(xlsx)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return (outdir / xlsx.with_suffix(".pdf").name).read_bytes()


def test_libreoffice_converts_the_workbook_to_pdf(workbook_path, tmp_path):
    assert _pdf(workbook_path, tmp_path).startswith(b"%PDF")


def _font_sizes(pdf: bytes) -> set[float]:
    """The size of every text run LibreOffice drew: it writes the printed size into Tf (no scaling matrix)."""
    sizes = set()
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            content = zlib.decompress(stream)
        except zlib.error:  # fonts and images
            continue
        assert b" cm" not in content or not re.search(rb"[\d.]+ 0 0 [\d.]+ [\d.]+ [\d.]+ cm", content)
        sizes |= {float(size) for size in re.findall(rb"/F\d+ ([\d.]+) Tf", content)}
    return sizes


def test_sheet1_prints_on_a4_landscape_legibly(workbook_path, tmp_path):
    """The issue's test: sheet 1 alone through LibreOffice is A4 landscape, at most one page per 40 table rows, and
    no text under 9 pt."""
    _soffice()
    book = openpyxl.load_workbook(workbook_path)
    for name in book.sheetnames[1:]:
        book.remove(book[name])
    book.save(tmp_path / "sheet1.xlsx")
    pdf = _pdf(tmp_path / "sheet1.xlsx", tmp_path)
    pages = re.findall(rb"/Type\s*/Page\b", pdf)
    boxes = {tuple(round(float(v)) for v in box.split()) for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)}
    table_rows = TOTAL - HEADER + 1  # header, 39 townships, 合计
    assert boxes == {(0, 0, 842, 595)}  # A4, landscape
    assert 1 <= len(pages) <= math.ceil(table_rows / 40)
    sizes = _font_sizes(pdf)
    assert sizes and min(sizes) >= 9, sorted(sizes)
    scale = book["乡镇进度"].page_setup.scale
    assert 11 * scale / 100 >= 9 and min(sizes) == pytest.approx(11 * scale / 100, abs=0.1)
