"""The daily 通报 (bulletin): the day's progress in the notice's own words, as a Word document for the bureau and as
plain text to paste into the townships' chat group.

Wording and thresholds are files an officer edits, not code:

* assets/templates/bulletin.txt.j2 — the text, a Jinja2 template over the facts of `bulletin_facts`;
* assets/templates/bulletin.yaml — top_n, bottom_n, the statuses listed as behind, fonts…, each explained in Chinese.

A campaign folder (assets/campaigns/<code>/, `data.campaign.folder`) may carry its own `bulletin.txt.j2`, which
replaces the default template, and its own `bulletin.yaml`, whose keys override the default's one by one (a key it
does not write keeps the default; `fonts`, `sizes` and `activity_units` are merged key by key too).

The template's line conventions (first line title, `## ` headings, `- ` items, `|` table rows) and its number
formats are bulletin_docx.py's. Input data reaches the template only as values, never as template text, so a
township named `{{ 7*7 }}` is printed as written; every printed value is kept on one line and its `|` made
full-width, so no value can add a line (a heading, an item) or split a table cell. The template runs sandboxed.
"""

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from yukuai_pipeline import settings as app_settings
from yukuai_pipeline.file_modes import private_dir, private_file
from yukuai_pipeline.metrics.activity import KIND_LABELS, KINDS
from yukuai_pipeline.metrics.data_dates import INPUTS, date_note, stale_inputs
from yukuai_pipeline.metrics.township_score import PART_INPUTS, PARTS, part_dates
from yukuai_pipeline.report.bulletin_docx import docx_bytes, parse_blocks, plain_text, template_environment
from yukuai_pipeline.report.cells import is_missing
from yukuai_pipeline.report.charts import county_row, official_townships
from yukuai_pipeline.report.data import ReportData, report_title
from yukuai_pipeline.report.xlsx_files import write_atomically

TEMPLATE_NAME, SETTINGS_NAME = "bulletin.txt.j2", "bulletin.yaml"
MERGED_KEYS = ("fonts", "sizes", "activity_units")  # mappings an override may change one entry of
AUTHOR = "yukuai-pipeline"


@dataclass(frozen=True)
class BulletinSettings:
    """bulletin.yaml, merged (see the module docstring)."""

    top_n: int
    bottom_n: int
    behind_statuses: tuple[str, ...]
    table_order: str  # rank | seq
    rate_decimals: int
    on_pace_ratio: float
    activity_units: dict[str, str]
    fonts: dict[str, str]
    sizes: dict[str, float]


def bulletin_source(campaign_folder: Path, name: str) -> Path:
    """The campaign folder's own file when it has one, else the default in assets/templates/."""
    own = Path(campaign_folder) / name
    return own if own.is_file() else app_settings.assets_root() / "templates" / name


def load_bulletin_settings(campaign_folder: Path) -> BulletinSettings:
    doc = dict(app_settings.read_yaml(app_settings.assets_root() / "templates" / SETTINGS_NAME))
    own = Path(campaign_folder) / SETTINGS_NAME
    for key, value in ((app_settings.read_yaml(own) or {}) if own.is_file() else {}).items():
        doc[key] = {**doc.get(key, {}), **value} if key in MERGED_KEYS else value
    return BulletinSettings(
        top_n=int(doc["top_n"]),
        bottom_n=int(doc["bottom_n"]),
        behind_statuses=tuple(str(s) for s in doc["behind_statuses"]),
        table_order=str(doc["table_order"]),
        rate_decimals=int(doc["rate_decimals"]),
        on_pace_ratio=float(doc["on_pace_ratio"]),
        activity_units={str(k): str(v) for k, v in doc["activity_units"].items()},
        fonts={str(k): str(v) for k, v in doc["fonts"].items()},
        sizes={str(k): float(v) for k, v in doc["sizes"].items()},
    )


def _int(value: object) -> int | None:
    return None if is_missing(value) else int(float(value))  # type: ignore[arg-type]


def _float(value: object) -> float | None:
    return None if is_missing(value) else float(value)  # type: ignore[arg-type]


def _township(row: pd.Series) -> dict[str, Any]:
    return {
        "seq": _int(row.get("seq")),
        "township": str(row["township"]),
        "target": _int(row.get("target")),
        "completed": _int(row.get("completed")),
        "rate": _float(row.get("completion_rate")),
        "rank": _int(row.get("rank")),
        "rank_change": _int(row.get("rank_change")),
    }


def _by_rate(towns: pd.DataFrame, best_first: bool) -> pd.DataFrame:
    """Townships with a rate, best or worst first; ties in attachment order (as furthest_behind in workbook.py)."""
    rated = towns.assign(_rate=towns["completion_rate"].astype("float64")).dropna(subset=["_rate"])
    return rated.sort_values(["_rate", "seq"], ascending=[not best_first, True], kind="stable")


def _county(data: ReportData, towns: pd.DataFrame, config: BulletinSettings) -> dict[str, Any]:
    """The county row's figures and its pace to the deadline (the townships' sums, without a pace, if it is missing)."""
    row = county_row(data)
    if row is None:
        sums = towns[["target", "completed", "gap"]].astype("float64").sum()
        row = pd.Series({**sums, "completion_rate": sums["completed"] / sums["target"] if sums["target"] else None})
    days_left = (data.campaign.deadline - data.snapshot_date).days
    required = _float(row.get("required_daily"))
    if required is None and days_left > 0:
        required = (_float(row["gap"]) or 0.0) / days_left
    average = _float(row.get("new_7d_avg"))
    projected = row.get("projected_date")
    return {
        "target": _int(row["target"]),
        "completed": _int(row["completed"]),
        "gap": _int(row["gap"]),
        "rate": _float(row.get("completion_rate")),
        "days_left": days_left,
        "required_daily": None if required is None else math.ceil(required),  # "at least": rounded up
        "new_7d_avg": average,
        "on_pace": None if average is None or required is None else average >= config.on_pace_ratio * required,
        "projected_date": None if is_missing(projected) else pd.Timestamp(projected).date(),
    }


def _week(data: ReportData) -> dict[str, Any] | None:
    row = county_row(data)
    if row is None or is_missing(row.get("last_week_date")) or is_missing(row.get("new_this_week")):
        return None
    return {
        "compared": pd.Timestamp(row["last_week_date"]).date(),
        "last_week_completed": _int(row.get("last_week_completed")),
        "new_this_week": _int(row["new_this_week"]),
    }


def _roster(data: ReportData) -> dict[str, Any] | None:
    rows = data.roster_summary
    if rows is None or rows.empty:
        return None
    rows = rows[rows["township"] != data.campaign.county_row_label]
    total = int(rows["villages_total"].astype("float64").sum())
    complete = int(rows["villages_complete"].astype("float64").sum())
    return {"complete": complete, "total": total, "rate": complete / total if total else None}


def _quality(data: ReportData) -> dict[str, Any]:
    issues = data.issues if data.issues is not None else pd.DataFrame()
    unmatched = data.townships[data.townships["township"] == data.campaign.unmatched_label]
    facts: dict[str, Any] = {"errors": 0, "warnings": 0, "quarantined": 0}
    facts["unmatched"] = _int(unmatched["completed"].sum()) if len(unmatched) else 0
    if issues.empty:
        return facts
    facts["errors"] = int((issues["severity"] == "ERROR").sum())
    facts["warnings"] = int((issues["severity"] == "WARN").sum())
    held = issues[issues["quarantined"].astype("boolean").fillna(False)]
    keys = [c for c in ("stage", "source_file", "row_number") if c in held]
    facts["quarantined"] = len(held[keys].astype("string").fillna("").drop_duplicates())  # a row with 2 issues is 1
    return facts


def _activity(data: ReportData, config: BulletinSettings) -> list[dict[str, Any]]:
    """The six functions' county totals: the 合计 rows of the rollup, or the sum of its rows when it has none."""
    rows = data.activity
    if rows is None or rows.empty:
        return []
    county = rows[rows["township"] == data.campaign.county_row_label]
    sums = (county if len(county) else rows).groupby("kind")[["count_total", "count_30d"]].sum()
    return [
        {
            "kind": kind,
            "label": KIND_LABELS[kind],
            "unit": config.activity_units.get(kind, "次"),
            "total": _int(sums.at[kind, "count_total"]) if kind in sums.index else 0,
            "last_30d": _int(sums.at[kind, "count_30d"]) if kind in sums.index else 0,
        }
        for kind in KINDS
    ]


def bulletin_facts(data: ReportData, settings: BulletinSettings) -> dict[str, Any]:
    """Every number and name the template prints, computed from the day's frames."""
    towns = official_townships(data.townships)
    dates = data.data_dates if data.data_dates is not None else pd.DataFrame()
    notes = {kind: date_note(dates, kind) for kind in INPUTS}
    stale = stale_inputs(dates)
    table = towns.sort_values(["rank", "seq"], kind="stable") if settings.table_order == "rank" else towns
    county = county_row(data)
    statuses = towns["status"].astype(object)  # a missing status compares False, not NA, whatever the dtype
    return {
        "county_name": data.campaign.county.short_name,
        "title": report_title(data),
        "source_document": data.campaign.source_document,
        "snapshot_date": data.snapshot_date,
        "deadline": data.campaign.deadline,
        "township_count": len(towns),
        "county": _county(data, towns, settings),
        "week": _week(data),
        "top": [_township(r) for _, r in _by_rate(towns, best_first=True).head(settings.top_n).iterrows()],
        "bottom": [_township(r) for _, r in _by_rate(towns, best_first=False).head(settings.bottom_n).iterrows()],
        "behind": [
            {"status": status, "townships": [str(t) for t in towns.loc[statuses == status, "township"]]}
            for status in settings.behind_statuses
            if (statuses == status).any()
        ],
        "table": [_township(r) for _, r in table.iterrows()] + ([_township(county)] if county is not None else []),
        "roster": _roster(data),
        "scores": _scores(data, settings.bottom_n),
        "quality": _quality(data),
        "activity": _activity(data, settings),
        "dates": {kind: {"note": notes[kind], "stale": kind in set(stale.get("input", []))} for kind in INPUTS},
        "stale_inputs": [
            {"label": str(r["label"]), "note": date_note(dates, str(r["input"]))} for _, r in stale.iterrows()
        ],
    }


def _scores(data: ReportData, n: int) -> dict[str, Any] | None:
    """The 考核得分 (metrics/township_score.py): the lowest n with their parts, the weights as configured, and the
    parts computed from data older than the campaign allows (by the dates stored with the scores)."""
    scores = data.scores if data.scores is not None else pd.DataFrame()
    if scores.empty:
        return None
    dates = part_dates(scores, data.snapshot_date, data.campaign.max_age_days).set_index("input")
    stale = [
        {
            "part": label,
            "label": str(dates.at[PART_INPUTS[part], "label"]),
            "date": dates.at[PART_INPUTS[part], "data_date"],
            "age_days": int(dates.at[PART_INPUTS[part], "age_days"]),
        }
        for part, label in PARTS.items()
        if bool(dates.at[PART_INPUTS[part], "stale"])
    ]
    ranked = scores.sort_values("rank", kind="stable")
    rows = [
        {
            "township": str(r["township"]),
            "score": float(r["score"]),
            "rank": int(r["rank"]),
            "parts": "，".join(f"{label} {float(r[f'{part}_points']):.2f}" for part, label in PARTS.items()),
        }
        for _, r in ranked.tail(n).iloc[::-1].iterrows()
    ]
    best = ranked.iloc[0]
    return {"best": str(best["township"]), "best_score": float(best["score"]), "bottom": rows, "stale": stale}


def render_marked(data: ReportData, config: BulletinSettings | None = None) -> str:
    """The template's output, line conventions and all (what the Word document is laid out from)."""
    config = config or load_bulletin_settings(data.campaign.folder)
    source = bulletin_source(data.campaign.folder, TEMPLATE_NAME).read_text(encoding="utf-8")
    return template_environment(config.rate_decimals).from_string(source).render(**bulletin_facts(data, config))


def render_text(data: ReportData) -> str:
    return plain_text(render_marked(data))


def bulletin_stem(data: ReportData) -> str:
    return f"{data.campaign.county.short_name}渝快社区注册工作通报_{data.snapshot_date.isoformat()}"


def write_bulletin(data: ReportData, directory: Path) -> tuple[Path, Path]:
    """<county>渝快社区注册工作通报_YYYY-MM-DD.docx and .txt, each put in place by a rename, with the file mode."""
    config = load_bulletin_settings(data.campaign.folder)
    marked = render_marked(data, config)
    folder = private_dir(directory)
    stamp = dt.datetime.combine(data.snapshot_date, dt.time())  # from the data, not the clock: same input, same file
    word = docx_bytes(parse_blocks(marked), config.fonts, config.sizes, stamp, AUTHOR)
    text = plain_text(marked).encode("utf-8")
    stem = bulletin_stem(data)
    return (
        private_file(write_atomically(word, folder / f"{stem}.docx")),
        private_file(write_atomically(text, folder / f"{stem}.txt")),
    )
