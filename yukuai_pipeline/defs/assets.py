import datetime as dt
from collections.abc import Callable

import dagster as dg

from yukuai_pipeline.defs.outcomes import check_specs, materialize_result, report_schema, table_metadata
from yukuai_pipeline.defs.partitions import daily_partitions
from yukuai_pipeline.defs.resources import SQL_KIND, YukuaiResource, partition_date
from yukuai_pipeline.quality.checks import Checks
from yukuai_pipeline.steps import (
    activity,
    cadre_registration,
    progress,
    registrations,
    registry,
    report,
    roster,
    targets,
    township_score,
)
from yukuai_pipeline.steps import community_orgs as organisations
from yukuai_pipeline.steps.context import StepContext, StepResult

OWNER = "team:county-data-office"
REFERENCE, INGEST, MARTS, QUALITY, REPORTS = "reference", "ingest", "marts", "data_quality", "reports"
# Dagster group names must be ASCII identifiers and groups carry no description of their own, so the officer's
# name of the group leads every asset description (【数据接入】…) and stands in the asset's metadata.
GROUP_LABELS = {REFERENCE: "参考数据", INGEST: "数据接入", MARTS: "指标", QUALITY: "数据质量", REPORTS: "报表"}


def _group(group: str, description: str) -> dict:
    return {"group_name": group, "description": f"【{GROUP_LABELS[group]}】{description}", "owners": [OWNER]}


def _group_metadata(group: str) -> dict:
    return {"分组 / group": f"{GROUP_LABELS[group]}（{group}）"}


def _asset(checks: Checks, group: str, description: str, partitioned: bool = True, deps=()):
    name = checks.asset
    return dg.asset(
        name=name,
        **_group(group, description),
        deps=list(deps),
        partitions_def=daily_partitions if partitioned else None,
        kinds={"pandas", SQL_KIND},
        check_specs=check_specs(checks),
        metadata={**table_metadata(name, SQL_KIND), **_group_metadata(group)},
    )


@_asset(
    targets.TOWNSHIP_TARGET_CHECKS,
    REFERENCE,
    "乡镇（街道）任务数：通知附件的各乡镇常住人口与任务数，附规则计算值。\n\n"
    "Township targets from the notice's attachment, with the rule's own target beside them.",
    partitioned=False,
)
def township_targets(context: dg.AssetExecutionContext, yukuai: YukuaiResource) -> dg.MaterializeResult:
    with yukuai.step_context(context) as steps:
        return materialize_result(targets.township_targets(steps), targets.TOWNSHIP_TARGET_CHECKS)


def _daily_asset(
    checks: Checks, group: str, description: str, deps: list[str], step: Callable[[StepContext, dt.date], StepResult]
):
    """A daily-partitioned asset whose work is the plain-Python step of the same day, with the step's checks."""

    @_asset(checks, group, description, deps=deps)
    def _daily(context: dg.AssetExecutionContext, yukuai: YukuaiResource) -> dg.MaterializeResult:
        with yukuai.step_context(context) as steps:
            return materialize_result(step(steps, partition_date(context)), checks, context.partition_key)

    return _daily


community_registry = _daily_asset(
    registry.CHECKS,
    INGEST,
    "村（社区）基本信息：该日生效的社区基本信息表（最近一份不晚于该日的导出）。\n\n"
    "The community registry in force on the day: the newest registry export dated on or before it.",
    [],
    registry.community_registry,
)
village_targets = _daily_asset(
    targets.VILLAGE_TARGET_CHECKS,
    REFERENCE,
    "村（社区）任务数：乡镇任务数按村人口以最大余额法分配，合计不差一人。\n\n"
    "Village targets: each township target split by village population, largest remainder, sums exact.",
    ["township_targets", "community_registry"],
    targets.village_targets,
)
registration_counts = _daily_asset(
    registrations.CHECKS,
    INGEST,
    "注册用户计数：读取当天落地的注册导出，校验、隔离坏行，按村（社区）计数。\n\n"
    "Registration counts: the day's landed exports read, validated (bad rows quarantined) and counted per village.",
    ["community_registry"],
    registrations.registration_counts,
)
township_progress = _daily_asset(
    progress.TOWNSHIP_CHECKS,
    MARTS,
    "乡镇（街道）注册进度：完成数、尚差任务数、完成率、每万人用户数、排名，含全县合计行。\n\n"
    "Township progress with the county 合计 row, in the notice attachment's terms.",
    ["registration_counts", "township_targets"],
    progress.township_progress,
)
village_progress = _daily_asset(
    progress.VILLAGE_CHECKS,
    MARTS,
    "村（社区）注册进度：每个村（社区）的任务数、完成数、尚差任务数和乡镇内排名。\n\n"
    "Village progress: target, completed, gap and rank within the township for every village.",
    ["registration_counts", "village_targets", "township_progress"],
    progress.village_progress,
)
data_quality_issues = _daily_asset(
    progress.QUALITY_CHECKS,
    QUALITY,
    "数据质量问题：当天所有被隔离的行和告警（文件、行号、字段、脱敏后的值、原因）。\n\n"
    "Data-quality issues of the day: quarantined rows and warnings with file, row, field and masked value.",
    ["registration_counts", "community_registry", "village_progress", "roster_completeness", "cadre_quotas"],
    progress.data_quality_summary,
)
roster_completeness = _daily_asset(
    roster.CHECKS,
    QUALITY,
    "基层队伍完整性：每个村（社区）的两委、监委、专职工作者、小组长、代表是否录全、录对，依据法律规则。\n\n"
    "Roster completeness per village and role group, checked record by record and against the law's rules.",
    ["community_registry"],
    roster.roster_completeness,
)
cadre_quotas = _daily_asset(
    roster.QUOTA_CHECKS,
    MARTS,
    "两委干部分配任务：按通知建议，把村（社区）任务数和尚差任务数按比例分给“两委”成员，合计不差一人。\n\n"
    "Cadre quotas: each village's target and its remaining gap split among its committee members "
    "(largest remainder, sums exact).",
    ["village_targets", "roster_completeness", "village_progress"],
    roster.cadre_quotas,
)
platform_activity = _daily_asset(
    activity.CHECKS,
    MARTS,
    "平台应用情况：居民诉求、信息发布、村（居）务公开、在线协商、民主决策、民主评议，按村（社区）累计和近30日次数。\n\n"
    "Platform activity: the notice's six other assessed functions per village, total and last 30 days.",
    ["community_registry"],
    activity.platform_activity,
)
community_orgs = _daily_asset(
    organisations.CHECKS,
    MARTS,
    "社区社会组织：每个村（社区）登记、备案的社区社会组织数，对照基准（城市社区 10 个、农村社区 5 个，"
    "民发〔2017〕191号，可配置），并核验统一社会信用代码。\n\n"
    "Community social organisations per village (registered, filed, invalid) against the benchmark, with the "
    "GB 32100-2015 credit-code check.",
    ["community_registry"],
    organisations.community_orgs,
)

cadre_registration_asset = _daily_asset(
    cadre_registration.CHECKS,
    QUALITY,
    "干部带头注册：基层队伍名单上的两委成员、小组长、代表本人是否注册、通过审核，推荐了多少用户"
    "（按手机号的密钥令牌比对，不保存号码；未配置密钥时关闭）。\n\n"
    "Whether the roster's cadres registered themselves and whom they brought in, matched by keyed phone tokens.",
    ["registration_counts", "roster_completeness"],
    cadre_registration.cadre_registration,
)

township_score_asset = _daily_asset(
    township_score.CHECKS,
    MARTS,
    "乡镇考核得分：注册完成率、社区基本信息、基层队伍信息、社区社会组织、六项应用，按活动文件的权重（可配置，通知未规定）"
    "合计为满分 100 的得分并排名，各部分得分之和等于总分。\n\n"
    "One 考核得分 per township from the registration rate, the three kinds of base data and the six functions' use, "
    "weighted by campaign.yaml score.weights, ranked.",
    ["township_progress", "community_registry", "roster_completeness", "community_orgs", "platform_activity"],
    township_score.township_score,
)


@dg.asset(
    name="excel_report",
    **_group(
        REPORTS,
        "Excel 报表：通知附件格式的乡镇进度表，另有村级进度、基层队伍、数据质量、干部分配和图表；"
        "每日通报（Word 和文本）；每个乡镇一份回执（及其压缩包）。\n\n"
        "The officer's workbook in the notice's attachment format, with village, roster, quality, quota "
        "and chart sheets, the daily bulletin (Word and text), and one return workbook per township with their zip, "
        "written to YUKUAI_REPORT_DIR.",
    ),
    partitions_def=daily_partitions,
    kinds={"excel", "pandas"},
    check_specs=check_specs(report.CHECKS),
    metadata={"dagster/column_schema": report_schema(), **_group_metadata(REPORTS)},
    deps=[
        "township_progress",
        "village_progress",
        "roster_completeness",
        "cadre_quotas",
        "data_quality_issues",
        "platform_activity",
        "community_orgs",
        "cadre_registration",
        "township_scores",
    ],
)
def excel_report(context: dg.AssetExecutionContext, yukuai: YukuaiResource) -> dg.MaterializeResult:
    with yukuai.step_context(context) as steps:
        result = report.excel_report(steps, partition_date(context), yukuai.reports())
        links = {
            "下载报表 / download the workbook": dg.MetadataValue.url(yukuai.report_url(result.metadata["path"])),
            "打开进度图 / open the chart": dg.MetadataValue.url(yukuai.report_url(result.metadata["chart_path"])),
            "下载通报（Word）/ the bulletin": dg.MetadataValue.url(yukuai.report_url(result.metadata["bulletin_path"])),
            "下载乡镇回执（压缩包）/ the townships' returns": dg.MetadataValue.url(
                yukuai.report_url(result.metadata["returns_zip"])
            ),
        }
        return materialize_result(result, report.CHECKS, context.partition_key, first=links)


ALL_ASSETS = [
    township_targets,
    community_registry,
    village_targets,
    registration_counts,
    township_progress,
    village_progress,
    roster_completeness,
    cadre_quotas,
    platform_activity,
    community_orgs,
    cadre_registration_asset,
    township_score_asset,
    data_quality_issues,
    excel_report,
]
