"""社区基本信息 scored per village (metrics/registry_completeness.py): each rule of schemas/benchmarks/
registry_fields.yaml passes and fails on a hand-made registry, a campaign folder's own registry_fields.yaml and
reference list change the verdicts, and a 联系电话 never reaches a table or an issue unmasked."""

import datetime as dt
import re
import shutil

import pandas as pd
import pytest

from support.leaks import leaks
from support.messy import write_xlsx
from yukuai_pipeline import settings
from yukuai_pipeline.metrics.registry_completeness import load_fields, score, township_summary
from yukuai_pipeline.places.registry import PHONE_MALFORMED, PHONE_OK, phone_status

COUNTY = "500242"
ALL_PRESENT = {
    "village_code",
    "township",
    "village",
    "committee_type",
    "resident_population",
    "households",
    "group_count",
    "office_address",
    "contact_phone",
    "head",
}
GOOD = {
    "township": "龙潭镇",
    "village": "青石村",
    "village_code": "500242101201",
    "committee_type": "村委会",
    "resident_population": 3000,
    "households": 900,
    "group_count": 8,
    "office_address": "龙潭镇青石村便民服务中心",
    "head": "冉明华",
    "contact_phone_status": PHONE_OK,
    "contact_phone_masked": None,
    "_row": 4,
}


def registry(*changes: dict) -> pd.DataFrame:
    """One good village, then one village per change (named 村1, 村2 …, codes distinct)."""
    rows = [GOOD]
    for i, change in enumerate(changes, start=1):
        rows.append({**GOOD, "village": f"村{i}", "village_code": f"500242101{201 + i}", "_row": 4 + i, **change})
    frame = pd.DataFrame(rows)
    for column in ("resident_population", "households", "group_count"):
        frame[column] = frame[column].astype("Int64")
    return frame


def listed(values: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in values]


def scored(frame: pd.DataFrame, folder=None, present=ALL_PRESENT):
    return score(frame, load_fields(folder), set(present), COUNTY)


def test_a_village_with_every_field_filled_and_valid_is_complete():
    result = scored(registry())
    row = result.table.iloc[0]
    assert (row["fields_required"], row["fields_ok"], row["completeness"]) == (8, 8, 1.0)
    assert pd.isna(row["missing"]) and pd.isna(row["reasons"])
    assert result.problems.empty and result.absent == []


RULES = [
    ({"village_code": "50024210120"}, "区划代码", "不是以 500242 开头的 12 位统计用区划代码"),
    ({"village_code": "500243101299"}, "区划代码", "不是以 500242 开头的 12 位统计用区划代码"),
    ({"committee_type": None}, "类型", "类型未填写"),
    ({"resident_population": 0}, "常住人口、户数", "常住人口为 0，应大于 0；户数（900）多于常住人口（0）"),
    ({"resident_population": None, "households": None}, "常住人口、户数", "常住人口未填写；户数未填写"),
    ({"households": 0}, "户数", "户数为 0，应大于 0"),
    ({"households": 3001}, "户数", "户数（3001）多于常住人口（3000）"),
    ({"group_count": 0}, "村（居）民小组数", "村（居）民小组数为 0，应不少于 1"),
    ({"group_count": None}, "村（居）民小组数", "村（居）民小组数未填写"),
    ({"office_address": "  "}, "办公地址", "办公地址未填写"),
    ({"head": None}, "负责人", "负责人未填写"),
    ({"contact_phone_status": "为空"}, "联系电话", "联系电话未填写"),
    (
        {"contact_phone_status": PHONE_MALFORMED, "contact_phone_masked": "755****4"},
        "联系电话",
        "联系电话格式不正确（755****4）：应为 11 位手机号或带区号的固定电话",
    ),
]


@pytest.mark.parametrize(("change", "missing", "reason"), RULES, ids=[r[2][:14] for r in RULES])
def test_each_rule_fails_naming_the_field_and_the_reason(change, missing, reason):
    result = scored(registry(change))
    good, bad = result.table.iloc[0], result.table.iloc[1]
    assert pd.isna(good["missing"])
    assert bad["missing"] == missing and reason in bad["reasons"]
    assert bad["fields_ok"] == bad["fields_required"] - len(missing.split("、"))
    assert bad["completeness"] == round(bad["fields_ok"] / bad["fields_required"], 4)
    problems = result.problems
    assert set(problems["village"]) == {"村1"} and problems["row_number"].tolist() == [5] * len(problems)
    assert set(problems["kind"]) == ({"missing"} if "未填写" in reason else {"invalid"})


def test_the_group_count_applies_to_a_village_committee_only():
    result = scored(registry({"committee_type": "居委会", "village": "石门社区", "group_count": 0}))
    community = result.table.iloc[1]
    assert (community["fields_required"], community["fields_ok"]) == (7, 7) and pd.isna(community["missing"])
    # without a type, a name ending in 社区 is a 居委会 (the type itself is then missing)
    untyped = scored(registry({"committee_type": None, "village": "石门社区", "group_count": None})).table.iloc[1]
    assert (untyped["fields_required"], untyped["missing"]) == (7, "类型")


def test_a_column_the_file_does_not_have_is_missing_everywhere_and_said_once():
    result = scored(registry({}), present=ALL_PRESENT - {"office_address"})
    assert result.absent == ["office_address"]
    assert result.table["missing"].tolist() == ["办公地址", "办公地址"]
    assert (result.table["reasons"] == "表中没有“办公地址”列").all()
    assert result.problems.empty  # one issue for the file (steps/registry_scoring.py), not one per village


def test_township_summary_counts_complete_villages():
    frame = registry({"head": None}, {"township": "麻旺镇"})
    summary = township_summary(scored(frame).table).set_index("township")
    assert summary.loc["龙潭镇", ["villages", "villages_complete"]].tolist() == [2, 1]
    assert summary.loc["龙潭镇", "completeness"] == 0.5
    assert summary.loc["麻旺镇", ["villages", "villages_complete", "completeness"]].tolist() == [1, 1, 1.0]


def _campaign_copy(tmp_path):
    folder = tmp_path / "campaign"
    shutil.copytree(settings.assets_dir(), folder)
    return folder


def test_without_a_reference_list_the_code_is_checked_for_shape_only_and_says_so(tmp_path):
    fields = load_fields(_campaign_copy(tmp_path))
    assert fields.reference is None and fields.reference_file == "village_codes.csv"
    assert "未与名录核对" in fields.code_note(COUNTY)
    assert scored(registry({"village_code": "500242999999"}), tmp_path / "campaign").table["missing"].isna().all()


def test_a_reference_list_in_the_campaign_folder_checks_every_code(tmp_path):
    folder = _campaign_copy(tmp_path)
    pd.DataFrame({"code": ["500242101201", "500242101202"], "name": ["青石村", "村1"]}).to_csv(
        folder / "village_codes.csv", index=False
    )
    fields = load_fields(folder)
    assert fields.reference == {"500242101201", "500242101202"}
    assert fields.code_note(COUNTY) == "区划代码已与统计用区划代码名录 village_codes.csv（2 个代码）核对"
    table = scored(registry({}, {}), folder).table
    assert listed(table["missing"]) == [None, None, "区划代码"]
    assert "“500242101203”不在统计用区划代码名录（village_codes.csv）中" in table.loc[2, "reasons"]


def test_a_campaign_folder_overrides_fields_and_keys(tmp_path):
    folder = _campaign_copy(tmp_path)
    (folder / "registry_fields.yaml").write_text(
        "fields:\n"
        "  contact_phone: {required: false}\n"
        "  head: {enabled: false}\n"
        "  group_count: {rule: {at_least: 2}, source: 本县填报说明}\n",
        encoding="utf-8",
    )
    fields = load_fields(folder)
    assert [f.column for f in fields.fields if f.column == "head"] == []
    assert next(f for f in fields.fields if f.column == "group_count").source == "本县填报说明"
    frame = registry({"contact_phone_status": "为空", "head": None}, {"group_count": 1})
    table = scored(frame, folder).table
    # an empty optional phone and the head no longer count; a filled optional phone must still be well-formed
    assert listed(table.loc[1, ["fields_required", "fields_ok", "missing"]]) == [6, 6, None]
    assert table.loc[0, "fields_required"] == 7
    assert table.loc[2, "missing"] == "村（居）民小组数" and "应不少于 2" in table.loc[2, "reasons"]
    malformed = scored(registry({"contact_phone_status": PHONE_MALFORMED}), folder).table
    assert malformed.loc[1, "missing"] == "联系电话"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("fields:\n  no_such_column: {required: true}\n", "not a column of the community registry"),
        ("fields:\n  head: {rule: {shorter_than: 3}}\n", "unknown rule keys"),
    ],
)
def test_an_override_naming_an_unknown_column_or_rule_is_refused(tmp_path, text, error):
    folder = _campaign_copy(tmp_path)
    (folder / "registry_fields.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_fields(folder)


def test_every_shipped_field_names_its_source():
    fields = load_fields()
    assert [f.column for f in fields.fields] == [
        "village_code",
        "committee_type",
        "resident_population",
        "households",
        "group_count",
        "office_address",
        "contact_phone",
        "head",
    ]
    assert all(f.source and f.required for f in fields.fields)
    assert "酉阳民政发〔2023〕9号 一（一）" in fields.fields[0].source + fields.fields[-1].source


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("13812345678", PHONE_OK),
        ("02375551234", PHONE_OK),  # 023-75551234 after parse_phone
        ("075551234567", PHONE_OK),
        ("75558921,17384028371", PHONE_MALFORMED),  # the notice's own: the landline lacks its area code
        ("17384028371，13812345678", PHONE_OK),
        ("1381234567", PHONE_MALFORMED),
        ("12345678901", PHONE_MALFORMED),
        ("", "为空"),
        (None, "为空"),
    ],
)
def test_phone_verdicts(value, status):
    assert phone_status(value) == status


PHONES = ["13812345678", "023-75569876", "1738402837", "75558921，17384028371", None]
RAW_DIGITS = ["13812345678", "75569876", "1738402837", "75558921", "17384028371"]


BASE_HEADER = ["社区编码", "乡镇（街道）", "村（社区）名称", "类型", "常住人口（人）", "户数", "村（居）民小组数"]
DAY = dt.date(2023, 2, 17)


def run_step(tmp_path, header: list[str], rows: list[list]):
    """The community_registry step on one landed registry file: (its result, the warehouse)."""
    from yukuai_pipeline.steps.context import StepContext
    from yukuai_pipeline.steps.registry import community_registry
    from yukuai_pipeline.warehouse import Warehouse

    landing = tmp_path / "landing"
    landing.mkdir()
    write_xlsx(landing / "社区基本信息_2023-02-17.xlsx", rows, [header], title=[["统计截止：2023-02-17"]])
    warehouse = Warehouse(f"sqlite:///{tmp_path}/warehouse.db")
    return community_registry(StepContext(warehouse, landing), DAY), warehouse


def test_a_registry_without_the_contact_columns_is_scored_and_says_so_once_per_column(tmp_path):
    rows = [[f"50024210120{i}", "龙潭镇", f"青石{i}村", "村委会", 3000, 900, 8] for i in range(3)]
    result, warehouse = run_step(tmp_path, BASE_HEADER, rows)
    table = warehouse.read("registry_completeness", {"snapshot_date": DAY})
    assert (table["missing"] == "办公地址、联系电话、负责人").all() and (table["fields_ok"] == 5).all()
    issues = warehouse.read("data_quality_issues", {"snapshot_date": DAY})
    said = issues[issues["check"] == "registry_column_missing"].sort_values("field")
    assert said["field"].tolist() == ["contact_phone", "head", "office_address"]
    assert said["message"].str.contains("3 个村（社区）").all()
    assert not issues["check"].isin(["registry_field_missing", "registry_field_invalid"]).any()
    summary = warehouse.read("registry_township_summary", {"snapshot_date": DAY})
    assert summary[["township", "villages", "villages_complete"]].values.tolist() == [["龙潭镇", 3, 0]]
    assert not next(c for c in result.checks if c.name == "registry_complete").passed


def test_the_phone_is_never_kept_or_shown_unmasked(tmp_path):
    """Through the real path: the file is read, stored (steps/references.py), scored and its issues written."""
    header = [*BASE_HEADER, "办公地址", "联系电话", "负责人"]
    rows = [
        [f"50024210120{i}", "龙潭镇", f"青石{i}村", "村委会", 3000, 900, 8, "青石村便民服务中心", phone, "冉明华"]
        for i, phone in enumerate(PHONES)
    ]
    result, warehouse = run_step(tmp_path, header, rows)
    day = DAY
    from yukuai_pipeline.contracts import TABLES

    text = "\n".join(warehouse.read(t).astype(str).to_csv(index=False) for t in TABLES)
    assert leaks(text) == []
    assert not [d for d in RAW_DIGITS if d in text]  # landlines and malformed numbers too, not only mobiles
    kept = warehouse.read("registry_input").set_index("row_number")
    assert "contact_phone" not in kept.columns
    assert kept["contact_phone_status"].tolist() == ["有效", "有效", "格式不正确", "格式不正确", "为空"]
    assert kept["contact_phone_masked"].tolist()[2:4] == ["173******7", "755****1，173****8371"]
    table = warehouse.read("registry_completeness", {"snapshot_date": day}).set_index("village")
    assert listed(table["missing"]) == [None, None, "联系电话", "联系电话", "联系电话"]
    issues = warehouse.read("data_quality_issues", {"snapshot_date": day})
    invalid = issues[issues["check"] == "registry_field_invalid"]
    assert invalid["value_masked"].tolist() == ["173******7", "755****1，173****8371"]
    assert invalid["message"].str.contains(r"\*{4}", regex=True).all()
    check = next(c for c in result.checks if c.name == "registry_complete")
    assert not check.passed and check.numbers["villages_incomplete"] == 3
    assert not [d for d in RAW_DIGITS if d in str(check) + str(result.metadata) + str(result.markdown)]
    assert all(not re.search(r"\d{7,}", v) for v in check.villages)


def test_the_report_sheet_lists_townships_then_the_incomplete_villages_and_the_sources():
    from types import SimpleNamespace

    from openpyxl import Workbook

    from yukuai_pipeline.report.registry_sheet import NOT_YET, registry_sheet

    table = scored(registry({"head": None}, {"township": "麻旺镇", "village": "=1+1", "office_address": None})).table
    data = SimpleNamespace(
        snapshot_date=dt.date(2023, 2, 17),
        campaign=settings.campaign(),
        townships=pd.DataFrame({"township": ["麻旺镇", "龙潭镇"], "seq": [1, 2]}),
        registry_completeness=table,
        registry_township_summary=township_summary(table),
    )
    ws = Workbook().active
    registry_sheet(ws, data)
    rows = [[c for c in row if c is not None] for row in ws.iter_rows(values_only=True)]
    assert rows[1][:4] == ["乡镇（街道）", "村（社区）数", "信息完整的村数", "完整率"]
    assert [r[0] for r in rows[2:4]] == ["麻旺镇", "龙潭镇"]  # the attachment's order
    assert rows[5] == ["信息不完整或有误的村（社区）（2 个）"]
    assert rows[7][:2] == ["麻旺镇", "=1+1"] and rows[7][-2:] == ["办公地址", "办公地址未填写"]
    assert rows[8][:2] == ["龙潭镇", "村1"] and rows[8][-2:] == ["负责人", "负责人未填写"]
    assert ws.cell(9, 1).fill.fgColor.rgb.endswith("FCE4D6")  # highlighted as 不完整
    text = " ".join(str(c) for r in rows for c in r)
    assert "酉阳民政发〔2023〕9号 一（一）" in text and "未与名录核对" in text
    assert ws.cell(8, 2).data_type == "s" and ws.cell(8, 2).quotePrefix  # "=1+1" stays text
    empty = Workbook().active
    registry_sheet(empty, SimpleNamespace(snapshot_date=dt.date(2023, 2, 17)))
    assert empty.cell(1, 1).value == NOT_YET
