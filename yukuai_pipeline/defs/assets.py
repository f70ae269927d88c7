import datetime as dt
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from yukuai_pipeline.defs.outcomes import check_specs, materialize_result, report_schema, table_metadata
from yukuai_pipeline.defs.partitions import daily_partitions
from yukuai_pipeline.defs.resources import YukuaiResource, partition_date
from yukuai_pipeline.steps.activity import platform_activity as activity_step
from yukuai_pipeline.steps.registrations import registration_counts as registration_step
from yukuai_pipeline.steps.registry import community_registry as registry_step
from yukuai_pipeline.steps.report import excel_report as excel_report_step
from yukuai_pipeline.steps.roster import cadre_quotas as cadre_quotas_step
from yukuai_pipeline.steps.roster import roster_completeness as roster_step
from yukuai_pipeline.settings import Settings
from yukuai_pipeline.steps.context import StepResult, Steps

OWNER = "team:county-data-office"
REFERENCE, INGEST, MARTS, QUALITY, REPORTS = "reference", "ingest", "marts", "data_quality", "reports"
# Dagster group names must be ASCII identifiers and groups carry no description of their own, so the officer's
# name of the group leads every asset description (【数据接入】…) and stands in the asset's metadata.
GROUP_LABELS = {REFERENCE: "参考数据", INGEST: "数据接入", MARTS: "指标", QUALITY: "数据质量", REPORTS: "报表"}
SQL_KIND = "postgres" if Settings.from_env().database_url.startswith("postgresql") else "sqlite"

# (check name, blocking, description): blocking checks stop downstream assets in the same run.
CHECKS = {
    "township_targets": [
        ("target_matches_rule", False, "官方任务数与规则任务数一致。Official target equals 2 × round_half_up(population × 0.06)."),
    ],
    "community_registry": [
        ("registry_usable", True, "社区基本信息表可以读取（否则阻断）。The registry file in force can be read; blocks otherwise."),
        ("registry_available", False, "有覆盖全部乡镇的社区基本信息。A registry covering every township is in force."),
        ("columns_recognised", False, "社区基本信息的每个表头都已识别。Every header cell of the registry is understood."),
    ],
    "village_targets": [
        ("village_targets_sum", False, "各村任务数之和等于乡镇任务数。Village targets add up to each township target."),
    ],
    "registration_counts": [
        ("registration_files_usable", True, "当天的注册导出文件都能使用（否则阻断）。Every export of the day is usable; blocks otherwise."),
        ("registration_export_present", False, "当天有注册数据导出（没有时沿用此前最近一天并说明）。An export for the day has landed."),
        ("files_complete", False, "当天的文件已完整写入（复制中的文件不计入）。No file of the day is still being written or cut off."),
        ("one_export_per_day", False, "当天只有一份导出；有多份时只用最新的一份并列出其余。One export stands for the day, never merged."),
        ("columns_recognised", False, "导出文件的每个表头都已识别。Every header cell of the day's files is understood."),
        ("status_column_present", False, "导出中有审核状态列（缺少时全部按已通过计数并告警）。The export has a status column."),
        ("snapshot_date_consistent", False, "文件名日期与标题行日期一致。The file name's date agrees with its title line."),
        ("places_matched", False, "用户的乡镇、村（社区）名称都能匹配。Every user's township and village is known."),
        ("export_total_matches_rows", False, "导出文件的合计行与明细一致。The export's own 合计 row matches its rows."),
        ("summary_matches_detail", False, "同日汇总表与用户明细一致。A same-day summary export agrees with the user-level one."),
    ],
    "township_progress": [
        ("completed_not_falling", False, "完成数不比前一天少。No township's completed count falls from the previous day."),
        ("progress_has_data", False, "有注册数据可用。Registration data exists on or before the day."),
        ("figures_trustworthy", False, "当日数字没有存疑之处（表头都已识别、有审核状态列、合计相符、文件完整、未骤降）。"
         "The day's figures are not doubtful: headers understood, status present, totals agree, no sharp fall."),
    ],
    "village_progress": [
        ("totals_reconcile", False, "全县合计 = 各乡镇之和 = 各村之和。County row = sum of townships = sum of villages."),
        ("village_figures_available", False, "村级任务数可用（需要社区基本信息）。Village targets exist (needs the registry)."),
    ],
    "data_quality_issues": [
        ("no_quarantined_rows", False, "没有被隔离的数据行。No input row was quarantined."),
    ],
    "roster_completeness": [
        ("roster_file_usable", True, "基层队伍名单文件可以读取（否则阻断）。The roster in force can be read; blocks otherwise."),
        ("roster_complete", False, "每个村（社区）五类队伍都完整。Every village's five rosters are complete and valid."),
        ("supervisor_not_on_committee", False, "监督委员会成员不兼任村（居）委会成员。No supervisor sits on the committee."),
        ("roster_places_matched", False, "名单中的村（社区）都能匹配。Every roster row names a known village."),
        ("columns_recognised", False, "名单的每个表头都已识别。Every header cell of the roster is understood."),
        ("roster_group_column_present", False, "名单有“所在小组”列（缺少时小组长规则无法核验）。The roster has a group column."),
    ],
    "platform_activity": [
        ("activity_file_usable", True, "平台应用明细可以读取（否则阻断）。The activity export can be read; blocks otherwise."),
        ("columns_recognised", False, "平台应用明细的每个表头都已识别。Every header cell of the activity export is understood."),
        ("every_village_uses_every_kind", False, "近30日每村都用过六项应用。Every village used all six functions in 30 days."),
        ("requests_handled", False, "没有超期未处理的居民诉求。No resident request waits unhandled past the limit."),
        ("closed_requests_rated", False, "已办结诉求有满意度评价。Closed requests carry a satisfaction rating."),
    ],
    "excel_report": [
        ("report_written", False, "报表已生成。The workbook and chart were written."),
    ],
    "cadre_quotas": [
        ("quotas_sum_to_targets", False, "分配到人的任务之和等于村任务数。Quotas add up to each village target."),
        ("every_village_has_cadres", False, "每个村都有“两委”成员可分配。Every village has committee members."),
    ],
}


def _group(group: str, description: str) -> dict:
    return {"group_name": group, "description": f"【{GROUP_LABELS[group]}】{description}", "owners": [OWNER]}


def _group_metadata(group: str) -> dict:
    return {"分组 / group": f"{GROUP_LABELS[group]}（{group}）"}


def _asset(name: str, group: str, description: str, partitioned: bool = True, deps=()):
    return dg.asset(
        name=name, **_group(group, description), deps=list(deps),
        partitions_def=daily_partitions if partitioned else None, kinds={"pandas", SQL_KIND},
        check_specs=check_specs(name, CHECKS[name]), metadata={**table_metadata(name, SQL_KIND), **_group_metadata(group)},
    )


@_asset("township_targets", REFERENCE, "乡镇（街道）任务数：通知附件的 39 个乡镇常住人口与任务数，附规则计算值。\n\n"
        "Township targets from the notice's attachment, with the rule's own target beside them.", partitioned=False)
def township_targets(yukuai: YukuaiResource) -> dg.MaterializeResult:
    return materialize_result(yukuai.steps().township_targets(), CHECKS["township_targets"])


def _daily_asset(name: str, group: str, description: str, deps: list[str],
                 step: Callable[[Steps, dt.date], StepResult]):
    """A daily-partitioned asset whose work is the plain-Python step of the same day."""

    @_asset(name, group, description, deps=deps)
    def _daily(context: dg.AssetExecutionContext, yukuai: YukuaiResource) -> dg.MaterializeResult:
        return materialize_result(step(yukuai.steps(), partition_date(context)), CHECKS[name], context.partition_key)

    return _daily


community_registry = _daily_asset(
    "community_registry", INGEST, "村（社区）基本信息：该日生效的社区基本信息表（最近一份不晚于该日的导出）。\n\n"
    "The community registry in force on the day: the newest registry export dated on or before it.",
    [], registry_step)
village_targets = _daily_asset(
    "village_targets", REFERENCE, "村（社区）任务数：乡镇任务数按村人口以最大余额法分配，合计不差一人。\n\n"
    "Village targets: each township target split by village population, largest remainder, sums exact.",
    ["township_targets", "community_registry"], Steps.village_targets)
registration_counts = _daily_asset(
    "registration_counts", INGEST, "注册用户计数：读取当天落地的注册导出，校验、隔离坏行，按村（社区）计数。\n\n"
    "Registration counts: the day's landed exports read, validated (bad rows quarantined) and counted per village.",
    ["community_registry"], registration_step)
township_progress = _daily_asset(
    "township_progress", MARTS, "乡镇（街道）注册进度：完成数、尚差任务数、完成率、每万人用户数、排名，含全县合计行。\n\n"
    "Township progress with the county 合计 row, in the notice attachment's terms.",
    ["registration_counts", "township_targets"], Steps.township_progress)
village_progress = _daily_asset(
    "village_progress", MARTS, "村（社区）注册进度：每个村（社区）的任务数、完成数、尚差任务数和乡镇内排名。\n\n"
    "Village progress: target, completed, gap and rank within the township for every village.",
    ["registration_counts", "village_targets", "township_progress"], Steps.village_progress)
data_quality_issues = _daily_asset(
    "data_quality_issues", QUALITY, "数据质量问题：当天所有被隔离的行和告警（文件、行号、字段、脱敏后的值、原因）。\n\n"
    "Data-quality issues of the day: quarantined rows and warnings with file, row, field and masked value.",
    ["registration_counts", "community_registry", "village_progress", "roster_completeness", "cadre_quotas"],
    Steps.data_quality_summary)
roster_completeness = _daily_asset(
    "roster_completeness", QUALITY, "基层队伍完整性：每个村（社区）的两委、监委、专职工作者、小组长、代表是否录全、录对，依据法律规则。\n\n"
    "Roster completeness per village and role group, checked record by record and against the law's rules.",
    ["community_registry"], roster_step)

cadre_quotas = _daily_asset(
    "cadre_quotas", MARTS, "两委干部分配任务：按通知建议，把村（社区）任务数按比例分给“两委”成员，合计不差一人。\n\n"
    "Cadre quotas: each village target split among its committee members (largest remainder, sums exact).",
    ["village_targets", "roster_completeness"], cadre_quotas_step)

platform_activity = _daily_asset(
    "platform_activity", MARTS, "平台应用情况：居民诉求、信息发布、村（居）务公开、在线协商、民主决策、民主评议，按村（社区）累计和近30日次数。\n\n"
    "Platform activity: the notice's six other assessed functions per village, total and last 30 days.",
    ["community_registry"], activity_step)


@dg.asset(name="excel_report", **_group(
              REPORTS, "Excel 报表：通知附件格式的乡镇进度表，另有村级进度、基层队伍、数据质量、干部分配和图表。\n\n"
                       "The officer's workbook in the notice's attachment format, with village, roster, quality, quota "
                       "and chart sheets, written to YUKUAI_REPORT_DIR."),
          partitions_def=daily_partitions, kinds={"excel", "pandas"},
          check_specs=check_specs("excel_report", CHECKS["excel_report"]),
          metadata={"dagster/column_schema": report_schema(), **_group_metadata(REPORTS)},
          deps=["township_progress", "village_progress", "roster_completeness", "cadre_quotas", "data_quality_issues",
                "platform_activity"])
def excel_report(context: dg.AssetExecutionContext, yukuai: YukuaiResource) -> dg.MaterializeResult:
    result = excel_report_step(yukuai.steps(), partition_date(context), Path(yukuai.report_dir))
    return materialize_result(result, CHECKS["excel_report"], context.partition_key)


ALL_ASSETS = [township_targets, community_registry, village_targets, registration_counts, township_progress,
              village_progress, roster_completeness, cadre_quotas, platform_activity, data_quality_issues,
              excel_report]
