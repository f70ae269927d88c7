"""The community registry (社区基本信息): official village names per township, population, households."""

from typing import Any

import pandas as pd

from yukuai_pipeline.places.names import TownshipMatcher, normalize_text, short_village_name


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
