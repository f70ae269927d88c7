"""One township score (考核得分) from what the notice assesses: the registration rate, the completeness of the three
kinds of base data it names (社区基本信息、基层队伍信息、社区社会组织信息) and the use of the six other functions.

The notice gives no weights: they are campaign.yaml `score.weights` (marked 可配置), each part a share from 0 to 1
times its weight, scaled so that the weights make 100 points. A part without data for a township scores 0 and is
named in `missing`: base data not delivered is base data not done. Points are rounded to hundredths and the score is
their sum, so the parts shown always add up to the score. Each part keeps the date of the input it was computed
from (`<part>_data_date`): the parts' inputs arrive on their own days (the activity export may be weeks older than
the day's registration export), and a score must say which of its parts are not the day's. Pure pandas, no I/O.
"""

import datetime as dt

import pandas as pd

from yukuai_pipeline.metrics.data_dates import data_dates, newest_date

PARTS = {
    "registration": "注册完成率",
    "registry": "社区基本信息完整率",
    "roster": "基层队伍信息完整率",
    "orgs": "社区社会组织达标率",
    "activity": "六项应用使用率",
}
# part -> the input kind (metrics/data_dates.INPUTS) its share comes from: its date is the part's data date
PART_INPUTS = {
    "registration": "registrations",
    "registry": "registry",
    "roster": "roster",
    "orgs": "orgs",
    "activity": "activity",
}
DEFAULT_WEIGHTS = {"registration": 40, "registry": 10, "roster": 20, "orgs": 10, "activity": 20}


def weights_of(configured: dict[str, float] | None) -> dict[str, float]:
    """The campaign's weights over the defaults; an unknown part or a negative weight is a configuration error."""
    weights = {**DEFAULT_WEIGHTS, **(configured or {})}
    unknown = set(weights) - set(PARTS)
    if unknown:
        raise ValueError(f"campaign.yaml score.weights 有未知的部分：{sorted(unknown)}（可用：{list(PARTS)}）")
    if any(float(w) < 0 for w in weights.values()) or sum(float(w) for w in weights.values()) <= 0:
        raise ValueError("campaign.yaml score.weights 不能为负，且合计须大于 0")
    return {k: float(v) for k, v in weights.items()}


def activity_share(rollup: pd.DataFrame) -> pd.Series:
    """Per township: the mean over the six kinds of the share of its villages that used the kind in 30 days."""
    if rollup.empty:
        return pd.Series(dtype="float64")
    used = rollup.assign(share=rollup["villages_used_30d"].astype("float64") / rollup["villages"].astype("float64"))
    return used[rollup["villages"].astype("float64") > 0].groupby("township")["share"].mean()


def township_scores(
    townships: pd.DataFrame,
    parts: dict[str, pd.Series],
    weights: dict[str, float],
    dates: dict[str, dt.date | None] | None = None,
) -> pd.DataFrame:
    """townships: the attachment townships (township, seq). parts: part -> share per township (0..1). dates: part ->
    the date of the input its share was computed from (None: no such input on the day). Returns one row per
    township: each part's share, points and data date, the score, its rank (1 best; ties in attachment order) and
    the parts without data."""
    frame = townships[["township", "seq"]].copy().reset_index(drop=True)
    scale = 100.0 / sum(weights.values())
    points = []
    for part in PARTS:
        share = frame["township"].map(parts.get(part, pd.Series(dtype="float64"))).astype("float64").clip(0, 1)
        frame[f"{part}_share"] = share
        frame[f"{part}_points"] = (share.fillna(0) * weights[part] * scale).round(2)
        points.append(f"{part}_points")
    frame["score"] = frame[points].sum(axis=1).round(2)
    missing = ["、".join(PARTS[p] for p in PARTS if pd.isna(row[f"{p}_share"])) or None for _, row in frame.iterrows()]
    frame["missing"] = missing
    order = frame.sort_values(["score", "seq"], ascending=[False, True], kind="stable").index
    frame.loc[order, "rank"] = range(1, len(frame) + 1)
    for part in PARTS:  # one input per part and day: the same date on every township's row
        frame[f"{part}_data_date"] = (dates or {}).get(part)
    return frame.astype({"rank": "int64"})


def part_dates(scores: pd.DataFrame, day: dt.date, max_age_days: dict[str, int]) -> pd.DataFrame:
    """The data_dates frame (metrics/data_dates.py: date, age, 数据未更新) of the inputs the day's scores were
    computed from, by the dates stored with the scores; a part whose date column is absent counts as without data."""
    found = {
        PART_INPUTS[part]: newest_date(scores[f"{part}_data_date"]) if f"{part}_data_date" in scores else None
        for part in PARTS
    }
    return data_dates(day, found, max_age_days)
