"""Use of the platform's six applications per village (酉阳民政发〔2023〕9号 一（三）): 居民诉求办理, 社区信息发布,
网上村（居）务公开, 社区事务在线协商, 民主决策全过程公开 and 民主评议.

Input is the rows of a platform_activity export (schemas/inputs/platform_activity.yaml) after match_places, so each
event carries township_std and village_std. Times are naive Asia/Shanghai wall-clock times, as the platform exports
them; a day D is [D 00:00, D+1 00:00). Pure pandas: no I/O, no clock.
"""

import datetime as dt

import pandas as pd

KINDS = ("request", "notice", "disclosure", "consultation", "decision", "review")
KIND_LABELS = {
    "request": "居民诉求办理",
    "notice": "社区信息发布",
    "disclosure": "网上村（居）务公开",
    "consultation": "社区事务在线协商",
    "decision": "民主决策全过程公开",
    "review": "民主评议",
}
STATUS_LABELS = {"done": "已办结", "in_progress": "办理中", "pending": "未处理"}
WINDOW_DAYS = 30
UNMATCHED = "未匹配"  # registrations.Labels().unmatched: places match_places could not resolve

ACTIVITY_COLUMNS = ["township", "village", "kind", "count_total", "count_30d"]
ROLLUP_COLUMNS = ["township", "kind", "villages", "villages_used_30d", "count_total", "count_30d"]
ZERO_USE_COLUMNS = ["township", "village", "kind", "count_total"]
OVERDUE_COLUMNS = ["township", "village", "overdue_count", "oldest_age_days", "oldest_occurred_at"]
UNRATED_COLUMNS = ["township", "village", "done", "unrated"]


# --------------------------------------------------------------------------------------------------------------
# Days
# --------------------------------------------------------------------------------------------------------------


def day_start(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


def day_end(day: dt.date) -> pd.Timestamp:
    """The first instant after day D: D+1 00:00 (an event counts on D when occurred_at < day_end(D))."""
    return pd.Timestamp(day) + pd.Timedelta(days=1)


def local_times(values: pd.Series) -> pd.Series:
    """datetime64 wall-clock times in Asia/Shanghai; tz-aware values are converted, then made naive."""
    times = pd.to_datetime(values, errors="coerce")
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    return times


def age_days(occurred_at: pd.Series, snapshot_date: dt.date) -> pd.Series:
    """Whole calendar days from the event's local day to the snapshot day (an event on D-7 is 7, at any hour)."""
    return (pd.Timestamp(snapshot_date) - local_times(occurred_at).dt.normalize()).dt.days


def _places(events: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(township, village) of each event: the matched names when match_places ran, else the names as written."""
    township = events["township_std"] if "township_std" in events.columns else events["township"]
    village = events["village_std"] if "village_std" in events.columns else events["village"]
    return township.astype("object"), village.astype("object")


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


# --------------------------------------------------------------------------------------------------------------
# Counts per village and kind
# --------------------------------------------------------------------------------------------------------------


def village_activity(events: pd.DataFrame, registry: pd.DataFrame, snapshot_date: dt.date) -> pd.DataFrame:
    """One row per registry village × kind (zeros included), in registry order then KINDS order.

    count_total: events with occurred_at before the end of snapshot_date; count_30d: those of the 30 calendar days
    ending on snapshot_date ([D-29 00:00, D+1 00:00)). Events after the snapshot day are not counted. Events whose
    place is not in the registry (未匹配, or a village the registry lacks) are never dropped: each such place gets
    rows, after the registry's, for the kinds it has events of.
    """
    places = registry[["township", "village"]].drop_duplicates().reset_index(drop=True)
    grid = places.merge(pd.DataFrame({"kind": list(KINDS)}), how="cross")
    township, village = _places(events)
    times = local_times(events["occurred_at"])
    end = day_end(snapshot_date)
    start_30d = end - pd.Timedelta(days=WINDOW_DAYS)
    counted = events["kind"].isin(KINDS) & times.notna() & (times < end)
    flags = pd.DataFrame(
        {
            "township": township[counted].to_numpy(),
            "village": village[counted].to_numpy(),
            "kind": events.loc[counted, "kind"].to_numpy(),
            "count_total": 1,
            "count_30d": (times[counted] >= start_30d).astype("int64").to_numpy(),
        }
    )
    counts = flags.groupby(["township", "village", "kind"], sort=True, dropna=False).sum().reset_index()
    out = grid.merge(counts, on=["township", "village", "kind"], how="left")
    known = pd.MultiIndex.from_frame(places)
    extra = counts[~pd.MultiIndex.from_frame(counts[["township", "village"]]).isin(known)]
    extra = extra.assign(_kind=extra["kind"].map(KINDS.index)).sort_values(["township", "village", "_kind"])
    out = pd.concat([out, extra.drop(columns="_kind")], ignore_index=True)
    out[["count_total", "count_30d"]] = out[["count_total", "count_30d"]].fillna(0).astype("int64")
    return out[ACTIVITY_COLUMNS]


def rollup(village_rows: pd.DataFrame, county_label: str) -> pd.DataFrame:
    """Township × kind totals (first-seen township order, KINDS order), then the county (township = county_label,
    the campaign's 合计) per kind.

    villages: rows of that township and kind; villages_used_30d: of them, those with count_30d > 0.
    """
    rows = village_rows.assign(villages=1, villages_used_30d=(village_rows["count_30d"] > 0).astype("int64"))
    measures = ["villages", "villages_used_30d", "count_total", "count_30d"]
    townships = pd.Series(pd.unique(rows["township"]))
    by_town = rows.groupby(["township", "kind"], sort=False)[measures].sum().reset_index()
    county = rows.groupby("kind", sort=False)[measures].sum().reset_index().assign(township=county_label)
    grid = townships.to_frame("township").merge(pd.DataFrame({"kind": list(KINDS)}), how="cross")
    by_town = grid.merge(by_town, on=["township", "kind"], how="left")
    county = pd.DataFrame({"township": county_label, "kind": list(KINDS)}).merge(
        county, on=["township", "kind"], how="left"
    )
    out = pd.concat([by_town, county], ignore_index=True)
    out[measures] = out[measures].fillna(0).astype("int64")
    return out[ROLLUP_COLUMNS]


def zero_use(village_rows: pd.DataFrame) -> pd.DataFrame:
    """Villages that did not use a kind in the last 30 days (count_total tells never-used from lapsed).

    Places that could not be matched (未匹配) are not villages and are left out.
    """
    rows = village_rows[
        (village_rows["count_30d"] == 0)
        & (village_rows["township"] != UNMATCHED)
        & (village_rows["village"] != UNMATCHED)
    ]
    return rows[ZERO_USE_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------------
# Requests: overdue and unrated
# --------------------------------------------------------------------------------------------------------------


def overdue_requests(events: pd.DataFrame, snapshot_date: dt.date, days: int = 7) -> pd.DataFrame:
    """Per village, the requests still 未处理 (status pending) that came in more than `days` days before the end of
    snapshot_date, i.e. before D+1-days 00:00: on calendar days, those with age ≥ days, where the age of an event
    on day X is D - X (an event at 00:01 or at 23:59 on D-7 is 7 days old; with days=7 both are overdue, one on
    D-6 is not). Requests after the snapshot day are ignored.

    Columns: township, village, overdue_count, oldest_age_days (int), oldest_occurred_at; sorted by age, oldest
    first, then place.
    """
    if "status" not in events.columns or events.empty:
        return _empty(OVERDUE_COLUMNS)
    township, village = _places(events)
    times = local_times(events["occurred_at"])
    cutoff = day_end(snapshot_date) - pd.Timedelta(days=days)
    overdue = (
        (events["kind"].eq("request") & events["status"].eq("pending") & times.notna() & (times < cutoff))
        .fillna(False)
        .astype(bool)
    )
    if not overdue.any():
        return _empty(OVERDUE_COLUMNS)
    frame = pd.DataFrame(
        {
            "township": township[overdue],
            "village": village[overdue],
            "occurred_at": times[overdue],
            "age": age_days(times[overdue], snapshot_date),
        }
    )
    out = (
        frame.groupby(["township", "village"], sort=True, dropna=False)
        .agg(
            overdue_count=("age", "size"),
            oldest_age_days=("age", "max"),
            oldest_occurred_at=("occurred_at", "min"),
        )
        .reset_index()
    )
    out[["overdue_count", "oldest_age_days"]] = out[["overdue_count", "oldest_age_days"]].astype("int64")
    out = out.sort_values(["oldest_age_days", "township", "village"], ascending=[False, True, True], kind="stable")
    return out[OVERDUE_COLUMNS].reset_index(drop=True)


def has_rating(values: pd.Series) -> pd.Series:
    """True where a rating was given (满意, 基本满意, 不满意, or a score); blank, NaN and None are no rating."""
    text = values.astype("object").where(values.notna(), "").astype("str").str.strip()
    return values.notna() & ~text.str.lower().isin(["", "nan", "none", "<na>"])


def unrated_closed(events: pd.DataFrame) -> pd.DataFrame:
    """Per village, the requests 已办结 (status done) without a 满意度 rating: villages with at least one.

    Only an export with a rating column can say whether a request was rated; without one the result is empty.
    Columns: township, village, done (requests done), unrated (of them without a rating).
    """
    if "rating" not in events.columns or "status" not in events.columns or events.empty:
        return _empty(UNRATED_COLUMNS)
    township, village = _places(events)
    done = (events["kind"].eq("request") & events["status"].eq("done")).fillna(False).astype(bool)
    frame = pd.DataFrame(
        {
            "township": township[done],
            "village": village[done],
            "done": 1,
            "unrated": (~has_rating(events.loc[done, "rating"])).astype("int64"),
        }
    )
    out = frame.groupby(["township", "village"], sort=True, dropna=False)[["done", "unrated"]].sum().reset_index()
    out = out[out["unrated"] > 0]
    if out.empty:
        return _empty(UNRATED_COLUMNS)
    out[["done", "unrated"]] = out[["done", "unrated"]].astype("int64")
    return out[UNRATED_COLUMNS].reset_index(drop=True)
