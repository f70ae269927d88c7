"""The cadre-registration asset's work, without Dagster: which of the roster's 两委 members, 小组长 and 代表 registered
on the platform themselves, and how many users each of them brought in (metrics/cadre_registration.py). It needs a
person key (intake/keyed_hash.py): without one nothing is matched and the check says the feature is off.
"""

import datetime as dt

import pandas as pd

from yukuai_pipeline.contracts import USER_LEVEL, conform_output, load_contract
from yukuai_pipeline.intake import keyed_hash
from yukuai_pipeline.metrics.cadre_registration import LEADING_GROUPS, match_cadres, not_leading
from yukuai_pipeline.quality.checks import WARN, Check, Checks
from yukuai_pipeline.steps.context import StepContext, StepResult, empty_table, load_file
from yukuai_pipeline.warehouse import Replacement

CHECKS = Checks(
    "cadre_registration",
    Check(
        "cadres_lead_by_example",
        WARN,
        "村（社区）两委成员、小组长、代表本人已注册并通过审核（通知：带头使用）。",
        "The roster's committee members, group leaders and representatives registered and were approved themselves.",
    ),
)
GROUP_LABELS = {"committee": "两委成员", "group_leader": "小组长", "representative": "代表"}


def _days_users(ctx: StepContext, day: dt.date) -> tuple[pd.DataFrame, dt.date | None] | None:
    """The day's user-level export as read for the counts (the same file, by its content hash) and its date; None
    if none."""
    log = ctx.warehouse.read("ingest_log", {"snapshot_date": day})
    used = log[(log["kind"] == USER_LEVEL) & log["status"].isin(["accepted", "partial"])]
    for identity in ctx.scan(lambda d: d == day):
        if identity.kind == USER_LEVEL and identity.sha256 in set(used["sha256"]):
            return load_file(identity).accepted, identity.snapshot_date
    return None


def cadre_registration(ctx: StepContext, day: dt.date) -> StepResult:
    if keyed_hash.person_key() is None:
        return _skipped(ctx, day, "未配置人员比对密钥（YUKUAI_PERSON_KEY_FILE）：无法核对干部本人是否注册，此项关闭")
    members = ctx.warehouse.read("roster_members", {"snapshot_date": day})
    if members.empty:
        return _skipped(ctx, day, f"{day} 没有基层队伍名单")
    if members["phone_token"].isna().all():
        return _skipped(ctx, day, "名单在配置密钥之前入库，没有手机号令牌：重新放入名单文件（或换一份新名单）后生效")
    export = _days_users(ctx, day)
    if export is None or "phone_token" not in export[0]:
        return _skipped(ctx, day, f"{day} 没有可逐人比对的注册明细导出（汇总表或没有手机号列的导出无法比对）")
    users, export_date = export
    people, summary = match_cadres(members, users, export_date)
    ctx.warehouse.replace(
        [
            Replacement(
                "cadre_registration",
                conform_output(people.assign(snapshot_date=day), load_contract("cadre_registration")),
                {"snapshot_date": day},
            ),
            Replacement(
                "cadre_registration_summary",
                conform_output(summary.assign(snapshot_date=day), load_contract("cadre_registration_summary")),
                {"snapshot_date": day},
            ),
        ]
    )
    figures = {**_county_figures(summary), **_match_dates(summary)}
    return StepResult(len(people), [_leading_check(summary)], figures, _county_table(summary))


def _match_dates(summary: pd.DataFrame) -> dict:
    """The dates of the export and the roster the day's match used (the same on every row)."""
    first = summary.iloc[0] if len(summary) else None
    return {
        f"{label} / {column}": ("无数据" if first is None or pd.isna(first[column]) else str(first[column]))
        for column, label in (("export_date", "注册导出数据日期"), ("roster_date", "基层队伍名单数据日期"))
    }


def _skipped(ctx: StepContext, day: dt.date, reason: str) -> StepResult:
    """Nothing to match: the day's rows are removed (a day rerun without a key shows no stale matches)."""
    ctx.warehouse.replace(
        [
            Replacement(name, empty_table(name), {"snapshot_date": day})
            for name in ("cadre_registration", "cadre_registration_summary")
        ]
    )
    return StepResult(0, [CHECKS.skipped("cadres_lead_by_example", reason)])


def _county_table(summary: pd.DataFrame) -> pd.DataFrame:
    leading = summary[summary["role_group"].isin(LEADING_GROUPS)]
    totals = leading.groupby("role_group")[["members", "with_token", "registered", "approved"]].sum()
    totals = totals.reindex([g for g in LEADING_GROUPS if g in totals.index])
    return pd.DataFrame(
        {
            "队伍": [GROUP_LABELS[g] for g in totals.index],
            "人数": totals["members"].to_numpy(),
            "有手机号": totals["with_token"].to_numpy(),
            "已注册": totals["registered"].to_numpy(),
            "已通过审核": totals["approved"].to_numpy(),
        }
    )


def _county_figures(summary: pd.DataFrame) -> dict:
    table = _county_table(summary)
    return {f"{row.队伍}已通过 / approved": f"{row.已通过审核}/{row.有手机号}" for row in table.itertuples()}


def _leading_check(summary: pd.DataFrame):
    behind = not_leading(summary)
    if behind.empty:
        return CHECKS.passed("cadres_lead_by_example", "名单上有手机号的两委成员、小组长、代表均已注册并通过审核")
    missing = int((behind["with_token"] - behind["approved"]).sum())
    per_township = (
        behind.assign(not_yet=behind["with_token"] - behind["approved"])
        .groupby("township")
        .agg(villages=("village", "nunique"), people=("not_yet", "sum"))
        .reset_index()
    )
    villages = sorted({f"{t}{v}" for t, v in zip(behind["township"], behind["village"])})
    return CHECKS.failed(
        "cadres_lead_by_example",
        f"{len(villages)} 个村（社区）有 {missing} 名两委成员、小组长或代表本人尚未注册或未通过审核",
        townships=per_township["township"].tolist(),
        villages=villages,
        table=per_township.rename(columns={"township": "乡镇（街道）", "villages": "村（社区）数", "people": "人数"}),
    )
