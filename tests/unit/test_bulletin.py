"""The daily 通报: its Word document and chat text carry the frames' own numbers, stale inputs are marked, input text
is never template syntax, the files are private and byte-stable, and a campaign folder's template wins.
No Dagster: hand-made frames of seven townships."""

import dataclasses
import datetime as dt
import zipfile

import docx
import jinja2
import pandas as pd
import pytest
from jinja2.sandbox import SecurityError

from yukuai_pipeline import settings
from yukuai_pipeline.metrics.data_dates import data_dates
from yukuai_pipeline.metrics.township_score import PARTS, township_scores, weights_of
from yukuai_pipeline.report.bulletin import load_bulletin_settings, render_text, write_bulletin
from yukuai_pipeline.report.data import ReportData

DAY = dt.date(2023, 3, 17)
LAST_WEEK = dt.date(2023, 3, 10)
TRICKY = "{{ 7*7 }}"
# seq, township, target, completed, status, last week's rank (this week's comes from the rates)
TOWNSHIPS = [
    (1, "桃花源街道", 6028, 711, "滞后", 5),
    (2, "钟多街道", 7110, 825, "滞后", 7),
    (3, "龙潭镇", 9698, 1427, "按期", 3),
    (4, "麻旺镇", 6868, 2327, "按期", 1),
    (5, "大溪镇", 2426, 1258, "按期", 2),
    (6, "浪坪乡", 1264, 91, "严重滞后", 6),
    (7, TRICKY, 2000, 300, "按期", 4),
]
# 35,394 = the targets' sum, 6,939 = the completed sum, 28,455 the gap; 6,939 / 35,394 = 19.6%
COUNTY_SENTENCE = "全县目标任务 35,394 人，已完成 6,939 人，完成率 19.6%，尚差 28,455 人。"
WEEK_SENTENCE = "本周（与2023年3月10日相比）全县新增注册 839 人（2023年3月10日累计 6,100 人）。"
# 228 days to 2023-10-31; 28,455 / 228 = 124.8 a day, so 125; the week's 119.9 a day falls short
PACE_SENTENCE = (
    "距2023年10月31日完成时限还有 228 天，按期完成需日均新增 125 人；近 7 日日均新增 120 人，按当前进度难以按期完成。"
)
BOTTOM_FIVE = ["浪坪乡", "钟多街道", "桃花源街道", "龙潭镇", TRICKY]  # 7.2%, 11.6%, 11.8%, 14.7%, 15.0%
# the county's six functions: total and last 30 days (the notice's own totals)
ACTIVITY = [
    ("request", 480, 12),
    ("notice", 135, 9),
    ("disclosure", 321, 30),
    ("consultation", 27, 2),
    ("decision", 7, 0),
    ("review", 1, 1),
]
ACTIVITY_NOTE = "（平台应用明细数据日期：2023-02-25（20 天前，数据未更新））"


def township_frame(names: dict[str, str] | None = None) -> pd.DataFrame:
    rows = pd.DataFrame(TOWNSHIPS, columns=["seq", "township", "target", "completed", "status", "last_week_rank"])
    rows["township"] = rows["township"].replace(names or {})
    rows["completion_rate"] = rows["completed"] / rows["target"]
    rows["rank"] = rows["completion_rate"].rank(ascending=False, method="min").astype("int64")
    rows["rank_change"] = rows["last_week_rank"] - rows["rank"]
    county = {
        "township": "合计",
        "target": rows["target"].sum(),
        "completed": rows["completed"].sum(),
        "completion_rate": rows["completed"].sum() / rows["target"].sum(),
        "required_daily": 28455 / 228,
        "new_7d_avg": 119.857,
        "last_week_date": LAST_WEEK,
        "last_week_completed": 6100,
        "new_this_week": rows["completed"].sum() - 6100,
    }
    frame = pd.concat([rows.astype({"seq": "float64"}), pd.DataFrame([county])], ignore_index=True)
    frame["gap"] = frame["target"] - frame["completed"]
    return frame.assign(snapshot_date=DAY)


def activity_frame() -> pd.DataFrame:
    county = [("合计", kind, total, recent) for kind, total, recent in ACTIVITY]
    township = [("麻旺镇", "request", 400, 10)]  # must not be added to the county's own row
    return pd.DataFrame(county + township, columns=["township", "kind", "count_total", "count_30d"])


def issue_frame() -> pd.DataFrame:
    columns = ["stage", "source_file", "row_number", "check", "severity", "quarantined"]
    rows = [
        ("registrations", "注册.xlsx", 5, "id_number", "ERROR", True),
        ("registrations", "注册.xlsx", 5, "phone", "ERROR", True),  # the same row again: one quarantined row
        ("registrations", "注册.xlsx", 9, "township", "ERROR", True),
        ("registrations", "注册.xlsx", 12, "nickname", "WARN", False),
    ]
    return pd.DataFrame(rows, columns=columns)


def report_data(**changes) -> ReportData:
    dates = data_dates(DAY, {"registrations": DAY, "activity": dt.date(2023, 2, 25), "roster": DAY}, {})
    roster = pd.DataFrame({"township": ["麻旺镇", "浪坪乡"], "villages_total": [10, 8], "villages_complete": [4, 2]})
    empty = pd.DataFrame()
    data = ReportData(
        snapshot_date=DAY,
        campaign=settings.campaign(),
        townships=township_frame(),
        villages=empty,
        roster=empty,
        roster_summary=roster,
        issues=issue_frame(),
        quotas=empty,
        county_history=empty,
        activity=activity_frame(),
        data_dates=dates,
    )
    return dataclasses.replace(data, **changes)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_bulletin(report_data(), tmp_path_factory.mktemp("bulletin") / "reports")


@pytest.fixture(scope="module")
def document(written):
    return docx.Document(str(written[0]))


@pytest.fixture(scope="module")
def text(written):
    return written[1].read_text(encoding="utf-8")


def _paragraphs(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def _items_after(document, lead: str) -> list[str]:
    """The bullet items right after the paragraph `lead`, up to the next paragraph that is not one."""
    paragraphs = document.paragraphs
    start = _paragraphs(document).index(lead) + 1
    items = []
    for paragraph in paragraphs[start:]:
        if paragraph.style.name != "List Bullet":
            break
        items.append(paragraph.text)
    return items


def test_docx_title_and_county_figures(document):
    title = document.paragraphs[0]
    assert title.text == "酉阳县“渝快社区”注册使用工作情况通报"
    assert title.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER and all(r.bold for r in title.runs)
    assert document.paragraphs[1].text == "（截至2023年3月17日）"
    texts = _paragraphs(document)
    assert COUNTY_SENTENCE in texts and WEEK_SENTENCE in texts and PACE_SENTENCE in texts
    assert next(p.text for p in document.paragraphs if p.style.name == "Heading 1") == "一、总体进度"


def test_docx_bottom_five_are_the_frames_lowest_rates(document):
    frame = township_frame()
    towns = frame[frame["seq"].notna()]
    lowest = towns.sort_values(["completion_rate", "seq"])["township"].head(5).tolist()
    items = _items_after(document, "完成率排名后 5 位的是：")
    assert [item.split("：")[0] for item in items] == lowest == BOTTOM_FIVE
    assert items[0] == "浪坪乡：完成 91 人，完成率 7.2%，排第 7 名，较上周下降1位。"


def test_docx_ranking_table(document):
    (table,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["序号", "乡镇（街道）", "任务数", "完成数", "完成率", "排名", "排名变化"]
    assert [row[1] for row in rows[1:]] == [
        "大溪镇",
        "麻旺镇",
        TRICKY,
        "龙潭镇",
        "桃花源街道",
        "钟多街道",
        "浪坪乡",
        "合计",
    ]
    assert rows[1] == ["5", "大溪镇", "2,426", "1,258", "51.9%", "1", "+1"]
    assert rows[2] == ["4", "麻旺镇", "6,868", "2,327", "33.9%", "2", "−1"]
    assert rows[-1] == ["", "合计", "35,394", "6,939", "19.6%", "", ""]


def test_text_carries_the_same_numbers(text):
    lines = text.splitlines()
    assert lines[:2] == ["酉阳县“渝快社区”注册使用工作情况通报", "（截至2023年3月17日）"]
    assert COUNTY_SENTENCE in lines and WEEK_SENTENCE in lines and PACE_SENTENCE in lines
    start = lines.index("完成率排名后 5 位的是：") + 1
    assert [line[2:].split("：")[0] for line in lines[start : start + 5]] == BOTTOM_FIVE
    assert "5 | 大溪镇 | 2,426 | 1,258 | 51.9% | 1 | +1" in lines
    assert "一、总体进度" in lines and not any(line.startswith("## ") for line in lines)


def test_quality_roster_and_activity_figures(text):
    assert "- 基层队伍信息：全县 18 个村（社区）中，五类队伍信息完整的 6 个，占 33.3%。" in text
    assert "本日发现错误 3 项、提醒 1 项，2 行数据已隔离" in text
    assert "- 居民诉求办理：累计 480 件，近 30 日 12 件。" in text  # the 合计 row, not plus 麻旺镇's 400
    assert "- 社区信息发布：累计 135 条，近 30 日 9 条。" in text


def test_stale_activity_input_is_marked_with_its_date(text, document):
    lines = text.splitlines()
    assert ACTIVITY_NOTE in lines
    assert lines[lines.index(ACTIVITY_NOTE) + 1].startswith("- 居民诉求办理")
    assert ACTIVITY_NOTE in _paragraphs(document)
    assert _items_after(document, "以下数据未按时更新，相关数字为最近一次收到的数据，请尽快导出报送：") == [
        "平台应用明细数据日期：2023-02-25（20 天前，数据未更新）"
    ]
    assert COUNTY_SENTENCE in lines  # registrations are current: no note on the county figures


def test_without_data_dates_nothing_is_said_about_dates():
    text = render_text(report_data(data_dates=pd.DataFrame()))
    assert "数据日期" not in text and "数据未更新" not in text and "数据说明" not in text
    assert "- 居民诉求办理：累计 480 件，近 30 日 12 件。" in text


def test_no_week_yet_and_no_activity():
    townships = township_frame().drop(columns=["last_week_date", "last_week_completed", "new_this_week"])
    text = render_text(report_data(townships=townships, activity=pd.DataFrame()))
    assert "本周进展：2023年3月17日之前一周尚无数据，满一周后通报本周新增人数和排名变化。" in text
    assert "全县新增注册" not in text and "尚未收到平台应用明细" in text


def test_template_syntax_in_a_township_name_is_printed_as_written(text, document):
    assert text.count(TRICKY) == 4  # the top five, the bottom five, the closing request, the table
    assert not any(line.startswith("- 49") or "| 49 |" in line for line in text.splitlines())
    assert TRICKY in [row.cells[1].text for row in document.tables[0].rows]


def test_a_name_cannot_add_lines_or_cells(tmp_path):
    data = report_data(townships=township_frame({"浪坪乡": "浪坪|乡\n## 假标题"}))
    word, chat = write_bulletin(data, tmp_path)
    assert "假标题" not in [p.text for p in docx.Document(str(word)).paragraphs if p.style.name == "Heading 1"]
    rows = docx.Document(str(word)).tables[0].rows
    assert {len(row.cells) for row in rows} == {7} and rows[7].cells[1].text == "浪坪｜乡 ## 假标题"
    assert "6 | 浪坪｜乡 ## 假标题 | 1,264 | 91 | 7.2% | 7 | −1" in chat.read_text(encoding="utf-8").splitlines()


def test_files_are_named_private_and_alone(written):
    word, chat = written
    assert word.name == "酉阳县渝快社区注册工作通报_2023-03-17.docx"
    assert chat.name == "酉阳县渝快社区注册工作通报_2023-03-17.txt"
    assert word.stat().st_mode & 0o777 == 0o640 and chat.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in word.parent.iterdir()) == sorted([word.name, chat.name])  # no temporary file left


def test_same_input_same_bytes(written, tmp_path):
    again = write_bulletin(report_data(), tmp_path)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in written]
    with zipfile.ZipFile(again[0]) as package:
        assert {entry.date_time for entry in package.infolist()} == {(2023, 3, 17, 0, 0, 0)}
    properties = docx.Document(str(again[0])).core_properties
    midnight = dt.datetime(2023, 3, 17, tzinfo=dt.UTC)  # the snapshot day, not the clock
    assert (properties.author, properties.created, properties.modified) == ("yukuai-pipeline", midnight, midnight)


def test_a_campaign_folders_template_and_settings_win(tmp_path):
    (tmp_path / "bulletin.txt.j2").write_text(
        "{{ county_name }}自定义通报\n\n后{{ bottom|length }}位：{{ bottom|map(attribute='township')|join('、') }}\n",
        encoding="utf-8",
    )
    (tmp_path / "bulletin.yaml").write_text("bottom_n: 2\nfonts:\n  body: 宋体\n", encoding="utf-8")
    data = report_data(campaign=dataclasses.replace(settings.campaign(), folder=tmp_path))
    assert render_text(data) == "酉阳县自定义通报\n\n后2位：浪坪乡、钟多街道\n"
    config = load_bulletin_settings(tmp_path)
    assert (config.top_n, config.bottom_n, config.fonts["body"], config.fonts["heading"]) == (5, 2, "宋体", "黑体")


@pytest.mark.parametrize(
    ("template", "error"),
    [("{{ county_nmae }}", jinja2.UndefinedError), ("{{ county_name.__class__.__mro__ }}", SecurityError)],
)
def test_a_template_is_strict_and_sandboxed(tmp_path, template, error):
    (tmp_path / "bulletin.txt.j2").write_text(template, encoding="utf-8")
    with pytest.raises(error):
        render_text(report_data(campaign=dataclasses.replace(settings.campaign(), folder=tmp_path)))


def _scores(activity_day: dt.date) -> pd.DataFrame:
    towns = pd.DataFrame({"township": ["麻旺镇", "浪坪乡"], "seq": [4, 6]})
    shares = {p: pd.Series({"麻旺镇": 1.0, "浪坪乡": 0.5}) for p in PARTS}
    dates = dict.fromkeys(PARTS, DAY) | {"activity": activity_day}
    return township_scores(towns, shares, weights_of(None), dates).assign(snapshot_date=DAY)


def test_scores_computed_from_stale_data_say_which_part_is_old():
    lines = render_text(report_data(scores=_scores(dt.date(2023, 2, 25)))).splitlines()
    at = lines.index(
        "- 麻旺镇：100.00 分，排第 1 名（注册完成率 40.00，社区基本信息完整率 10.00，基层队伍信息完整率 20.00，"
        "社区社会组织达标率 10.00，六项应用使用率 20.00）。"
    )
    assert lines[at - 1].startswith("- 浪坪乡：50.00 分，排第 2 名")  # the lowest first
    # under the scores: the part computed from the 20-day-old activity export (7 days allowed), with its date
    assert lines[at + 1] == "以上得分中，六项应用使用率按2023年2月25日的平台应用明细计算（20 天前，数据未更新）。"
    current = render_text(report_data(scores=_scores(DAY)))
    assert "以上得分中" not in current and "最高的是麻旺镇（100.00 分）" in current
