"""Roster rows -> members: roles mapped onto role groups (vocabulary from the roster contract), persons
identified, and every record checked (ID number, gender, phone, duplicates) with masked issues."""

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from yukuai_pipeline.domain.contracts import Contract, header_key
from yukuai_pipeline.domain.identity import gender_problem, id_gender, id_problem, normalise_id, phone_problem
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
    return {"check": "invalid_roster_record", "severity": "WARN", "township": row.township_std,
            "village": row.village_std, "row_number": int(row.row_number), "field": field, "value_masked": value,
            "message": f"{row.village_std}“{row.name}”：{message}", "quarantined": False}


def check_records(rows: pd.DataFrame, on: dt.date, min_age: int) -> tuple[pd.Series, list[dict]]:
    """(row index -> has a problem, issues). Problem records still count as listed people (status 有误).
    rows carry township_std, village_std and row_number (the file's line)."""
    issues = []
    bad = pd.Series(False, index=rows.index)
    for row in rows.itertuples():
        problems = []
        number = normalise_id(row.id_number if isinstance(row.id_number, str) else None)
        reason = id_problem(number, on, min_age)
        if reason:
            problems.append(("id_number", reason, mask_id_number(number) if number else None))
        gender = row.gender if isinstance(row.gender, str) else None
        reason = gender_problem(gender, number)
        if reason:
            problems.append(("gender", reason, gender))
        phone = row.phone if isinstance(row.phone, str) else None
        reason = phone_problem(phone)
        if reason:
            problems.append(("phone", reason, mask_phone(phone) if phone else None))
        for field, message, value in problems:
            issues.append(_issue(row, field, message, value))
        bad[row.Index] = bool(problems)
    return bad, issues


def members(rows: pd.DataFrame, vocabulary: RoleVocabulary) -> tuple[pd.DataFrame, list[dict]]:
    """One row per (source row, role) with role_group, person key and gender; issues for unknown 职务."""
    issues = []
    parsed = {cell: vocabulary.roles(cell) for cell in rows["role"].dropna().unique()}
    exploded = []
    for row in rows.itertuples():
        roles, unknown = parsed.get(row.role, ([], []))
        if unknown:
            issues.append({**_issue(row, "role", f"职务“{'、'.join(unknown)}”无法识别（可在 schemas/inputs/roster.yaml "
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
    return [_issue(row, "id_number", f"同一人在同一村（社区）重复登记为“{row.role}”",
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
