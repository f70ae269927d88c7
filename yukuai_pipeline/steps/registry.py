"""The community-registry asset's work, without Dagster: the registry in force on the day (stored in the warehouse
when first read, steps/references.py), standardised and written as the day's partition."""

import datetime as dt

from yukuai_pipeline.steps import references as reference_inputs
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.places.registry import standardise_registry
from yukuai_pipeline.steps.context import (REGISTRY, StepResult, Steps, _empty, file_issues, header_outputs, issues_frame,
                                   load_attachment, log_replacements, log_row, township_matcher)
from yukuai_pipeline.warehouse import Replacement

STAGE = "community_registry"


def community_registry(steps: Steps, day: dt.date) -> StepResult:
    try:
        loaded, fresh = reference_inputs.in_force(steps, REGISTRY, day)
    except reference_inputs.Refused as refused:
        steps.refuse(day, STAGE, refused.identity, refused.error)
        return StepResult(0, [quality.failed("registry_usable", str(refused.error), "ERROR"),
                              quality.passed("registry_available", "")])
    if loaded is None:
        steps.warehouse.replace([Replacement("community_registry", _empty(REGISTRY), {"snapshot_date": day})])
        check = quality.failed("registry_available", f"{day} 及之前没有社区基本信息表：村级任务和进度无法计算，"
                               "乡镇级进度照常计算")
        return StepResult(0, [quality.passed("registry_usable", "没有需要读取的社区基本信息表", "ERROR"), check])
    chosen = loaded.identity
    registry, issues = standardise_registry(loaded.accepted, township_matcher())
    registry = registry.assign(snapshot_date=day, registry_date=chosen.snapshot_date, source_file=chosen.name)
    registry = conform_output(registry, load_contract("community_registry"))
    headers = header_outputs([loaded])
    all_issues = file_issues(loaded) + headers.issues + [dict(i, source_file=chosen.name) for i in issues]
    steps.warehouse.replace([
        Replacement("community_registry", registry, {"snapshot_date": day}),
        Replacement("data_quality_issues", issues_frame(all_issues, day, STAGE), {"snapshot_date": day, "stage": STAGE}),
        *(log_replacements([log_row(chosen, "partial" if all_issues else "accepted", None, loaded)]) if fresh else []),
    ])
    checks = [quality.passed("registry_usable", f"使用 {chosen.name}（{chosen.snapshot_date}）", "ERROR"),
              quality.passed("registry_available", f"{len(registry)} 个村（社区）", villages=len(registry)),
              headers.check]
    missing = sorted(set(load_attachment()["township"]) - set(registry["township"]))
    if missing:
        checks[1] = quality.failed("registry_available", f"社区基本信息缺少 {len(missing)} 个乡镇（街道）的村（社区）",
                                   townships=missing)
    return StepResult(len(registry), checks, {"registry_file": chosen.name, "registry_date": str(chosen.snapshot_date),
                                              "quarantined": loaded.quarantined}, registry.head(10),
                      markdown=headers.markdown)
