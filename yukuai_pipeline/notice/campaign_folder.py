"""A notice read into a campaign folder: its facts and target table checked against each other, then campaign.yaml,
the target table (CSV), township_aliases.csv and roster_rules.yaml written into assets/campaigns/<county code>/.

The target table is written as the attachment states it (its own 任务数 are the official targets). The checks say
where the attachment disagrees with itself or with the text; the target rule is the one of the candidate roundings
that reproduces every row, and when none does the import stops unless the officer accepts the table as it is.
"""

import datetime as dt
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from yukuai_pipeline.campaign import Campaign
from yukuai_pipeline.file_modes import private_dir, private_file
from yukuai_pipeline.metrics.data_dates import DEFAULT_MAX_AGE_DAYS
from yukuai_pipeline.metrics.targets import rule_target
from yukuai_pipeline.metrics.township_score import weights_of
from yukuai_pipeline.notice.attachment import TargetTable
from yukuai_pipeline.notice.facts import NoticeFacts, name_prefixes, short_name


@dataclass(frozen=True)
class CountyChoice:
    """What the notice cannot say: the county's statistical code, and any fact the officer gives by hand."""

    code: str
    campaign_id: str | None = None
    name: str | None = None
    deadline: dt.date | None = None
    baseline_date: dt.date | None = None


@dataclass
class Finding:
    ok: bool
    text: str  # Chinese, one line


@dataclass
class Import:
    facts: NoticeFacts
    table: TargetTable
    county: CountyChoice
    rule: tuple[int, Decimal] | None  # (multiplier, population factor) reproducing every target, if any
    rate_per_10k: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f.text for f in self.findings if not f.ok]


def check(facts: NoticeFacts, table: TargetTable, county: CountyChoice) -> Import:
    rows = table.rows
    findings: list[Finding] = []
    targets, population = int(rows["target"].sum()), int(rows["resident_population"].sum())
    findings.append(
        Finding(True, f"附件共 {len(rows)} 个乡镇（街道），常住人口 {population:,} 人，任务数合计 {targets:,} 人")
    )
    for column, label in (
        ("resident_population", "常住人口数"),
        ("target", "任务数"),
        ("completed", "完成数"),
        ("gap", "尚差任务数"),
    ):
        stated = table.total.get(column)
        if stated is None:
            continue
        summed = int(rows[column].sum())
        findings.append(Finding(stated == summed, f"附件合计行的{label} {stated:,}，各乡镇之和 {summed:,}"))
    if facts.stated_total is not None:
        findings.append(
            Finding(
                facts.stated_total == targets,
                f"通知正文的全县任务 {facts.stated_total:,} 人，附件任务数之和 {targets:,} 人",
            )
        )
    both = rows.dropna(subset=["completed", "gap"])
    wrong = both[both["completed"] + both["gap"] != both["target"]]
    if len(both):
        listed = "、".join(f"{r['township']}（第 {r['_row']} 行）" for _, r in wrong.iterrows())
        findings.append(
            Finding(wrong.empty, "每行 完成数 + 尚差任务数 = 任务数" + (f"，不符：{listed}" if listed else ""))
        )
    rate = facts.rate_per_10k or round(targets / population * 10000)
    rule = _rule(rows, rate)
    if rule is None:
        findings.append(Finding(False, f"按每万人 {rate} 人的任何一种取整都算不出附件的全部任务数（见 rule_misses）"))
    else:
        findings.append(
            Finding(True, f"任务数 = {rule[0]} × 四舍五入(常住人口 × {rule[1]})，附件 {len(rows)} 行全部吻合")
        )
    return Import(facts, table, county, rule, rate, findings)


def _rule(rows: pd.DataFrame, rate: int) -> tuple[int, Decimal] | None:
    """The rounding the attachment was computed with: per person, or per two people (a pair of cadres' shares)."""
    for multiplier in (1, 2):
        factor = Decimal(rate) / Decimal(10000 * multiplier)
        if all(
            rule_target(p, multiplier, str(factor)) == t for p, t in zip(rows["resident_population"], rows["target"])
        ):
            return multiplier, factor
    return None


def rule_misses(result: Import) -> list[str]:
    """Rows whose target the plain rule (per person, half up) does not give: for the officer to look at."""
    factor = str(Decimal(result.rate_per_10k) / Decimal(10000))
    rows = result.table.rows
    return [
        f"{r.township}：附件 {r.target}，按规则 {rule_target(r.resident_population, 1, factor)}"
        for r in rows.itertuples()
        if rule_target(r.resident_population, 1, factor) != r.target
    ]


def campaign_document(result: Import, template: Campaign) -> dict[str, Any]:
    facts, county = result.facts, result.county
    name = county.name or facts.county_name
    issued = county.baseline_date or facts.issued_on
    deadline = county.deadline or facts.deadline
    missing = [
        label
        for label, value in (
            ("区县名称（--county-name）", name),
            ("通知日期（--baseline-date）", issued),
            ("截止日期（--deadline）", deadline),
        )
        if value is None
    ]
    if missing:
        raise ValueError("通知正文里找不到：" + "、".join(missing) + "。请在命令行给出")
    assert name is not None and issued is not None and deadline is not None  # checked just above
    multiplier, factor = result.rule or (1, Decimal(result.rate_per_10k) / Decimal(10000))
    stamp = f"{issued:%Y%m%d}"
    return {
        "campaign_id": county.campaign_id or f"{county.code}-{issued.year}",
        "title": facts.attachment_title or f"{issued.year}年“渝快社区”注册使用目标任务安排表",
        "source_document": facts.document_number or "",
        "county": {
            "name": name,
            "short_name": short_name(name),
            "code": county.code,
            "name_prefixes": name_prefixes(name),
        },
        "rate_per_10k": result.rate_per_10k,
        "target_rule": {"multiplier": multiplier, "population_factor": str(factor)},
        "baseline_date": issued,
        "deadline": deadline,
        "target_table": f"attachment_{issued.year}.csv",
        "baseline_columns": {f"completed_{stamp}": "baseline_completed", f"gap_{stamp}": "baseline_gap"},
        "target_source": f"{facts.document_number} 附件" if facts.document_number else "通知附件",
        "county_row_label": template.county_row_label,
        "unmatched_label": template.unmatched_label,
        "pace": {
            "window_days": template.pace.window_days,
            "on_track_ratio": template.pace.on_track_ratio,
            "behind_ratio": template.pace.behind_ratio,
        },
        "activity": {"overdue_days": template.overdue_days},
        "intake": {"export_lag_days": template.export_lag_days},
        "freshness": {**DEFAULT_MAX_AGE_DAYS, **template.max_age_days},
        "quotas": {"share": str(template.quotas.share), "role_weights": dict(template.quotas.role_weights)},
        "score": {
            "weights": {k: int(v) if v.is_integer() else v for k, v in weights_of(template.score_weights).items()}
        },
        "doubt": {
            "max_fall_ratio": template.doubt.max_fall_ratio,
            "zero_new_after_daily_average": template.doubt.zero_new_after_daily_average,
        },
    }


def target_frame(result: Import, baseline: dt.date) -> pd.DataFrame:
    """The target table as the pipeline reads it: seq, township, resident_population, target, completed_<day>,
    gap_<day> (the notice day's own figures, empty where the attachment has none)."""
    rows = result.table.rows
    stamp = f"{baseline:%Y%m%d}"
    seq = pd.to_numeric(rows["seq"], errors="coerce")
    return pd.DataFrame(
        {
            "seq": seq.astype("Int64") if seq.notna().all() else pd.array(range(1, len(rows) + 1), dtype="Int64"),
            "township": rows["township"],
            "resident_population": rows["resident_population"],
            "target": rows["target"],
            f"completed_{stamp}": rows["completed"],
            f"gap_{stamp}": rows["gap"],
        }
    )


def write_folder(folder: Path, result: Import, template: Campaign, source_name: str, force: bool = False) -> list[Path]:
    if (folder / "campaign.yaml").exists() and not force:
        raise FileExistsError(f"{folder} 已有 campaign.yaml；确认要覆盖时加 --force")
    doc = campaign_document(result, template)
    private_dir(folder)
    written = []
    header = (
        f"# {doc['title']} — {doc['source_document']}\n"
        f"# 由 `yukuai campaign import` 从《{source_name}》生成；阈值取自 {template.campaign_id}。检查：\n"
        + "".join(f"#   {'✓' if f.ok else '✗'} {f.text}\n" for f in result.findings)
        + "# 每一项的含义与可调的阈值：docs/configuration.md（活动文件夹 / the campaign folder）\n"
    )
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)
    written.append(_write(folder / "campaign.yaml", header + body))
    table = target_frame(result, doc["baseline_date"])
    written.append(_write(folder / doc["target_table"], table.to_csv(index=False, lineterminator="\n")))
    aliases = folder / "township_aliases.csv"
    if not aliases.exists():
        written.append(_write(aliases, "alias,township,note\n"))
    rules = folder / "roster_rules.yaml"
    if not rules.exists():
        shutil.copyfile(template.folder / "roster_rules.yaml", rules)
        written.append(private_file(rules))
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return private_file(path)
