"""Village rules over rosters (assets/roster_rules.yaml): one completeness row per village × role group.

A rule reads one measure of a village's roster and compares it with bounds that are numbers or formulas over
the village's registry figures, or with several such alternatives when the law allows several ways (any_of).
Head-count rules set the row's required_min/required_max; a shortfall is 不完整, an excess or any other broken rule
is 有误; records with bad ID/phone/gender make a row 有误 too. Rules cite the law revision in force on the day
judged (law_versions.py).
"""

import ast
import datetime as dt
import math
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Mapping, Set
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from yukuai_pipeline import settings
from yukuai_pipeline.quality.law_versions import citation, confidence, enabled, in_force, law_versions

ROLE_GROUPS = ("committee", "supervisor", "worker", "group_leader", "representative")
COMPLETENESS_COLUMNS = [
    "township",
    "village",
    "village_code",
    "committee_type",
    "role_group",
    "role_group_label",
    "required_min",
    "required_max",
    "actual",
    "invalid_records",
    "status",
    "reasons",
]
COMPLETE, INCOMPLETE, WRONG, UNVERIFIABLE = "完整", "不完整", "有误", "无法核验"
_OPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_FUNCS: dict[str, Callable[[float], int]] = {"ceil": math.ceil, "floor": math.floor}
_KIND = {"incomplete": INCOMPLETE, "wrong": WRONG}


@dataclass(frozen=True)
class Rule:
    id: str
    applies_to: tuple[str, ...]
    role_group: str
    measure: str
    min: object = None
    max: object = None
    head_count: bool = False
    kind: str = "wrong"
    message: str = ""
    source: str = ""  # the citation under the law revision the rules were loaded for
    any_of: tuple[Mapping[str, Any], ...] = ()  # alternatives ({label, min, max}): the rule holds if one does
    confidence: str = "high"

    def options(self) -> tuple[Mapping[str, Any], ...]:
        return self.any_of or ({"min": self.min, "max": self.max},)


# yaml keys resolved into a Rule's source and confidence rather than copied
_LAW_KEYS = {"enabled", "law", "sources", "source", "confidence", "applies_to", "any_of"}


def load_rules(path: Path | None = None, on: dt.date | None = None) -> tuple[list[Rule], dict[str, Any]]:
    """The rules switched on under the law revision in force on `on` (the day judged; default today in
    Asia/Shanghai), citing that revision; the document gets `law_version`, the revision's id."""
    doc = settings.read_yaml(path or settings.assets_dir() / "roster_rules.yaml")
    version = in_force(law_versions(doc), on or dt.datetime.now(ZoneInfo("Asia/Shanghai")).date())
    rules = [
        Rule(
            **{k: v for k, v in entry.items() if k not in _LAW_KEYS},
            applies_to=tuple(entry["applies_to"]),
            any_of=tuple(entry.get("any_of") or ()),
            source=citation(entry, version),
            confidence=confidence(entry, version),
        )
        for entry in doc["rules"]
        if enabled(entry, version)
    ]
    return rules, {**doc, "law_version": version.id}


def citations(doc: Mapping[str, Any], measure: str) -> dict[str, str]:
    """Committee type (村委会, 居委会) -> what the rule reading `measure` cites under the revision load_rules chose
    (`doc` is its document), switched on or not: a check outside the rules (a supervisor on the committee,
    steps/roster.py) must cite the same basis as the rule, per committee type and revision, never one fixed text.
    A type no rule covers is absent."""
    version = next(v for v in law_versions(doc) if v.id == doc["law_version"])
    found: dict[str, str] = {}
    for entry in doc["rules"]:
        if entry["measure"] == measure:
            for kind in entry["applies_to"]:
                found.setdefault(kind, citation(entry, version))
    return found


def bound(expression: object, figures: Mapping[str, Any]) -> float | None:
    """A number, or a formula such as ceil(households / 15); None when a figure it needs is unknown."""
    if expression is None or isinstance(expression, (int, float)):
        return expression
    return _evaluate(_formula(str(expression)), figures)


@lru_cache(maxsize=256)
def _formula(expression: str) -> ast.AST:
    """Parsed once: the same few formulas are evaluated for every village of a city."""
    return ast.parse(expression, mode="eval").body


def _evaluate(node: ast.AST, figures: Mapping[str, Any]) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.Name):
        value = figures.get(node.id)
        return None if value is None or pd.isna(value) else float(value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _evaluate(node.left, figures), _evaluate(node.right, figures)
        return None if left is None or right is None else _OPS[type(node.op)](left, right)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCS
        and len(node.args) == 1
    ):
        inner = _evaluate(node.args[0], figures)
        return None if inner is None else _FUNCS[node.func.id](inner)
    raise ValueError(f"roster_rules.yaml: unsupported formula element {ast.dump(node)}")


def village_measures(people: pd.DataFrame | Mapping[str, list[Any]], group_count: Any) -> dict[str, float | None]:
    """Every measure a rule may read, for one village's members (one row per person and role; a DataFrame or a
    dict of column lists). Plain Python sets over the village's few hundred rows: a city has ~11,000 villages, so
    per-village pandas calls would dominate."""
    by_role: dict[str, set[str]] = defaultdict(set)
    women: set[str] = set()
    numbers: list[int] = []
    for role, person, gender, number in zip(
        people["role_std"], people["person"], people["gender_std"], people["group_number"]
    ):
        by_role[role].add(person)
        if gender == "女":
            women.add(person)
        if role == "group_leader" and number is not None and not pd.isna(number):
            numbers.append(int(number))
    committee, supervisors = by_role["village_committee"], by_role["supervisor"]
    # 村民代表会议 = 村民委员会成员 + 村民代表; a committee member also listed as 代表 sits in it as a committee member,
    # so the law's 村民代表 (五分之四, 妇女村民代表三分之一) are the listed representatives off the committee
    assembly = committee | by_role["representative"]
    representatives = by_role["representative"] - committee
    known_groups = group_count is not None and not pd.isna(group_count)
    return {
        "roster_rows": len(people["person"]),
        "village_committee_members": len(committee),
        "village_committee_women": len(committee & women),
        "party_committee_members": len(by_role["party_committee"]),
        "supervisor_members": len(supervisors),
        "supervisors_on_village_committee": len(supervisors & committee),
        "group_leaders": len(by_role["group_leader"]),
        "groups_without_leader": len(set(range(1, int(group_count) + 1)) - set(numbers)) if known_groups else None,
        "groups_with_several_leaders": sum(1 for n in Counter(numbers).values() if n > 1) if numbers else 0,
        "representatives": len(by_role["representative"]),
        "representatives_share_of_assembly": (len(representatives) / len(assembly)) if assembly else 0.0,
        "women_representatives_share_of_assembly": (
            (len(representatives & women) / len(assembly)) if assembly else 0.0
        ),
        "workers": len(by_role["worker"]),
    }


def _fmt(value: float) -> str:
    return f"{value:.0%}" if isinstance(value, float) and 0 < value < 1 else f"{value:g}"


def _judge(
    rule: Rule, value: float | None, figures: Mapping[str, Any]
) -> tuple[str | None, str, tuple[float | None, float | None] | None]:
    """(status or None when it holds, reason, (min, max) it allows) of one rule; span None: not checked, a figure
    is missing. With alternatives the rule holds when one of them does; a failure names every alternative."""
    options = [(o, bound(o.get("min"), figures), bound(o.get("max"), figures)) for o in rule.options()]
    known = [
        (o.get("label", ""), low, high)
        for o, low, high in options
        if (o.get("min") is None or low is not None) and (o.get("max") is None or high is not None)
    ]
    holds = value is not None and any(
        (low is None or value >= low) and (high is None or value <= high) for _, low, high in known
    )
    if value is None or (not holds and len(known) < len(options)):
        return None, f"缺少户数或小组数，未检查：{rule.message}", None
    span = (_loosest([low for _, low, _ in known], min), _loosest([high for _, _, high in known], max))
    if holds:
        return None, "", span
    short = any(low is not None and value < low for _, low, _ in known)  # more people would satisfy some alternative
    kind = (INCOMPLETE if short else WRONG) if rule.head_count else _KIND[rule.kind]
    if len(known) == 1:
        _, low, high = known[0]
        expected = _expected(low, None) if low is not None and value < low else _expected(None, high)
    else:
        expected = "，".join(f"{label}{_expected(low, high)}" for label, low, high in known) + "，均不符合"
    return kind, f"{rule.message}：实际 {_fmt(value)}，{expected}（{rule.source}）", span


def _loosest(values: list[float | None], pick: Callable[[list[float]], float]) -> float | None:
    """The widest bound over alternatives: none when one of them has none."""
    return None if None in values else pick([v for v in values if v is not None])


def _expected(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"应为 {_fmt(low)} 至 {_fmt(high)}"
    if low is not None:
        return f"应不少于 {_fmt(low)}"
    return f"应不多于 {_fmt(high)}" if high is not None else ""


def rules_by_group(rules: list[Rule], committee_type: str) -> dict[str, list[Rule]]:
    return {
        group: [r for r in rules if r.role_group in (group, "all") and committee_type in r.applies_to]
        for group in ROLE_GROUPS
    }


def judge_village(
    village: dict[str, Any],
    people: pd.DataFrame | Mapping[str, list[Any]],
    invalid_rows: Set[Hashable],
    rules: list[Rule],
    labels: dict[str, str],
    grouped: dict[str, list[Rule]] | None = None,
    unverifiable: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The five completeness rows of one registry village (people: a DataFrame or a dict of column lists).
    grouped: rules_by_group for the village's committee type, when the caller has it (a city judges 11,000).
    unverifiable: measure -> why it cannot be known from this roster (a column it needs is missing): its rules are
    reported as 无法核验, never as a failure."""
    measures = village_measures(people, village.get("group_count"))
    groups, sources, persons = list(people["role_group"]), list(people["source_index"]), list(people["person"])
    grouped = grouped or rules_by_group(rules, village["committee_type"])
    rows = []
    for group in ROLE_GROUPS:
        group_rules = grouped[group]
        required_min, required_max, actual = None, None, None
        reasons: list[str] = []
        kinds: set[str] = set()
        for rule in group_rules:
            if unverifiable and rule.measure in unverifiable:
                kinds.add(UNVERIFIABLE)
                reasons.append(f"{unverifiable[rule.measure]}：{rule.message}（{rule.source}）")
                continue
            value = measures.get(rule.measure)
            kind, reason, span = _judge(rule, value, village)
            if span is None:
                reasons.append(reason)
                continue
            if rule.head_count:
                actual, (low, high) = value, span
                required_min = low if required_min is None or (low is not None and low > required_min) else required_min
                required_max = (
                    high if required_max is None or (high is not None and high < required_max) else required_max
                )
            if kind:
                kinds.add(kind)
                reasons.append(reason)
        in_group = [i for i, g in enumerate(groups) if g == group]
        invalid = len({sources[i] for i in in_group} & invalid_rows)
        if invalid:
            kinds.add(WRONG)
            reasons.append(f"{invalid} 条记录的身份证号、性别或手机号有误")
        status = next((s for s in (INCOMPLETE, WRONG, UNVERIFIABLE) if s in kinds), COMPLETE)
        rows.append(
            {
                "role_group": group,
                "role_group_label": labels[group],
                "required_min": required_min,
                "required_max": required_max,
                "actual": actual if actual is not None else len({persons[i] for i in in_group}),
                "invalid_records": invalid,
                "status": status,
                "reasons": "；".join(reasons) or None,
            }
        )
    return rows


def completeness(
    registry: pd.DataFrame,
    people: pd.DataFrame,
    invalid_rows: Set[Hashable],
    rules: list[Rule],
    labels: dict[str, str],
    unverifiable: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Rows for every registry village, whether or not it has a roster (unverifiable: see judge_village)."""
    columns = ["role_std", "role_group", "person", "gender_std", "group_number", "source_index"]
    cells = {c: people[c].to_numpy(dtype="object") for c in columns}
    # each village's rows as plain column lists: per-village DataFrames would cost most of a city's run
    by_village = (
        {
            key: {c: cells[c][rows].tolist() for c in columns}
            for key, rows in people.groupby(["township_std", "village_std"]).indices.items()
        }
        if len(people)
        else {}
    )
    empty: dict[str, list[Any]] = {c: [] for c in columns}
    grouped = {kind: rules_by_group(rules, kind) for kind in registry["committee_type"].unique()}
    rows = []
    for village in registry.to_dict("records"):
        members = by_village.get((village["township"], village["village"]), empty)
        place = (village["township"], village["village"], village.get("village_code"), village["committee_type"])
        rows += [
            (*place, *row.values())
            for row in judge_village(
                village, members, invalid_rows, rules, labels, grouped[village["committee_type"]], unverifiable
            )
        ]
    return pd.DataFrame.from_records(rows, columns=COMPLETENESS_COLUMNS)


def township_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Villages whose five rows are all 完整, per township."""
    complete = (table["status"] == COMPLETE).groupby([table["township"], table["village"]]).all()
    summary = complete.groupby(level="township").agg(villages_total="size", villages_complete="sum").reset_index()
    summary["completeness"] = (summary["villages_complete"] / summary["villages_total"]).round(4)
    return summary
