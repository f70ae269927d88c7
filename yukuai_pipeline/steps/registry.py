"""The community-registry asset's work, without Dagster: the registry in force on the day (stored in the warehouse
when first read, steps/references.py), standardised and written as the day's partition, and scored field by field
(社区基本信息, steps/registry_scoring.py)."""

import datetime as dt

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.places.area_codes import registry_code_issues
from yukuai_pipeline.places.campaign_places import township_codes
from yukuai_pipeline.places.registry import standardise_registry
from yukuai_pipeline.quality.checks import ERROR, WARN, Check, Checks
from yukuai_pipeline.steps import references as reference_inputs
from yukuai_pipeline.steps import registry_scoring, unchanged
from yukuai_pipeline.steps.context import (
    REGISTRY,
    StepContext,
    StepResult,
    empty_table,
    file_issues,
    header_outputs,
    issues_frame,
    load_attachment,
    log_replacements,
    log_row,
    township_matcher,
)
from yukuai_pipeline.warehouse import Replacement

CHECKS = Checks(
    "community_registry",
    Check(
        "registry_usable",
        ERROR,
        "社区基本信息表可以读取（否则阻断）。",
        "The registry file in force can be read; blocks otherwise.",
        blocking=True,
    ),
    Check(
        "registry_available", WARN, "有覆盖全部乡镇的社区基本信息。", "A registry covering every township is in force."
    ),
    Check(
        "columns_recognised",
        WARN,
        "社区基本信息的每个表头都已识别。",
        "Every header cell of the registry is understood.",
    ),
    registry_scoring.CHECK,
)


STAGE = "community_registry"


@unchanged.reused_when_unchanged(
    CHECKS,
    lambda ctx, day: {"registry": unchanged.file_version(reference_inputs.identity_in_force(ctx, REGISTRY, day))},
)
def community_registry(ctx: StepContext, day: dt.date) -> StepResult:
    try:
        loaded, fresh = reference_inputs.in_force(ctx, REGISTRY, day)
    except reference_inputs.Refused as refused:
        ctx.refuse(day, STAGE, refused.identity, refused.error)
        return StepResult(
            0, CHECKS.rest_skipped([CHECKS.failed("registry_usable", str(refused.error))], "输入文件无法使用，未检查")
        )
    if loaded is None:
        ctx.warehouse.replace(
            [
                Replacement("community_registry", empty_table(REGISTRY), {"snapshot_date": day}),
                *registry_scoring.emptied(day),
            ]
        )
        check = CHECKS.failed(
            "registry_available", f"{day} 及之前没有社区基本信息表：村级任务和进度无法计算，乡镇级进度照常计算"
        )
        return StepResult(
            0,
            CHECKS.rest_skipped(
                [CHECKS.passed("registry_usable", "没有需要读取的社区基本信息表"), check], "没有社区基本信息表，未检查"
            ),
        )
    chosen = loaded.identity
    registry, issues = standardise_registry(loaded.accepted, township_matcher())
    code_issues = registry_code_issues(registry, ctx.campaign.county.code, township_codes(ctx.campaign))
    scoring = registry_scoring.score_registry(ctx, day, registry, loaded)
    registry = registry.assign(snapshot_date=day, registry_date=chosen.snapshot_date, source_file=chosen.name)
    registry = conform_output(registry, load_contract("community_registry"))
    headers = header_outputs([loaded])
    all_issues = file_issues(loaded) + headers.issues + [dict(i, source_file=chosen.name) for i in issues + code_issues]
    ctx.warehouse.replace(
        [
            Replacement("community_registry", registry, {"snapshot_date": day}),
            *scoring.replacements,
            Replacement(  # the file's own issues decide its ingest status below, the scores' do not
                "data_quality_issues",
                issues_frame(all_issues + scoring.issues, day, STAGE),
                {"snapshot_date": day, "stage": STAGE},
            ),
            *(
                log_replacements([log_row(chosen, "partial" if all_issues else "accepted", None, loaded)])
                if fresh
                else []
            ),
        ]
    )
    checks = [
        CHECKS.passed("registry_usable", f"使用 {chosen.name}（{chosen.snapshot_date}）"),
        CHECKS.passed("registry_available", f"{len(registry)} 个村（社区）", villages=len(registry)),
        headers.check,
        scoring.check,
    ]
    missing = sorted(set(load_attachment()["township"]) - set(registry["township"]))
    if missing:
        checks[1] = CHECKS.failed(
            "registry_available", f"社区基本信息缺少 {len(missing)} 个乡镇（街道）的村（社区）", townships=missing
        )
    return StepResult(
        len(registry),
        checks,
        {
            "registry_file": chosen.name,
            "registry_date": str(chosen.snapshot_date),
            "quarantined": loaded.quarantined,
            **scoring.metadata,
        },
        registry.head(10),
        markdown={**headers.markdown, **scoring.markdown},
    )
