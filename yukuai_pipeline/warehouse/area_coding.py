"""Statistical codes on the rows a county's run writes (places/area_codes.py): every table whose contract has
`township_code` or `village_code` gets them filled from the campaign's code list and the registry in force on the
row's day, so that no step has to remember to, and SQL can join by code."""

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from yukuai_pipeline.places.area_codes import TOWNSHIP_CODE, VILLAGE_CODE, AreaCodes
from yukuai_pipeline.warehouse.replacement import Replacement

if TYPE_CHECKING:
    from yukuai_pipeline.warehouse import Warehouse

REGISTRY = "community_registry"
_PLACES = ["township", "village", VILLAGE_CODE]
_LISTED: dict[tuple[Path, int], dict[str, str]] = {}


def coded(warehouse: "Warehouse", replacements: list[Replacement]) -> list[Replacement]:
    """The replacements with their rows' empty codes filled (a county's handle; the city's writes only county
    rows). The registry of a day is the one in this batch when the batch writes it, else the stored one."""
    county = warehouse.county_code
    # an empty frame too (its columns); not a day pointed at another's content, whose rows have their codes
    wanted = {id(i) for i in replacements if i.same_as is None and _takes_codes(warehouse, i.table)}
    if county is None or not wanted:
        return replacements
    listed = _listed_codes(county)
    in_batch = {
        day: rows[_PLACES]
        for item in replacements
        if item.table == REGISTRY and len(item.frame)
        for day, rows in item.frame.groupby("snapshot_date", sort=False)
    }
    codes: dict[dt.date | None, AreaCodes] = {}

    def codes_on(day: dt.date | None) -> AreaCodes:
        if day not in codes:
            registry = in_batch[day] if day in in_batch else _stored_registry(warehouse, day)
            codes[day] = AreaCodes.of(county, listed, registry)
        return codes[day]

    return [
        _filled(_with_code_columns(warehouse, item), codes_on) if id(item) in wanted else item for item in replacements
    ]


def _takes_codes(warehouse: "Warehouse", table: str) -> bool:
    columns = warehouse.table(table).columns.keys()
    return TOWNSHIP_CODE in columns or (VILLAGE_CODE in columns and "village" in columns and table != REGISTRY)


def _with_code_columns(warehouse: "Warehouse", item: Replacement) -> Replacement:
    """A frame built without the code columns its table has (a frame not passed through conform_output) gets them
    empty, to be filled."""
    absent = [
        c for c in (TOWNSHIP_CODE, VILLAGE_CODE) if c in warehouse.table(item.table).columns and c not in item.frame
    ]
    if not absent:
        return item
    return dataclasses.replace(item, frame=item.frame.assign(**dict.fromkeys(absent)))


def _filled(item: Replacement, codes_on) -> Replacement:
    frame = item.frame
    if frame.empty:
        return item
    if "snapshot_date" not in frame.columns:
        frame = codes_on(None).fill(frame)
    else:  # each day's rows with that day's registry (a frame usually holds one day)
        parts = [codes_on(day).fill(rows) for day, rows in frame.groupby("snapshot_date", sort=False)]
        frame = pd.concat(parts).loc[frame.index]
    return dataclasses.replace(item, frame=frame)


def _stored_registry(warehouse: "Warehouse", day: dt.date | None) -> pd.DataFrame | None:
    """The registry stored for `day`. Rows of no day (the campaign's targets) take the code list's codes only: which
    registry is newest when they are written depends on the order steps happen to run in (in parallel on Celery),
    and the same inputs must give the same rows."""
    if day is None:
        return None
    rows = warehouse.read(REGISTRY, {"snapshot_date": day})
    return rows[_PLACES] if len(rows) else None


def _listed_codes(county: str) -> dict[str, str]:
    """The campaign folder's township_codes.csv when the campaign in use is this county's (a county's run always
    is), read once per file version: every write of a day asks."""
    from yukuai_pipeline import settings
    from yukuai_pipeline.places.campaign_places import TOWNSHIP_CODES_FILE, township_codes

    campaign = settings.campaign()
    if campaign.county.code != county:
        return {}
    path = campaign.folder / TOWNSHIP_CODES_FILE
    key = (path, path.stat().st_mtime_ns if path.exists() else 0)
    if key not in _LISTED:
        _LISTED[key] = township_codes(campaign)
    return _LISTED[key]
