"""The Excel report: sheet 1 reproduces the notice's attachment table, input text never becomes a formula, charts,
print setup, PNG, and a LibreOffice round trip when soffice is installed. No Dagster: hand-made frames."""

import datetime as dt
import shutil
import subprocess
import zipfile

import openpyxl
import pandas as pd
import pytest

from yukuai_pipeline import settings
from yukuai_pipeline.report import charts as report_charts
from yukuai_pipeline.report.workbook import (
    ReportData,
    furthest_behind,
    progress_chart_png,
    report_file_name,
    write_workbook,
)

DAY = dt.date(2023, 2, 17)
ATTACHMENT_HEADERS = ["序号", "乡镇（街道）", "常住人口数（人）", "任务数（人）", "完成数", "尚差任务数", "备注"]
EXTRA_HEADERS = ["完成率", "每万人用户数", "日均新增(近7日)", "所需日均", "预计完成日期", "状态", "排名"]
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
            "gap": 73844,
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
        "本周进展",
        "村（社区）进度",
        "基层队伍完整性",
        "数据质量问题",
        "干部分配任务",
        "平台应用",
        "图表",
    ]
    assert [p.name for p in workbook_path.parent.iterdir()] == [workbook_path.name]  # no temporary file left


def test_sheet1_reproduces_the_attachment(book, attachment):
    ws = book["乡镇进度"]
    assert ws["A1"].value == "2023年全县“渝快社区”小程序注册使用目标任务安排表"
    assert ws["A2"].value == "统计截止：2023-02-17"
    assert _row(ws, 3, 15) == ATTACHMENT_HEADERS + EXTRA_HEADERS + [None]
    columns = ["seq", "township", "resident_population", "target", "completed_20230217", "gap_20230217"]
    for offset, expected in enumerate(attachment[columns].itertuples(index=False)):
        assert _row(ws, 4 + offset, 6) == list(expected)
        for col in (1, 3, 4, 5, 6, 8, 9):
            assert ws.cell(4 + offset, col).data_type == "n"
    assert _row(ws, 43, 6) == ["合计", None, 853945, 102476, 28632, 73844]
    assert ws.cell(44, 1).value is None and "滞后" in ws.cell(45, 1).value  # the legend under the table


def test_sheet1_formats_and_highlights(book):
    ws = book["乡镇进度"]
    langping = 42  # 浪坪乡, 91 / 1264: 严重滞后
    assert ws.cell(langping, 2).value == "浪坪乡" and ws.cell(langping, 13).value == "严重滞后"
    assert ws.cell(langping, 1).fill.fgColor.rgb.endswith("FFC7CE")
    banxi = 12  # 板溪镇, 227 / 1784: 滞后
    assert ws.cell(banxi, 13).value == "滞后" and ws.cell(banxi, 5).fill.fgColor.rgb.endswith("FCE4D6")
    mawang = 7  # 麻旺镇, 2327 / 6868: 按期 stays plain
    assert ws.cell(mawang, 13).value == "按期" and ws.cell(mawang, 2).fill.fill_type is None
    assert ws.cell(4, 8).number_format == "0.00%" and ws.cell(4, 8).value == pytest.approx(711 / 6028)
    assert ws.cell(4, 9).number_format == "0.0"
    assert ws.cell(4, 12).value == dt.datetime(2023, 4, 18) and ws.cell(4, 12).number_format == "yyyy-mm-dd"
    assert ws.cell(43, 14).value is None  # the county row has no rank


def test_unmatched_row_sits_before_the_county_row(attachment, tmp_path):
    ws = openpyxl.load_workbook(write_workbook(report_data(attachment, unmatched=12), tmp_path))["乡镇进度"]
    assert _row(ws, 43, 5) == [None, "未匹配", None, 0, 12]
    assert ws.cell(43, 7).value == "无法匹配乡镇的用户" and ws.cell(43, 13).value is None  # no pace status
    assert ws.cell(43, 12).value is None and ws.cell(43, 5).data_type == "n"
    assert _row(ws, 44, 5) == ["合计", None, 853945, 102476, 28644]


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
        ("干部分配任务", ["乡镇（街道）", "村（社区）", "姓名", "职务", "村任务数", "分配任务数"]),
    ],
)
def test_sheet_headers(book, sheet, header):
    assert _row(book[sheet], 1, len(header) + 1) == [*header, None]


def test_villages_in_attachment_order_and_roster_gaps(book):
    ws = book["村（社区）进度"]
    assert [ws.cell(r, 2).value for r in (2, 3, 4)] == [HYPERLINK, "桃花源社区", "浪坪村"]  # seq 1 before seq 39
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


def test_print_ready(book):
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert "2023-02-17" in ws.oddHeader.right.text and "&P" in ws.oddFooter.center.text
    assert book["乡镇进度"].freeze_panes == "C4" and book["数据质量问题"].freeze_panes == "A2"
    assert book["乡镇进度"].column_dimensions["C"].width >= 16  # 常住人口数（人）: CJK counts double


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


def test_libreoffice_converts_the_workbook_to_pdf(workbook_path, tmp_path):
    soffice = shutil.which("soffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed; CI installs libreoffice-calc")
    outdir = tmp_path / "pdf"
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(workbook_path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    pdf = outdir / workbook_path.with_suffix(".pdf").name
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
