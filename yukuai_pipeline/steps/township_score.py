"""The township-score asset's work, without Dagster: the day's 考核得分 per attachment township from the tables of
the parts it combines (metrics/township_score.py), each part as the day's own table holds it, with the date of the
input each part comes from (the activity export may be weeks older than the day)."""

import datetime as dt

import pandas as pd

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.metrics.township_score import PART_INPUTS, PARTS, activity_share, township_scores, weights_of
from yukuai_pipeline.quality.checks import WARN, Check, Checks
from yukuai_pipeline.steps.context import StepContext, StepResult
from yukuai_pipeline.warehouse import Replacement

CHECKS = Checks(
    "township_scores",
    Check(
        "score_parts_available",
        WARN,
        "考核得分的各部分（注册、三类基础数据、六项应用）当天都有数据。",
        "Every part of the township score has data for the day; a part without data scores 0.",
    ),
)


def _share(frame: pd.DataFrame, numerator: str, denominator: str | None = None) -> pd.Series:
    if frame.empty:
        return pd.Series(dtype="float64")
    values = frame.set_index("township")
    share = values[numerator].astype("float64")
    if denominator:
        share = share / values[denominator].astype("float64").where(values[denominator] > 0)
    return share


def township_score(ctx: StepContext, day: dt.date) -> StepResult:
    read = ctx.warehouse.read
    progress = read("township_progress", {"snapshot_date": day})
    townships = progress[progress["seq"].notna()].sort_values("seq")
    if townships.empty:
        return StepResult(0, [CHECKS.skipped("score_parts_available", f"{day} 还没有乡镇进度，无法计算考核得分")])
    parts = {
        "registration": _share(townships, "completion_rate"),
        "registry": _share(read("registry_township_summary", {"snapshot_date": day}), "completeness"),
        "roster": _share(read("roster_township_summary", {"snapshot_date": day}), "completeness"),
        "orgs": _share(read("community_orgs_rollup", {"snapshot_date": day}), "villages_meeting", "villages"),
        "activity": activity_share(read("platform_activity_rollup", {"snapshot_date": day})),
    }
    weights = weights_of(ctx.campaign.score_weights)
    dates = {part: ctx.input_date(PART_INPUTS[part], day) for part in PARTS}
    scores = township_scores(townships, parts, weights, dates)
    frame = conform_output(scores.assign(snapshot_date=day), load_contract("township_scores"))
    ctx.warehouse.replace([Replacement("township_scores", frame, {"snapshot_date": day})])
    absent = [PARTS[p] for p in PARTS if scores[f"{p}_share"].isna().all()]
    check = (
        CHECKS.failed("score_parts_available", f"{'、'.join(absent)}当天没有数据，各乡镇这部分记 0 分")
        if absent
        else CHECKS.passed("score_parts_available", "考核得分的各部分当天都有数据")
    )
    weights_shown = "，".join(f"{PARTS[p]} {weights[p]:g}" for p in PARTS)
    dates_shown = "，".join(f"{PARTS[p]} {dates[p] or '无数据'}" for p in PARTS)
    metadata = {"权重 / weights（可配置）": weights_shown, "各部分数据日期 / data dates": dates_shown}
    return StepResult(len(scores), [check], metadata, _preview(scores))


def _preview(scores: pd.DataFrame) -> pd.DataFrame:
    top = scores.sort_values("rank").head(10)
    return pd.DataFrame(
        {
            "排名": top["rank"],
            "乡镇（街道）": top["township"],
            "考核得分": top["score"],
            **{PARTS[p]: top[f"{p}_points"] for p in PARTS},
        }
    )
