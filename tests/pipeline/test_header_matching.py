"""Header matching (intake/column_mapping.py) and what the pipeline says about headers it does not understand: the
file_columns table, the columns_recognised / status_column_present / figures_trustworthy checks, the note under the
report's table, the alert, and the roster's group rule reported as 无法核验 when the group column is missing."""

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from support.local_robot import Robot
from yukuai_pipeline.contracts import header_key, input_contracts, load_contract
from yukuai_pipeline.defs.alerting import AlertingResource, alert_tick
from yukuai_pipeline.intake.column_mapping import AMBIGUOUS, DUPLICATE, FIELD, NOISE, UNRECOGNISED, map_row
from yukuai_pipeline.intake.export_figures import stated_figures, user_export_mismatches
from yukuai_pipeline.intake.headers import find_header
from yukuai_pipeline.quality.roster_rules import UNVERIFIABLE

REGISTRATIONS = load_contract("registrations", "input")
ROSTER = load_contract("roster", "input")


@pytest.mark.parametrize(
    "header,outcome,field",
    [
        ("审核状态", FIELD, "status"),
        ("用户当前审核状态", FIELD, "status"),  # two prefixes taken off
        ("状态（审核）", FIELD, "status"),  # a bracketed note
        ("审核结果", FIELD, "status"),
        ("审核时间", NOISE, None),  # a known column the pipeline does not use: not the status
        ("所属乡镇（街道）名称", FIELD, "township"),
        ("乡 镇\n(街道)", FIELD, "township"),  # spaces and a line break inside the cell
        ("所属社区编号", FIELD, "village_code"),  # 编号 read as 编码: a code, not the village's name
        ("用户编号", FIELD, "user_id"),
        ("注册时间（北京时间）", FIELD, "registered_at"),
        ("*审核状态（必填）", FIELD, "status"),
        ("处理结论", UNRECOGNISED, None),
        ("2023-02-17", UNRECOGNISED, None),  # data, never a header
    ],
)
def test_registration_headers(header, outcome, field):
    match = REGISTRATIONS.matcher().match(header_key(header))
    assert (match.outcome, match.field) == (outcome, field)


@pytest.mark.parametrize(
    "header,field",
    [
        ("加入社区审核状态", "status"),  # Chinese names its head last: a 审核状态, not a 社区
        ("是否通过审核", "status"),
        ("绑定手机", "phone"),
    ],
)
def test_key_terms_are_used_only_in_a_row_that_already_names_two_fields(header, field):
    matcher = REGISTRATIONS.matcher()
    assert matcher.match(header_key(header)).outcome == UNRECOGNISED
    assert (
        matcher.match(header_key(header), key_terms=True).field,
        matcher.match(header_key(header), key_terms=True).method,
    ) == (field, "key_term")


@pytest.mark.parametrize(
    "header,field",
    [
        ("所属村民小组", "group"),
        ("村民小组名称", "group"),
        ("所在组", "group"),
        ("组别名称", "group"),
        ("所在村民小组（组）", "group"),
    ],
)
def test_roster_group_wordings(header, field):
    assert ROSTER.matcher().match(header_key(header)).field == field


def test_the_head_of_a_compound_decides_a_key_term_match():
    match = ROSTER.matcher().match(header_key("村（居）民小组组别"), key_terms=True)
    assert (match.outcome, match.field) == (FIELD, "group")


def _row(headers: list[str], contract=REGISTRATIONS):
    return map_row(contract.matcher(), [[header_key(h)] for h in headers], headers)


def test_two_headers_equally_good_for_one_field_are_both_refused():
    mapping = _row(["用户ID", "乡镇", "街道", "村（社区）", "注册时间"])
    assert "township" not in mapping.columns
    outcomes = {c.text: c.outcome for c in mapping.cells}
    assert outcomes["乡镇"] == outcomes["街道"] == AMBIGUOUS


def test_an_exact_alias_wins_over_a_decorated_one_and_the_other_is_reported():
    mapping = _row(["用户ID", "乡镇（街道）", "所属街道名称", "村（社区）", "注册时间"])
    assert mapping.columns["township"] == 1
    reported = next(c for c in mapping.cells if c.text == "所属街道名称")
    assert reported.outcome == DUPLICATE and "第 B 列已是“township”" in reported.note


def test_a_required_column_split_between_two_headers_refuses_the_file_naming_them(tmp_path):
    from yukuai_pipeline.intake.file_identity import identify

    path = tmp_path / "注册用户_20230217.csv"
    path.write_text("用户ID,乡镇,街道,村（社区）,注册时间\nYK1,龙潭镇,龙潭镇,某村,2023-02-01\n", encoding="utf-8")
    message = str(identify(path).error)
    assert "缺少必需的列：乡镇（街道）" in message and "第 B 列“乡镇”" in message and "第 C 列“街道”" in message


def test_a_column_with_data_under_an_empty_header_is_reported(tmp_path):
    from yukuai_pipeline.intake.file_identity import identify
    from yukuai_pipeline.intake.loading import load

    path = tmp_path / "注册用户_20230217.csv"
    path.write_text("用户ID,乡镇（街道）,村（社区）,注册时间,\nYK1,龙潭镇,某村,2023-02-01,已通过\n", encoding="utf-8")
    loaded = load(path, identify(path))
    blank = [c for c in loaded.header_cells if c.position == 4]
    assert len(blank) == 1 and blank[0].outcome == UNRECOGNISED and "没有表头" in blank[0].note


def test_the_demo_headers_are_all_understood(demo_files):
    from yukuai_pipeline.intake.file_identity import identify
    from yukuai_pipeline.intake.loading import load

    for path in sorted(demo_files.iterdir()):
        loaded = load(path, identify(path))
        outcomes = {c.outcome for c in loaded.header_cells}
        assert outcomes <= {FIELD, NOISE}, (path.name, [(c.text, c.outcome) for c in loaded.header_cells])
        assert all(c.method != "key_term" for c in loaded.header_cells), path.name


def test_an_exports_own_figures_are_compared_with_its_rows():
    vocabulary = REGISTRATIONS.vocabularies["status"]
    stated = stated_figures(
        [
            (1, "渝快社区注册用户明细"),
            (2, "导出时间：2023-02-18 08:00"),
            (9, "合计 共 5 人，其中已通过 3 人，待审核 1 人，未通过 1 人"),
        ],
        vocabulary,
    )
    assert stated.total == (9, 5) and stated.by_status == {"approved": (9, 3), "pending": (9, 1), "rejected": (9, 1)}
    statuses = pd.Series(["approved", "approved", "pending", "rejected"])
    problems = user_export_mismatches(stated, 4, statuses, 0, REGISTRATIONS.vocabulary_labels["status"])
    assert problems == ["第 9 行写明共 5 人，明细实际 4 行", "第 9 行写明已通过 3 人，明细中已通过 2 人"]


# ---- the pipeline ----------------------------------------------------------------------------------------------

SECOND = "2023-02-18"
EXPORT = "渝快社区注册用户_20230218.csv"


def _reword(path, old: str, new: str) -> None:
    raw = path.read_bytes()
    encoding = next(e for e in ("utf-8-sig", "gb18030") if _decodes(raw, e))
    path.write_bytes(raw.decode(encoding).replace(old, new, 1).encode(encoding))


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def _checks(result, asset: str = "registration_counts") -> dict:
    """The check evaluations of one asset (several assets have a columns_recognised check)."""
    return {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.asset_key.path[-1] in (asset, "township_progress")
    }


def test_a_reworded_status_header_is_loud_everywhere(runner, landing, tmp_path):
    assert runner.run("2023-02-17").success
    assert runner.run(SECOND).success
    honest = runner.table("township_progress", snapshot_date=dt.date(2023, 2, 18)).set_index("township")
    columns = runner.table("file_columns")
    assert set(columns["outcome"]) <= {"field", "noise", "dropped"}
    _reword(landing / EXPORT, "审核状态", "处理结论")
    result = runner.run(SECOND)
    assert result.success
    checks = _checks(result)
    assert not checks["columns_recognised"].passed and "“处理结论”" in checks["columns_recognised"].description
    assert not checks["status_column_present"].passed
    users = int(checks["status_column_present"].metadata["users_assumed_approved"].value)
    assert f"{users:,} 名用户全部按“已通过”计入完成数" in checks["status_column_present"].description
    trust = checks["figures_trustworthy"]
    assert not trust.passed and trust.description.startswith("2023-02-18：本日数据存疑（2 项）")
    progress = runner.table("township_progress", snapshot_date=dt.date(2023, 2, 18)).set_index("township")
    assert int(progress.loc["合计", "completed"]) > int(honest.loc["合计", "completed"])  # what is doubtful, said
    columns = runner.table("file_columns")
    column_h = columns[(columns["file_name"] == EXPORT) & (columns["column_letter"] == "H")]
    assert set(zip(column_h["header_text"], column_h["outcome"], column_h["field"].fillna(""))) == {
        ("审核状态", "field", "status"),
        ("处理结论", "unrecognised", ""),
    }  # one row per version of the file
    issues = runner.table("data_quality_issues", snapshot_date=dt.date(2023, 2, 18))
    unrecognised = issues[issues["check"] == "unrecognised_header"]
    assert list(unrecognised["field"]) == ["H"] and list(unrecognised["source_file"]) == [EXPORT]
    # the report's first sheet says it under the table
    from openpyxl import load_workbook

    from yukuai_pipeline.report.workbook import report_file_name

    sheet = load_workbook(tmp_path / "reports" / report_file_name(dt.date(2023, 2, 18))).worksheets[0]
    notes = [str(c.value) for c in sheet["A"] if c.value and str(c.value).startswith(("⚠", "1.", "2."))]
    assert notes[0] == "⚠ 注意：本日数据存疑（2 项），发送前请核对："
    assert any("“处理结论”未识别" in n for n in notes) and any("按“已通过”计入完成数" in n for n in notes)
    # and the alert names it
    robot = Robot()
    try:
        alerting = AlertingResource(webhook_url=robot.url, ui_base_url="http://127.0.0.1:3000")
        alert_tick(runner.instance, runner.resource, alerting)
        texts = robot.texts()
    finally:
        robot.server.shutdown()
    # the digest of the day's runs (the default: one message per run of a day) names the check in Chinese
    digests = [t for t in texts if "数据检查日报（2023-02-18）" in t]
    assert any("当日数字可信：本日数据存疑" in t for t in digests)
    assert not any("figures_trustworthy" in t for t in texts)  # no single-check message besides the digest


def test_a_roster_without_its_group_column_reports_the_group_rule_unverifiable(runner, landing):
    path = landing / "基层队伍信息_2023-02-17.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    header_row = next(r for r in range(1, 10) if sheet.cell(r, 2).value in ("乡镇（街道）", "乡镇(街道)"))
    group = next(c for c in range(1, sheet.max_column + 1) if sheet.cell(header_row, c).value == "所在小组")
    sheet.delete_cols(group)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    result = runner.run("2023-02-17")
    assert result.success
    checks = _checks(result, "roster_completeness")
    assert not checks["roster_group_column_present"].passed
    assert "无法核验" in checks["roster_group_column_present"].description
    table = runner.table("roster_completeness", snapshot_date=dt.date(2023, 2, 17))
    leaders = table[table["role_group"] == "group_leader"]
    reasons = leaders["reasons"].fillna("")
    assert not reasons.str.contains("有村（居）民小组没有组长：实际").any()  # never judged a failure
    assert reasons.str.contains("无法核验（名单缺少“所在小组”列）：有村（居）民小组没有组长").all()
    assert UNVERIFIABLE in set(leaders["status"])


def test_find_header_prefers_the_contract_whose_headers_are_all_understood():
    cells = pd.DataFrame(
        [
            ["序号", "用户ID", "乡镇（街道）", "村（社区）", "注册时间", "审核状态"],
            [1, "YK1", "龙潭镇", "某村", "2023-02-01", "已通过"],
        ],
        dtype="object",
    )
    match = find_header(cells, input_contracts())
    assert match.contract.kind == "registrations"
    assert [c.outcome for c in match.cells] == [NOISE, FIELD, FIELD, FIELD, FIELD, FIELD]
