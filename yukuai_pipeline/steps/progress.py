"""The progress assets' work: township and village progress of a day (the counts of the day, or of the newest
earlier day with an export), their pace, the checks that read them, and the day's data-quality summary."""

import datetime as dt

import pandas as pd

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.metrics import doubts
from yukuai_pipeline.metrics.progress import add_pace, county_summary, township_table
from yukuai_pipeline.metrics.progress import village_progress as village_rows
from yukuai_pipeline.metrics.week_over_week import WEEK, week_over_week
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.quality.checks import WARN, Check, Checks
from yukuai_pipeline.steps.context import StepContext, StepResult, empty_table, issues_frame
from yukuai_pipeline.warehouse import Replacement

TOWNSHIP_CHECKS = Checks(
    "township_progress",
    Check(
        "completed_not_falling",
        WARN,
        "完成数不比前一天少。",
        "No township's completed count falls from the previous day.",
    ),
    Check("progress_has_data", WARN, "有注册数据可用。", "Registration data exists on or before the day."),
    Check(
        "figures_trustworthy",
        WARN,
        "当日数字没有存疑之处（表头都已识别、有审核状态列、合计相符、文件完整、未骤降）。",
        "The day's figures are not doubtful: headers understood, status present, totals agree, no sharp fall.",
    ),
)


VILLAGE_CHECKS = Checks(
    "village_progress",
    Check(
        "totals_reconcile",
        WARN,
        "全县合计 = 各乡镇之和 = 各村之和。",
        "County row = sum of townships = sum of villages.",
    ),
    Check(
        "village_figures_available",
        WARN,
        "村级任务数可用（需要社区基本信息）。",
        "Village targets exist (needs the registry).",
    ),
)


QUALITY_CHECKS = Checks(
    "data_quality_issues",
    Check("no_quarantined_rows", WARN, "没有被隔离的数据行。", "No input row was quarantined."),
)


COUNTS = "registration_counts"


def _latest_counts(ctx: StepContext, day: dt.date) -> tuple[pd.DataFrame, dt.date | None]:
    """The counts of `day`, or of the newest earlier day when that day's export has not landed."""
    newest = ctx.warehouse.newest_date(COUNTS, on_or_before=day)
    if newest is None:
        return empty_table(COUNTS), None
    return ctx.warehouse.read(COUNTS, {"snapshot_date": newest}), newest


def _pace_base(ctx: StepContext, data_date: dt.date | None) -> tuple[pd.DataFrame | None, int | None]:
    """The counts about window_days before the data date (or the earliest earlier ones) and the days between."""
    if data_date is None:
        return None, None
    window = dt.timedelta(days=ctx.campaign.pace.window_days)
    base_date = ctx.warehouse.newest_date(COUNTS, on_or_before=data_date - window) or ctx.warehouse.oldest_date(
        COUNTS, before=data_date
    )
    if base_date is None:
        return None, None
    return ctx.warehouse.read(COUNTS, {"snapshot_date": base_date}), (data_date - base_date).days


def _previous_progress(ctx: StepContext, day: dt.date) -> pd.DataFrame:
    previous = ctx.warehouse.newest_date("township_progress", before=day)
    if previous is None:
        return empty_table("township_progress")
    return ctx.warehouse.read("township_progress", {"snapshot_date": previous})


def _last_week(ctx: StepContext, table: str, day: dt.date) -> tuple[pd.DataFrame | None, dt.date | None]:
    """The table's rows of the newest day on or before a week before `day` (metrics/week_over_week.py)."""
    then = ctx.warehouse.newest_date(table, on_or_before=day - WEEK)
    return (ctx.warehouse.read(table, {"snapshot_date": then}), then) if then else (None, None)


def township_progress(ctx: StepContext, day: dt.date) -> StepResult:
    campaign, label = ctx.campaign, ctx.campaign.county_row_label
    counts, data_date = _latest_counts(ctx, day)
    targets = ctx.warehouse.read("township_targets", {"campaign_id": campaign.campaign_id}, ["seq"])
    frame = township_table(counts, targets, *_pace_base(ctx, data_date), day, data_date, campaign)
    frame = week_over_week(frame, *_last_week(ctx, "township_progress", day), ["township"])
    frame = conform_output(frame, load_contract("township_progress"))
    previous = _previous_progress(ctx, day)
    county = frame[frame["township"] == label].iloc[0]
    before = previous.loc[previous["township"] == label, "completed"] if len(previous) else pd.Series(dtype="int64")
    own, reasons = doubts.assemble(
        _registration_issues(ctx, day, data_date),
        int(county["completed"]),
        int(before.iloc[0]) if len(before) else None,
        campaign.doubt.max_fall_ratio,
        label,
    )
    ctx.warehouse.replace(
        [
            Replacement("township_progress", frame, {"snapshot_date": day}),
            Replacement(
                "data_quality_issues",
                issues_frame(own, day, "township_progress"),
                {"snapshot_date": day, "stage": "township_progress"},
            ),
        ]
    )
    checks = [_falling_check(frame, previous, label), _trust_check(day, reasons)]
    if data_date is None:
        checks.append(TOWNSHIP_CHECKS.failed("progress_has_data", f"{day} 及之前没有任何注册数据，完成数全为 0"))
    else:
        checks.append(TOWNSHIP_CHECKS.passed("progress_has_data", f"使用 {data_date} 的注册数据"))
    metadata = {
        k: (None if pd.isna(county[k]) else county[k].item() if hasattr(county[k], "item") else county[k])
        for k in ("resident_population", "target", "completed", "gap", "completion_rate")
    }
    behind = frame[frame["seq"].notna()].sort_values("completion_rate").head(5)
    metadata["data_date"] = str(data_date) if data_date else None
    metadata["全县合计 / county row"] = county_summary(county)
    return StepResult(
        len(frame),
        checks,
        metadata,
        behind[["township", "target", "completed", "gap", "completion_rate"]],
        preview_title="进度最慢的乡镇 / townships furthest behind",
    )


def _registration_issues(ctx: StepContext, day: dt.date, data_date: dt.date | None) -> pd.DataFrame:
    """What the registration step found about the day's files, and about the files of the day whose data are shown."""
    found = ctx.warehouse.read("data_quality_issues", {"snapshot_date": day, "stage": COUNTS})
    if data_date is not None and data_date != day:
        earlier = ctx.warehouse.read("data_quality_issues", {"snapshot_date": data_date, "stage": COUNTS})
        earlier = earlier.assign(message=f"（{data_date} 的数据）" + earlier["message"].astype(str))
        found = pd.concat([found, earlier], ignore_index=True)
    return found


def village_progress(ctx: StepContext, day: dt.date) -> StepResult:
    counts, data_date = _latest_counts(ctx, day)
    targets = ctx.warehouse.read("village_targets", {"snapshot_date": day})
    frame = village_rows(counts, targets if len(targets) else None, day, data_date)
    frame = add_pace(
        frame, ["township", "village"], *_pace_base(ctx, data_date), day, ctx.campaign.deadline, ctx.campaign.pace
    )
    frame = week_over_week(frame, *_last_week(ctx, "village_progress", day), ["township", "village"])
    frame = conform_output(frame, load_contract("village_progress"))
    ctx.warehouse.replace([Replacement("village_progress", frame, {"snapshot_date": day})])
    townships = ctx.warehouse.read("township_progress", {"snapshot_date": day})
    checks = [_reconcile_check(frame, townships, ctx.campaign.county_row_label)]
    if targets.empty:
        checks.append(VILLAGE_CHECKS.failed("village_figures_available", "没有社区基本信息：村级任务数、完成率缺失"))
    else:
        checks.append(VILLAGE_CHECKS.passed("village_figures_available", f"{len(targets)} 个村（社区）有任务数"))
    behind = frame[frame["target"].notna()].sort_values("completion_rate").head(10)
    return StepResult(
        len(frame),
        checks,
        {"villages": len(frame), "completed": int(frame["completed"].sum())},
        behind[["township", "village", "target", "completed", "gap", "completion_rate"]],
        preview_title="进度最慢的村（社区） / villages furthest behind",
    )


# Stages whose assets are not upstream of data_quality_issues (a broken activity or organisation file must not keep
# the summary from running): their rows may or may not be written yet when it runs, so they are left out of it and
# have checks of their own.
NOT_UPSTREAM_STAGES = ("platform_activity", "community_orgs", "cadre_registration", "township_scores")


def data_quality_summary(ctx: StepContext, day: dt.date) -> StepResult:
    issues = ctx.warehouse.read("data_quality_issues", {"snapshot_date": day})
    issues = issues[~issues["stage"].isin(NOT_UPSTREAM_STAGES)] if len(issues) else issues
    by_check = issues.groupby(["stage", "check", "severity"]).size().rename("issues").reset_index()
    quarantined = int(issues["quarantined"].astype(bool).sum()) if len(issues) else 0
    check = (
        QUALITY_CHECKS.passed("no_quarantined_rows", "没有被隔离的行")
        if quarantined == 0
        else QUALITY_CHECKS.failed(
            "no_quarantined_rows",
            f"{quarantined} 行数据被隔离，未计入进度",
            numbers={"quarantined": quarantined},
            table=issues[issues["quarantined"].astype(bool)][
                ["source_file", "row_number", "field", "value_masked", "message"]
            ].head(20),
        )
    )
    return StepResult(len(issues), [check], {"issues": len(issues), "quarantined": quarantined}, by_check)


def _trust_check(day: dt.date, reasons: list[str]) -> quality.CheckOutcome:
    if not reasons:
        return TOWNSHIP_CHECKS.passed("figures_trustworthy", f"{day} 的数字没有存疑之处")
    return TOWNSHIP_CHECKS.failed(
        "figures_trustworthy",
        f"{day}：{doubts.headline(reasons)}",
        numbers={"doubts": len(reasons)},
        table=pd.DataFrame({"存疑原因": reasons}),
    )


def _falling_check(frame: pd.DataFrame, previous: pd.DataFrame, county_label: str) -> quality.CheckOutcome:
    if previous.empty:
        return TOWNSHIP_CHECKS.passed("completed_not_falling", "没有前一天的数据可比较")
    merged = frame.merge(previous[["township", "completed"]], on="township", suffixes=("", "_before"))
    fell = merged[merged["completed"] < merged["completed_before"]]
    if fell.empty:
        return TOWNSHIP_CHECKS.passed("completed_not_falling", "各乡镇完成数均未下降")
    names = [t for t in fell["township"] if t != county_label]
    return TOWNSHIP_CHECKS.failed(
        "completed_not_falling",
        f"{len(names)} 个乡镇（街道）的完成数比前一天少",
        townships=names,
        table=fell[["township", "completed_before", "completed"]],
    )


def _reconcile_check(villages: pd.DataFrame, townships: pd.DataFrame, county_label: str) -> quality.CheckOutcome:
    county = townships.loc[townships["township"] == county_label, "completed"]
    body = townships.loc[townships["township"] != county_label]
    totals = {
        "county_row": int(county.iloc[0]) if len(county) else None,
        "sum_of_townships": int(body["completed"].sum()),
        "sum_of_villages": int(villages["completed"].sum()),
    }
    by_town = villages.groupby("township")["completed"].sum()
    wrong = [t for t, c in zip(body["township"], body["completed"]) if int(by_town.get(t, 0)) != int(c)]
    if len(set(totals.values())) == 1 and not wrong:
        return VILLAGE_CHECKS.passed("totals_reconcile", "全县合计 = 各乡镇之和 = 各村之和", **totals)
    return VILLAGE_CHECKS.failed(
        "totals_reconcile", "全县合计、各乡镇之和、各村之和不一致", townships=wrong, numbers=totals
    )
