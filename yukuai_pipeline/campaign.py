"""The campaign, typed: assets/campaign.yaml (or YUKUAI_ASSETS_DIR/campaign.yaml) parsed once into frozen values.

Everything county-specific lives in that file — the county's names and code, the target rule and table, the dates,
the labels of the county row and of unmatched places, every threshold — so another county or another year is
another folder of data, not new code.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class County:
    name: str  # 酉阳土家族苗族自治县
    short_name: str  # 酉阳县: report file names, alert titles
    code: str  # statistical code, 500242
    name_prefixes: tuple[str, ...]  # written before township names in exports; stripped before matching


@dataclass(frozen=True)
class TargetRule:
    """target = multiplier × round_half_up(resident_population × population_factor)."""

    multiplier: int
    population_factor: Decimal


@dataclass(frozen=True)
class Pace:
    window_days: int
    on_track_ratio: float
    behind_ratio: float


@dataclass(frozen=True)
class Doubt:
    """When the day's figures are marked doubtful besides half-understood files (metrics/doubts.py)."""

    max_fall_ratio: float
    zero_new_after_daily_average: float


@dataclass(frozen=True)
class Quotas:
    """How a village's task is split among its 两委 members (campaign.yaml `quotas`; metrics/targets.cadre_quotas).
    The notice says only 按比例: by default all of the task, in equal shares."""

    share: Decimal = Decimal(1)  # the part of the village's task the 两委 carry together
    role_weights: dict[str, int] = field(default_factory=dict)  # e.g. 书记: 2 — a member counts as their top role


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    title: str
    source_document: str
    county: County
    rate_per_10k: int
    target_rule: TargetRule
    baseline_date: dt.date
    deadline: dt.date
    target_table: str  # file name in the campaign folder
    target_source: str
    baseline_columns: dict[str, str]  # the target table's own column -> the baseline measure it holds
    county_row_label: str  # 合计
    unmatched_label: str  # 未匹配
    pace: Pace
    overdue_days: int  # a 居民诉求 still 未处理 after this many days is overdue
    export_lag_days: int  # 导出时间 may be this many days after the snapshot date
    doubt: Doubt
    folder: Path
    # campaign.yaml `freshness`: days each input kind may be older than the report day (metrics/data_dates.py)
    max_age_days: dict[str, int] = field(default_factory=dict)
    quotas: Quotas = field(default_factory=Quotas)
    # campaign.yaml `score.weights`: the 考核得分's parts (metrics/township_score.py; the notice gives none: 可配置)
    score_weights: dict[str, float] = field(default_factory=dict)
    # campaign.yaml `extended_to`: days after the deadline that stay daily partitions (an extension of the campaign;
    # the days before are kept as they are). None: the partitions end at the deadline.
    extended_to: dt.date | None = None
    # campaign.yaml `reporting_unit`, when given: the 填报单位 printed on sheet 1 (reporting_unit below)
    reporting_unit_given: str | None = None

    @property
    def reporting_unit(self) -> str:
        """填报单位 on sheet 1: campaign.yaml's `reporting_unit` (e.g. the bureau's 社会事务科, when a section
        compiles the report), else the county's civil-affairs bureau, which issued the notice. Derived here rather
        than written into campaign.yaml, so `yukuai campaign import` keeps writing the same file."""
        return self.reporting_unit_given or f"{self.county.name}民政局"

    @property
    def last_day(self) -> dt.date:
        """The last daily partition: the deadline, or the extension when one is set later than it."""
        return max(self.deadline, self.extended_to or self.deadline)

    @property
    def report_name(self) -> str:
        """The stem of the daily workbook's file name."""
        return f"{self.county.short_name}渝快社区注册进度报表"


def parse(doc: dict[str, Any], folder: Path) -> Campaign:
    """The campaign.yaml document; a missing key is a KeyError naming it (the file is configuration)."""
    county = doc["county"]
    pace = doc["pace"]
    doubt = doc.get("doubt") or {}
    return Campaign(
        campaign_id=doc["campaign_id"],
        title=doc["title"],
        source_document=doc["source_document"],
        county=County(
            county["name"],
            county.get("short_name", county["name"]),
            str(county["code"]),
            tuple(county.get("name_prefixes") or ()),
        ),
        rate_per_10k=int(doc["rate_per_10k"]),
        target_rule=TargetRule(
            int(doc["target_rule"]["multiplier"]), Decimal(str(doc["target_rule"]["population_factor"]))
        ),
        baseline_date=_date(doc["baseline_date"]),
        deadline=_date(doc["deadline"]),
        target_table=doc["target_table"],
        target_source=doc["target_source"],
        baseline_columns=dict(doc.get("baseline_columns") or {}),
        county_row_label=doc["county_row_label"],
        unmatched_label=doc["unmatched_label"],
        pace=Pace(int(pace["window_days"]), float(pace["on_track_ratio"]), float(pace["behind_ratio"])),
        overdue_days=int((doc.get("activity") or {}).get("overdue_days", 7)),
        export_lag_days=int((doc.get("intake") or {}).get("export_lag_days", 1)),
        doubt=Doubt(float(doubt.get("max_fall_ratio", 0.05)), float(doubt.get("zero_new_after_daily_average", 10))),
        folder=Path(folder),
        extended_to=_date(doc["extended_to"]) if doc.get("extended_to") else None,
        max_age_days={str(k): int(v) for k, v in (doc.get("freshness") or {}).items()},
        quotas=_quotas(doc.get("quotas") or {}),
        score_weights={str(k): float(v) for k, v in ((doc.get("score") or {}).get("weights") or {}).items()},
        reporting_unit_given=_reporting_unit(doc["reporting_unit"]) if "reporting_unit" in doc else None,
    )


# 填报单位 shares sheet 1's fourth line with 制表日期: after "填报单位：" the merged cells hold about 32 characters
# at 11 pt, so a longer name would run under the date on the printed page
REPORTING_UNIT_MAX = 30


def _reporting_unit(value: object) -> str:
    """campaign.yaml `reporting_unit`: one line of 1 to REPORTING_UNIT_MAX characters. A key present but empty is
    refused rather than read as the default: someone meant to set it."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > REPORTING_UNIT_MAX or any(c in text for c in "\r\n"):
        raise ValueError(
            f"campaign.yaml reporting_unit（填报单位）应为 1 至 {REPORTING_UNIT_MAX} 个字的一行文字，现为 {value!r}"
            f" / reporting_unit must be one line of text, 1 to {REPORTING_UNIT_MAX} characters"
        )
    return text


def _quotas(doc: dict[str, Any]) -> Quotas:
    share = Decimal(str(doc.get("share", 1)))
    if not 0 < share <= 1:
        raise ValueError(f"campaign.yaml quotas.share 应在 0 与 1 之间（含 1），现为 {share}")
    return Quotas(share, {str(k): int(v) for k, v in (doc.get("role_weights") or {}).items()})


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
