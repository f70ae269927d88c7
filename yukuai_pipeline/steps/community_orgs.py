"""The community-organisation asset's work, without Dagster: the 社区社会组织信息 in force on a day, checked record by
record (quality/org_records.py) and counted per village against the benchmark (metrics/community_orgs.py)."""

import datetime as dt
from pathlib import Path

import pandas as pd

from yukuai_pipeline import settings
from yukuai_pipeline.contracts import ORGS as KIND
from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.metrics import community_orgs as orgs
from yukuai_pipeline.metrics.counting import match_places
from yukuai_pipeline.places.names import village_matcher
from yukuai_pipeline.quality import outcomes as quality
from yukuai_pipeline.quality.checks import ERROR, WARN, Check, Checks
from yukuai_pipeline.quality.org_records import check_records
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
    "community_orgs",
    Check(
        "orgs_file_usable",
        ERROR,
        "社区社会组织信息可以读取（否则阻断）。",
        "The community social organisation export can be read; blocks otherwise.",
        blocking=True,
    ),
    Check(
        "columns_recognised",
        WARN,
        "社区社会组织信息的每个表头都已识别。",
        "Every header cell of the organisation export is understood.",
    ),
    Check(
        "orgs_meet_benchmark",
        WARN,
        "每个村（社区）的社区社会组织（登记 + 备案）达到基准：城市社区 10 个、农村社区 5 个"
        "（民发〔2017〕191号，可配置）。",
        "Every village has at least the benchmark of registered + filed organisations (10 urban, 5 rural by default).",
    ),
    Check(
        "credit_codes_valid",
        WARN,
        "登记的组织的统一社会信用代码符合 GB 32100-2015，且由民政部门登记。",
        "Registered organisations carry a valid GB 32100-2015 credit code issued by civil affairs.",
    ),
    Check(
        "org_records_valid",
        WARN,
        "备案的组织有备案编号和指导单位，同一组织没有重复录入。",
        "Filed organisations carry a filing number and a guiding unit; no organisation is listed twice.",
    ),
)
BENCHMARK_FILE = "community_orgs.yaml"
CODE_TITLES = {
    "township": "乡镇（街道）",
    "village": "村（社区）",
    "org_name": "组织名称",
    "row_number": "行号",
    "problem": "问题",
    "reason": "原因",
}


def load_benchmark(campaign_folder: Path | None = None) -> orgs.Benchmark:
    """schemas/benchmarks/community_orgs.yaml, with the keys of the campaign folder's own community_orgs.yaml when
    it has one (a county's own target; campaign.yaml is generated from the notice and not edited)."""
    shipped = settings.read_yaml(settings.schemas_dir() / "benchmarks" / BENCHMARK_FILE)
    own = Path(campaign_folder) / BENCHMARK_FILE if campaign_folder else None
    return orgs.Benchmark.from_doc(shipped, settings.read_yaml(own) if own and own.is_file() else None)


def _inputs(ctx: StepContext, day: dt.date) -> dict:
    return {
        "orgs": unchanged.file_version(reference_inputs.identity_in_force(ctx, KIND, day)),
        "registry": unchanged.table_version(ctx, "community_registry", day),
    }


@unchanged.reused_when_unchanged(CHECKS, _inputs)
def community_orgs(ctx: StepContext, day: dt.date) -> StepResult:
    """The newest organisation export dated on or before the day holds until a newer one lands (like a registry)."""
    try:  # the export in force, as the warehouse keeps it (steps/references.py)
        loaded, fresh = reference_inputs.in_force(ctx, KIND, day)
    except reference_inputs.Refused as refused:
        ctx.refuse(day, KIND, refused.identity, refused.error)
        return StepResult(
            0,
            CHECKS.rest_skipped([CHECKS.failed("orgs_file_usable", str(refused.error))], "输入文件无法使用，未检查"),
        )
    if loaded is None:
        return StepResult(
            0,
            CHECKS.rest_skipped(
                [
                    CHECKS.passed("orgs_file_usable", "没有社区社会组织信息"),
                    CHECKS.failed("orgs_meet_benchmark", f"{day} 及之前没有社区社会组织信息导出"),
                ],
                "没有社区社会组织信息，未检查",
            ),
        )
    chosen, benchmark = loaded.identity, load_benchmark(ctx.campaign.folder)
    registry = ctx.registry_for(day)
    matched, place_issues = match_places(loaded.accepted, township_matcher(), village_matcher(registry), ctx.labels)
    matched = matched.rename(columns={"_row": "row_number"})
    records = check_records(matched)
    villages = orgs.village_counts(matched.assign(outcome=records.outcome), registry, benchmark, ctx.labels.unmatched)
    rollup = orgs.rollup(villages, ctx.campaign.county_row_label)
    headers = header_outputs([loaded])
    issues = file_issues(loaded) + headers.issues + place_issues + records.issues
    as_of = chosen.snapshot_date  # the export's own date: a later day still shows the figures of that export
    extra = {"snapshot_date": day, "orgs_date": as_of}
    ctx.warehouse.replace(
        [
            Replacement(
                "community_orgs",
                conform_output(villages.assign(**extra, benchmark_source=benchmark.source), load_contract(KIND)),
                {"snapshot_date": day},
            ),
            Replacement(
                "community_orgs_rollup",
                conform_output(rollup.assign(**extra), load_contract("community_orgs_rollup")),
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
    checks = [
        CHECKS.passed("orgs_file_usable", f"使用 {chosen.name}（数据日期 {as_of}）"),
        _benchmark_check(villages, benchmark),
        _codes_check(records.codes),
        _records_check(records.issues),
        headers.check,
    ]
    county = rollup.iloc[-1]
    metadata = {
        "登记 / registered": int(county["registered"]),
        "备案 / filed": int(county["filed"]),
        "信息有误 / invalid": int(county["invalid"]),
        "达到基准的村（社区） / villages meeting it": f"{county['villages_meeting']} / {county['villages']}",
        "基准 / benchmark": benchmark.describe(),
    }
    return StepResult(len(villages), checks, metadata, rollup.head(10), markdown=headers.markdown)


def read_orgs(ctx: StepContext, day: dt.date) -> pd.DataFrame:
    """The day's community_orgs rows, as the report's sheet 社区社会组织 takes them (ReportData.community_orgs)."""
    return ctx.warehouse.read("community_orgs", {"snapshot_date": day})


def _benchmark_check(villages: pd.DataFrame, benchmark: orgs.Benchmark) -> quality.CheckOutcome:
    below = orgs.below_benchmark(villages)
    if below.empty:
        return CHECKS.passed("orgs_meet_benchmark", f"每个村（社区）都达到基准：{benchmark.describe()}")
    per_township = (
        below.assign(name=below["village"] + "（" + (below["registered"] + below["filed"]).astype(str) + "）")
        .groupby("township", sort=False)
        .agg(villages=("village", "size"), names=("name", "、".join))
        .reset_index()
    ).rename(
        columns={"township": "乡镇（街道）", "villages": "低于基准的村（社区）", "names": "村（社区）（现有组织数）"}
    )
    return CHECKS.failed(
        "orgs_meet_benchmark",
        f"{len(below)} 个村（社区）的社区社会组织低于基准（{benchmark.describe()}）",
        townships=list(dict.fromkeys(below["township"])),
        villages=[f"{t}{v}" for t, v in zip(below["township"], below["village"])],
        numbers={"villages_below": len(below), "benchmark_urban": benchmark.urban, "benchmark_rural": benchmark.rural},
        table=per_township,
    )


def _codes_check(codes: pd.DataFrame) -> quality.CheckOutcome:
    if codes.empty:
        return CHECKS.passed("credit_codes_valid", "登记的组织的统一社会信用代码均有效，且由民政部门登记")
    faults, notes = int((codes["problem"] == "有误").sum()), int((codes["problem"] != "有误").sum())
    parts = [f"{faults} 个统一社会信用代码有误（该组织未计入）"] if faults else []
    parts += [f"{notes} 个代码不是民政部门登记的"] if notes else []
    table = codes.rename(columns=CODE_TITLES)
    return CHECKS.failed(
        "credit_codes_valid",
        "，".join(parts),
        townships=list(dict.fromkeys(codes["township"])),
        villages=[f"{r.township}{r.village}（{r.org_name}，第 {r.row_number} 行）" for r in codes.itertuples()],
        numbers={"codes_invalid": faults, "codes_not_civil_affairs": notes},
        table=table,
    )


def _records_check(issues: list[dict]) -> quality.CheckOutcome:
    wrong = [i for i in issues if i["check"] in ("incomplete_filing", "duplicate_org")]
    if not wrong:
        return CHECKS.passed("org_records_valid", "备案的组织均有备案编号和指导单位，没有重复录入的组织")
    incomplete = len({i["row_number"] for i in wrong if i["check"] == "incomplete_filing"})
    repeated = sum(i["check"] == "duplicate_org" for i in wrong)
    parts = [f"{incomplete} 个备案的组织缺少备案编号或指导单位（未计入）"] if incomplete else []
    parts += [f"{repeated} 条重复录入（只计一次）"] if repeated else []
    table = pd.DataFrame(
        {
            "乡镇（街道）": [i["township"] for i in wrong],
            "村（社区）": [i["village"] for i in wrong],
            "行号": [i["row_number"] for i in wrong],
            "问题": [i["message"] for i in wrong],
        }
    )
    return CHECKS.failed(
        "org_records_valid",
        "，".join(parts),
        townships=list(dict.fromkeys(i["township"] for i in wrong)),
        villages=[f"{i['township']}{i['village']}（第 {i['row_number']} 行）" for i in wrong],
        numbers={"filings_incomplete": incomplete, "duplicates": repeated},
        table=table,
    )
