"""A generated corpus of header wordings (issue: never silently wrong on an export no test has seen).

For every input kind and every logical column, variants are made from the contract's own aliases and key terms with
the decorations real exports add — prefixes, suffixes, brackets of any width, units, required marks, line breaks and
spaces inside the cell — plus two-row headers under a merged parent cell, and random renames. Each variant must be
read as its field or be reported (not recognised / ambiguous); a variant read as another field, or dropped as noise,
is a silent error. `tests/unit/test_header_corpus.py` holds every variant to that.
"""

import random
from dataclasses import dataclass

from yukuai_pipeline.contracts import INPUT_KINDS, load_contract

PREFIXES = ["所属", "所在", "用户", "居民", "当前"]
SUFFIXES = ["名称", "信息"]
BRACKETS = [("（", "）"), ("(", ")"), ("【", "】"), ("[", "]"), ("〔", "〕")]
NOTES = ["人", "户", "必填", "选填", "北京时间", "单位：人"]
MARKS = ["*{}", "{}*", "{}：", "{}:", " {} ", "＊{}（必填）"]

# One plausible cell per logical column, so the files the variants head are real exports of their kind.
VALUES = {
    "user_id": "YK00000001",
    "township": "桃花源街道",
    "village": "天山堡村",
    "registered_at": "2023-02-01 10:00:00",
    "status": "已通过",
    "phone": "13812345678",
    "referrer": "13900001111",
    "name": "张三",
    "village_code": "500242001200",
    "completed": "10",
    "pending": "1",
    "resident_population": "1000",
    "target": "120",
    "gap": "110",
    "kind": "居民诉求",
    "event_id": "E0001",
    "title": "路灯不亮",
    "occurred_at": "2023-02-01 10:00:00",
    "closed_at": "2023-02-03 10:00:00",
    "channel": "社区",
    "rating": "满意",
    "gender": "男",
    "id_number": "500242199001011234",
    "role": "村委会主任",
    "group": "第一村民小组",
    "ethnicity": "汉族",
    "birth": "1990-01",
    "committee_type": "村委会",
    "households": "300",
    "group_count": "8",
    "office_address": "桃花源街道天山堡村便民服务中心",
    "contact_phone": "023-75569876",
    "head": "冉明华",
    "org_name": "天山堡村老年人协会",
    "org_type": "生活服务类",
    "leader": "张三",
    "leader_phone": "13812345678",
    "leader_id_number": "500242199001011234",
    "founded_on": "2019-05-01",
    "members": "20",
    "registration": "备案",
    "credit_code": "51500242MJ0000001X",
    "filing_number": "酉民社备〔2019〕001号",
    "supervisor_unit": "龙潭镇人民政府",
}


@dataclass(frozen=True)
class Variant:
    kind: str
    field: str  # the logical column the header means
    header: str | tuple[str, str]  # one cell, or (merged parent, child) of a two-row header
    how: str  # which decoration made it


def _bases(kind: str, field: str) -> list[str]:
    contract = load_contract(kind, "input")
    words = [*contract.header_aliases.get(field, ()), *contract.key_terms.get(field, ())]
    return list(dict.fromkeys(w for w in words if len(w) >= 2))[:3]


def _decorated(base: str) -> list[tuple[str, str]]:
    out = [(p + base, f"prefix {p}") for p in PREFIXES]
    out += [(base + s, f"suffix {s}") for s in SUFFIXES]
    left, right = BRACKETS[len(base) % len(BRACKETS)]
    out += [(f"{base}{left}{note}{right}", f"note ({note})") for note in NOTES[:3]]
    out += [(mark.format(base), f"mark {mark}") for mark in MARKS]
    if len(base) >= 2:
        at = len(base) // 2
        out += [
            (base[:at] + "\n" + base[at:], "line break inside"),
            (base[:at] + " " + base[at:], "space inside"),
            (base[:at] + "\u3000" + base[at:], "ideographic space inside"),
        ]
    out += [(f"{PREFIXES[0]}{base}{SUFFIXES[0]}", "prefix and suffix")]
    return out


def variants() -> list[Variant]:
    found = []
    for kind in INPUT_KINDS:
        contract = load_contract(kind, "input")
        for field in contract.columns:
            for base in _bases(kind, field):
                found += [Variant(kind, field, header, how) for header, how in _decorated(base)]
            found.append(Variant(kind, field, ("基本信息", contract.column_title(field)), "two-row header"))
    return found


def canonical_header(kind: str) -> list[str]:
    """The kind's required columns under their first alias: the rest of every variant's header row."""
    contract = load_contract(kind, "input")
    return [contract.header_aliases[c][0] for c in contract.required_columns]


def random_renames(kind: str, seed: int = 20230217, per_column: int = 5) -> list[tuple[str, str]]:
    """(column, a new header) — wordings no contract knows: random CJK and ASCII, never a known word."""
    rng = random.Random(seed)
    pool = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁"
    out = []
    for column in load_contract(kind, "input").required_columns:
        for i in range(per_column):
            if i % 2:
                text = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(rng.randint(2, 6)))
            else:
                text = "".join(rng.choice(pool) for _ in range(rng.randint(2, 5)))
            out.append((column, text))
    return out
