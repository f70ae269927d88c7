"""The roster rules as 村民委员会组织法 and 城市居民委员会组织法 word them (issue 20 item 6): 村民代表 by households or
by group, four fifths of the 村民代表会议 off the committee, women among the representatives over the whole meeting,
low-confidence rules off unless switched on, the urban law for 居委会, and the revision in force on the day judged."""

import datetime as dt

import pytest
import yaml

from yukuai_pipeline import settings
from yukuai_pipeline.quality.roster_rules import judge_village, load_rules

OLD, NEW = dt.date(2025, 12, 31), dt.date(2026, 1, 1)  # the 2025 amendments are in force from 2026-01-01
RULES, DOC = load_rules(on=OLD)
LABELS = DOC["role_group_labels"]
GROUP_OF = {
    "village_committee": "committee",
    "party_committee": "committee",
    "supervisor": "supervisor",
    "group_leader": "group_leader",
    "representative": "representative",
}


def _roster(posts: list[tuple[str, str, str]]) -> dict[str, list]:
    """(person, gender, role) posts -> the column lists judge_village reads."""
    return {
        "role_std": [r for _, _, r in posts],
        "role_group": [GROUP_OF[r] for _, _, r in posts],
        "person": [p for p, _, _ in posts],
        "gender_std": [g for _, g, _ in posts],
        "group_number": [None] * len(posts),
        "source_index": list(range(len(posts))),
    }


def _meeting(committee=3, committee_women=1, representatives=12, women=5, on_both=0) -> dict[str, list]:
    """A 村委会's committee and representatives; the first `on_both` committee members are listed as 代表 too."""
    posts = [(f"委{i}", "女" if i < committee_women else "男", "village_committee") for i in range(committee)]
    posts += [(f"委{i}", "女" if i < committee_women else "男", "representative") for i in range(on_both)]
    posts += [(f"代{i}", "女" if i < women else "男", "representative") for i in range(representatives)]
    return _roster(posts)


def _village(committee_type="村委会", households=300, group_count=10) -> dict:
    return {"township": "龙潭镇", "village": "甲村", "committee_type": committee_type,
            "households": households, "group_count": group_count, "resident_population": 900}  # fmt: skip


def _judge(people, village=None, rules=RULES, group="representative") -> dict:
    rows = judge_village(village or _village(), people, set(), rules, LABELS)
    return next(r for r in rows if r["role_group"] == group)


@pytest.mark.parametrize("group_count, status", [(10, "完整"), (12, "完整"), (13, "不完整")])
def test_representatives_chosen_by_group(group_count, status):
    # 300 households: 20..60 by households; 12 representatives hold only as at least one per group
    row = _judge(_meeting(representatives=12), _village(group_count=group_count))
    assert row["status"] == status
    assert ("村民代表由村民" in (row["reasons"] or "")) == (status == "不完整")


def test_neither_way_names_both():
    row = _judge(_meeting(representatives=12), _village(group_count=13))
    assert (row["status"], row["required_min"], row["required_max"]) == ("不完整", 13, None)
    reason = row["reasons"]
    assert "按每五户至十五户推选一人应为 20 至 60" in reason
    assert "由各村民小组推选若干人（按每组至少一人计，即不少于小组数）应不少于 13" in reason
    assert "均不符合" in reason and "实际 12" in reason


def test_by_households_alone_when_the_group_count_is_unknown():
    assert _judge(_meeting(representatives=20, women=8), _village(group_count=None))["status"] == "完整"
    row = _judge(_meeting(representatives=12), _village(group_count=None))
    assert "缺少户数或小组数，未检查：村民代表由村民" in row["reasons"]


@pytest.mark.parametrize(
    "committee, representatives, on_both, holds",
    [
        (3, 12, 0, True),  # 12 of 15: exactly four fifths (以上 includes it)
        (3, 11, 0, False),  # 11 of 14
        (5, 19, 0, False),  # committee members are 5 of 24, more than one fifth
        (5, 20, 0, True),
        (3, 12, 1, True),  # a committee member listed as 代表 too still sits as a committee member: 12 of 15
        (3, 11, 1, False),  # ... so 11 of 14, not 12 of 14
    ],
)
def test_four_fifths_of_the_meeting_are_representatives(committee, representatives, on_both, holds):
    people = _meeting(committee, representatives=representatives, women=representatives // 2, on_both=on_both)
    row = _judge(people, _village(group_count=2))
    broken = "五分之四以上" in (row["reasons"] or "")
    assert broken != holds and (row["status"] == "完整") == holds


@pytest.mark.parametrize(
    "committee_women, women, on_both, holds",
    [
        (1, 5, 0, True),  # 5 of the 15 in the meeting: a third
        (1, 4, 0, False),  # 4 of 12 representatives would be a third, but the base is the meeting (15)
        (3, 4, 0, False),  # 7 women in the meeting, yet only 4 are 妇女村民代表
        (1, 4, 1, False),  # the committee's woman listed as 代表 too is a committee member, not a representative
    ],
)
def test_women_among_the_representatives_over_the_whole_meeting(committee_women, women, on_both, holds):
    people = _meeting(3, committee_women, representatives=12, women=women, on_both=on_both)
    row = _judge(people, _village(group_count=2))
    assert ("妇女村民代表应当占村民代表会议组成人员" in (row["reasons"] or "")) != holds
    assert (row["status"] == "完整") == holds


def _rules_with(tmp_path, rule_id: str, on: dt.date = OLD, **changes):
    doc = settings.read_yaml(settings.assets_dir() / "roster_rules.yaml")
    for entry in doc["rules"]:
        if entry["id"] == rule_id:
            entry.update(changes)
    path = tmp_path / "roster_rules.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return load_rules(path, on=on)[0]


def test_low_confidence_supervisor_size_is_off_unless_the_yaml_enables_it(tmp_path):
    two = _roster([("委0", "女", "village_committee"), ("监1", "男", "supervisor"), ("监2", "男", "supervisor")])
    assert "VSC_SIZE" not in {r.id for r in RULES}
    off = _judge(two, rules=RULES, group="supervisor")
    assert off["status"] == "完整" and "3 至 5" not in (off["reasons"] or "")
    on = _judge(two, rules=_rules_with(tmp_path, "VSC_SIZE", enabled=True), group="supervisor")
    assert (on["status"], on["required_min"], on["required_max"]) == ("不完整", 3, 5) and "3 至 5" in on["reasons"]
    assert "VSC_SIZE" not in {r.id for r in _rules_with(tmp_path, "VSC_SIZE", confidence="none")}
    assert "VC_SIZE" not in {r.id for r in _rules_with(tmp_path, "VC_SIZE", confidence="low")}
    assert "VC_SIZE" not in {r.id for r in _rules_with(tmp_path, "VC_SIZE", enabled=False)}


def test_residents_committees_are_judged_by_the_urban_law():
    small = _roster([(f"委{i}", "女", "village_committee") for i in range(4)])
    row = _judge(small, _village("居委会"), group="committee")
    assert row["status"] == "不完整" and "城市居民委员会组织法（2018修正）第七条" in row["reasons"]
    for day in (OLD, NEW):
        for rule in load_rules(on=day)[0]:
            if "居委会" in rule.applies_to:
                assert "村民委员会组织法" not in rule.source, (day, rule.id, rule.source)
    leaders = _judge(small, _village("居委会", group_count=2), group="group_leader")
    assert "城市居民委员会组织法（2018修正）第十四条" in leaders["reasons"]


def test_the_revision_in_force_on_the_day_is_cited():
    too_small = _roster([("委0", "女", "village_committee"), ("委1", "男", "village_committee")])
    before = _judge(too_small, rules=load_rules(on=OLD)[0], group="committee")["reasons"]
    after = _judge(too_small, rules=load_rules(on=NEW)[0], group="committee")["reasons"]
    assert "村民委员会组织法（2018修正）第六条" in before and "2025" not in before
    assert "村民委员会组织法（2025修正）第八条" in after and "2018" not in after
    assert load_rules(on=OLD)[1]["law_version"] == "2018" and load_rules(on=NEW)[1]["law_version"] == "2025"
    assert load_rules(on=dt.date(2030, 1, 1))[1]["law_version"] == "2025"


VILLAGE_RULE = "村民委员会成员不得担任村务监督机构成员：实际 1，应不多于 0"
COMMUNITY_RULE = "居民委员会成员不宜担任居务监督委员会成员：实际 1，应不多于 0"
UNVERIFIED_2025 = "（条号据二手资料，以公布文本为准）"
VILLAGE_2025 = "村民委员会组织法（2025修正）第三十七条"


@pytest.mark.parametrize(
    "day, committee_type, expected",
    [
        (OLD, "村委会", f"{VILLAGE_RULE}（村民委员会组织法（2018修正）第三十二条）"),
        (NEW, "村委会", f"{VILLAGE_RULE}（{VILLAGE_2025}{UNVERIFIED_2025}）"),
        (
            OLD,
            "居委会",
            f"{COMMUNITY_RULE}（城市居民委员会组织法（2018修正）无居务监督条款，参照村民委员会组织法（2018修正）第三十二条）",
        ),
        (
            NEW,
            "居委会",
            f"{COMMUNITY_RULE}（城市居民委员会组织法（2025修订）相应条款未核对，参照{VILLAGE_2025}{UNVERIFIED_2025}）",
        ),
    ],
)
def test_a_supervisor_on_the_committee_cites_the_law_of_its_committee_and_day(tmp_path, day, committee_type, expected):
    """村: 村民委员会组织法's article as numbered in the revision in force. 社区: no law in ../shared/reference has the
    rule, so it says it applies the village law by analogy (the rule is off by default: switched on here)."""
    posts = [(f"委{i}", "女" if i == 0 else "男", "village_committee") for i in range(5)]
    posts += [("委0", "女", "supervisor"), ("监1", "男", "supervisor")]
    rules = _rules_with(tmp_path, "RSC_CONFLICT", on=day, enabled=True)
    row = _judge(_roster(posts), _village(committee_type), rules, group="supervisor")
    assert row["status"] == "有误" and row["reasons"] == expected
    assert "RSC_CONFLICT" not in {r.id for r in load_rules(on=day)[0]}  # still off unless a county switches it on


@pytest.mark.parametrize("day", [OLD, NEW])
def test_every_rule_cites_its_source_in_every_revision(tmp_path, day):
    doc = settings.read_yaml(settings.assets_dir() / "roster_rules.yaml")
    for entry in doc["rules"]:
        entry["enabled"] = True  # the rules switched off must cite too
    path = tmp_path / "roster_rules.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    rules = load_rules(path, on=day)[0]
    assert len(rules) == len(doc["rules"])
    by_law = {e["id"] for e in doc["rules"] if e.get("law")}
    for rule in rules:
        assert rule.source
        if rule.id in by_law:
            assert "组织法（" in rule.source and "第" in rule.source and "条" in rule.source, rule.source
