"""Step outcomes -> Dagster materialization metadata and asset check results; contracts -> column schemas."""

import datetime as dt
import re
from collections.abc import Mapping
from functools import cache

import dagster as dg
import pandas as pd

from yukuai_pipeline import settings
from yukuai_pipeline.contracts import COUNTY_COLUMN, TABLES, load_contract
from yukuai_pipeline.quality.check_labels import check_label
from yukuai_pipeline.quality.checks import ERROR, Checks
from yukuai_pipeline.quality.outcomes import CheckOutcome
from yukuai_pipeline.report.columns import TOWNSHIP_COLUMNS
from yukuai_pipeline.steps.context import StepResult

PREVIEW_ROWS = 10
# The metadata values given to Dagster here (a subset of what it takes, its RawMetadataValue, which it does not export)
Metadata = dict[str, dg.MetadataValue | str | int | float]


def column_schema(table: str) -> dg.TableSchema:
    contract = load_contract(table)
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=c, type=str(contract.schema.columns[c].dtype), description=contract.column_title(c))
            for c in contract.columns
        ]
    )


def report_schema() -> dg.TableSchema:
    """The columns of the workbook's first sheet 乡镇进度, the notice's attachment table."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=column, type=kind, description=f"乡镇进度表“{header}”列")
            for header, column, kind in TOWNSHIP_COLUMNS
        ]
    )


def table_metadata(table: str, kind: str) -> dict:
    return {
        "dagster/column_schema": column_schema(table),
        "dagster/table_name": table,
        "契约 / contract": f"schemas/tables/{table}.yaml",
        "数据库 / database": kind,
    }


@cache
def _column_titles() -> dict[str, str]:
    """Chinese column headers for the metadata tables: every output table's own column titles (its contract)."""
    titles: dict[str, str] = {}
    for table in TABLES:
        contract = load_contract(table)
        for column in contract.columns:
            titles.setdefault(column, contract.column_title(column))
    return titles


def _percent(value: object) -> object:
    if isinstance(value, (int, float)) and not pd.isna(value):
        return f"{float(value) * 100:.2f} %"
    return value


def chinese_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Chinese headers, shares as percentages (completion_rate 0.260742 → 26.07 %), check ids as Chinese names."""
    out = frame.copy()
    for column in out.columns:
        if str(column).endswith(("_rate", "_ratio", "_share")):
            out[column] = out[column].map(_percent)
        elif column == "check":
            out[column] = out[column].map(lambda c: check_label(c) if isinstance(c, str) else c)
    return out.rename(columns=lambda c: _column_titles().get(str(c), c))


def _markdown(frame: pd.DataFrame | None) -> dg.MetadataValue | None:
    if frame is None or frame.empty:
        return None
    rows = frame.head(PREVIEW_ROWS * 2).drop(columns=[COUNTY_COLUMN], errors="ignore")  # one county per run
    return dg.MetadataValue.md(chinese_table(rows).to_markdown(index=False))


def _plain(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


# Step metadata keys that are files on the officer's disk, shown as paths she can copy.
PATH_KEYS = {"path": "报表文件 / report path", "chart_path": "进度图文件 / chart path"}
# Step metadata keys that count quarantined rows: each gets a link to the table where those rows are listed.
QUARANTINE_KEYS = ("rows_quarantined", "quarantined")
QUALITY_TABLE = "data_quality_issues"


def quality_table_link(day: str | None) -> dict:
    """Where the quarantined rows are: the data-quality asset in this UI, and the SQL that lists them."""
    county = f"county_code = '{settings.campaign().county.code}'"
    where = (
        f" WHERE {county} AND snapshot_date = '{day}' AND quarantined" if day else f" WHERE {county} AND quarantined"
    )
    return {
        "数据质量表 / data-quality table": dg.MetadataValue.asset(dg.AssetKey(QUALITY_TABLE)),
        "查询被隔离的行 / SQL": f"SELECT * FROM {QUALITY_TABLE}{where}",
    }  # shown as text, never executed


_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}：")


def undated(description: str) -> str:
    """A check result's description without its leading data date, for texts that say the day already."""
    return _DATED.sub("", description, count=1)


# Shown first on an asset's page, before the column schema and the numbers: the day, the county row, the preview.
DATE_KEY = "数据日期 / data date"
COUNTY_KEY = "全县合计 / county row"
UNCHANGED_KEY = "未变化 / unchanged since"


def materialize_result(
    result: StepResult, checks: Checks, day: str | None = None, first: Mapping[str, dg.MetadataValue] | None = None
) -> dg.MaterializeResult:
    """first: entries shown right after the date (the report's download links)."""
    metadata: Metadata = {}
    if day:
        metadata[DATE_KEY] = day
    metadata.update(first or {})
    if result.unchanged_since is not None:
        metadata[UNCHANGED_KEY] = (
            f"输入自 {result.unchanged_since} 起未变，沿用当日算出的结果，未重算 / inputs unchanged since "
            f"{result.unchanged_since}: its rows reused, not recomputed"
        )
    if _plain(result.metadata.get(COUNTY_KEY)) is not None:
        metadata[COUNTY_KEY] = _plain(result.metadata[COUNTY_KEY])
    preview = _markdown(result.preview)
    if preview is not None:
        metadata[result.preview_title] = preview
    metadata["dagster/row_count"] = result.rows
    for key, value in result.metadata.items():
        if _plain(value) is None or key == COUNTY_KEY:
            continue
        metadata[PATH_KEYS.get(key, key)] = dg.MetadataValue.path(value) if key in PATH_KEYS else _plain(value)
    if any(key in result.metadata for key in QUARANTINE_KEYS):
        metadata.update(quality_table_link(day))
    metadata.update({k: dg.MetadataValue.md(v) for k, v in result.markdown.items()})
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=check_results(result.checks, checks, day, result.unchanged_since),
        data_version=dg.DataVersion(result.inputs_version[:16]) if result.inputs_version else None,
    )


def check_results(
    outcomes: list[CheckOutcome], declared: Checks, day: str | None = None, unchanged_since: dt.date | None = None
) -> list[dg.AssetCheckResult]:
    """One result per declared check (quality/checks.py), its description and metadata starting with the data date
    and the check's Chinese name. A check the step did not evaluate today (its input file was refused, or it does
    not apply) is reported as passed with evaluated=False and the step's reason, so the refusal itself is the one
    red mark."""
    results = []
    for check, outcome in declared.resolve(outcomes):
        dated = f"{day}：" if day and not outcome.summary.startswith(day) else ""  # some summaries say it already
        first: Metadata = {DATE_KEY: day} if day else {}
        first["检查 / check"] = check_label(check.name)
        reused = ""
        if unchanged_since is not None:  # the verdict of the day that computed it, whose inputs this day shares
            first[UNCHANGED_KEY] = f"沿用 {unchanged_since} 的检查结果（输入未变）/ as on {unchanged_since}"
            reused = f"（输入自 {unchanged_since} 起未变）"
        if not outcome.evaluated:
            results.append(
                dg.AssetCheckResult(
                    check_name=check.name,
                    passed=True,
                    description=f"{dated}未检查：{outcome.summary}",
                    metadata={**first, "evaluated": False, "未检查的原因 / why not": outcome.summary},
                )
            )
            continue
        severity = dg.AssetCheckSeverity.ERROR if outcome.severity == ERROR else dg.AssetCheckSeverity.WARN
        # The UI marks a failed WARN check with an amber icon only; the word tells the officer it did not block.
        metadata: Metadata = {
            **first,
            "evaluated": True,
            "严重程度 / severity": outcome.severity,
            "摘要 / summary": outcome.summary,
        }
        if outcome.townships:
            metadata["乡镇（街道） / townships"] = outcome.named(outcome.townships)
            metadata["township_count"] = len(outcome.townships)
        if outcome.villages:
            metadata["村（社区） / villages"] = outcome.named(outcome.villages)
            metadata["village_count"] = len(outcome.villages)
        metadata.update({k: _plain(v) for k, v in outcome.numbers.items() if _plain(v) is not None})
        table = _markdown(outcome.table)
        if table is not None:
            metadata["明细 / details"] = table
        results.append(
            dg.AssetCheckResult(
                check_name=check.name,
                passed=outcome.passed,
                severity=severity,
                description=f"{dated}{outcome.summary}{reused}"[:1000],
                metadata=metadata,
            )
        )
    return results


def check_specs(declared: Checks) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            c.name, asset=declared.asset, blocking=c.blocking, description=f"{check_label(c.name)}：{c.description}"
        )
        for c in declared
    ]


def root_cause(error) -> str:
    """The innermost error's message: Dagster wraps the step's own exception ("Error occurred while executing op")."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    lines = [line for line in error.message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else error.cls_name or "未知错误"
