"""Week over week, as a 通报 states it: each row's completed a week before, the users added since, its rank then and
how many places it moved. "A week before" is the newest snapshot on or before the day seven days earlier, so a day
whose partition is missing a week back is compared with the last day before it — and that day is shown."""

import datetime as dt

import pandas as pd

WEEK = dt.timedelta(days=7)
COLUMNS = ["last_week_date", "last_week_completed", "new_this_week", "last_week_rank", "rank_change"]


def week_over_week(
    frame: pd.DataFrame, last_week: pd.DataFrame | None, last_week_date: dt.date | None, keys: list[str]
) -> pd.DataFrame:
    """`frame` (a day's progress rows) with the week-over-week columns from `last_week` (the rows of
    `last_week_date`), matched on `keys`. A row without a match a week before (a township added, no snapshot that
    old) has them empty. rank_change > 0: moved up (e.g. 上周第 9 名，本周第 5 名 → +4)."""
    out = frame.drop(columns=[c for c in COLUMNS if c in frame.columns])
    if last_week is None or last_week.empty or last_week_date is None:
        return out.assign(**dict.fromkeys(COLUMNS, pd.NA))
    before = last_week[[*keys, "completed", "rank"]].drop_duplicates(keys)  # a key is one row of a day's table
    before = before.rename(columns={"completed": "last_week_completed", "rank": "last_week_rank"})
    out = out.merge(before, on=keys, how="left", validate="many_to_one")
    matched = out["last_week_completed"].notna()
    out["last_week_date"] = pd.Series([last_week_date if m else None for m in matched], index=out.index, dtype=object)
    out["last_week_completed"] = out["last_week_completed"].astype("Int64")
    out["new_this_week"] = (out["completed"].astype("Int64") - out["last_week_completed"]).astype("Int64")
    out["last_week_rank"] = out["last_week_rank"].astype("Int64")
    out["rank_change"] = (out["last_week_rank"] - out["rank"].astype("Int64")).astype("Int64")
    return out
