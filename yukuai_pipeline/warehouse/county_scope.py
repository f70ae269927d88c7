"""The county a warehouse handle is scoped to (tables.py): every row it writes carries that county, every delete
and read is narrowed to it, and a frame naming another county is refused — so a county's run can neither see nor
replace another county's rows, whatever names their townships share. None is the city's handle: it reads every
county and writes only rows that name their county themselves.
"""

import dataclasses
import re

from yukuai_pipeline.contracts import COUNTY_COLUMN
from yukuai_pipeline.warehouse.replacement import Replacement

_COUNTY_CODE = re.compile(r"[0-9]{6}")
# "the county of the campaign in use" (settings.campaign()), the default scope of a warehouse handle
IN_USE = "in use"


def scope(county_code: str | None) -> str | None:
    """The handle's county: the code given (checked), the campaign in use's for IN_USE, None for the city."""
    if county_code == IN_USE:
        from yukuai_pipeline import settings

        county_code = settings.campaign().county.code
    return None if county_code is None else valid_county_code(county_code)


def valid_county_code(county_code: str) -> str:
    if not _COUNTY_CODE.fullmatch(county_code):
        raise ValueError(f"区县代码 {county_code!r} 应为 6 位数字（统计用区划代码，如 500242）")
    return county_code


def narrowed(where: dict | None, county_code: str | None) -> dict:
    """`where` narrowed to the county (unchanged for the city's handle)."""
    return dict(where or {}) if county_code is None else {COUNTY_COLUMN: county_code, **(where or {})}


def stamped(item: Replacement, county_code: str | None) -> Replacement:
    """The replacement with the county on every row and in its delete; a frame naming another county is a bug."""
    frame = item.frame
    if county_code is None:
        if COUNTY_COLUMN not in frame.columns or frame[COUNTY_COLUMN].isna().any():
            raise ValueError(f"{item.table}: 全市写入的每一行都要带区县代码 / every city-wide row names its county")
        return item
    if COUNTY_COLUMN in frame.columns:
        others = set(frame[COUNTY_COLUMN].dropna().astype(str)) - {county_code}
        if others:
            raise ValueError(f"{item.table}: 区县 {county_code} 的运行写入了区县 {sorted(others)} 的行")
    frame = frame.assign(**{COUNTY_COLUMN: county_code})
    return dataclasses.replace(item, frame=frame, where=narrowed(item.where, county_code))
