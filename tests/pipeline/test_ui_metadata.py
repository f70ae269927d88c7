"""What the officer reads in the UI: groups, descriptions, owners, kinds, column schemas and each day's metadata."""

import datetime as dt
import re
from urllib.parse import quote

import dagster as dg
import pytest

from support.runner import PipelineRunner
from yukuai_pipeline.defs.assets import GROUP_LABELS, OWNER
from yukuai_pipeline.quality.check_labels import check_label, known

DAY = "2023-02-17"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def graph():
    from yukuai_pipeline.definitions import defs

    return defs.resolve_asset_graph()


def test_every_asset_names_its_group_in_chinese_and_has_owner_kinds_and_chinese_column_schema(graph):
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        first, english = node.description.split("\n\n", 1)
        assert first.startswith(f"【{GROUP_LABELS[node.group_name]}】") and CJK.search(first), key
        assert re.match(r"[A-Z][a-z-]+ ", english), key
        assert node.owners == [OWNER]
        assert "pandas" in node.kinds and node.kinds & {"sqlite", "postgres", "excel"}, key
        assert node.metadata["分组 / group"] == f"{GROUP_LABELS[node.group_name]}（{node.group_name}）"
        columns = node.metadata["dagster/column_schema"].columns
        assert columns and all(CJK.search(c.description) for c in columns), key
    assert {graph.get(k).group_name for k in graph.get_all_asset_keys()} == set(GROUP_LABELS)


def test_every_check_has_a_chinese_first_line_and_an_english_one(graph):
    for key in graph.asset_check_keys:
        first, english = graph.get_check_spec(key).description.split("\n\n")
        assert CJK.search(first) and first.endswith("。"), key
        assert re.match(r"[A-Z]", english), key


def test_jobs_are_named_after_the_officers_actions():
    from yukuai_pipeline.definitions import defs

    for name, words in {
        "daily_refresh": "每日刷新",
        "roster_refresh": "基层队伍刷新",
        "targets_refresh": "乡镇任务数",
    }.items():
        assert words in defs.resolve_job_def(name).description


def _materialization(result, asset: str) -> dict:
    (event,) = result.asset_materializations_for_node(asset)
    return event.metadata


def test_a_days_materializations_carry_the_officers_numbers(landing, tmp_path):
    runner = PipelineRunner(landing, f"sqlite:///{tmp_path}/warehouse.db", tmp_path)
    result = runner.run(DAY)
    assert result.success

    progress = _materialization(result, "township_progress")
    assert progress["全县合计 / county row"].value == (
        "常住人口 853,945，任务数 102,476，完成数 28,632，尚差任务数 73,844，完成率 27.94%"
    )
    table = runner.table("township_progress", snapshot_date=dt.date.fromisoformat(DAY))
    slowest = table[table["seq"].notna()].sort_values("completion_rate").iloc[0]["township"]
    behind = progress["进度最慢的乡镇 / townships furthest behind"].value
    assert behind.splitlines()[2].split("|")[1].strip() == slowest
    assert progress["dagster/row_count"].value == len(table)
    # the day, the county row and the furthest-behind table first; Chinese headers, shares as percentages
    assert list(progress)[:3] == [
        "数据日期 / data date",
        "全县合计 / county row",
        "进度最慢的乡镇 / townships furthest behind",
    ]
    assert progress["数据日期 / data date"].value == DAY
    header = [h.strip() for h in behind.splitlines()[0].strip("|").split("|")]
    assert "乡镇（街道）" in header and not any(re.fullmatch(r"[a-z_0-9]+", h) for h in header), header
    rate = header.index(next(h for h in header if "完成率" in h))
    first_rate = behind.splitlines()[2].strip("|").split("|")[rate].strip()
    assert re.fullmatch(r"\d+\.\d\d %", first_rate), first_rate

    counts = _materialization(result, "registration_counts")
    issues = runner.table("data_quality_issues", snapshot_date=dt.date.fromisoformat(DAY))
    quarantined = issues[(issues["stage"] == "registration_counts") & issues["quarantined"].astype(bool)]
    assert counts["rows_quarantined"].value == len(quarantined)
    assert counts["数据质量表 / data-quality table"].value == dg.AssetKey("data_quality_issues")
    assert f"snapshot_date = '{DAY}'" in counts["查询被隔离的行 / SQL"].value

    report_metadata = _materialization(result, "excel_report")
    report = report_metadata["报表文件 / report path"]
    assert isinstance(report, dg.PathMetadataValue) and report.value.endswith(f"注册进度报表_{DAY}.xlsx")
    # the workbook and the chart one click away: links to the report server, right after the date
    assert list(report_metadata)[:3] == [
        "数据日期 / data date",
        "下载报表 / download the workbook",
        "打开进度图 / open the chart",
    ]
    link = report_metadata["下载报表 / download the workbook"]
    assert isinstance(link, dg.UrlMetadataValue)
    assert link.value == "http://127.0.0.1:3001/" + quote(report.value.rsplit("/", 1)[1])
    assert (tmp_path / "reports" / report.value.rsplit("/", 1)[1]).is_file()

    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    places = evaluations["roster_complete"]
    assert places.description.startswith(f"{DAY}：")
    assert places.metadata["数据日期 / data date"].value == DAY
    assert places.metadata["检查 / check"].value == "基层队伍完整"
    # every issue of the day carries its check's Chinese name, also in the table SQL users read
    assert issues["check"].map(known).all(), sorted(set(issues["check"]) - {c for c in issues["check"] if known(c)})
    assert (issues["check_label"] == issues["check"].map(check_label)).all()
    assert not places.passed and places.metadata["严重程度 / severity"].value == "WARN"
    assert evaluations["roster_file_usable"].metadata["严重程度 / severity"].value == "ERROR"
