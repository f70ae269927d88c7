"""The platform-activity asset's work, without Dagster: the notice's six other assessed indicators per village."""

import datetime as dt

import pandas as pd

from yukuai_pipeline.contracts import ACTIVITY as KIND
from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.metrics import activity
from yukuai_pipeline.metrics.counting import match_places
from yukuai_pipeline.places.names import village_matcher
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.quality.checks import ERROR, WARN, Check, Checks
from yukuai_pipeline.steps import references as reference_inputs
from yukuai_pipeline.steps import unchanged
from yukuai_pipeline.steps.context import (
    StepContext,
    StepResult,
    file_issues,
    header_outputs,
    issues_frame,
    log_replacements,
    log_row,
    township_matcher,
)
from yukuai_pipeline.warehouse import Replacement

CHECKS = Checks(
    "platform_activity",
    Check(
        "activity_file_usable",
        ERROR,
        "平台应用明细可以读取（否则阻断）。",
        "The activity export can be read; blocks otherwise.",
        blocking=True,
    ),
    Check(
        "columns_recognised",
        WARN,
        "平台应用明细的每个表头都已识别。",
        "Every header cell of the activity export is understood.",
    ),
    Check(
        "every_village_uses_every_kind",
        WARN,
        "近30日每村都用过六项应用。",
        "Every village used all six functions in 30 days.",
    ),
    Check(
        "requests_handled", WARN, "没有超期未处理的居民诉求。", "No resident request waits unhandled past the limit."
    ),
    Check("closed_requests_rated", WARN, "已办结诉求有满意度评价。", "Closed requests carry a satisfaction rating."),
)


def _inputs(ctx: StepContext, day: dt.date) -> dict:
    return {
        "activity": unchanged.file_version(reference_inputs.identity_in_force(ctx, KIND, day)),
        "registry": unchanged.table_version(ctx, "community_registry", day),
    }


@unchanged.reused_when_unchanged(CHECKS, _inputs)
def platform_activity(ctx: StepContext, day: dt.date) -> StepResult:
    """The newest activity export dated on or before the day holds every event so far (like a registry)."""
    try:  # the activity export in force, as the warehouse keeps it (ctx/references.py)
        loaded, fresh = reference_inputs.in_force(ctx, KIND, day)
    except reference_inputs.Refused as refused:
        ctx.refuse(day, KIND, refused.identity, refused.error)
        return StepResult(
            0,
            CHECKS.rest_skipped(
                [CHECKS.failed("activity_file_usable", str(refused.error))], "输入文件无法使用，未检查"
            ),
        )
    if loaded is None:
        return StepResult(
            0,
            CHECKS.rest_skipped(
                [
                    CHECKS.passed("activity_file_usable", "没有平台应用明细"),
                    CHECKS.failed("every_village_uses_every_kind", f"{day} 及之前没有平台应用明细导出"),
                ],
                "没有平台应用明细，未检查",
            ),
        )
    chosen = loaded.identity
    registry = ctx.registry_for(day)
    events, place_issues = match_places(loaded.accepted, township_matcher(), village_matcher(registry), ctx.labels)
    # counts and ages as of the export's own date: an old export does not make its requests "age" or its 30-day
    # window empty on later days (the report marks its figures 数据未更新 instead: metrics/data_dates.py)
    as_of = chosen.snapshot_date
    assert as_of is not None  # in_force only returns dated snapshots
    villages = activity.village_activity(events, registry[["township", "village"]], as_of)
    rollup = activity.rollup(villages, ctx.campaign.county_row_label)
    overdue_days = ctx.campaign.overdue_days
    overdue = activity.overdue_requests(events, as_of, overdue_days)
    unrated = activity.unrated_closed(events)
    headers = header_outputs([loaded])
    issues = (
        file_issues(loaded)
        + headers.issues
        + place_issues
        + [
            {
                "check": "overdue_request",
                "severity": "WARN",
                "township": r.township,
                "village": r.village,
                "message": f"{r.village} 有 {r.overdue_count} 件居民诉求超过 {overdue_days} 天未处理，"
                f"最久 {r.oldest_age_days} 天",
                "quarantined": False,
            }
            for r in overdue.itertuples()
        ]
    )
    extra = {"snapshot_date": day, "activity_date": as_of}
    ctx.warehouse.replace(
        [
            Replacement(
                "platform_activity",
                conform_output(villages.assign(**extra), load_contract(KIND)),
                {"snapshot_date": day},
            ),
            Replacement(
                "platform_activity_rollup",
                conform_output(
                    rollup.assign(snapshot_date=day, activity_date=as_of), load_contract("platform_activity_rollup")
                ),
                {"snapshot_date": day},
            ),
            Replacement(
                "data_quality_issues",
                issues_frame([dict(i, source_file=chosen.name) for i in issues], day, KIND),
                {"snapshot_date": day, "stage": KIND},
            ),
            *(log_replacements([log_row(chosen, "partial" if issues else "accepted", None, loaded)]) if fresh else []),
            *headers.replacements,
        ]
    )
    county = rollup[rollup["township"] == ctx.campaign.county_row_label].set_index("kind")["count_total"]
    checks = [
        CHECKS.passed("activity_file_usable", f"使用 {chosen.name}（数据日期 {as_of}）"),
        _zero_use_check(activity.zero_use(villages)),
        _overdue_check(overdue, overdue_days),
        _unrated_check(unrated),
        headers.check,
    ]
    metadata = {f"{activity.KIND_LABELS[k]} / {k}": int(county.get(k, 0)) for k in activity.KINDS}
    return StepResult(
        len(villages), checks, metadata, _county_table(rollup, ctx.campaign.county_row_label), markdown=headers.markdown
    )


def _county_table(rollup: pd.DataFrame, county_label: str) -> pd.DataFrame:
    county = rollup[rollup["township"] == county_label]
    return pd.DataFrame(
        {
            "应用": county["kind"].map(activity.KIND_LABELS),
            "累计": county["count_total"],
            "近30日": county["count_30d"],
            "近30日使用过的村": county["villages_used_30d"],
        }
    )


def _zero_use_check(unused: pd.DataFrame) -> quality.CheckOutcome:
    if unused.empty:
        return CHECKS.passed("every_village_uses_every_kind", "近 30 日每个村（社区）都用过六项应用")
    per_township = (
        unused.assign(label=unused["kind"].map(activity.KIND_LABELS))
        .groupby("township")
        .agg(villages=("village", "nunique"), kinds=("label", lambda s: "、".join(dict.fromkeys(s))))
        .reset_index()
    )
    names = sorted({f"{t}{v}" for t, v in zip(unused["township"], unused["village"])})
    return CHECKS.failed(
        "every_village_uses_every_kind",
        f"{len(names)} 个村（社区）近 30 日有应用未使用",
        townships=per_township["township"].tolist(),
        villages=names,
        table=per_township,
    )


def _overdue_check(overdue: pd.DataFrame, days: int) -> quality.CheckOutcome:
    if overdue.empty:
        return CHECKS.passed("requests_handled", f"没有超过 {days} 天未处理的居民诉求")
    table = overdue[["township", "village", "overdue_count", "oldest_age_days"]]
    return CHECKS.failed(
        "requests_handled",
        f"{int(overdue['overdue_count'].sum())} 件居民诉求超过 {days} 天未处理，"
        f"最久 {int(overdue['oldest_age_days'].max())} 天",
        townships=sorted(overdue["township"].unique()),
        villages=[f"{t}{v}" for t, v in zip(overdue["township"], overdue["village"])],
        table=table,
    )


def _unrated_check(unrated: pd.DataFrame) -> quality.CheckOutcome:
    missing = unrated[unrated["unrated"] > 0] if len(unrated) else unrated
    if missing.empty:
        return CHECKS.passed("closed_requests_rated", "已办结诉求均有满意度评价（或导出不含评价列）")
    return CHECKS.failed(
        "closed_requests_rated",
        f"{int(missing['unrated'].sum())} 件已办结诉求没有满意度评价",
        villages=[f"{t}{v}" for t, v in zip(missing["township"], missing["village"])],
        table=missing,
    )
