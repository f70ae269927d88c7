"""Progress against target: completed, gap, surplus, completion rate, users per 10,000, rank (SPEC §5)."""

import datetime as dt

import numpy as np
import pandas as pd

from yukuai_pipeline.campaign import Campaign, Pace

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


def township_progress(
    counts: pd.DataFrame,
    targets: pd.DataFrame,
    snapshot_date: dt.date,
    data_date: dt.date | None,
    county_label: str,
    unmatched_label: str,
) -> pd.DataFrame:
    """One row per official township (in the attachment's order), an 未匹配 row if any user is unmatched, and the
    county row; the county row is computed from county totals, not by adding township rates."""
    by_township = counts.groupby("township")[MEASURES].sum() if len(counts) else pd.DataFrame(columns=MEASURES)
    frame = targets[["seq", "township", "resident_population", "target"]].merge(
        by_township, left_on="township", right_index=True, how="left"
    )
    frame[MEASURES] = frame[MEASURES].fillna(0).astype("int64")
    frame = _measures(frame)
    frame["rank"] = _rank(frame["completion_rate"])
    extra = by_township.loc[~by_township.index.isin(targets["township"])]
    rows = [frame]
    if len(extra) and extra.to_numpy().sum() > 0:
        unmatched = pd.DataFrame(
            {
                "seq": [pd.NA],
                "township": [unmatched_label],
                "resident_population": [pd.NA],
                "target": [0],
                **{m: [int(extra[m].sum())] for m in MEASURES},
            }
        )
        rows.append(_measures(unmatched).assign(rank=pd.NA))
    body = pd.concat(rows, ignore_index=True)
    county = pd.DataFrame(
        {
            "seq": [pd.NA],
            "township": [county_label],
            "resident_population": [int(targets["resident_population"].sum())],
            "target": [int(targets["target"].sum())],
            **{m: [int(body[m].sum())] for m in MEASURES},
        }
    )
    out = pd.concat([body, _measures(county).assign(rank=pd.NA)], ignore_index=True)
    return _finish(out, snapshot_date, data_date)


def village_progress(
    counts: pd.DataFrame, village_targets: pd.DataFrame | None, snapshot_date: dt.date, data_date: dt.date | None
) -> pd.DataFrame:
    """Every registry village (zero where nobody registered) plus any counted place the registry lacks."""
    keys = ["township", "village"]
    if village_targets is None or village_targets.empty:
        frame = counts[keys + MEASURES].assign(village_code=None, resident_population=pd.NA, target=pd.NA)
    else:
        frame = village_targets[[*keys, "village_code", "resident_population", "target"]].merge(
            counts[keys + MEASURES], on=keys, how="outer"
        )
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


def add_pace(
    frame: pd.DataFrame,
    keys: list[str],
    base: pd.DataFrame | None,
    base_days: int | None,
    snapshot_date: dt.date,
    deadline: dt.date,
    pace: Pace,
) -> pd.DataFrame:
    """new_7d_avg, required_daily, projected_date and status (SPEC §5, issue: pace to the deadline).

    The pace is the growth of `completed` since an earlier snapshot (`base`, about window_days back) per day, so it
    works for user-level and summary exports alike; it is empty until a second snapshot exists.
    """
    out = frame.copy()
    if base is not None and base_days:
        before = (
            out[keys]
            .merge(base[[*keys, "completed"]].rename(columns={"completed": "_before"}), on=keys, how="left")["_before"]
            .to_numpy()
        )
        out["new_7d_avg"] = ((out["completed"].to_numpy() - before) / base_days).clip(min=0).round(4)
    else:
        out["new_7d_avg"] = np.nan
    out["new_7d_avg"] = out["new_7d_avg"].astype("float64")
    days_left = (deadline - snapshot_date).days
    gap = out["gap"].astype("Float64")
    out["required_daily"] = (gap / days_left).round(4).astype("float64") if days_left > 0 else np.nan
    speed = out["new_7d_avg"]
    days_needed = np.ceil(gap.astype("float64") / speed.where(speed > 0))
    out["projected_date"] = [
        snapshot_date if g == 0 else (snapshot_date + dt.timedelta(days=int(d)) if not pd.isna(d) else None)
        for g, d in zip(out["gap"].fillna(-1), days_needed)
    ]
    out["status"] = [_status(g, s, r, days_left, pace) for g, s, r in zip(out["gap"], speed, out["required_daily"])]
    return out


def _status(gap: object, speed: float, required: float, days_left: int, pace: Pace) -> str | None:
    if pd.isna(gap):
        return None
    if gap == 0:
        return "已完成"
    if days_left <= 0:
        return "严重滞后"
    if pd.isna(speed) or pd.isna(required):
        return None
    if speed >= pace.on_track_ratio * required:
        return "按期"
    return "滞后" if speed >= pace.behind_ratio * required else "严重滞后"


def township_table(
    counts: pd.DataFrame,
    targets: pd.DataFrame,
    base: pd.DataFrame | None,
    base_days: int | None,
    snapshot_date: dt.date,
    data_date: dt.date | None,
    campaign: Campaign,
) -> pd.DataFrame:
    """The township rows of the day with the county row and their pace; 未匹配 has no target, so no pace or status."""
    frame = township_progress(
        counts, targets, snapshot_date, data_date, campaign.county_row_label, campaign.unmatched_label
    )
    if base is not None:
        base = base.groupby("township", as_index=False)["completed"].sum()
        base.loc[len(base)] = [campaign.county_row_label, base["completed"].sum()]
    frame = add_pace(frame, ["township"], base, base_days, snapshot_date, campaign.deadline, campaign.pace)
    unmatched = frame["township"] == campaign.unmatched_label
    frame.loc[unmatched, ["new_7d_avg", "required_daily"]] = float("nan")
    frame.loc[unmatched, ["projected_date", "status"]] = None
    return frame


def county_summary(row: pd.Series) -> str:
    """The county 合计 row in the notice's words, as the CLI prints it and the UI shows it."""
    return (
        f"常住人口 {int(row['resident_population']):,}，任务数 {int(row['target']):,}，"
        f"完成数 {int(row['completed']):,}，尚差任务数 {int(row['gap']):,}，完成率 {row['completion_rate']:.2%}"
    )
