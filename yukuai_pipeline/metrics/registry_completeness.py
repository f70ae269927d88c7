"""社区基本信息 scored per village (酉阳民政发〔2023〕9号 一（一）, 二、一 完整性、准确性): the fields of
schemas/benchmarks/registry_fields.yaml (a campaign folder's own registry_fields.yaml overrides its keys), each
required or optional, with its rule and its source. Per village: how many fields apply, how many pass, which are
missing or wrong and why; per township: how many villages are complete. Plain pandas, no I/O but the config.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from yukuai_pipeline import settings
from yukuai_pipeline.contracts import REGISTRY, load_contract
from yukuai_pipeline.places.registry import PHONE_EMPTY, PHONE_MALFORMED, PHONE_RULE

FIELDS_FILE = "registry_fields.yaml"
RULE_KEYS = ("statistical_code", "reference", "one_of", "greater_than", "at_least", "at_most", "well_formed_phone")
VILLAGE_TYPES = ("村委会", "居委会")
TABLE_COLUMNS = [
    "township",
    "village",
    "village_code",
    "fields_required",
    "fields_ok",
    "completeness",
    "missing",
    "reasons",
]
MISSING, INVALID = "missing", "invalid"
# the registry keeps no phone number, only its verdict (places/registry.sanitise_registry)
_STORED_AS = {"contact_phone": "contact_phone_status"}


@dataclass(frozen=True)
class RegistryField:
    column: str  # the registry column (schemas/inputs/community_registry.yaml)
    label: str
    required: bool
    rule: Mapping[str, Any]
    source: str
    applies_to: tuple[str, ...] = ()  # committee types; empty: every village


@dataclass(frozen=True)
class FieldList:
    fields: tuple[RegistryField, ...]
    files: tuple[str, ...]  # the files the list was read from, shipped first
    reference_file: str | None = None  # the village_code rule's reference list, if it names one
    reference: frozenset[str] | None = None  # its codes; None when the campaign folder has no such file

    def label(self, column: str) -> str:
        own = {f.column: f.label for f in self.fields}
        return own.get(column) or load_contract(REGISTRY, "input").column_title(column)

    def code_note(self, county_code: str) -> str:
        """How far the village codes were checked, for the check and the report."""
        if self.reference is not None:
            return f"区划代码已与统计用区划代码名录 {self.reference_file}（{len(self.reference)} 个代码）核对"
        if self.reference_file:
            return (
                f"区划代码只核对了格式（12 位、以 {county_code} 开头）：活动目录中没有统计用区划代码名录 "
                f"{self.reference_file}，未与名录核对"
            )
        return "区划代码未与名录核对"


def load_fields(campaign_folder: Path | None = None, shipped: Path | None = None) -> FieldList:
    """The shipped field list, with the fields and keys a campaign folder's own registry_fields.yaml sets (a field
    with `enabled: false` is left out), and the campaign folder's reference list of village codes."""
    shipped = shipped or settings.schemas_dir() / "benchmarks" / FIELDS_FILE
    specs = {column: dict(spec) for column, spec in settings.read_yaml(shipped)["fields"].items()}
    files = [str(shipped)]
    own = campaign_folder / FIELDS_FILE if campaign_folder else None
    if own is not None and own.is_file():
        files.append(str(own))
        for column, keys in ((settings.read_yaml(own) or {}).get("fields") or {}).items():
            specs[column] = {**specs.get(column, {}), **(keys or {})}
    known = load_contract(REGISTRY, "input").columns
    fields = []
    for column, spec in specs.items():
        if column not in known:
            raise ValueError(f"{files[-1]}: {column!r} is not a column of the community registry ({known})")
        unknown = set(spec.get("rule") or {}) - set(RULE_KEYS)
        if unknown:
            raise ValueError(f"{files[-1]}: {column}: unknown rule keys {sorted(unknown)} (known: {RULE_KEYS})")
        if spec.get("enabled", True):
            fields.append(
                RegistryField(
                    column,
                    str(spec.get("label") or column),
                    bool(spec.get("required", True)),
                    dict(spec.get("rule") or {}),
                    str(spec.get("source") or ""),
                    tuple(spec.get("applies_to") or ()),
                )
            )
    name = next((f.rule["reference"] for f in fields if f.rule.get("reference")), None)
    path = campaign_folder / name if campaign_folder and name else None
    codes = None
    if path is not None and path.is_file():
        codes = frozenset(pd.read_csv(path, dtype="str")["code"].dropna().str.strip())
    return FieldList(tuple(fields), tuple(files), name, codes)


def village_types(registry: pd.DataFrame) -> pd.Series:
    """村委会 / 居委会 as the registry says, else by the name (…社区 is a 居委会), as the roster step reads it."""
    named = registry["village"].astype("str").str.endswith("社区").map({True: "居委会", False: "村委会"})
    given = registry["committee_type"] if "committee_type" in registry else pd.Series(None, index=registry.index)
    return given.where(given.isin(VILLAGE_TYPES), named)


@dataclass
class Scored:
    table: pd.DataFrame  # TABLE_COLUMNS, one row per registry village
    problems: pd.DataFrame  # one row per village × field missing or wrong: kind, field, label, value_masked, reason
    absent: list[str] = field(default_factory=list)  # required fields the file has no column for


def score(registry: pd.DataFrame, fields: FieldList, present: set[str], county_code: str) -> Scored:
    """Every registry village against every field that applies to it. `present`: the fields the file has a
    column for (a field without one is missing in every village, said once by the caller)."""
    types = village_types(registry)
    counted, passed, reasons, problems, absent = [], [], [], [], []
    for f in fields.fields:
        applies = types.isin(f.applies_to) if f.applies_to else pd.Series(True, index=registry.index)
        values = registry.get(_STORED_AS.get(f.column, f.column), pd.Series(None, index=registry.index, dtype=object))
        empty = _blank(values) | (values == PHONE_EMPTY if f.column in _STORED_AS else False)
        if f.column not in present:
            if f.required and applies.any():
                absent.append(f.column)
            empty = pd.Series(True, index=registry.index)
        why = _rule_reasons(f, values, registry, fields, county_code).where(applies & ~empty, None)
        missing = applies & empty & f.required
        why[missing] = f"{f.label}未填写" if f.column in present else f"表中没有“{f.label}”列"
        counted.append(applies & (f.required | ~empty))
        passed.append(counted[-1] & why.isna())
        reasons.append(why)
        bad = why.notna() & (f.column in present)
        shown = registry.get("contact_phone_masked") if f.column in _STORED_AS else values
        problems.append(
            pd.DataFrame(
                {
                    "index": registry.index[bad],
                    "field": f.column,
                    "label": f.label,
                    "kind": missing[bad].map({True: MISSING, False: INVALID}).to_numpy(),
                    "value_masked": None if shown is None else shown[bad].map(_text).to_numpy(),
                    "reason": why[bad].to_numpy(),
                }
            )
        )
    table = registry[["township", "village", "village_code"]].reset_index(drop=True)
    table["fields_required"] = _total(counted, len(table))
    table["fields_ok"] = _total(passed, len(table))
    share = table["fields_ok"].astype("Float64") / table["fields_required"].astype("Float64")
    table["completeness"] = share.where(table["fields_required"] > 0).round(4).astype("float64")
    labels = [f.label for f in fields.fields]
    by_row = list(zip(*(r.to_numpy() for r in reasons))) if reasons else [()] * len(table)
    table["missing"] = ["、".join(lab for lab, r in zip(labels, row) if isinstance(r, str)) or None for row in by_row]
    table["reasons"] = ["；".join(r for r in row if isinstance(r, str)) or None for row in by_row]
    found = pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=["index"])
    places = registry[["township", "village", "village_code"]].assign(row_number=registry.get("_row"))
    found = found.join(places, on="index").drop(columns="index").reset_index(drop=True)
    return Scored(table[TABLE_COLUMNS], found, absent)


def township_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per township: villages, villages whose every applicable field passes, and their share."""
    complete = (table["fields_ok"] == table["fields_required"]).astype(int)
    summary = (
        table.assign(_complete=complete)
        .groupby("township", sort=False)
        .agg(villages=("village", "size"), villages_complete=("_complete", "sum"))
        .reset_index()
    )
    summary["completeness"] = (summary["villages_complete"] / summary["villages"]).round(4)
    return summary


def _total(flags: list[pd.Series], rows: int) -> pd.arrays.IntegerArray:
    return pd.array(sum((f.to_numpy(dtype=int) for f in flags), start=np.zeros(rows, dtype=int)), dtype="Int64")


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | values.astype("str").str.strip().eq("")


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    return str(value)


def _rule_reasons(
    f: RegistryField, values: pd.Series, registry: pd.DataFrame, fields: FieldList, county_code: str
) -> pd.Series:
    """The reason each value breaks the field's rule (None where it keeps it), the first broken key winning."""
    out = pd.Series(None, index=values.index, dtype=object)
    text = values.map(lambda v: _text(v) or "")
    number = pd.to_numeric(values, errors="coerce")
    quoted = f.label + "“" + text + "”"
    for key, bound in f.rule.items():
        if key == "statistical_code" and bound:
            broken = ~text.str.fullmatch(r"\d{12}") | ~text.str.startswith(county_code)
            said = quoted + f"不是以 {county_code} 开头的 12 位统计用区划代码"
        elif key == "reference" and fields.reference is not None:
            broken = ~text.isin(fields.reference)
            said = quoted + f"不在统计用区划代码名录（{fields.reference_file}）中"
        elif key == "one_of":
            broken = ~text.isin([str(v) for v in bound])
            said = quoted + "应为" + "或".join(map(str, bound))
        elif key == "greater_than":
            broken = number.isna() | (number <= bound)
            said = f.label + "为 " + text + f"，应大于 {bound}"
        elif key == "at_least":
            broken = number.isna() | (number < bound)
            said = f.label + "为 " + text + f"，应不少于 {bound}"
        elif key == "at_most":
            other = pd.to_numeric(registry[bound], errors="coerce") if isinstance(bound, str) else bound
            broken = (number > other).fillna(False)
            what = fields.label(bound) if isinstance(bound, str) else str(bound)
            shown = registry[bound].map(lambda v: _text(v) or "") if isinstance(bound, str) else str(bound)
            said = f.label + "（" + text + "）多于" + what + "（" + shown + "）"
        elif key == "well_formed_phone" and bound:
            broken = values.eq(PHONE_MALFORMED).fillna(False)
            masked = registry.get("contact_phone_masked", pd.Series(None, index=values.index)).map(_text)
            said = f.label + "格式不正确（" + masked.fillna("已脱敏") + "）：" + PHONE_RULE
        else:
            continue
        out = out.where(out.notna() | ~broken.astype(bool), said)
    return out
