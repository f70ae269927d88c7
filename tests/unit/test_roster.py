import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from yukuai_pipeline.contracts import load_contract
from yukuai_pipeline.quality.identity import gender_problem, id_check_char, id_problem, phone_problem
from yukuai_pipeline.quality.roster import RoleVocabulary, check_records, group_number, members, sanitise
from yukuai_pipeline.quality.roster_rules import bound, citations, completeness, judge_village, load_rules
from yukuai_pipeline.steps.roster import supervisor_conflicts

ON = dt.date(2023, 2, 17)
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "youyang_villages.csv"
RULES, DOC = load_rules(on=ON)  # the 2018 text, whatever the day the tests run
LABELS = DOC["role_group_labels"]
VOCABULARY = RoleVocabulary.from_contract(load_contract("roster", "input"))


def make_id(birth: str, sequence: int, region: str = "500242") -> str:
    first17 = f"{region}{birth}{sequence:03d}"
    return first17 + id_check_char(first17)


@pytest.mark.parametrize(
    "number, problem",
    [
        ("11010519491231002X", None),  # the standard's own example, check char X
        ("11010519491231002x", None),  # lower-case x is the same number
        ("110105194912310021", "校验位"),
        ("11010519491231002", "18 位"),
        (make_id("20230230", 1), "出生日期"),
        (make_id("20100101", 1), "未满 18"),
        (make_id("20050217", 1), None),  # 18 on the day itself
        (make_id("20050218", 1), "未满 18"),  # one day short
        ("", "为空"),
    ],
)
def test_id_numbers(number, problem):
    found = id_problem(number, ON)
    assert (found is None) if problem is None else (problem in found)


def test_gender_follows_the_17th_digit_and_phone_pattern():
    man, woman = make_id("19800101", 1), make_id("19800101", 2)
    assert gender_problem("男", man) is None and gender_problem("女", woman) is None
    assert "不符" in gender_problem("女", man) and "不符" in gender_problem("男", woman)
    assert phone_problem("13812345678") is None and phone_problem("19912345678") is None
    assert phone_problem("1381234567") and phone_problem("23812345678") and phone_problem("12812345678")


@pytest.mark.parametrize(
    "text, number",
    [
        ("第一村民小组", 1),
        ("3组", 3),
        ("第12村民小组", 12),
        ("十一组", 11),
        ("二十组", 20),
        ("第三居民小组", 3),
        ("", None),
        (None, None),
    ],
)
def test_group_numbers(text, number):
    assert group_number(text) == number


@pytest.mark.parametrize(
    "cell, roles",
    [
        ("党支部书记兼村委会主任", ["party_committee", "village_committee"]),
        ("书记兼主任", ["party_committee", "village_committee"]),
        ("村（居）委会委员", ["village_committee"]),
        ("村(居)委会委员", ["village_committee"]),
        ("村委委员、村民代表", ["village_committee", "representative"]),
        ("监委会委员", ["supervisor"]),
        ("组长", ["group_leader"]),
        ("社区专职工作者", ["worker"]),
    ],
)
def test_role_vocabulary(cell, roles):
    assert VOCABULARY.roles(cell) == (roles, [])


def test_unknown_role_part_is_reported():
    assert VOCABULARY.roles("村委委员、扫地僧") == (["village_committee"], ["扫地僧"])


def _people(spec: list[tuple[str, str, str]], village="甲村", township="龙潭镇") -> pd.DataFrame:
    """spec: (name, gender, role cell) rows -> member rows as the pipeline builds them; one ID per name."""
    numbers = {n: i for i, n in enumerate(dict.fromkeys(n for n, _, _ in spec))}
    rows = pd.DataFrame(
        [
            {
                "township_std": township,
                "village_std": village,
                "name": n,
                "gender": g,
                "role": r,
                "id_number": make_id("19800101", numbers[n] * 2 + (1 if g == "男" else 2)),
                "phone": "13800000000",
                "group": None,
                "row_number": i + 2,
            }
            for i, (n, g, r) in enumerate(spec)
        ]
    )
    people, issues = members(sanitise(rows, ON, 18), VOCABULARY)
    assert not issues
    people["group_number"] = people["group"].map(group_number)
    return people


def _village(committee_type="村委会", households=60, group_count=2, **extra) -> dict:
    return {
        "township": "龙潭镇",
        "village": "甲村",
        "committee_type": committee_type,
        "households": households,
        "group_count": group_count,
        "resident_population": 200,
        **extra,
    }


def _row(rows, group) -> dict:
    return next(r for r in rows if r["role_group"] == group)


def _committee(n: int, women: int = 1) -> list[tuple[str, str, str]]:
    return [(f"委{i}", "女" if i < women else "男", "村委会委员") for i in range(n)] + [("书记", "男", "党支部书记")]


@pytest.mark.parametrize("size, status", [(2, "不完整"), (3, "完整"), (7, "完整"), (8, "有误")])
def test_village_committee_size_3_to_7(size, status):
    row = _row(judge_village(_village(), _people(_committee(size)), set(), RULES, LABELS), "committee")
    assert (row["required_min"], row["required_max"], row["actual"], row["status"]) == (3, 7, size, status)


@pytest.mark.parametrize("size, status", [(4, "不完整"), (5, "完整"), (9, "完整"), (10, "有误")])
def test_resident_committee_size_5_to_9(size, status):
    village = _village("居委会")
    row = _row(judge_village(village, _people(_committee(size)), set(), RULES, LABELS), "committee")
    assert (row["required_min"], row["required_max"], row["status"]) == (5, 9, status)


def test_village_committee_needs_a_woman():
    row = _row(judge_village(_village(), _people(_committee(4, women=0)), set(), RULES, LABELS), "committee")
    assert row["status"] == "有误" and "妇女" in row["reasons"]


def test_supervisor_on_the_committee_is_wrong():
    spec = [*_committee(4), ("委0", "女", "监委会主任"), ("监1", "男", "监委会委员"), ("监2", "男", "监委会委员")]
    row = _row(judge_village(_village(), _people(spec), set(), RULES, LABELS), "supervisor")
    assert row["actual"] == 3 and row["status"] == "有误" and "不得担任" in row["reasons"]
    # two supervisors are enough by default: the 3-5 size rule is of low confidence, off (test_roster_law.py)
    two = _row(judge_village(_village(), _people(_committee(4) + spec[-2:]), set(), RULES, LABELS), "supervisor")
    assert two["status"] == "完整" and (two["required_min"], two["required_max"]) == (1, None)


VILLAGE_2018 = "村民委员会组织法（2018修正）第三十二条"
VILLAGE_2025 = "村民委员会组织法（2025修正）第三十七条（条号据二手资料，以公布文本为准）"
COMMUNITY_2018 = "城市居民委员会组织法（2018修正）无居务监督条款，参照村民委员会组织法（2018修正）第三十二条"
COMMUNITY_2025 = (
    "城市居民委员会组织法（2025修订）相应条款未核对，"
    "参照村民委员会组织法（2025修正）第三十七条（条号据二手资料，以公布文本为准）"
)


@pytest.mark.parametrize(
    "day, village_cites, community_cites",
    [(dt.date(2025, 12, 31), VILLAGE_2018, COMMUNITY_2018), (dt.date(2026, 1, 1), VILLAGE_2025, COMMUNITY_2025)],
)
def test_a_supervisor_on_the_committee_cites_by_committee_type_and_revision(day, village_cites, community_cites):
    """The check supervisor_not_on_committee (steps/roster.py): 村民委员会组织法's article as numbered on the day for a
    村; for a 社区 no law has the rule, so the analogy is said, whether or not the 居委会 rule is switched on."""
    cites = citations(load_rules(on=day)[1], "supervisors_on_village_committee")
    assert cites == {"村委会": village_cites, "居委会": community_cites}
    village = _people([*_committee(3), ("委0", "女", "监委会主任"), ("委1", "男", "监委会委员")], village="甲村")
    community = _people([*_committee(5), ("委2", "男", "监委会委员")], village="乙社区", township="桃花源街道")
    registry = pd.DataFrame(
        {"township": ["龙潭镇", "桃花源街道"], "village": ["甲村", "乙社区"], "committee_type": ["村委会", "居委会"]}
    )
    only_village = supervisor_conflicts(village, registry, cites)
    assert not only_village.passed and only_village.villages == ["龙潭镇甲村（委0）", "龙潭镇甲村（委1）"]
    assert only_village.summary == f"2 人同时是监督委员会和村（居）委会成员（村委会 2 人：{village_cites}）"
    only_community = supervisor_conflicts(community, registry, cites)
    assert only_community.summary == f"1 人同时是监督委员会和村（居）委会成员（居委会 1 人：{community_cites}）"
    both = supervisor_conflicts(pd.concat([community, village], ignore_index=True), registry, cites)
    assert both.summary == (
        f"3 人同时是监督委员会和村（居）委会成员（村委会 2 人：{village_cites}；居委会 1 人：{community_cites}）"
    )
    assert both.townships == ["桃花源街道", "龙潭镇"]
    # a village the registry does not type is typed by its name; a type no rule covers is counted, never mis-cited
    untyped = supervisor_conflicts(community, registry.head(1), cites)
    assert untyped.summary == only_community.summary
    uncited = supervisor_conflicts(community, registry, {"村委会": village_cites})
    assert uncited.summary == "1 人同时是监督委员会和村（居）委会成员（居委会 1 人）"
    assert supervisor_conflicts(_people(_committee(3)), registry, cites).passed


@pytest.mark.parametrize(
    "groups, status",
    [
        (["1组", "第二村民小组"], "完整"),
        (["1组"], "不完整"),
        (["1组", "1组"], "不完整"),
        (["1组", "2组", "2组"], "有误"),
    ],
)
def test_one_leader_per_group(groups, status):
    people = _people(_committee(4) + [(f"组长{i}", "男", "村民小组长") for i in range(len(groups))])
    leaders = people["role_std"] == "group_leader"
    people.loc[leaders, "group"] = groups
    people["group_number"] = people["group"].map(group_number)
    assert _row(judge_village(_village(), people, set(), RULES, LABELS), "group_leader")["status"] == status


@pytest.mark.parametrize(
    "count, women, status",
    [
        (3, 2, "不完整"),  # fewer than ceil(60/15) = 4 and than one per group (6)
        (12, 5, "完整"),  # 12 of the 15 in the meeting are representatives (4/5), 5 of 15 are women (1/3)
        (12, 4, "有误"),  # 4 women representatives of 15: the committee's woman is no 妇女村民代表
        (11, 5, "有误"),  # 11 of 14: fewer than four fifths
        (14, 6, "完整"),  # more than 60/5, but chosen by group (at least one per group) there is no maximum
    ],
)
def test_representatives_as_the_law_counts_them(count, women, status):
    # 60 households, 6 groups; the 村民代表会议 is the 3 committee members (1 woman) and the representatives
    spec = _committee(3, women=1) + [(f"代表{i}", "女" if i < women else "男", "村民代表") for i in range(count)]
    row = _row(judge_village(_village(group_count=6), _people(spec), set(), RULES, LABELS), "representative")
    assert (row["required_min"], row["required_max"], row["status"]) == (4, None, status)


def test_formulas_need_their_figures():
    assert bound("ceil(households / 15)", {"households": 61}) == 5
    assert bound("floor(households / 5)", {"households": None}) is None
    with pytest.raises(ValueError):
        bound("__import__('os')", {})


def test_bad_records_are_counted_and_masked():
    rows = pd.DataFrame(
        [
            {
                "township_std": "龙潭镇",
                "village_std": "甲村",
                "name": "甲",
                "gender": "女",
                "role": "村委会委员",
                "id_number": make_id("19800101", 1),
                "phone": "1380000000",
                "row_number": 5,
            },
            {
                "township_std": "龙潭镇",
                "village_std": "甲村",
                "name": "乙",
                "gender": "男",
                "role": "村委会委员",
                "id_number": "500242198001010010",
                "phone": "13800000000",
                "row_number": 6,
            },
        ]
    )
    bad, issues = check_records(sanitise(rows, ON, 18))
    assert bad.tolist() == [True, True]
    assert {(i["row_number"], i["field"]) for i in issues} == {(5, "gender"), (5, "phone"), (6, "id_number")}
    text = str(issues)
    assert make_id("19800101", 1) not in text and "1380000000" not in text and "500242********0010" in text


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is not beside this checkout")
def test_the_real_278_villages_each_get_five_rows():
    real = pd.read_csv(REFERENCE, dtype=str)
    registry = pd.DataFrame(
        {
            "township": real["township_name"],
            "village": real["name"],
            "village_code": real["code"],
            "committee_type": real["committee_type"],
            "households": None,
            "group_count": None,
        }
    )
    empty = _people([("x", "男", "村民代表")]).head(0)
    table = completeness(registry, empty, set(), RULES, LABELS)
    assert len(table) == 278 * 5
    assert (table["status"] == "不完整").all() and table["reasons"].str.contains("未录入").all()


def test_what_is_kept_of_a_roster_holds_no_raw_number_and_no_birth_date():
    number = make_id("19800101", 3)
    rows = pd.DataFrame(
        [
            {"name": "甲", "gender": "男", "id_number": number, "phone": "13812345678", "birth": "1980-01"},
            {"name": "乙", "gender": "女", "id_number": number, "phone": None, "birth": None},
            {"name": "丙", "gender": "女", "id_number": "123", "phone": "138", "birth": None},
        ]
    )
    kept = sanitise(rows, ON, 18).astype("object")
    kept = kept.where(kept.notna(), None)
    assert not {"id_number", "phone", "birth"} & set(kept.columns)
    assert kept["person"].tolist() == ["P000001", "P000001", None]  # one person, numbered within the roster
    assert kept["id_masked"].tolist() == ["500242********" + number[-4:], "500242********" + number[-4:], "***"]
    assert kept["id_gender"].tolist() == ["男", "男", None]
    assert kept["phone_masked"].tolist() == ["138****5678", None, "***"]
    assert kept["phone_problem"].tolist() == [None, "手机号为空", "手机号应为 11 位、1 开头的大陆手机号"]
    assert number not in kept.to_csv() and "13812345678" not in kept.to_csv()


def test_vectorised_id_checks_agree_with_the_reference_function():
    from yukuai_pipeline.quality.roster import id_problems

    numbers = [
        "11010519491231002X",
        "11010519491231002x",
        "110105194912310021",
        "11010519491231002",
        "",
        make_id("20230230", 1),
        make_id("20100101", 1),
        make_id("20050217", 1),
        make_id("20050218", 1),
        make_id("18991231", 1),
        make_id("19800229", 1),
        make_id("19840229", 1),
        None,
    ]
    vectorised = id_problems(pd.Series(numbers), ON, 18).tolist()
    assert vectorised == [id_problem(n, ON) for n in numbers]
