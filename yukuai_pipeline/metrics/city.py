"""The city rollup: each county's own county row (its 合计 of the day, or the newest before it) side by side,
ranked by completion rate, with the city's 合计 row. Only aggregates go in; no township, village or person."""

import datetime as dt

import pandas as pd

CITY_CODE = "500000"  # 重庆市's statistical code: the key of the city's 合计 row
CITY_LABEL = "全市合计"
COLUMNS = [
    "county_code",
    "snapshot_date",
    "county_name",
    "data_date",
    "resident_population",
    "target",
    "completed",
    "gap",
    "surplus",
    "completion_rate",
    "users_per_10k",
    "rank",
    "status",
]


def newest_county_rows(rows: pd.DataFrame, counties: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Each county's newest county row on or before `day`: rows of township_progress (county_code, snapshot_date,
    township, completed …) filtered to the county row by each county's own label (counties.county_row_label)."""
    labels = counties.set_index("county_code")["county_row_label"]
    own = rows[(rows["township"] == rows["county_code"].map(labels)) & (rows["snapshot_date"] <= day)]
    return own.sort_values("snapshot_date").groupby("county_code", sort=False).tail(1)


def city_progress(counties: pd.DataFrame, county_rows: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """One row per county (its short name, target and population from its campaign; completed from its newest
    county row on or before `day`, dated) ranked by completion rate, then the city's 合计 row.

    The city's 尚差 is the sum of the counties' 尚差: a county past its target does not make up another's gap
    (its 超额 is shown apart)."""
    latest = county_rows.set_index("county_code")
    frame = counties[["county_code", "short_name", "resident_population", "target"]].rename(
        columns={"short_name": "county_name"}
    )
    frame = frame.sort_values("county_code", ignore_index=True)
    frame["data_date"] = frame["county_code"].map(latest["snapshot_date"]) if len(latest) else None
    completed = frame["county_code"].map(latest["completed"]) if len(latest) else pd.Series(pd.NA, index=frame.index)
    frame["completed"] = pd.array(completed, dtype="Int64")
    has_data = frame["completed"].notna()
    frame["gap"] = (frame["target"] - frame["completed"]).clip(lower=0)
    frame["surplus"] = (frame["completed"] - frame["target"]).clip(lower=0)
    frame["completion_rate"] = _share(frame["completed"], frame["target"])
    frame["users_per_10k"] = _share(frame["completed"] * 10000, frame["resident_population"], digits=4)
    frame["rank"] = frame["completion_rate"].where(has_data).rank(method="min", ascending=False).astype("Int64")
    frame["status"] = "无数据"
    frame.loc[has_data, "status"] = "沿用旧数据"
    frame.loc[has_data & (frame["data_date"] == day), "status"] = "当日"
    city = {
        "county_code": CITY_CODE,
        "county_name": CITY_LABEL,
        "data_date": frame["data_date"].dropna().min() if has_data.any() else None,
        "resident_population": int(frame["resident_population"].sum()),
        "target": int(frame["target"].sum()),
        "completed": int(frame["completed"].sum()) if has_data.any() else pd.NA,
        "gap": int(frame["gap"].sum()) if has_data.any() else pd.NA,
        "surplus": int(frame["surplus"].sum()) if has_data.any() else pd.NA,
        "rank": pd.NA,
        "status": "当日" if has_data.all() and (frame["data_date"] == day).all() else _city_status(has_data),
    }
    total = pd.DataFrame([city])
    total["completion_rate"] = _share(total["completed"], total["target"])
    total["users_per_10k"] = _share(total["completed"] * 10000, total["resident_population"], digits=4)
    ranked = frame.sort_values(["rank", "county_code"], na_position="last", ignore_index=True)
    out = pd.concat([ranked, total], ignore_index=True).assign(snapshot_date=day)
    return out[COLUMNS]


def _city_status(has_data: pd.Series) -> str:
    return "沿用旧数据" if has_data.any() else "无数据"


def _share(part: pd.Series, whole: pd.Series, digits: int = 6) -> pd.Series:
    part, whole = part.astype("Float64"), whole.astype("Float64")
    return (part / whole.where(whole > 0)).round(digits).astype("float64")
