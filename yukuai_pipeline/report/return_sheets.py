"""The sheets of a township's return (乡镇回执, report/township_returns.py): its overview, its villages, its roster
gaps, its cadre quotas and its data-quality issues. Each sheet holds only the township's own rows; a part without
rows says so in one line. Every value from input reaches its cell through report/cells.py, so text never becomes a
formula; issue values arrive masked and are written as they are.
"""

from collections.abc import Callable
from typing import Any, TypeVar, cast

import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.metrics.data_dates import INPUTS, date_note
from yukuai_pipeline.quality.check_labels import check_label
from yukuai_pipeline.report.cells import (
    BORDER,
    INT,
    ONE_DECIMAL,
    PCT,
    TEXT,
    is_missing,
    put_line,
    put_text,
    put_value,
    restyle,
    write_table,
)
from yukuai_pipeline.report.columns import (
    ISSUE_COLUMNS,
    QUOTA_COLUMNS,
    ROLE_GROUP_ORDER,
    ROSTER_GAP_COLUMNS,
    VILLAGE_COLUMNS,
)
from yukuai_pipeline.report.data import ReportData
from yukuai_pipeline.report.print_setup import print_ready
from yukuai_pipeline.report.week_sheet import SIGNED

OVERVIEW_HEADER = [("项目", "label", TEXT), ("数值", "value", TEXT), ("说明", "note", TEXT)]
# (label, column of township_progress, cell kind, note shown beside the value)
OVERVIEW_ITEMS = [
    ("任务数（人）", "target", INT, ""),
    ("完成数", "completed", INT, ""),
    ("尚差任务数", "gap", INT, ""),
    ("完成率", "completion_rate", PCT, "完成数 ÷ 任务数"),
    ("全县排名", "rank", INT, "按完成率，1 为最好"),
    ("本周新增", "new_this_week", INT, "完成数 − 上周完成数"),
    ("上周排名", "last_week_rank", INT, ""),
    ("排名变化", "rank_change", SIGNED, "上周排名 − 本周排名，正数为上升"),
    ("状态", "status", TEXT, "已完成/按期/滞后/严重滞后"),
    ("所需日均", "required_daily", ONE_DECIMAL, "尚差任务数 ÷ 距截止日天数"),
    ("日均新增（近7日）", "new_7d_avg", ONE_DECIMAL, ""),
]
NOT_YET = "暂无数据"
T = TypeVar("T")


def rows_of(frame: pd.DataFrame | None, township: str) -> pd.DataFrame:
    """The township's rows, in the frame's order; a table that has not landed may come without any column at all.
    Each frame is split by township once: a city's 1,000 returns would otherwise each scan every row."""
    if frame is None or "township" not in frame.columns:
        return pd.DataFrame()
    positions = _once_per_frame(frame, "split", lambda: frame.groupby("township", sort=False).indices)
    return frame.iloc[positions.get(township, [])].reset_index(drop=True)


def _once_per_frame(frame: pd.DataFrame, what: str, compute: Callable[[], T]) -> T:
    """`compute()`, kept for this frame: the same for every township's return of the day."""
    key = (id(frame), what)
    kept = _PER_FRAME.get(key)
    if kept is None or kept[0] is not frame:
        if len(_PER_FRAME) >= _FRAMES_KEPT:
            _PER_FRAME.clear()
        kept = _PER_FRAME[key] = (frame, compute())
    return cast(T, kept[1])


# (frame id, what) -> (the frame, what was computed from it): the frame is held so that its id cannot be reused
_PER_FRAME: dict[tuple[int, str], tuple[pd.DataFrame, Any]] = {}
_FRAMES_KEPT = 8  # a return reads five frames; a few days' reports in one process stay small


def overview_sheet(ws: Worksheet, data: ReportData, row: pd.Series, townships_ranked: int) -> None:
    width = len(OVERVIEW_HEADER)
    put_line(ws, 1, f"{row['township']} 渝快社区注册进度回执", width, bold=True, size=14)
    put_line(ws, 2, f"统计截止：{data.snapshot_date.isoformat()}", width)
    write_table(ws, 3, OVERVIEW_HEADER, pd.DataFrame())
    for offset, (label, key, kind, note) in enumerate(OVERVIEW_ITEMS, start=4):
        value = row.get(key)
        if key == "rank":
            note = f"共 {townships_ranked} 个乡镇（街道），{note}"
        if key == "new_this_week" and not is_missing(row.get("last_week_date")):
            note = f"与 {pd.Timestamp(row['last_week_date']).date().isoformat()} 相比，{note}"
        put_text(ws.cell(offset, 1), label)
        put_value(ws.cell(offset, 2), value, kind)
        put_text(ws.cell(offset, 3), NOT_YET if is_missing(value) else note or None)
        for col in range(1, width + 1):
            restyle(ws.cell(offset, col), ("border",), _bordered)
    last = 3 + len(OVERVIEW_ITEMS)
    notes = _input_date_notes(data.data_dates)
    for offset, note in enumerate(notes or ["各项数据的日期：暂无记录。"], start=last + 2):
        put_line(ws, offset, note, width)
        ws.cell(offset, 1).alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    print_ready(ws, data.snapshot_date, header_row=3, freeze="A4", title_rows="1:3")


def _bordered(cell: Cell) -> None:
    cell.border = BORDER


def _input_date_notes(dates: pd.DataFrame) -> list[str]:
    """Each input's date line, made once for all the day's returns."""
    return _once_per_frame(
        dates, "date notes", lambda: [note for note in (date_note(dates, kind) for kind in INPUTS) if note]
    )


def _nothing_here(ws: Worksheet, data: ReportData, rows: pd.DataFrame, message: str) -> bool:
    """An empty part says so in one line instead of showing an empty table."""
    if not rows.empty:
        return False
    put_text(ws.cell(1, 1), message)
    print_ready(ws, data.snapshot_date, header_row=1, freeze=None)
    return True


def village_sheet(ws: Worksheet, data: ReportData, township: str) -> None:
    rows = rows_of(data.villages, township)
    if _nothing_here(ws, data, rows, "本乡镇（街道）暂无村（社区）进度数据。"):
        return
    # best first: the officer reads the rank within the township top-down
    rows = rows.sort_values(["rank", "village"], kind="stable", na_position="last")
    write_table(ws, 1, VILLAGE_COLUMNS, rows)
    print_ready(ws, data.snapshot_date, header_row=1, freeze="C2")


def roster_gap_sheet(ws: Worksheet, data: ReportData, township: str) -> None:
    if data.roster is None or data.roster.empty:
        message = "尚未收到基层队伍名单：名单落地后，这里列出本乡镇（街道）未完整的队伍。"
        _nothing_here(ws, data, pd.DataFrame(), message)
        return
    rows = rows_of(data.roster, township)
    gaps = rows[rows["status"] != "完整"] if len(rows) else rows
    if _nothing_here(ws, data, gaps, "本乡镇（街道）各村（社区）五类队伍均完整。"):
        return
    gaps = gaps.assign(_group=gaps["role_group"].map({g: i for i, g in enumerate(ROLE_GROUP_ORDER)}))
    gaps = gaps.sort_values(["village", "_group"], kind="stable", na_position="last")
    write_table(ws, 1, ROSTER_GAP_COLUMNS, gaps)
    print_ready(ws, data.snapshot_date, header_row=1, freeze="A2")


def quota_sheet(ws: Worksheet, data: ReportData, township: str) -> None:
    rows = rows_of(data.quotas, township)
    message = "本乡镇（街道）暂无干部分配任务：需要基层队伍名单中的村（社区）“两委”成员。"
    if _nothing_here(ws, data, rows, message):
        return
    write_table(ws, 1, QUOTA_COLUMNS, rows.sort_values(["village", "cadre_name"], kind="stable"))
    print_ready(ws, data.snapshot_date, header_row=1, freeze="A2")


def issue_sheet(ws: Worksheet, data: ReportData, township: str) -> None:
    issues = rows_of(data.issues, township)
    if _nothing_here(ws, data, issues, "本乡镇（街道）本日没有数据质量问题。"):
        return
    keys = [c for c in ("severity", "stage", "source_file", "row_number", "check", "field") if c in issues]
    issues = issues.sort_values(keys, kind="stable", na_position="last")  # whatever order the database returned
    issues = issues.assign(check=issues["check"].map(check_label))  # the officer reads the Chinese name
    write_table(ws, 1, ISSUE_COLUMNS, issues)
    print_ready(ws, data.snapshot_date, header_row=1, freeze="A2")
