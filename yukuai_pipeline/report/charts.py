"""Charts of the daily report: the series behind them, native Excel charts for the 图表 sheet, and a PNG.

The PNG is drawn with matplotlib's Agg canvas directly (no pyplot), so no global backend or figure state is
touched inside a long-running Dagster process.
"""

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.axis import DateAxis
from openpyxl.chart.marker import DataPoint
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RichTextProperties
from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.report.data import ReportData

if TYPE_CHECKING:  # matplotlib is imported only when a PNG is drawn
    from matplotlib.axes import Axes

# Searched in this order among installed fonts; the Simplified Chinese faces first.
CJK_FONT_HINTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Noto Sans CJK",
    "Noto Serif CJK",
    "Source Han",
)
STATUS_COLOURS = {"已完成": "#2e7d32", "按期": "#1f77b4", "滞后": "#f28e2b", "严重滞后": "#d62728"}
NO_STATUS_COLOUR = "#9e9e9e"
LABELS: dict[bool, dict[str, Any]] = {
    True: {
        "line_title": "全县累计完成数与目标路径",
        "completed": "完成数",
        "path": "目标路径",
        "people": "人",
        "bar_title": "各乡镇（街道）完成率",
        "rate": "完成率",
        "status": {s: s for s in STATUS_COLOURS},
    },
    False: {
        "line_title": "County cumulative registrations vs. path to target",
        "completed": "Completed",
        "path": "Path to target",
        "people": "People",
        "bar_title": "Completion rate by township (by seq no.)",
        "rate": "Completion rate",
        "status": {"已完成": "Done", "按期": "On track", "滞后": "Behind", "严重滞后": "Far behind"},
    },
}


def official_townships(townships: pd.DataFrame) -> pd.DataFrame:
    """The attachment's townships (those with a 序号) in attachment order."""
    rows = townships[townships["seq"].notna()].copy()
    rows["seq"] = rows["seq"].astype("int64")
    return rows.sort_values("seq", kind="stable").reset_index(drop=True)


def county_row(data: ReportData) -> pd.Series | None:
    rows = data.townships[data.townships["township"] == data.campaign.county_row_label]
    return rows.iloc[0] if len(rows) else None


def _county_target(data: ReportData) -> float:
    row = county_row(data)
    if row is not None and not pd.isna(row["target"]):
        return float(row["target"])
    return float(official_townships(data.townships)["target"].astype("float64").sum())


def _history(data: ReportData) -> pd.Series:
    """County completed by day up to the snapshot; the day's county row wins over a stale history entry."""
    history = data.county_history
    series = pd.Series(dtype="float64")
    if history is not None and len(history):
        days = pd.to_datetime(history["snapshot_date"]).dt.date
        series = pd.Series(history["completed"].astype("float64").to_numpy(), index=days)
        series = series[series.index <= data.snapshot_date]
    row = county_row(data)
    if row is not None and not pd.isna(row["completed"]):
        series.loc[data.snapshot_date] = float(row["completed"])
    return series.groupby(level=0).last().sort_index()


def progress_series(data: ReportData) -> pd.DataFrame:
    """date, completed, target_path: the county's cumulative completed next to the straight line from the
    baseline (completed on baseline_date, or the earliest snapshot when that day is missing) to the target on the
    deadline. The baseline and deadline rows are included so the whole path shows."""
    baseline_date, deadline = data.campaign.baseline_date, data.campaign.deadline
    history = _history(data)
    start = float(history.get(baseline_date, history.iloc[0] if len(history) else 0.0))
    target = _county_target(data)
    days = sorted(set(history.index) | {baseline_date, deadline})
    span = max((deadline - baseline_date).days, 1)

    def path(day: dt.date) -> float:
        share = min(max((day - baseline_date).days / span, 0.0), 1.0)
        return round(start + (target - start) * share, 1)

    return pd.DataFrame(
        {"date": days, "completed": [history.get(d) for d in days], "target_path": [path(d) for d in days]}
    )


def add_progress_line_chart(ws: Worksheet, header_row: int, last_row: int, anchor: str) -> None:
    """Line chart over the table 日期 | 完成数 | 目标路径 in columns A:C; a date axis keeps the spacing true to time."""
    chart = LineChart()
    chart.title = LABELS[True]["line_title"]
    chart.y_axis.title = LABELS[True]["people"]
    chart.y_axis.crossAx = 500
    chart.x_axis = DateAxis(crossAx=100)
    chart.x_axis.number_format = "yyyy-mm-dd"
    chart.x_axis.majorTimeUnit = "days"
    chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=header_row, max_row=last_row), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=header_row + 1, max_row=last_row))
    completed, path = chart.series
    completed.marker.symbol = "circle"
    completed.graphicalProperties.line.solidFill = completed.marker.graphicalProperties.solidFill = "1F77B4"
    completed.graphicalProperties.line.width = 28575  # EMU, 2.25 pt: the county line must stand out
    path.graphicalProperties.line.solidFill = "7F7F7F"
    path.graphicalProperties.line.dashStyle = "dash"
    _show_axes(chart)
    chart.width, chart.height = 26, 11
    ws.add_chart(chart, anchor)


def add_rate_bar_chart(
    ws: Worksheet,
    source: Worksheet,
    first_row: int,
    last_row: int,
    name_col: int,
    rate_col: int,
    anchor: str,
    statuses: list[str | None],
) -> None:
    """Column chart of completion rate by township, read from the township rows of sheet 1; bars coloured by
    status like the PNG."""
    chart = BarChart()
    chart.type = "col"
    chart.title = LABELS[True]["bar_title"]
    chart.y_axis.number_format = "0%"
    chart.add_data(Reference(source, min_col=rate_col, min_row=first_row, max_row=last_row), titles_from_data=False)
    chart.set_categories(Reference(source, min_col=name_col, min_row=first_row, max_row=last_row))
    chart.legend = None
    for index, status in enumerate(statuses):
        point = DataPoint(idx=index)
        point.graphicalProperties.solidFill = _status_colour(status).lstrip("#")
        chart.series[0].dPt.append(point)
    _show_axes(chart)
    chart.x_axis.txPr = _rotated_labels()  # 39 names only fit written vertically
    chart.width, chart.height = 30, 12
    ws.add_chart(chart, anchor)


def _show_axes(chart: BarChart | LineChart) -> None:
    # openpyxl 3.1 marks axes as deleted by default, which hides ticks and labels in Excel.
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def _rotated_labels() -> RichText:
    properties = ParagraphProperties(defRPr=CharacterProperties(sz=800))
    return RichText(
        bodyPr=RichTextProperties(rot=-5400000, vert="horz"),
        p=[Paragraph(pPr=properties, endParaRPr=CharacterProperties())],
    )


def cjk_font_name() -> str | None:
    """The first installed font matching CJK_FONT_HINTS that really has Chinese glyphs, else None."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    fonts = {font.name: font.fname for font in font_manager.fontManager.ttflist}
    for hint in CJK_FONT_HINTS:
        for name in sorted(fonts):
            if hint.lower() in name.lower() and FT2Font(fonts[name]).get_char_index(ord("镇")):
                return name
    return None


def progress_chart_png(data: ReportData, path: Path) -> Path:
    """County progress against the target path (top) and completion rate by township (bottom) as a PNG.
    Without a CJK font the labels are English and townships are shown by 序号, so no glyph boxes appear."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = cjk_font_name()
    labels = LABELS[font is not None]
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    path = Path(path)
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False}):
        figure = Figure(figsize=(13, 9), dpi=110, layout="constrained")
        FigureCanvasAgg(figure)
        top, bottom = figure.subplots(2, 1, height_ratios=[1, 1.1])
        _draw_progress(top, progress_series(data), labels)
        _draw_rates(bottom, official_townships(data.townships), labels, chinese=font is not None)
        temporary = path.with_name(f".{path.name}.tmp")
        figure.savefig(temporary, format="png", metadata={"Software": None})
    os.replace(temporary, path)
    return path


def _status_colour(status: object) -> str:
    return STATUS_COLOURS.get(status, NO_STATUS_COLOUR) if isinstance(status, str) else NO_STATUS_COLOUR


def _draw_progress(axes: "Axes", series: pd.DataFrame, labels: dict[str, Any]) -> None:
    days = pd.to_datetime(series["date"])
    known = series["completed"].notna()
    axes.plot(days, series["target_path"], linestyle="--", color="#7f7f7f", label=labels["path"])
    axes.plot(
        days[known],
        series.loc[known, "completed"].astype("float64"),
        marker="o",
        color="#1f77b4",
        label=labels["completed"],
    )
    axes.set_title(labels["line_title"])
    axes.set_ylabel(labels["people"])
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")


def _draw_rates(axes: "Axes", rows: pd.DataFrame, labels: dict[str, Any], chinese: bool) -> None:
    from matplotlib.patches import Patch

    names = rows["township"].astype(str) if chinese else rows["seq"].astype(str)
    rates = rows["completion_rate"].astype("float64").fillna(0) * 100
    colours = [_status_colour(status) for status in rows["status"]]
    axes.bar(range(len(rows)), rates, color=colours)
    present = [s for s in STATUS_COLOURS if s in set(rows["status"])]
    axes.legend(
        handles=[Patch(color=STATUS_COLOURS[s], label=labels["status"][s]) for s in present],
        loc="upper right",
        ncols=len(present) or 1,
    )
    axes.set_xticks(range(len(rows)), names, rotation=90 if chinese else 0, fontsize=8)
    axes.set_xlim(-0.6, len(rows) - 0.4)
    axes.set_title(labels["bar_title"])
    axes.set_ylabel(f"{labels['rate']} (%)")
    axes.grid(axis="y", alpha=0.3)
