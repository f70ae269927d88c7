"""Roster rows -> members: roles mapped onto role groups (vocabulary from the roster contract), persons
identified, and every record checked (ID number, gender, phone, duplicates) with masked issues.

The checks that need the raw 身份证号 and 手机号 run once, when the roster is taken in (`sanitise`); what is kept and
used afterwards holds only their masked values and the verdicts."""

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from yukuai_pipeline.contracts import Contract, header_key
from yukuai_pipeline.intake.privacy import mask_id_number, mask_phone
from yukuai_pipeline.quality.identity import WEIGHTS as _ID_WEIGHTS

_ROLE_SEPARATORS = re.compile(r"兼|、|，|,|;|；|/|／|\+")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


@dataclass(frozen=True)
class RoleVocabulary:
    role_of: dict[str, str]
    combinations: dict[str, tuple[str, ...]]
    group_of: dict[str, str]

    @classmethod
    def from_contract(cls, contract: Contract) -> "RoleVocabulary":
        sections = contract.sections
        role_of = {header_key(word): role for role, words in sections["roles"].items() for word in words}
        combinations = {header_key(k): tuple(v) for k, v in (sections.get("role_combinations") or {}).items()}
        return cls(role_of, combinations, dict(sections["role_groups"]))

    def roles(self, cell: str) -> tuple[list[str], list[str]]:
        """(roles, unrecognised parts) of one 职务 cell."""
        key = header_key(cell)
        if key in self.combinations:
            return list(self.combinations[key]), []
        if key in self.role_of:
            return [self.role_of[key]], []
        roles: list[str] = []
        unknown: list[str] = []
        for part in filter(None, _ROLE_SEPARATORS.split(key)):
            if part in self.combinations:
                roles += self.combinations[part]
            elif part in self.role_of:
                roles.append(self.role_of[part])
            else:
                unknown.append(part)
        return roles, unknown


def group_number(text: object) -> int | None:
    """第三村民小组 / 3组 / 第12村民小组 / 十一组 -> 3, 3, 12, 11."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    value = str(text)
    digits = re.search(r"\d+", value)
    if digits:
        return int(digits.group())
    numeral = re.search(r"[零〇一二两三四五六七八九十]+", value)
    if not numeral:
        return None
    chars = numeral.group()
    if "十" in chars:
        tens, _, ones = chars.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return int("".join(str(_CN_DIGITS[c]) for c in chars))


def _issue(row: pd.Series | Mapping[str, Any], field: str, message: str, value: str | None) -> dict[str, Any]:
    return {
        "check": "invalid_roster_record",
        "severity": "WARN",
        "township": row["township_std"],
        "village": row["village_std"],
        "row_number": int(row["row_number"]),
        "field": field,
        "value_masked": value,
        "message": f"{row['village_std']}“{row['name']}”：{message}",
        "quarantined": False,
    }


def id_problems(numbers: pd.Series, on: dt.date, min_age: int) -> pd.Series:
    """identity.id_problem over a whole column at once (a city's roster has half a million rows); the row-wise
    function stays the reference and the tests compare both."""
    text = numbers.fillna("").astype("str").str.strip().str.upper().str.replace(" ", "", regex=False)
    shaped = text.str.match(r"^\d{17}[\dX]$")
    reasons = pd.Series(None, index=numbers.index, dtype="object")
    reasons[text == ""] = "身份证号为空"
    wrong_shape = (text != "") & ~shaped
    reasons[wrong_shape] = (
        "身份证号应为 18 位（17 位数字加 1 位数字或 X），实际 " + text[wrong_shape].str.len().astype("str") + " 位"
    )
    good = text[shaped]
    if good.empty:
        return reasons.astype("object").where(reasons.notna(), None)
    digits = np.frombuffer("".join(good.str[:17]).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - ord("0")
    expected = np.array(list("10X98765432"))[(digits * np.array(_ID_WEIGHTS)).sum(axis=1) % 11]
    bad_check = pd.Series(expected != good.str[17].to_numpy(), index=good.index)
    born = pd.to_datetime(good.str[6:14], format="%Y%m%d", errors="coerce")
    today = pd.Timestamp(on)
    no_birth = born.isna() | (born > today) | (born.dt.year < 1900)
    birthday_ahead = (born.dt.month > today.month) | ((born.dt.month == today.month) & (born.dt.day > today.day))
    age = today.year - born.dt.year - birthday_ahead.astype(int)
    minor = ~no_birth & (age < min_age)
    reasons[bad_check[bad_check].index] = "身份证号校验位不正确（GB 11643）"
    rest = ~bad_check
    reasons[no_birth[no_birth & rest].index] = "身份证号中的出生日期不存在"
    for i in minor[minor & rest & ~no_birth].index:
        reasons[i] = f"按身份证号计算未满 {min_age} 周岁（{int(age[i])} 岁）"
    return reasons.astype("object").where(reasons.notna(), None)


def sanitise(rows: pd.DataFrame, on: dt.date, min_age: int) -> pd.DataFrame:
    """The roster as it may be kept: 身份证号 and 手机号 replaced by their masked values and the results of their checks
    (made here, on `on`: the roster's own date), and a person key numbered within the roster, never derived from the
    ID number; 出生年月 is dropped (beside a masked ID it would give the ID back)."""
    numbers = (
        rows["id_number"].where(rows["id_number"].map(lambda v: isinstance(v, str)), None)
        if "id_number" in rows.columns
        else pd.Series(None, index=rows.index, dtype="object")
    )
    normal = numbers.fillna("").astype("str").str.strip().str.upper().str.replace(" ", "", regex=False)
    shaped = normal.str.match(r"^\d{17}[\dX]$")
    first_seen = pd.unique(normal[shaped])
    keys = {number: f"P{i:06d}" for i, number in enumerate(first_seen, 1)}
    phones = (
        rows["phone"].where(rows["phone"].map(lambda v: isinstance(v, str)), None)
        if "phone" in rows.columns
        else pd.Series(None, index=rows.index, dtype="object")
    )
    phone_problem = pd.Series(None, index=rows.index, dtype="object")
    phone_problem[phones.isna() | (phones.fillna("") == "")] = "手机号为空"
    phone_problem[phones.notna() & (phones != "") & ~phones.fillna("").str.match(r"^1[3-9]\d{9}$")] = (
        "手机号应为 11 位、1 开头的大陆手机号"
    )
    out = rows.drop(columns=[c for c in ("id_number", "phone", "birth") if c in rows.columns])
    return out.assign(
        person=normal.where(shaped).map(keys).astype("object").where(shaped, None),
        id_masked=[mask_id_number(v) if v else None for v in normal],
        id_problem=id_problems(numbers, on, min_age),
        id_gender=[("男" if int(n[16]) % 2 else "女") if ok else None for n, ok in zip(normal, shaped)],
        phone_masked=[mask_phone(v) if isinstance(v, str) and v else None for v in phones],
        phone_problem=phone_problem.astype("object").where(phone_problem.notna(), None),
    )


def check_records(rows: pd.DataFrame) -> tuple[pd.Series, list[dict[str, Any]]]:
    """(row index -> has a problem, issues) of sanitised rows (see sanitise). Problem records still count as listed
    people (status 有误). rows carry township_std, village_std and row_number (the file's line)."""
    gender = rows["gender"].where(rows["gender"].isin(["男", "女"]))
    gender_bad = gender.notna() & rows["id_gender"].notna() & (gender != rows["id_gender"])
    bad = rows["id_problem"].notna() | gender_bad | rows["phone_problem"].notna()
    issues = []
    for index in bad.index[bad.to_numpy()]:
        row = rows.loc[index]
        if pd.notna(row["id_problem"]):
            issues.append(_issue(row, "id_number", row["id_problem"], row["id_masked"] or None))
        if gender_bad[index]:
            issues.append(_issue(row, "gender", f"性别“{gender[index]}”与身份证号（第 17 位）不符", gender[index]))
        if pd.notna(row["phone_problem"]):
            issues.append(_issue(row, "phone", row["phone_problem"], row["phone_masked"] or None))
    return bad, issues


def members(rows: pd.DataFrame, vocabulary: RoleVocabulary) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """One row per (source row, role) with role_group, person key and gender; issues for unknown 职务."""
    issues = []
    parsed = {cell: vocabulary.roles(cell) for cell in rows["role"].dropna().unique()}
    exploded = []
    for row in rows.itertuples():
        roles, unknown = parsed.get(row.role, ([], []))
        if unknown:
            issues.append(
                {
                    **_issue(
                        row._asdict(),
                        "role",
                        f"职务“{'、'.join(unknown)}”无法识别（可在 schemas/inputs/roster.yaml 的 roles 中补充写法）",
                        row.role,
                    ),
                    "quarantined": not roles,
                }
            )
        for role in dict.fromkeys(roles):
            exploded.append((row.Index, role, vocabulary.group_of[role]))
    frame = pd.DataFrame(exploded, columns=["source_index", "role_std", "role_group"])
    out = frame.join(rows, on="source_index", rsuffix="_key")
    out["person"] = out["person"].where(out["person"].notna(), "姓名:" + out["name"].astype(str))
    out["gender_std"] = out["gender"].where(out["gender"].notna(), out["id_gender"])
    return out, issues


def duplicate_listings(people: pd.DataFrame) -> list[dict[str, Any]]:
    """The same person twice in the same role in the same village."""
    keys = ["township_std", "village_std", "role_std", "person"]
    repeated = people[people.duplicated(keys, keep="first")]
    return [
        _issue(row._asdict(), "id_number", f"同一人在同一村（社区）重复登记为“{row.role}”", row.id_masked or None)
        | {"check": "duplicate_roster_record"}
        for row in repeated.itertuples()
    ]


def masked_members(people: pd.DataFrame, bad_rows: pd.Series) -> pd.DataFrame:
    """The roster as it is stored per day: ID and phone masked (as sanitise left them), persons numbered within the
    snapshot (the number is not derived from the ID number, so it cannot be reversed into one)."""
    order = people.sort_values(["township_std", "village_std", "row_number"], kind="stable")
    numbers = {p: f"P{i:06d}" for i, p in enumerate(dict.fromkeys(zip(order["village_std"], order["person"])), 1)}
    ids, phones = people["id_masked"], people["phone_masked"]
    return pd.DataFrame(
        {
            "township": people["township_std"],
            "village": people["village_std"],
            "name": people["name"],
            "gender": people["gender_std"],
            "role": people["role"],
            "role_std": people["role_std"],
            "role_group": people["role_group"],
            "person_key": [numbers[(v, p)] for v, p in zip(people["village_std"], people["person"])],
            "id_masked": ids,
            "phone_masked": phones,
            # keyed tokens when a person key is configured (intake/keyed_hash.py): the match with the platform's users
            "phone_token": people.get("phone_token", pd.Series(None, index=people.index, dtype="object")),
            "id_number_token": people.get("id_number_token", pd.Series(None, index=people.index, dtype="object")),
            "record_ok": ~bad_rows.reindex(people["source_index"]).to_numpy(),
            "row_number": people["row_number"],
        }
    )
