"""Roster rows -> members: roles mapped onto role groups (vocabulary from the roster contract), persons
identified, and every record checked (ID number, gender, phone, duplicates) with masked issues."""

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from yukuai_pipeline.domain.contracts import Contract, header_key
from yukuai_pipeline.domain.identity import WEIGHTS as _ID_WEIGHTS
from yukuai_pipeline.domain.identity import id_gender, normalise_id
from yukuai_pipeline.domain.privacy import mask_id_number, mask_phone

_ROLE_SEPARATORS = re.compile(r"兼|、|，|,|;|；|/|／|\+")
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


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
        roles, unknown = [], []
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


def _issue(row, field: str, message: str, value: str | None) -> dict:
    return {"check": "invalid_roster_record", "severity": "WARN", "township": row["township_std"],
            "village": row["village_std"], "row_number": int(row["row_number"]), "field": field, "value_masked": value,
            "message": f"{row['village_std']}“{row['name']}”：{message}", "quarantined": False}


def id_problems(numbers: pd.Series, on: dt.date, min_age: int) -> pd.Series:
    """identity.id_problem over a whole column at once (a city's roster has half a million rows); the row-wise
    function stays the reference and the tests compare both."""
    text = numbers.fillna("").astype("str").str.strip().str.upper().str.replace(" ", "", regex=False)
    shaped = text.str.match(r"^\d{17}[\dX]$")
    reasons = pd.Series(None, index=numbers.index, dtype="object")
    reasons[text == ""] = "身份证号为空"
    wrong_shape = (text != "") & ~shaped
    reasons[wrong_shape] = "身份证号应为 18 位（17 位数字加 1 位数字或 X），实际 " + text[wrong_shape].str.len().astype(
        "str") + " 位"
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


def check_records(rows: pd.DataFrame, on: dt.date, min_age: int) -> tuple[pd.Series, list[dict]]:
    """(row index -> has a problem, issues). Problem records still count as listed people (status 有误).
    rows carry township_std, village_std and row_number (the file's line)."""
    numbers = rows["id_number"].where(rows["id_number"].map(lambda v: isinstance(v, str)), None)
    id_reason = id_problems(numbers, on, min_age)
    normal = numbers.fillna("").astype("str").str.strip().str.upper().str.replace(" ", "", regex=False)
    shaped = normal.str.match(r"^\d{17}[\dX]$")
    gender = rows["gender"].where(rows["gender"].isin(["男", "女"]))
    from_id = normal.str[16].where(shaped).map(lambda d: ("男" if int(d) % 2 else "女") if isinstance(d, str) else None)
    gender_bad = gender.notna() & from_id.notna() & (gender != from_id)
    phones = rows["phone"].where(rows["phone"].map(lambda v: isinstance(v, str)), None)
    phone_reason = pd.Series(None, index=rows.index, dtype="object")
    phone_reason[phones.isna() | (phones.fillna("") == "")] = "手机号为空"
    phone_reason[phones.notna() & (phones != "") & ~phones.fillna("").str.match(r"^1[3-9]\d{9}$")] = \
        "手机号应为 11 位、1 开头的大陆手机号"
    issues = []
    bad = id_reason.notna() | gender_bad | phone_reason.notna()
    for index in bad.index[bad.to_numpy()]:
        row = rows.loc[index]
        if pd.notna(id_reason[index]):
            issues.append(_issue(row, "id_number", id_reason[index], mask_id_number(normal[index]) or None))
        if gender_bad[index]:
            issues.append(_issue(row, "gender", f"性别“{gender[index]}”与身份证号（第 17 位）不符", gender[index]))
        if pd.notna(phone_reason[index]):
            issues.append(_issue(row, "phone", phone_reason[index], mask_phone(phones[index]) if phones[index] else None))
    return bad, issues


def members(rows: pd.DataFrame, vocabulary: RoleVocabulary) -> tuple[pd.DataFrame, list[dict]]:
    """One row per (source row, role) with role_group, person key and gender; issues for unknown 职务."""
    issues = []
    parsed = {cell: vocabulary.roles(cell) for cell in rows["role"].dropna().unique()}
    exploded = []
    for row in rows.itertuples():
        roles, unknown = parsed.get(row.role, ([], []))
        if unknown:
            issues.append({**_issue(row._asdict(), "role", f"职务“{'、'.join(unknown)}”无法识别（可在 schemas/inputs/roster.yaml "
                                                 "的 roles 中补充写法）", row.role), "quarantined": not roles})
        for role in dict.fromkeys(roles):
            exploded.append((row.Index, role, vocabulary.group_of[role]))
    frame = pd.DataFrame(exploded, columns=["source_index", "role_std", "role_group"])
    out = frame.join(rows, on="source_index")
    ids = out["id_number"].map(lambda v: normalise_id(v) if isinstance(v, str) else "")
    valid_shape = ids.str.match(_ID_SHAPE)
    out["person"] = ids.where(valid_shape, "姓名:" + out["name"].astype(str))
    from_id = ids.where(valid_shape).map(lambda v: id_gender(v) if isinstance(v, str) else None)
    out["gender_std"] = out["gender"].where(out["gender"].notna(), from_id)
    return out, issues


def duplicate_listings(people: pd.DataFrame) -> list[dict]:
    """The same person twice in the same role in the same village."""
    keys = ["township_std", "village_std", "role_std", "person"]
    repeated = people[people.duplicated(keys, keep="first")]
    return [_issue(row._asdict(), "id_number", f"同一人在同一村（社区）重复登记为“{row.role}”",
                   mask_id_number(row.id_number) if isinstance(row.id_number, str) else None)
            | {"check": "duplicate_roster_record"} for row in repeated.itertuples()]


def masked_members(people: pd.DataFrame, bad_rows: pd.Series) -> pd.DataFrame:
    """The roster as it may be stored: ID and phone masked, persons numbered within the snapshot (the number is not
    derived from the ID number, so it cannot be reversed into one)."""
    order = people.sort_values(["township_std", "village_std", "row_number"], kind="stable")
    numbers = {p: f"P{i:06d}" for i, p in enumerate(dict.fromkeys(zip(order["village_std"], order["person"])), 1)}
    ids = people["id_number"].map(lambda v: mask_id_number(normalise_id(v)) if isinstance(v, str) and v else None)
    phones = people["phone"].map(lambda v: mask_phone(v) if isinstance(v, str) and v else None)
    return pd.DataFrame({
        "township": people["township_std"], "village": people["village_std"], "name": people["name"],
        "gender": people["gender_std"], "role": people["role"], "role_std": people["role_std"],
        "role_group": people["role_group"],
        "person_key": [numbers[(v, p)] for v, p in zip(people["village_std"], people["person"])],
        "id_masked": ids, "phone_masked": phones, "record_ok": ~bad_rows.reindex(people["source_index"]).to_numpy(),
        "row_number": people["row_number"],
    })
