"""The roster asset's work, without Dagster: the roster in force on a day, checked record by record and
village by village against assets/roster_rules.yaml, written as one partition."""

import datetime as dt
from collections import Counter
from collections.abc import Mapping

import pandas as pd

from yukuai_pipeline.contracts import ROSTER, conform_output, load_contract
from yukuai_pipeline.metrics.counting import match_places
from yukuai_pipeline.metrics.targets import cadre_quotas as allocate_cadre_quotas
from yukuai_pipeline.metrics.targets import share_of
from yukuai_pipeline.places.names import short_village_name, village_matcher
from yukuai_pipeline.quality import header_report
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.quality.checks import ERROR, WARN, Check, Checks
from yukuai_pipeline.quality.roster import (
    RoleVocabulary,
    check_records,
    duplicate_listings,
    group_number,
    masked_members,
    members,
)
from yukuai_pipeline.quality.roster_rules import COMPLETE, citations, completeness, load_rules, township_summary
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
    "roster_completeness",
    Check(
        "roster_file_usable",
        ERROR,
        "基层队伍名单文件可以读取（否则阻断）。",
        "The roster in force can be read; blocks otherwise.",
        blocking=True,
    ),
    Check(
        "roster_complete",
        WARN,
        "每个村（社区）五类队伍都完整。",
        "Every village's five rosters are complete and valid.",
    ),
    Check(
        "supervisor_not_on_committee",
        WARN,
        "监督委员会成员不兼任村（居）委会成员。",
        "No supervisor sits on the committee.",
    ),
    Check("roster_places_matched", WARN, "名单中的村（社区）都能匹配。", "Every roster row names a known village."),
    Check("columns_recognised", WARN, "名单的每个表头都已识别。", "Every header cell of the roster is understood."),
    Check(
        "roster_group_column_present",
        WARN,
        "名单有“所在小组”列（缺少时小组长规则无法核验）。",
        "The roster has a group column.",
    ),
)


QUOTA_CHECKS = Checks(
    "cadre_quotas",
    Check(
        "quotas_sum_to_targets",
        WARN,
        "分配到人的任务之和等于村任务数（按尚差分配的之和等于村尚差任务数）。",
        "Quotas add up to each village's target, and gap quotas to its gap (times campaign.yaml quotas.share).",
    ),
    Check("every_village_has_cadres", WARN, "每个村都有“两委”成员可分配。", "Every village has committee members."),
)


STAGE = "roster_completeness"


def _village_type(name: str) -> str:
    return "居委会" if short_village_name(name).endswith("社区") else "村委会"


def _registry(ctx: StepContext, day: dt.date, matched: pd.DataFrame) -> pd.DataFrame:
    """The registry in force; without one, the villages the roster names (so rules needing figures are skipped)."""
    registry = ctx.warehouse.read("community_registry", {"snapshot_date": day})
    if registry.empty:
        registry = (
            matched[["township_std", "village_std"]]
            .drop_duplicates()
            .rename(columns={"township_std": "township", "village_std": "village"})
        )
        for column in ("village_code", "households", "group_count", "resident_population", "committee_type"):
            registry[column] = None
    registry["committee_type"] = registry["committee_type"].fillna(registry["village"].map(_village_type))
    return registry


def _inputs(ctx: StepContext, day: dt.date) -> dict:
    return {
        "roster": unchanged.file_version(reference_inputs.identity_in_force(ctx, ROSTER, day)),
        "registry": unchanged.table_version(ctx, "community_registry", day),
        "law": load_rules(on=day)[1]["law_version"],  # the revision in force on the day judged
    }


@unchanged.reused_when_unchanged(CHECKS, _inputs)
def roster_completeness(ctx: StepContext, day: dt.date) -> StepResult:
    rules, doc = load_rules(on=day)  # the law revision in force on the day judged
    labels = doc["role_group_labels"]
    registry_rows = ctx.warehouse.read("community_registry", {"snapshot_date": day})
    villages = village_matcher(registry_rows)
    try:  # the roster in force, as the warehouse keeps it: no raw ID or phone number (ctx/references.py)
        loaded, fresh = reference_inputs.in_force(ctx, ROSTER, day)
    except reference_inputs.Refused as refused:
        ctx.refuse(day, STAGE, refused.identity, refused.error)
        return StepResult(
            0,
            CHECKS.rest_skipped([CHECKS.failed("roster_file_usable", str(refused.error))], "输入文件无法使用，未检查"),
        )
    chosen = loaded.identity if loaded else None
    empty = [
        "township",
        "village",
        "name",
        "role",
        "gender",
        "group",
        "person",
        "id_masked",
        "id_problem",
        "id_gender",
        "phone_masked",
        "phone_problem",
        "_row",
    ]
    rows = loaded.accepted if loaded else pd.DataFrame(columns=empty)
    matched, place_issues = match_places(rows, township_matcher(), villages, ctx.labels)
    known = matched[
        (matched["township_std"] != ctx.labels.unmatched) & (matched["village_std"] != ctx.labels.unmatched)
    ]
    known = known.rename(columns={"_row": "row_number"})
    people, role_issues = members(known, RoleVocabulary.from_contract(load_contract(ROSTER, "input")))
    people["group_number"] = people["group"].map(group_number)
    bad, record_issues = check_records(known)
    headers = header_outputs([loaded] if loaded else [])
    missing = header_report.missing_meanings(loaded) if loaded else []
    unverifiable = {measure: meaning["verdict"] for _, meaning, _ in missing for measure in meaning.get("measures", [])}
    issues = (file_issues(loaded) if loaded else []) + headers.issues + place_issues + role_issues + record_issues
    issues += duplicate_listings(people) + [
        {
            "check": meaning.get("issue", "optional_column_missing"),
            "severity": "WARN",
            "message": message,
            "quarantined": False,
        }
        for _, meaning, message in missing
    ]
    registry = _registry(ctx, day, matched)
    table = completeness(registry, people, set(bad.index[bad.to_numpy()]), rules, labels, unverifiable)
    roster_date, source = (chosen.snapshot_date, chosen.name) if chosen else (None, None)
    table = table.assign(snapshot_date=day, roster_date=roster_date, source_file=source)
    table = conform_output(table, load_contract("roster_completeness"))
    summary = conform_output(
        township_summary(table).assign(snapshot_date=day), load_contract("roster_township_summary")
    )
    listed = conform_output(
        masked_members(people, bad).assign(snapshot_date=day, roster_date=roster_date, source_file=source),
        load_contract("roster_members"),
    )
    ctx.warehouse.replace(
        [
            Replacement("roster_completeness", table, {"snapshot_date": day}),
            Replacement("roster_members", listed, {"snapshot_date": day}),
            Replacement("roster_township_summary", summary, {"snapshot_date": day}),
            Replacement(
                "data_quality_issues",
                issues_frame([dict(i, source_file=source) for i in issues], day, STAGE),
                {"snapshot_date": day, "stage": STAGE},
            ),
            # fresh: in_force took a file in, so there is a chosen one
            *(
                log_replacements([log_row(chosen, "partial" if issues else "accepted", None, loaded)])
                if fresh and chosen is not None
                else []
            ),
            *headers.replacements,
        ]
    )
    checks = [
        CHECKS.passed("roster_file_usable", f"使用 {source}" if source else "没有名单文件"),
        _complete_check(table, summary, source),
        supervisor_conflicts(people, registry, citations(doc, "supervisors_on_village_committee")),
        _places_check(place_issues),
        headers.check,
        _group_column_check(missing),
    ]
    metadata = {
        "roster_file": source,
        "villages": int(summary["villages_total"].sum()),
        "villages_complete": int(summary["villages_complete"].sum()),
        "issues": len(issues),
    }
    return StepResult(
        len(table), checks, metadata, summary.sort_values("completeness").head(10), markdown=headers.markdown
    )


def _group_column_check(missing: list) -> quality.CheckOutcome:
    if not missing:
        return CHECKS.passed("roster_group_column_present", "名单中有核验所需的全部列")
    return CHECKS.failed("roster_group_column_present", "；".join(message for _, _, message in missing))


def _complete_check(table: pd.DataFrame, summary: pd.DataFrame, source: str | None) -> quality.CheckOutcome:
    if table.empty:
        return CHECKS.failed("roster_complete", "没有社区基本信息，也没有基层队伍名单：无法检查完整性")
    broken = table[table["status"] != COMPLETE]
    if broken.empty:
        return CHECKS.passed("roster_complete", f"全部 {table['village'].nunique()} 个村（社区）的基层队伍信息完整")
    per_village = broken.groupby(["township", "village"])["role_group_label"].apply("、".join).reset_index()
    villages = [f"{t}{v}（{roles}）" for t, v, roles in per_village.itertuples(index=False)]
    per_township = per_village.groupby("township").agg(
        villages=("village", "size"), names=("village", lambda s: "、".join(s.head(8)) + (" 等" if len(s) > 8 else ""))
    )
    per_township = per_township.join(summary.set_index("township")[["villages_total", "completeness"]]).reset_index()
    where = "" if source else "（尚未收到任何基层队伍名单）"
    return CHECKS.failed(
        "roster_complete",
        f"{len(per_village)} 个村（社区）基层队伍信息不完整或有误{where}",
        townships=sorted(per_village["township"].unique()),
        villages=villages,
        numbers={"villages_incomplete": len(per_village)},
        table=per_township,
    )


def supervisor_conflicts(
    people: pd.DataFrame, registry: pd.DataFrame, cites: Mapping[str, str]
) -> quality.CheckOutcome:
    """Supervisors who sit on their village's committee. What the failure cites depends on each village's committee
    type (registry; by the name when it has none) and on the law revision in force: `cites` is citations() of the
    rule reading supervisors_on_village_committee — 村民委员会组织法's article for a 村委会; for a 居委会, whose law has
    no such article that we could source, the village rule applied by analogy (参照), said as such. A type the rules do
    not cover is counted without a citation rather than with a wrong one."""
    keys = ["township_std", "village_std", "person"]
    supervisors = people.loc[people["role_std"] == "supervisor", [*keys, "name"]].drop_duplicates(keys)
    committee = people.loc[people["role_std"] == "village_committee", keys].drop_duplicates()
    both = supervisors.merge(committee, on=keys)
    if both.empty:
        return CHECKS.passed("supervisor_not_on_committee", "监督委员会成员均未兼任村（居）委会成员")
    types = dict(zip(zip(registry["township"], registry["village"]), registry["committee_type"]))
    kinds = Counter(types.get((t, v)) or _village_type(v) for t, v in zip(both["township_std"], both["village_std"]))
    parts = [
        f"{kind} {count} 人" + (f"：{cites[kind]}" if cites.get(kind) else "")
        for kind, count in sorted(kinds.items(), key=lambda item: (item[0] != "村委会", item[0]))  # 村委会 first
    ]
    villages = [f"{t}{v}（{n}）" for t, v, n in both[["township_std", "village_std", "name"]].itertuples(index=False)]
    return CHECKS.failed(
        "supervisor_not_on_committee",
        f"{len(both)} 人同时是监督委员会和村（居）委会成员（{'；'.join(parts)}）",
        townships=sorted(both["township_std"].unique()),
        villages=villages,
    )


def _places_check(place_issues: list[dict]) -> quality.CheckOutcome:
    if not place_issues:
        return CHECKS.passed("roster_places_matched", "名单中的乡镇、村（社区）均已匹配")
    names = [f"{i.get('township') or ''}{i.get('village') or ''}" for i in place_issues]
    return CHECKS.failed(
        "roster_places_matched", f"名单中 {len(place_issues)} 个地名无法匹配，相关行未计入", villages=names
    )


def cadre_quotas(ctx: StepContext, day: dt.date) -> StepResult:
    """The notice's advice (二、二): split each village's task among its 两委 members in proportion."""
    targets = ctx.warehouse.read("village_targets", {"snapshot_date": day})
    listed = ctx.warehouse.read("roster_members", {"snapshot_date": day, "role_group": "committee"})  # 两委 only
    committee = (
        listed.groupby(["township", "village", "person_key"])
        .agg(cadre_name=("name", "first"), roles=("role", lambda r: "、".join(dict.fromkeys(r))))
        .reset_index()
    )
    gaps = ctx.warehouse.read("village_progress", {"snapshot_date": day})
    rule = ctx.campaign.quotas
    quotas, missing = allocate_cadre_quotas(targets, committee, gaps, rule.share, rule.role_weights)
    issues = [
        {
            "check": "village_without_committee",
            "severity": "WARN",
            "township": r.township,
            "village": r.village,
            "message": f"{r.township}{r.village}没有录入“两委”成员，任务数 {int(r.target)} 无法分配到人",
            "quarantined": False,
        }
        for r in missing.itertuples()
    ]
    frame = conform_output(quotas.assign(snapshot_date=day), load_contract("cadre_quotas"))
    ctx.warehouse.replace(
        [
            Replacement("cadre_quotas", frame, {"snapshot_date": day}),
            Replacement(
                "data_quality_issues",
                issues_frame(issues, day, "cadre_quotas"),
                {"snapshot_date": day, "stage": "cadre_quotas"},
            ),
        ]
    )
    sums = frame.groupby(["township", "village"])[["quota", "gap_quota"]].sum(min_count=1)
    wrong = _unequal_sums(sums, targets.set_index(["township", "village"])["target"], gaps, rule.share)
    checks = [
        QUOTA_CHECKS.passed(
            "quotas_sum_to_targets", f"{len(sums)} 个村（社区）按任务数、按尚差两种分配之和均等于应分配数"
        )
        if not wrong
        else QUOTA_CHECKS.failed("quotas_sum_to_targets", "分配之和与村任务数不符", villages=wrong),
        QUOTA_CHECKS.passed("every_village_has_cadres", "每个有任务的村（社区）都有“两委”成员可分配")
        if missing.empty
        else QUOTA_CHECKS.failed(
            "every_village_has_cadres",
            f"{len(missing)} 个村（社区）没有“两委”成员，任务无法分配到人",
            townships=sorted(missing["township"].unique()),
            villages=[f"{t}{v}" for t, v in zip(missing["township"], missing["village"])],
        ),
    ]
    metadata = {"cadres": len(frame), "villages_allocated": len(sums), "villages_without_committee": len(missing)}
    return StepResult(len(frame), checks, metadata, frame.head(10))


def _unequal_sums(sums: pd.DataFrame, targets: pd.Series, gaps: pd.DataFrame, share) -> list[str]:
    """Villages whose members' quotas do not add up to the 两委's part of the target, or of the gap."""
    left = gaps.set_index(["township", "village"])["gap"] if len(gaps) else pd.Series(dtype="Int64")
    wrong = []
    for (township, village), row in sums.iterrows():
        if int(row["quota"]) != share_of(int(targets.get((township, village), -1)), share):
            wrong.append(f"{township}{village}")
        elif not pd.isna(row["gap_quota"]) and int(row["gap_quota"]) != share_of(
            max(int(left[(township, village)]), 0), share
        ):
            wrong.append(f"{township}{village}（尚差）")
    return wrong
