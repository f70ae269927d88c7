"""The row rules of a community social organisation list (社区社会组织信息), record by record.

A registered (登记) organisation must carry a valid 统一社会信用代码 (quality/credit_code.py); a filed (备案) one its
备案编号 and its 指导单位 (the unit that guides it: usually the 乡镇（街道） or the village committee). The same
organisation listed twice — the same name in one village, or the same credit code anywhere — is counted once. A row
that breaks a rule is quarantined: it counts in the village's `invalid` column, not as registered or filed, so that
correcting the record raises the count. Pure pandas, no I/O.
"""

import unicodedata
from dataclasses import dataclass
from typing import Any

import pandas as pd

from yukuai_pipeline.intake.privacy import scrub_text
from yukuai_pipeline.quality.credit_code import check_credit_code, normalise

REGISTERED, FILED = "登记", "备案"  # the contract's canonical words (schemas/inputs/community_orgs.yaml)
# what became of each row: counted as registered or filed, quarantined as invalid, or a copy of an earlier row
COUNTED_REGISTERED, COUNTED_FILED, INVALID, DUPLICATE = "registered", "filed", "invalid", "duplicate"
QUARANTINED = "（该行已隔离，未计入）"
CODE_COLUMNS = ["township", "village", "org_name", "row_number", "problem", "reason"]


@dataclass
class OrgRecords:
    outcome: pd.Series  # row index -> COUNTED_REGISTERED / COUNTED_FILED / INVALID / DUPLICATE
    issues: list[dict[str, Any]]  # data_quality_issues rows (without source_file)
    codes: pd.DataFrame  # CODE_COLUMNS: each 登记 row whose credit code has a fault ("有误") or a note ("非民政")


def _name_key(value: object) -> str:
    return "".join(unicodedata.normalize("NFKC", str(value)).split()) if isinstance(value, str) else ""


def _text(rows: pd.DataFrame, column: str) -> pd.Series:
    """A column as stripped text ("" when absent or empty): an export without 备案编号 has no filing numbers."""
    if column not in rows.columns:
        return pd.Series("", index=rows.index, dtype="object")
    values = rows[column].astype("object")
    return values.where(values.notna(), "").map(lambda v: str(v).strip())


def _issue(row: Any, check: str, field: str, value: object, message: str, quarantined: bool = True) -> dict[str, Any]:
    return {
        "check": check,
        "severity": "WARN",
        "township": row.township_std,
        "village": row.village_std,
        "row_number": int(row.row_number),
        "field": field,
        "value_masked": scrub_text(str(value)) if value else None,
        "message": scrub_text(f"{row.org_name}：{message}") + (QUARANTINED if quarantined else ""),
        "quarantined": quarantined,
    }


def duplicates(rows: pd.DataFrame) -> pd.Series:
    """Row index -> the row number of the first listing of the same organisation (NA for a first listing): the same
    name (spaces and full-width forms aside) in the same village, or the same credit code anywhere."""
    order = rows.sort_values("row_number", kind="stable")
    names = order["township_std"].astype(str) + "/" + order["village_std"].astype(str) + "/"
    names = names + order["org_name"].map(_name_key)
    codes = _text(order, "credit_code").map(normalise)
    first = pd.Series(pd.NA, index=rows.index, dtype="Int64")
    for keys in (names, codes.where(codes != "")):
        known = keys.notna()
        earliest = order.loc[known, "row_number"].groupby(keys[known], sort=False).transform("first")
        copies = earliest[earliest != order.loc[known, "row_number"]]
        new = copies.index.difference(first.dropna().index)  # a copy by name stays a copy of that row
        first.loc[new] = copies.loc[new].astype("int64")
    return first


def check_records(rows: pd.DataFrame) -> OrgRecords:
    """rows: accepted rows after match_places (township_std, village_std) with row_number (the file's line)."""
    outcome = pd.Series(INVALID, index=rows.index, dtype="object")
    issues: list[dict[str, Any]] = []
    codes: list[dict[str, Any]] = []
    copy_of = duplicates(rows)
    filing, guide = _text(rows, "filing_number"), _text(rows, "supervisor_unit")
    credit = _text(rows, "credit_code")
    for row in rows.assign(copy_of_row=copy_of, filing_text=filing, guide_text=guide, credit_text=credit).itertuples():
        if pd.notna(row.copy_of_row):
            outcome[row.Index] = DUPLICATE
            message = f"与第 {int(row.copy_of_row)} 行是同一组织（名称或统一社会信用代码相同），未重复计数"
            issues.append(_issue(row, "duplicate_org", "org_name", row.org_name, message, quarantined=False))
            continue
        if row.registration == REGISTERED:
            verdict = check_credit_code(row.credit_text)
            if not verdict.valid:
                issues.append(_issue(row, "invalid_credit_code", "credit_code", row.credit_text, verdict.fault or ""))
                codes.append(_code_row(row, "有误", verdict.fault))
                continue
            outcome[row.Index] = COUNTED_REGISTERED
            if verdict.note:
                issues.append(_issue(row, "credit_code_note", "credit_code", row.credit_text, verdict.note, False))
                codes.append(_code_row(row, "非民政", verdict.note))
        elif row.registration == FILED:
            needed = (("filing_number", "备案编号", row.filing_text), ("supervisor_unit", "指导单位", row.guide_text))
            missing = [(field, title) for field, title, value in needed if not value]
            for field, title in missing:
                issues.append(_issue(row, "incomplete_filing", field, None, f"备案的组织缺少{title}"))
            if not missing:
                outcome[row.Index] = COUNTED_FILED
    return OrgRecords(outcome, issues, pd.DataFrame(codes, columns=CODE_COLUMNS))


def _code_row(row: Any, problem: str, reason: str | None) -> dict[str, Any]:
    return {
        "township": row.township_std,
        "village": row.village_std,
        "org_name": row.org_name,
        "row_number": int(row.row_number),
        "problem": problem,
        "reason": reason,
    }
