"""社区社会组织信息: the GB 32100-2015 credit-code check (against an independent implementation and published codes),
the row rules, the per-village counts against the benchmark of 民发〔2017〕191号 and its override, the input contract
and the demo export."""

import datetime as dt
import string

import pandas as pd
import pytest
import yaml

from support.leaks import leaks
from yukuai_pipeline.contracts import INPUT_KINDS, REFERENCE_KINDS, TABLES, load_contract
from yukuai_pipeline.demo import DEFAULT_SEED, demo_township_villages
from yukuai_pipeline.demo.orgs import FIRST_ROW, ORGS_COLUMNS, demo_orgs, write_orgs
from yukuai_pipeline.intake.file_identity import identify
from yukuai_pipeline.intake.loading import load
from yukuai_pipeline.metrics import community_orgs as orgs
from yukuai_pipeline.quality import org_records
from yukuai_pipeline.quality.credit_code import check_credit_code, credit_check_char, organisation_check_char
from yukuai_pipeline.steps.community_orgs import load_benchmark

D = dt.date(2023, 2, 17)

# ---------------------------------------------------------------------------------------------------------------
# An independent reading of the standard: the alphabet spelt out from its exclusions, the weights computed as powers
# of 3 (GB 32100-2015 5.3: W_i = 3^(i-1) mod 31), the check as the number that makes the weighted sum 0 mod 31.
# ---------------------------------------------------------------------------------------------------------------

ALPHABET = "".join(c for c in string.digits + string.ascii_uppercase if c not in "IOSVZ")


def reference_check(first17: str) -> str:
    total = sum(ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return next(c for c in ALPHABET if (total + ALPHABET.index(c)) % 31 == 0)


def reference_org_check(first8: str) -> str:
    """GB 11714-1997: C9 = 11 - (Σ C_i × W_i mod 11), W = 3 7 9 10 5 8 4 2; 10 is X, 11 is 0."""
    values = [string.digits.index(c) if c.isdigit() else string.ascii_uppercase.index(c) + 10 for c in first8]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def civil_affairs_code(category: str, number: int, county: str = "500242") -> str:
    body = f"MJ{number:06d}"
    first17 = f"5{category}{county}{body}{reference_org_check(body)}"
    return first17 + reference_check(first17)


# Published codes (python-stdnum's test list of codes found online), each verified here by the reference above.
PUBLISHED = [
    "91110000600037341L",
    "121200004013590816",
    "91310115MA1K3BTP2B",
    "9144030071526726XG",
    "91350100M000100Y43",
]
SOCIETY = civil_affairs_code("1", 123456)  # 社会团体 of the county
SERVICE = civil_affairs_code("2", 7012)  # 民办非企业单位


def test_the_alphabet_and_weights_are_the_standards():
    assert len(ALPHABET) == 31 and not set("IOSVZ") & set(ALPHABET)
    assert [pow(3, i, 31) for i in range(17)] == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


@pytest.mark.parametrize("code", [*PUBLISHED, SOCIETY, SERVICE])
def test_published_and_civil_affairs_codes_are_valid(code):
    assert reference_check(code[:17]) == code[17]  # the example really is valid
    assert reference_org_check(code[8:16]) == code[16]
    verdict = check_credit_code(code)
    assert verdict.valid and verdict.code == code, verdict.fault
    assert credit_check_char(code[:17]) == code[17] and organisation_check_char(code[8:16]) == code[16]


def test_the_check_character_agrees_with_the_reference_on_many_bodies():
    import random

    rng = random.Random(20230217)
    for _ in range(2000):
        body = "".join(rng.choice(ALPHABET) for _ in range(17))
        assert credit_check_char(body) == reference_check(body), body


def test_every_single_character_typo_is_caught():
    for at in range(18):
        for typo in ALPHABET:
            if typo == SOCIETY[at]:
                continue
            wrong = SOCIETY[:at] + typo + SOCIETY[at + 1 :]
            assert not check_credit_code(wrong).valid, wrong


def test_a_wrong_check_character_names_the_right_one():
    wrong = SOCIETY[:17] + next(c for c in ALPHABET if c != SOCIETY[17])
    verdict = check_credit_code(wrong)
    assert not verdict.valid and f"应为“{SOCIETY[17]}”" in verdict.fault and "校验码" in verdict.fault


def test_a_typo_in_the_organisation_code_is_named_as_such():
    at = 12
    typo = "1" if SOCIETY[at] != "1" else "2"
    verdict = check_credit_code(SOCIETY[:at] + typo + SOCIETY[at + 1 :])
    assert "主体标识码" in verdict.fault


@pytest.mark.parametrize(
    "value,words",
    [
        ("", "为空"),
        (None, "为空"),
        (SOCIETY[:17], "应为 18 位，实为 17 位"),
        (SOCIETY + "1", "实为 19 位"),
        (SOCIETY[:12] + "O" + SOCIETY[13:], "不允许的字符 “O”"),
        (SOCIETY[:10] + "I" + SOCIETY[11:], "不允许的字符 “I”"),
        ("51AB0242" + SOCIETY[8:], "行政区划码应为 6 位数字"),
    ],
)
def test_each_kind_of_fault_has_its_chinese_reason(value, words):
    verdict = check_credit_code(value)
    assert not verdict.valid and words in verdict.fault


def test_full_width_lower_case_and_spaces_are_the_same_code():
    typed = (
        " " + SOCIETY[:9].lower() + "　" + SOCIETY[9:].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    )
    verdict = check_credit_code(typed)
    assert verdict.valid and verdict.code == SOCIETY and verdict.note is None


def test_a_valid_code_not_from_civil_affairs_is_a_note_not_a_fault():
    business = check_credit_code("91110000600037341L")
    assert business.valid and "工商" in business.note and "不是民政（5）" in business.note
    odd_category = civil_affairs_code("7", 1)
    assert check_credit_code(odd_category).valid and "机构类别码“7”" in check_credit_code(odd_category).note
    assert check_credit_code(SERVICE).note is None


# ---------------------------------------------------------------------------------------------------------------
# Row rules
# ---------------------------------------------------------------------------------------------------------------


def rows(*records) -> pd.DataFrame:
    """Matched rows from (row_number, village, name, registration, credit code, filing number, guiding unit)."""
    frame = pd.DataFrame(
        records,
        columns=[
            "row_number",
            "village_std",
            "org_name",
            "registration",
            "credit_code",
            "filing_number",
            "supervisor_unit",
        ],
    )
    return frame.assign(township_std="甲镇").set_axis((frame["row_number"] - 1).to_numpy())


def test_row_rules_count_valid_records_and_quarantine_bad_ones():
    wrong = SOCIETY[:17] + next(c for c in ALPHABET if c != SOCIETY[17])
    frame = rows(
        (4, "一村", "一村老年人协会", "登记", SOCIETY, None, None),
        (5, "一村", "一村文艺队", "登记", wrong, None, None),
        (6, "一村", "一村腰鼓队", "登记", None, None, None),
        (7, "一村", "一村志愿服务队", "备案", None, "酉民社备〔2021〕1号", "甲镇人民政府"),
        (8, "一村", "一村红白理事会", "备案", None, "酉民社备〔2021〕2号", None),
        (9, "一村", "一村乡贤理事会", "备案", None, None, " "),
        (10, "二村", "二村书画协会", "登记", "91110000600037341L", None, None),
    )
    records = org_records.check_records(frame)
    assert records.outcome.tolist() == ["registered", "invalid", "invalid", "filed", "invalid", "invalid", "registered"]
    issues = pd.DataFrame(records.issues)
    quarantined = issues[issues["quarantined"]]
    assert list(zip(quarantined["row_number"], quarantined["field"])) == [
        (5, "credit_code"),
        (6, "credit_code"),
        (8, "supervisor_unit"),
        (9, "filing_number"),
        (9, "supervisor_unit"),
    ]
    assert quarantined["message"].str.endswith("（该行已隔离，未计入）").all()
    assert (quarantined.loc[quarantined["row_number"] == 5, "value_masked"] == wrong).all()
    assert "缺少指导单位" in quarantined.loc[quarantined["row_number"] == 8, "message"].iloc[0]
    note = issues[issues["check"] == "credit_code_note"]
    assert note["row_number"].tolist() == [10] and not note["quarantined"].any()
    assert records.codes["problem"].tolist() == ["有误", "有误", "非民政"]


def test_the_same_organisation_twice_is_counted_once():
    frame = rows(
        (4, "一村", "一村老年人协会", "备案", None, "1号", "甲镇人民政府"),
        (5, "一村", "一村 老年人　协会", "备案", None, "1号", "甲镇人民政府"),  # typed again, with spaces
        (6, "二村", "二村老年人协会", "备案", None, "2号", "甲镇人民政府"),  # another village's: not a copy
        (7, "一村", "一村书画协会", "登记", SOCIETY, None, None),
        (8, "二村", "二村书画社", "登记", SOCIETY.lower(), None, None),  # the same code: the same organisation
    )
    records = org_records.check_records(frame)
    assert records.outcome.tolist() == ["filed", "duplicate", "filed", "registered", "duplicate"]
    copies = [i for i in records.issues if i["check"] == "duplicate_org"]
    assert [(i["row_number"], "第 4 行" in i["message"] or "第 7 行" in i["message"]) for i in copies] == [
        (5, True),
        (8, True),
    ]


# ---------------------------------------------------------------------------------------------------------------
# Per village against the benchmark
# ---------------------------------------------------------------------------------------------------------------

BENCHMARK = orgs.Benchmark(10, 5, "民发〔2017〕191号")
REGISTRY = pd.DataFrame(
    {
        "township": ["甲镇", "甲镇", "甲镇", "乙街道"],
        "village": ["一村", "城关社区", "二村", "新华社区"],
        "committee_type": ["村委会", "居委会", "村委会", None],  # 新华社区: no type, urban by its name
    }
)


def counted(*places) -> pd.DataFrame:
    """Records from (township, village, outcome, how many)."""
    out = [(t, v, o) for t, v, o, n in places for _ in range(n)]
    return pd.DataFrame(out, columns=["township_std", "village_std", "outcome"])


def test_villages_are_counted_against_the_urban_and_rural_benchmark():
    records = counted(
        ("甲镇", "一村", "filed", 3),
        ("甲镇", "一村", "registered", 1),
        ("甲镇", "一村", "invalid", 3),
        ("甲镇", "城关社区", "filed", 9),
        ("甲镇", "城关社区", "duplicate", 2),
        ("乙街道", "新华社区", "registered", 10),
        ("甲镇", "未匹配", "filed", 2),
    )
    table = orgs.village_counts(records, REGISTRY, BENCHMARK, "未匹配").set_index("village")
    assert list(table.index) == ["一村", "城关社区", "二村", "新华社区", "未匹配"]
    assert table["village_type"].tolist()[:4] == ["农村社区", "城市社区", "农村社区", "城市社区"]
    assert table.loc["一村", ["orgs_total", "registered", "filed", "invalid"]].tolist() == [7, 1, 3, 3]
    assert not table.loc["一村", "meets_benchmark"] and table.loc["一村", "shortfall"] == 1  # 4 of 5: invalid not
    assert table.loc["城关社区", "orgs_total"] == 9 and not table.loc["城关社区", "meets_benchmark"]  # copies not
    assert table.loc["城关社区", "shortfall"] == 1 and table.loc["城关社区", "benchmark"] == 10
    assert table.loc["二村", "orgs_total"] == 0 and table.loc["二村", "shortfall"] == 5
    assert bool(table.loc["新华社区", "meets_benchmark"])
    assert pd.isna(table.loc["未匹配", "benchmark"]) and pd.isna(table.loc["未匹配", "meets_benchmark"])
    below = orgs.below_benchmark(table.reset_index())
    assert below["village"].tolist() == ["一村", "城关社区", "二村"]


def test_the_rollup_gives_averages_per_urban_and_rural_community():
    records = counted(("甲镇", "一村", "filed", 6), ("甲镇", "二村", "filed", 3), ("甲镇", "城关社区", "filed", 12))
    table = orgs.village_counts(records, REGISTRY, BENCHMARK, "未匹配")
    rollup = orgs.rollup(table, "合计").set_index("township")
    assert rollup.loc["甲镇", ["villages", "villages_meeting", "urban_villages", "rural_villages"]].tolist() == [
        3,
        2,
        1,
        2,
    ]
    assert rollup.loc["甲镇", "rural_average"] == 4.5 and rollup.loc["甲镇", "urban_average"] == 12.0
    assert pd.isna(rollup.loc["乙街道", "rural_average"]) and rollup.loc["乙街道", "urban_average"] == 0.0
    assert rollup.loc["合计", "filed"] == 21 and rollup.loc["合计", "villages"] == 4


def test_the_benchmark_ships_with_its_source_and_a_campaign_folder_overrides_it(tmp_path):
    shipped = load_benchmark(None)
    assert (shipped.urban, shipped.rural) == (10, 5)
    assert "民发〔2017〕191号" in shipped.source and "2020" in shipped.note
    assert load_benchmark(tmp_path) == shipped  # a folder without its own file
    (tmp_path / "community_orgs.yaml").write_text(
        yaml.safe_dump({"urban": 8, "source": "县民政局2023年培育计划"}, allow_unicode=True), encoding="utf-8"
    )
    own = load_benchmark(tmp_path)
    assert (own.urban, own.rural, own.source) == (8, 5, "县民政局2023年培育计划")
    table = orgs.village_counts(counted(("甲镇", "城关社区", "filed", 9)), REGISTRY, own, "未匹配")
    assert bool(table.set_index("village").loc["城关社区", "meets_benchmark"])  # 9 ≥ 8, not ≥ 10


# ---------------------------------------------------------------------------------------------------------------
# The contract and a platform's own spellings
# ---------------------------------------------------------------------------------------------------------------


def test_the_kind_is_a_reference_input_with_its_tables():
    assert "community_orgs" in INPUT_KINDS and "community_orgs" in REFERENCE_KINDS
    assert {"community_orgs", "community_orgs_rollup", "community_orgs_input"} <= set(TABLES)
    assert load_contract("community_orgs").columns[0] == "county_code"
    assert load_contract("community_orgs").primary_key[:2] == ("county_code", "snapshot_date")
    stored = load_contract("community_orgs_input").columns
    assert "leader_phone" not in stored and "leader_id_number" not in stored


def _write_csv(path, header, body):
    lines = ["导出时间：2023-02-18 08:00", ",".join(header), *(",".join(r) for r in body)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


def test_another_platforms_headers_are_read_and_personal_numbers_never_kept(tmp_path):
    header = [
        "所属乡镇",
        "所属社区",
        "社会组织名称",
        "登记备案",
        "社会信用代码",
        "备案号",
        "业务指导单位",
        "法定代表人",
        "负责人电话",
        "负责人身份证号",
        "成立时间",
        "会员人数",
    ]
    body = [
        [
            "龙潭镇",
            "天山堡村",
            "天山堡村老年人协会",
            "已登记",
            SOCIETY,
            "",
            "",
            "张三",
            "13812345678",
            "500242199001011234",
            "2019-05-01",
            "30",
        ],
        [
            "龙潭镇",
            "天山堡村",
            "天山堡村文艺队",
            "已登记",
            "500242199001011234",
            "",
            "",
            "李四",
            "",
            "",
            "2020-01-01",
            "12",
        ],
        ["龙潭镇", "天山堡村", "天山堡村腰鼓队", "乡镇备案", "", "2号", "龙潭镇人民政府", "王五", "", "", "", ""],
    ]
    path = tmp_path / "社会组织_20230218.csv"
    _write_csv(path, header, body)
    identity = identify(path)
    assert identity.kind == "community_orgs" and identity.snapshot_date == dt.date(2023, 2, 18)
    loaded = load(path, identity)
    fields = {c.text: c.field for c in loaded.header_cells}
    assert fields["登记备案"] == "registration" and fields["业务指导单位"] == "supervisor_unit"
    assert fields["负责人电话"] == "leader_phone" and fields["负责人身份证号"] == "leader_id_number"
    assert not {"leader_phone", "leader_id_number"} & set(loaded.accepted.columns)
    assert loaded.accepted["registration"].tolist() == ["登记", "登记", "备案"]
    # an ID number typed as the credit code is refused at intake, its cell emptied and its value never stored
    assert loaded.accepted["credit_code"].isna().tolist() == [False, True, True]
    assert (loaded.issues["field"] == "credit_code").sum() == 1
    assert leaks(loaded.accepted.to_csv() + loaded.issues.to_csv()) == []


# ---------------------------------------------------------------------------------------------------------------
# The demo export
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_frame() -> pd.DataFrame:
    return demo_orgs(demo_township_villages(), D, DEFAULT_SEED)


def test_demo_export_is_identified_loads_whole_and_is_the_same_for_a_seed(tmp_path, demo_frame):
    path = tmp_path / "社区社会组织信息_2023-02-17.xlsx"
    write_orgs(path, demo_frame, D)
    identity = identify(path)
    assert identity.kind == "community_orgs" and identity.snapshot_date == D and identity.error is None
    loaded = load(path, identity)
    assert loaded.issues.empty and loaded.rows == len(loaded.accepted) == len(demo_frame)
    assert loaded.accepted["_row"].tolist() == (demo_frame["序号"] + FIRST_ROW - 1).tolist()
    again = tmp_path / "again.xlsx"
    write_orgs(again, demo_orgs(demo_township_villages(), D, DEFAULT_SEED), D)
    assert again.read_bytes() == path.read_bytes()
    assert list(demo_frame.columns) == ORGS_COLUMNS


def test_demo_villages_have_realistic_numbers_and_the_planted_faults(demo_frame):
    per_village = demo_frame.groupby("村（社区）").size()
    urban = per_village[per_village.index.str.endswith("社区")]
    rural = per_village[~per_village.index.str.endswith("社区")]
    assert per_village.between(2, 14).all() and per_village.between(2, 12).mean() > 0.8
    assert (urban < 10).any() and (rural < 5).any() and (urban >= 10).any()
    attrs = demo_frame.attrs
    by_seq = demo_frame.set_index("序号")
    for seq in attrs["wrong_check_rows"] + attrs["illegal_char_rows"]:
        assert not check_credit_code(by_seq.loc[seq, "统一社会信用代码"]).valid
    assert len(attrs["wrong_check_rows"]) == 3
    (licence,) = attrs["not_civil_affairs_rows"]
    assert check_credit_code(by_seq.loc[licence, "统一社会信用代码"]).note
    (no_guide,) = attrs["missing_guide_rows"]
    assert by_seq.loc[no_guide, "登记状态"] == "备案" and by_seq.loc[no_guide, "指导单位"] is None
    ((original, copy),) = attrs["duplicate_rows"]
    assert by_seq.loc[copy, "备案编号"] == by_seq.loc[original, "备案编号"]
    registered = demo_frame[demo_frame["登记状态"] == "登记"]
    planted = set(attrs["wrong_check_rows"] + attrs["illegal_char_rows"] + attrs["not_civil_affairs_rows"])
    clean = registered[~registered["序号"].isin(planted)]["统一社会信用代码"]
    assert clean.map(lambda c: check_credit_code(c).valid and c.startswith("5") and c[2:8] == "500242").all()


# ---------------------------------------------------------------------------------------------------------------
# The report's sheet
# ---------------------------------------------------------------------------------------------------------------


def test_the_report_sheet_says_the_date_and_benchmark_and_marks_villages_below_it():
    from types import SimpleNamespace

    from openpyxl import Workbook

    from yukuai_pipeline.report.org_sheet import NOTHING_YET, org_sheet

    records = counted(
        ("甲镇", "一村", "filed", 6), ("甲镇", "城关社区", "filed", 4), ("乙街道", "新华社区", "filed", 11)
    )
    table = orgs.village_counts(records, REGISTRY, BENCHMARK, "未匹配").assign(
        orgs_date=D, benchmark_source=BENCHMARK.source
    )
    table.loc[table["village"] == "一村", "village"] = "=HYPERLINK(1)"  # text from a file stays text
    townships = pd.DataFrame({"township": ["乙街道", "甲镇"], "seq": [1, 2]})
    campaign = SimpleNamespace(county_row_label="合计")
    data = SimpleNamespace(snapshot_date=D, campaign=campaign, townships=townships, community_orgs=table)
    ws = Workbook().active
    org_sheet(ws, data)
    assert "数据日期：2023-02-17" in ws["A1"].value and "民发〔2017〕191号" in ws["A1"].value
    assert "城市社区不少于 10 个" in ws["A1"].value and "农村社区不少于 5 个" in ws["A1"].value
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert [r[0] for r in cells[2:5]] == ["乙街道", "甲镇", "合计"]  # attachment order, then the county
    villages = {r[1]: r for r in cells if r[1] in {"新华社区", "城关社区", "二村", "=HYPERLINK(1)"}}
    assert villages["城关社区"][9] == "低于基准" and villages["新华社区"][9] == "达到基准"
    row_of = {r[1]: i for i, r in enumerate(cells, 1)}
    assert ws.cell(row_of["城关社区"], 1).fill.fgColor.rgb.endswith("FCE4D6")
    assert ws.cell(row_of["新华社区"], 1).fill.fgColor.rgb in ("00000000", None)
    assert ws.cell(row_of["=HYPERLINK(1)"], 2).data_type == "s"

    empty = Workbook().active
    org_sheet(empty, SimpleNamespace(snapshot_date=D, campaign=campaign))  # a ReportData without the field yet
    assert empty["A1"].value == NOTHING_YET and empty.max_row == 1
