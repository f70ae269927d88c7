"""社区基本信息 scored — the second half of the community_registry step (steps/registry.py): the registry in force
judged field by field (metrics/registry_completeness.py), written as `registry_completeness` and
`registry_township_summary`, one data-quality issue per village field missing or wrong, and the WARN check
`registry_complete` naming the villages, per township."""

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.intake.loading import LoadedFile
from yukuai_pipeline.metrics.registry_completeness import MISSING, load_fields, score, township_summary
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.quality.checks import WARN, Check
from yukuai_pipeline.steps.context import StepContext, empty_table
from yukuai_pipeline.warehouse import Replacement

CHECK = Check(
    "registry_complete",
    WARN,
    "每个村（社区）的社区基本信息完整、准确（考核字段、规则和依据见 schemas/benchmarks/registry_fields.yaml）。",
    "Every village's registry entry has each required field, filled in and valid (schemas/benchmarks/"
    "registry_fields.yaml).",
)
TABLES = ("registry_completeness", "registry_township_summary")
NAMED_PER_TOWNSHIP = 8


@dataclass
class Scoring:
    replacements: list[Replacement]
    issues: list[dict]  # data_quality_issues rows (stage community_registry)
    check: quality.CheckOutcome
    metadata: dict = field(default_factory=dict)
    markdown: dict[str, str] = field(default_factory=dict)


def emptied(day: dt.date) -> list[Replacement]:
    """No registry in force: the day holds no scores (a rerun after one lands writes them)."""
    return [Replacement(t, empty_table(t), {"snapshot_date": day}) for t in TABLES]


def score_registry(ctx: StepContext, day: dt.date, registry: pd.DataFrame, loaded: LoadedFile) -> Scoring:
    """`registry`: the standardised registry of the day (places/registry.py), with the columns the file had."""
    fields = load_fields(ctx.campaign.folder)
    county = ctx.campaign.county.code
    scored = score(registry, fields, set(loaded.header.columns), county)
    table = conform_output(scored.table.assign(snapshot_date=day), load_contract("registry_completeness"))
    summary = conform_output(
        township_summary(scored.table).assign(snapshot_date=day), load_contract("registry_township_summary")
    )
    name = loaded.identity.name
    issues = [_issue(p, name) for p in scored.problems.to_dict("records")]
    issues += [
        {
            "check": "registry_column_missing",
            "severity": "WARN",
            "field": column,
            "message": f"社区基本信息表《{name}》中没有可识别的“{fields.label(column)}”列："
            f"{len(registry)} 个村（社区）的{fields.label(column)}都记为缺失",
            "quarantined": False,
            "source_file": name,
        }
        for column in scored.absent
    ]
    note = fields.code_note(county)
    incomplete = int((table["fields_ok"] < table["fields_required"]).sum())
    return Scoring(
        [Replacement(t, frame, {"snapshot_date": day}) for t, frame in zip(TABLES, (table, summary))],
        issues,
        _check(table, summary, note),
        {"villages_incomplete": incomplete, "registry_fields": "、".join(f.label for f in fields.fields)},
        {"社区基本信息完整率 / registry completeness": _chinese(summary).to_markdown(index=False)}
        if len(summary)
        else {},
    )


def _issue(problem: dict, source: str) -> dict:
    missing = problem["kind"] == MISSING
    return {
        "check": "registry_field_missing" if missing else "registry_field_invalid",
        "severity": "WARN",
        "township": problem["township"],
        "village": problem["village"],
        "row_number": problem["row_number"],
        "field": problem["field"],
        "value_masked": None if missing else problem["value_masked"],  # a phone's is masked (places/registry.py)
        "message": f"{problem['township']}{problem['village']}：{problem['reason']}",
        "quarantined": False,
        "source_file": source,
    }


def _check(table: pd.DataFrame, summary: pd.DataFrame, note: str) -> quality.CheckOutcome:
    broken = table[table["fields_ok"] < table["fields_required"]]
    if broken.empty:
        return quality.passed(
            CHECK.name,
            f"全部 {len(table)} 个村（社区）的社区基本信息完整；{note}",
            villages=len(table),
            code_check=note,
        )
    per_township = broken.groupby("township", sort=False)["village"].agg(
        lambda s: "、".join(s.head(NAMED_PER_TOWNSHIP)) + (" 等" if len(s) > NAMED_PER_TOWNSHIP else "")
    )
    shown = _chinese(summary.assign(incomplete=summary["township"].map(per_township)))
    return quality.failed(
        CHECK.name,
        f"{len(broken)} 个村（社区）的社区基本信息不完整或有误；{note}",
        townships=list(dict.fromkeys(broken["township"])),
        villages=[f"{t}{v}（{m}）" for t, v, m in broken[["township", "village", "missing"]].itertuples(index=False)],
        numbers={"villages_incomplete": len(broken), "villages": len(table), "code_check": note},
        table=shown[shown["不完整的村（社区）"].notna()],
    )


def _chinese(summary: pd.DataFrame) -> pd.DataFrame:
    out = summary.drop(columns=["county_code", "snapshot_date"], errors="ignore").rename(
        columns={
            "township": "乡镇（街道）",
            "villages": "村（社区）数",
            "villages_complete": "完整的村数",
            "completeness": "完整率",
            "incomplete": "不完整的村（社区）",
        }
    )
    return out.assign(完整率=out["完整率"].map(lambda v: f"{v:.1%}" if pd.notna(v) else ""))
