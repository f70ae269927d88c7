"""Community social organisations (社区社会组织) per village against a benchmark, and per township.

The benchmark (schemas/benchmarks/community_orgs.yaml) is the Ministry of Civil Affairs' 2020 target in
民发〔2017〕191号: on average at least 10 organisations per urban community (城市社区, a 居委会) and 5 per rural one
(农村社区, a 村委会). A village meets it when its registered plus filed organisations — the records that pass the row
rules of quality/org_records.py — reach it; since the target is an average, the township rollup also gives the
average per urban and per rural community. Pure pandas: no I/O.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from yukuai_pipeline.quality.org_records import COUNTED_FILED, COUNTED_REGISTERED, INVALID

URBAN, RURAL = "城市社区", "农村社区"
COMMITTEE_TYPES = {"居委会": URBAN, "村委会": RURAL}
VILLAGE_COLUMNS = [
    "township",
    "village",
    "village_type",
    "orgs_total",
    "registered",
    "filed",
    "invalid",
    "benchmark",
    "shortfall",
    "meets_benchmark",
]
COUNTS = ["registered", "filed", "invalid"]
ROLLUP_COLUMNS = [
    "township",
    "villages",
    "villages_meeting",
    "urban_villages",
    "rural_villages",
    "urban_average",
    "rural_average",
    *COUNTS,
]


@dataclass(frozen=True)
class Benchmark:
    urban: int
    rural: int
    source: str
    note: str = ""

    @classmethod
    def from_doc(cls, doc: dict[str, Any], override: dict[str, Any] | None = None) -> "Benchmark":
        """The shipped benchmark, with the keys a campaign folder's own file overrides."""
        merged = {**doc, **(override or {})}
        return cls(int(merged["urban"]), int(merged["rural"]), str(merged["source"]), str(merged.get("note") or ""))

    def of(self, village_type: object) -> int | None:
        return {URBAN: self.urban, RURAL: self.rural}.get(str(village_type))

    def describe(self) -> str:
        return f"城市社区不少于 {self.urban} 个、农村社区不少于 {self.rural} 个（{self.source}）"


def village_type(committee_type: object, village: object) -> str:
    """城市社区 for a 居委会, 农村社区 for a 村委会; without a type, by the name (…社区 is urban)."""
    if committee_type in COMMITTEE_TYPES:
        return COMMITTEE_TYPES[str(committee_type)]
    return URBAN if str(village).endswith("社区") else RURAL


def village_counts(records: pd.DataFrame, registry: pd.DataFrame, benchmark: Benchmark, unmatched: str) -> pd.DataFrame:
    """One row per registry village (zeros included, registry order), then the places of the records the registry
    lacks (sorted), with VILLAGE_COLUMNS. records: township_std, village_std and outcome (quality/org_records.py);
    duplicates are not counted. Places that could not be matched (`unmatched`) get no type and no benchmark."""
    places = registry[["township", "village"]].drop_duplicates().reset_index(drop=True)
    types = registry.drop_duplicates(["township", "village"]).reset_index(drop=True)
    committee = types["committee_type"] if "committee_type" in types.columns else pd.Series(None, index=types.index)
    places["village_type"] = [village_type(c, v) for c, v in zip(committee, types["village"])]
    flags = pd.DataFrame(
        {
            "township": records["township_std"].astype("object").to_numpy(),
            "village": records["village_std"].astype("object").to_numpy(),
            "registered": (records["outcome"] == COUNTED_REGISTERED).astype("int64").to_numpy(),
            "filed": (records["outcome"] == COUNTED_FILED).astype("int64").to_numpy(),
            "invalid": (records["outcome"] == INVALID).astype("int64").to_numpy(),
        }
    )
    counts = flags.groupby(["township", "village"], sort=True, dropna=False)[COUNTS].sum().reset_index()
    known = pd.MultiIndex.from_frame(places[["township", "village"]])
    extra = counts.loc[~pd.MultiIndex.from_frame(counts[["township", "village"]]).isin(known), ["township", "village"]]
    lost = (extra["township"] == unmatched) | (extra["village"] == unmatched)
    extra = extra.assign(village_type=[None if u else village_type(None, v) for u, v in zip(lost, extra["village"])])
    out = pd.concat([places, extra], ignore_index=True).merge(counts, on=["township", "village"], how="left")
    out[COUNTS] = out[COUNTS].fillna(0).astype("int64")
    out["orgs_total"] = out[COUNTS].sum(axis=1)
    out["benchmark"] = pd.array([benchmark.of(t) for t in out["village_type"]], dtype="Int64")
    counted = out["registered"] + out["filed"]
    out["shortfall"] = (out["benchmark"] - counted).clip(lower=0)
    out["meets_benchmark"] = pd.array(counted >= out["benchmark"], dtype="boolean")
    return out[VILLAGE_COLUMNS]


def below_benchmark(villages: pd.DataFrame) -> pd.DataFrame:
    """The villages with a benchmark that they do not reach, in table order."""
    return villages[villages["meets_benchmark"].eq(False).fillna(False).astype(bool)].reset_index(drop=True)


def rollup(villages: pd.DataFrame, county_label: str) -> pd.DataFrame:
    """Per township (first-seen order), then the county (township = county_label): villages with a type (matched
    places), how many meet the benchmark, urban and rural villages with their average registered + filed organisations,
    and the counts of all rows (unmatched places included)."""
    rows = villages.assign(
        _typed=villages["village_type"].notna().astype("int64"),
        _meets=villages["meets_benchmark"].eq(True).fillna(False).astype("int64"),
        _urban=villages["village_type"].eq(URBAN).fillna(False).astype("int64"),
        _rural=villages["village_type"].eq(RURAL).fillna(False).astype("int64"),
        _counted=villages["registered"] + villages["filed"],
    )
    rows = rows.assign(_urban_orgs=rows["_counted"] * rows["_urban"], _rural_orgs=rows["_counted"] * rows["_rural"])
    measures = ["_typed", "_meets", "_urban", "_rural", "_urban_orgs", "_rural_orgs", *COUNTS]
    by_town = rows.groupby("township", sort=False)[measures].sum().reset_index()
    county = rows[measures].sum().to_frame().T.assign(township=county_label)
    out = pd.concat([by_town, county], ignore_index=True)
    out[measures] = out[measures].astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        urban_average = out["_urban_orgs"] / out["_urban"].where(out["_urban"] > 0)
        rural_average = out["_rural_orgs"] / out["_rural"].where(out["_rural"] > 0)
    out = out.assign(
        villages=out["_typed"],
        villages_meeting=out["_meets"],
        urban_villages=out["_urban"],
        rural_villages=out["_rural"],
        urban_average=urban_average.astype("float64").round(2),
        rural_average=rural_average.astype("float64").round(2),
    )
    return out[ROLLUP_COLUMNS]
