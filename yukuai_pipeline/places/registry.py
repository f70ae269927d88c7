"""The community registry (社区基本信息): official village names per township, population, households; and what of
its 联系电话 may be kept."""

import re
from typing import Any

import pandas as pd

from yukuai_pipeline.intake.privacy import mask_phone
from yukuai_pipeline.places.names import TownshipMatcher, normalize_text, short_village_name

PHONE_OK, PHONE_EMPTY, PHONE_MALFORMED = "有效", "为空", "格式不正确"
PHONE_RULE = "应为 11 位手机号或带区号的固定电话（如 023-75551234）"
# After intake's parse_phone (no spaces, dashes or brackets, no +86): a mobile, or 0 + a 2–3 digit area code + a
# 7–8 digit number. An office may give two numbers in one cell (75558921，17384028371): each must be well-formed.
_WELL_FORMED = re.compile(r"1[3-9]\d{9}|0\d{9,11}")
_SEPARATORS = re.compile(r"[,，、;；/]+")


def phone_status(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA or not str(value).strip():
        return PHONE_EMPTY
    parts = [p for p in _SEPARATORS.split(str(value)) if p]
    return PHONE_OK if parts and all(_WELL_FORMED.fullmatch(p) for p in parts) else PHONE_MALFORMED


def _masked(part: str) -> str:
    """SPEC §7's first 3 + last 4 for a number of mobile length; a shorter one (a landline without its area code)
    keeps only its first 3 and last digit, so that at least four digits are always hidden."""
    if len(part) >= 11 or len(part) <= 7:
        return mask_phone(part)
    return part[:3] + "*" * (len(part) - 4) + part[-1]


def sanitise_registry(rows: pd.DataFrame) -> pd.DataFrame:
    """The registry as it may be kept (steps/references.py, when the file is taken in): 联系电话 replaced by its
    verdict contact_phone_status, and, for a malformed one only, its masked form contact_phone_masked — a
    well-formed number needs no showing, a malformed one must be found and corrected. Without the column, nothing
    is added (the scoring says the column is missing)."""
    if "contact_phone" not in rows.columns:
        return rows
    status = rows["contact_phone"].map(phone_status)
    masked = [
        "，".join(_masked(p) for p in _SEPARATORS.split(str(v)) if p) if s == PHONE_MALFORMED else None
        for v, s in zip(rows["contact_phone"], status)
    ]
    return rows.drop(columns="contact_phone").assign(
        contact_phone_status=status.astype("object"), contact_phone_masked=pd.Series(masked, index=rows.index)
    )


def standardise_registry(rows: pd.DataFrame, townships: TownshipMatcher) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Townships matched to the official list, villages under their short official name (天山堡村村民委员会 ->
    天山堡村), duplicate codes removed. Returns (registry, issues as plain dicts)."""
    out = rows.copy()
    out["township_raw"] = out["township"]
    out["township"] = townships.match_series(out["township"])
    out["village_full_name"] = out["village"].map(normalize_text)
    out["village"] = out["village_full_name"].map(short_village_name)
    issues: list[dict[str, Any]] = []
    for _, row in out[out["township"].isna()].iterrows():
        issues.append(
            {
                "check": "unknown_township",
                "severity": "WARN",
                "row_number": int(row["_row"]),
                "field": "township",
                "value_masked": row["township_raw"],
                "village": row["village"],
                "quarantined": True,
                "message": f"社区基本信息第 {int(row['_row'])} 行的乡镇（街道）“{row['township_raw']}”"
                "无法识别，该村未计入",
            }
        )
    out = out[out["township"].notna()]
    duplicate = out.duplicated("village_code", keep="first") | out.duplicated(["township", "village"], keep="first")
    for _, row in out[duplicate].iterrows():
        issues.append(
            {
                "check": "duplicate_village",
                "severity": "WARN",
                "row_number": int(row["_row"]),
                "field": "village_code",
                "value_masked": row["village_code"],
                "township": row["township"],
                "village": row["village"],
                "quarantined": True,
                "message": f"社区编码或村名重复（{row['township']}{row['village']}），保留第一次出现的一行",
            }
        )
    return out[~duplicate].reset_index(drop=True), issues
