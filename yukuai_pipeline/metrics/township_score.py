"""One township score (考核得分) from what the notice assesses: the registration rate, the completeness of the three
kinds of base data it names (社区基本信息、基层队伍信息、社区社会组织信息) and the use of the six other functions.

The notice gives no weights: they are campaign.yaml `score.weights` (marked 可配置), each part a share from 0 to 1
times its weight, scaled so that the weights make 100 points. A part without data for a township scores 0 and is
named in `missing`: base data not delivered is base data not done. Points are rounded to hundredths and the score is
their sum, so the parts shown always add up to the score. Pure pandas, no I/O.
"""

import pandas as pd

PARTS = {
    "registration": "注册完成率",
    "registry": "社区基本信息完整率",
    "roster": "基层队伍信息完整率",
    "orgs": "社区社会组织达标率",
    "activity": "六项应用使用率",
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


def township_scores(townships: pd.DataFrame, parts: dict[str, pd.Series], weights: dict[str, float]) -> pd.DataFrame:
    """townships: the attachment townships (township, seq). parts: part -> share per township (0..1). Returns one
    row per township: each part's share and points, the score, its rank (1 best; ties in attachment order) and the
    parts without data."""
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
    return frame.astype({"rank": "int64"})
