"""Progress against target: completed, gap, surplus, completion rate, users per 10,000, rank (SPEC §5)."""

import datetime as dt

import numpy as np
import pandas as pd

MEASURES = ["completed", "pending", "rejected"]


def _measures(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    target = out["target"].astype("Float64")
    population = out["resident_population"].astype("Float64")
    completed = out["completed"].astype("Float64")
    out["gap"] = (out["target"] - out["completed"]).clip(lower=0)
    out["surplus"] = (out["completed"] - out["target"]).clip(lower=0)
    out["completion_rate"] = (completed / target.where(target > 0)).round(6).astype("float64")
    out["users_per_10k"] = (completed / population.where(population > 0) * 10000).round(4).astype("float64")
    return out


def _rank(rates: pd.Series) -> pd.Series:
    return rates.rank(method="min", ascending=False).astype("Int64")


def township_progress(counts: pd.DataFrame, targets: pd.DataFrame, snapshot_date: dt.date,
                      data_date: dt.date | None, county_label: str, unmatched_label: str) -> pd.DataFrame:
    """One row per official township (in the attachment's order), an 未匹配 row if any user is unmatched, and the
    county row; the county row is computed from county totals, not by adding township rates."""
    by_township = counts.groupby("township")[MEASURES].sum() if len(counts) else pd.DataFrame(columns=MEASURES)
    frame = targets[["seq", "township", "resident_population", "target"]].merge(
        by_township, left_on="township", right_index=True, how="left")
    frame[MEASURES] = frame[MEASURES].fillna(0).astype("int64")
    frame = _measures(frame)
    frame["rank"] = _rank(frame["completion_rate"])
    extra = by_township.loc[~by_township.index.isin(targets["township"])]
    rows = [frame]
    if len(extra) and extra.to_numpy().sum() > 0:
        unmatched = pd.DataFrame({"seq": [pd.NA], "township": [unmatched_label], "resident_population": [pd.NA],
                                  "target": [0], **{m: [int(extra[m].sum())] for m in MEASURES}})
        rows.append(_measures(unmatched).assign(rank=pd.NA))
    body = pd.concat(rows, ignore_index=True)
    county = pd.DataFrame({"seq": [pd.NA], "township": [county_label],
                           "resident_population": [int(targets["resident_population"].sum())],
                           "target": [int(targets["target"].sum())],
                           **{m: [int(body[m].sum())] for m in MEASURES}})
    out = pd.concat([body, _measures(county).assign(rank=pd.NA)], ignore_index=True)
    return _finish(out, snapshot_date, data_date)


def village_progress(counts: pd.DataFrame, village_targets: pd.DataFrame | None, snapshot_date: dt.date,
                     data_date: dt.date | None) -> pd.DataFrame:
    """Every registry village (zero where nobody registered) plus any counted place the registry lacks."""
    keys = ["township", "village"]
    if village_targets is None or village_targets.empty:
        frame = counts[keys + MEASURES].assign(village_code=None, resident_population=pd.NA, target=pd.NA)
    else:
        frame = village_targets[keys + ["village_code", "resident_population", "target"]].merge(
            counts[keys + MEASURES], on=keys, how="outer")
    frame[MEASURES] = frame[MEASURES].fillna(0).astype("int64")
    frame["target"] = frame["target"].astype("Int64")
    frame["resident_population"] = frame["resident_population"].astype("Int64")
    frame = _measures(frame)
    frame["rank"] = frame.groupby("township")["completion_rate"].rank(method="min", ascending=False).astype("Int64")
    frame = frame.sort_values(keys, kind="stable")
    return _finish(frame, snapshot_date, data_date)


def _finish(frame: pd.DataFrame, snapshot_date: dt.date, data_date: dt.date | None) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    for column in ("seq", "resident_population", "target", "gap", "surplus"):
        if column in out.columns:
            out[column] = out[column].astype("Int64")
    out["completion_rate"] = out["completion_rate"].replace({np.nan: None}).astype("float64")
    out.insert(0, "snapshot_date", snapshot_date)
    out["data_date"] = data_date
    return out
