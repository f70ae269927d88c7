"""The target assets' work: the notice's township targets, and each day's village targets under the registry."""

import datetime as dt

import pandas as pd

from yukuai_pipeline.campaign import Campaign
from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.metrics.targets import township_targets as official_targets
from yukuai_pipeline.metrics.targets import village_targets as split_targets
from yukuai_pipeline.quality.checks import WARN, Check, Checks
from yukuai_pipeline.steps import unchanged
from yukuai_pipeline.steps.context import StepContext, StepResult, load_attachment
from yukuai_pipeline.warehouse import Replacement

TOWNSHIP_TARGET_CHECKS = Checks(
    "township_targets",
    Check(
        "target_matches_rule",
        WARN,
        "官方任务数与规则任务数一致。",
        "Official target equals 2 × round_half_up(population × 0.06).",
    ),
)


VILLAGE_TARGET_CHECKS = Checks(
    "village_targets",
    Check(
        "village_targets_sum", WARN, "各村任务数之和等于乡镇任务数。", "Village targets add up to each township target."
    ),
)


def township_targets(ctx: StepContext) -> StepResult:
    campaign = ctx.campaign
    targets = conform_output(official_targets(load_attachment(), campaign), load_contract("township_targets"))
    ctx.warehouse.replace(
        [
            Replacement("township_targets", targets, {"campaign_id": campaign.campaign_id}),
            Replacement("county_campaigns", county_campaign(campaign, targets), {"campaign_id": campaign.campaign_id}),
        ]
    )
    differ = targets[targets["target"] != targets["rule_target"]]
    if differ.empty:
        check = TOWNSHIP_TARGET_CHECKS.passed(
            "target_matches_rule", f"全部 {len(targets)} 个乡镇（街道）的任务数与规则一致", townships=len(targets)
        )
    else:
        check = TOWNSHIP_TARGET_CHECKS.failed(
            "target_matches_rule",
            f"{len(differ)} 个乡镇（街道）的官方任务数与规则计算不一致",
            townships=differ["township"].tolist(),
            table=differ[["township", "target", "rule_target"]],
        )
    totals = {"resident_population": int(targets["resident_population"].sum()), "target": int(targets["target"].sum())}
    return StepResult(len(targets), [check], totals, targets.head(10))


def county_campaign(campaign: Campaign, targets: pd.DataFrame) -> pd.DataFrame:
    """The county's row for the city: its names, document, dates and totals, as its campaign folder says."""
    row = {
        "campaign_id": campaign.campaign_id,
        "county_name": campaign.county.name,
        "short_name": campaign.county.short_name,
        "source_document": campaign.source_document,
        "baseline_date": campaign.baseline_date,
        "deadline": campaign.last_day,
        "county_row_label": campaign.county_row_label,
        "resident_population": int(targets["resident_population"].sum()),
        "target": int(targets["target"].sum()),
    }
    return conform_output(pd.DataFrame([row]), load_contract("county_campaigns"))


def _village_inputs(ctx: StepContext, day: dt.date) -> dict:
    return {
        "registry": unchanged.table_version(ctx, "community_registry", day),
        "township_targets": unchanged.frame_version(
            ctx.warehouse.read("township_targets", {"campaign_id": ctx.campaign.campaign_id})
        ),
    }


@unchanged.reused_when_unchanged(VILLAGE_TARGET_CHECKS, _village_inputs)
def village_targets(ctx: StepContext, day: dt.date) -> StepResult:
    registry = ctx.registry_for(day)
    targets = ctx.warehouse.read("township_targets", {"campaign_id": ctx.campaign.campaign_id})
    frame = split_targets(registry, targets) if len(registry) else registry.assign(target=pd.Series(dtype="Int64"))
    frame = conform_output(frame.assign(snapshot_date=day), load_contract("village_targets"))
    ctx.warehouse.replace([Replacement("village_targets", frame, {"snapshot_date": day})])
    by_township = frame.groupby("township")["target"].sum()
    official = targets.set_index("township")["target"]
    wrong = [t for t in by_township.index if by_township[t] != official.get(t)]
    check = (
        VILLAGE_TARGET_CHECKS.passed(
            "village_targets_sum", f"{len(by_township)} 个乡镇（街道）的村级任务之和等于乡镇任务数"
        )
        if not wrong
        else VILLAGE_TARGET_CHECKS.failed("village_targets_sum", "村级任务之和与乡镇任务数不符", townships=wrong)
    )
    return StepResult(
        len(frame), [check], {"villages": len(frame), "target_total": int(frame["target"].sum())}, frame.head(10)
    )
