"""The statistical codes (统计用区划代码) of a county's townships (9 digits) and villages (12 digits), put on every
output row that names a township or village, so that SQL and BI users join and group by code: a township renamed
(宜居乡 → 宜居镇) keeps its code, and the same name in two counties never meets.

Two sources, the officer's list first:
- the campaign folder's `township_codes.csv` (code,name[,source]), copied from the statistics bureau's list;
- the community registry in force (社区基本信息): a village's code is its 社区编码, and its first 9 digits are its
  township's code when all of the township's villages agree.
A row whose township or village neither source knows keeps an empty code; names stay the key within a county.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from yukuai_pipeline.places.names import TownshipMatcher, per_distinct_pair

TOWNSHIP_CODE = "township_code"
VILLAGE_CODE = "village_code"
_TOWNSHIP_DIGITS = re.compile(r"^[0-9]{9}$")
_VILLAGE_DIGITS = re.compile(r"^[0-9]{12}$")


class CodeListError(ValueError):
    """township_codes.csv that cannot be read as it stands: the message names the file, row and field."""


@dataclass(frozen=True)
class AreaCodes:
    """township name -> code, (township, village name) -> code, for one county."""

    townships: dict[str, str] = field(default_factory=dict)
    villages: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def of(cls, county_code: str, listed: dict[str, str], registry: pd.DataFrame | None) -> "AreaCodes":
        """Codes from the officer's list (`listed`, official name -> code) and the registry's rows (township, village,
        village_code); the list wins where both name a township."""
        villages: dict[tuple[str, str], str] = {}
        prefixes: dict[str, set[str]] = {}
        if registry is not None and len(registry):
            for township, village, code in zip(registry["township"], registry["village"], registry[VILLAGE_CODE]):
                code = "" if pd.isna(code) else str(code)
                if _VILLAGE_DIGITS.match(code) and code.startswith(county_code) and not pd.isna(village):
                    villages[(township, village)] = code
                    prefixes.setdefault(township, set()).add(code[:9])
        from_registry = {t: next(iter(p)) for t, p in prefixes.items() if len(p) == 1 and t not in listed}
        # a code two townships would share (villages filed under the wrong township) is nobody's
        claimed = pd.Series([*from_registry.values(), *listed.values()]).value_counts()
        from_registry = {t: c for t, c in from_registry.items() if claimed[c] == 1}
        return cls({**from_registry, **listed}, villages)

    def fill(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with its empty township_code / village_code cells filled where its names are known; cells
        already holding a code are kept (a step may know better, e.g. village_progress from the registry's match)."""
        out = frame
        if TOWNSHIP_CODE in frame.columns and "township" in frame.columns and self.townships:
            found = frame["township"].map(self.townships)
            out = out.assign(**{TOWNSHIP_CODE: _keep_given(frame[TOWNSHIP_CODE], found)})
        if VILLAGE_CODE in frame.columns and {"township", "village"} <= set(frame.columns) and self.villages:
            found = _pair_lookup(frame["township"], frame["village"], self.villages)
            out = out.assign(**{VILLAGE_CODE: _keep_given(frame[VILLAGE_CODE], found)})
        return out


def _keep_given(given: pd.Series, found: pd.Series) -> pd.Series:
    """A code already given, else the one found, else None (not NaN: the column is text)."""
    out = given.astype("object").where(given.notna(), found.astype("object"))
    return out.where(out.notna(), None)


def _pair_lookup(townships: pd.Series, villages: pd.Series, codes: dict[tuple[str, str], str]) -> pd.Series:
    """codes[(township, village)] per row, looked up once per distinct pair."""
    town_codes, towns = pd.factorize(townships, use_na_sentinel=False)
    return per_distinct_pair(town_codes, np.asarray(towns, dtype="object"), villages, lambda t, v: codes.get((t, v)))


def read_township_codes(path: Path, county_code: str, matcher: TownshipMatcher) -> dict[str, str]:
    """township_codes.csv as official township name -> 9-digit code. Each name is matched like an export's (an old
    name or a prefixed one finds its township); a row that is not a code of this county, names no township of the
    campaign, or repeats a township or a code is refused with its file, row and field: a code list half understood
    would put wrong codes on every row."""
    try:
        table = pd.read_csv(path, dtype="str", keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise CodeListError(f"{path}: 无法读取乡镇代码表 / cannot read the township code list: {err}") from err
    missing = {"code", "name"} - set(table.columns)
    if missing:
        raise CodeListError(f"{path}: 缺少列 {sorted(missing)}（需要 code,name）/ missing columns")
    codes: dict[str, str] = {}
    for line, (code, name) in enumerate(zip(table["code"].str.strip(), table["name"]), start=2):
        where = f"{path.name} 第 {line} 行"
        if not (_TOWNSHIP_DIGITS.match(code) and code.startswith(county_code)):
            raise CodeListError(f"{where} code 字段：{code!r} 不是区县 {county_code} 的 9 位乡镇代码")
        township = matcher.match(name)
        if township is None:
            raise CodeListError(f"{where} name 字段：{name!r} 不是本活动任务表里的乡镇（街道），也不是其旧名")
        if township in codes:
            raise CodeListError(f"{where} name 字段：{name!r} 与前面的行是同一乡镇（{township}）")
        if code in codes.values():
            raise CodeListError(f"{where} code 字段：代码 {code} 在前面已用过")
        codes[township] = code
    return codes


def registry_code_issues(registry: pd.DataFrame, county_code: str, listed: dict[str, str]) -> list[dict[str, object]]:
    """The registry's villages whose 社区编码 is not a 12-digit code of this county, or does not begin with its
    township's code in the officer's list: WARN, the village kept and matched by name, and the code not trusted for
    its township (AreaCodes.of leaves a township whose villages disagree without a code)."""
    issues = []
    for position, (township, village, code) in enumerate(
        zip(registry["township"], registry["village"], registry[VILLAGE_CODE])
    ):
        code = "" if pd.isna(code) else str(code)
        if _VILLAGE_DIGITS.match(code) and code.startswith(county_code):
            if township not in listed or code.startswith(listed[township]):
                continue
            why = f"前 9 位不是乡镇代码表中{township}的代码 {listed[township]}"
        else:
            why = f"不是区县 {county_code} 的 12 位统计用区划代码"
        row = registry["_row"].iloc[position] if "_row" in registry.columns else None
        issues.append(
            {
                "check": "village_code_township",
                "severity": "WARN",
                "row_number": None if row is None or pd.isna(row) else int(row),
                "field": VILLAGE_CODE,
                "value_masked": code,
                "township": township,
                "village": village,
                "quarantined": False,
                "message": f"{township}{village}的社区编码 {code or '（空）'} {why}：该村照常按名称匹配",
            }
        )
    return issues
