"""The daily Excel report (SPEC §5). Sheet 1 reproduces the notice's attachment table (酉阳民政发〔2023〕9号 附件)
with progress columns added; further sheets hold villages, roster completeness, data-quality issues, cadre quotas
and charts. Every string that came from input data is written through put_text, so it can never become a formula.
"""

import datetime as dt
import os
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from yukuai_pipeline import settings
from yukuai_pipeline.campaign import Campaign, Pace
from yukuai_pipeline.report import charts as report_charts
from yukuai_pipeline.metrics.doubts import reasons_of_day
from yukuai_pipeline.report.charts import official_townships, progress_chart_png  # noqa: F401 (API)
from yukuai_pipeline.report.xlsx_files import stable_workbook_bytes


@dataclass
class ReportData:
    snapshot_date: dt.date
    campaign: Campaign
    townships: pd.DataFrame
    villages: pd.DataFrame
    roster: pd.DataFrame
    roster_summary: pd.DataFrame
    issues: pd.DataFrame
    quotas: pd.DataFrame
    county_history: pd.DataFrame
    activity: pd.DataFrame = field(default_factory=pd.DataFrame)  # platform_activity_rollup rows of the day


# Cell kinds: text, integer, yes/no, or a number format for floats and dates.
TEXT, INT, YES_NO = "text", "int", "yes_no"
PCT, ONE_DECIMAL, DATE = "0.00%", "0.0", "yyyy-mm-dd"
ATTACHMENT_COLUMNS = [("序号", "seq", INT), ("乡镇（街道）", "township", TEXT), ("常住人口数（人）", "resident_population", INT),
                      ("任务数（人）", "target", INT), ("完成数", "completed", INT), ("尚差任务数", "gap", INT),
                      ("备注", "remark", TEXT)]
PACE_COLUMNS = [("日均新增(近7日)", "new_7d_avg", ONE_DECIMAL), ("所需日均", "required_daily", ONE_DECIMAL),
                ("预计完成日期", "projected_date", DATE), ("状态", "status", TEXT)]
RATE_COLUMNS = [("完成率", "completion_rate", PCT), ("每万人用户数", "users_per_10k", ONE_DECIMAL)]
TOWNSHIP_COLUMNS = ATTACHMENT_COLUMNS + RATE_COLUMNS + PACE_COLUMNS + [("排名", "rank", INT)]
VILLAGE_COLUMNS = [("乡镇（街道）", "township", TEXT), ("村（社区）", "village", TEXT), ("社区编码", "village_code", TEXT),
                   ("常住人口", "resident_population", INT), ("任务数", "target", INT), ("完成数", "completed", INT),
                   ("待审核", "pending", INT), ("尚差任务数", "gap", INT), ("完成率", "completion_rate", PCT),
                   ("每万人用户数", "users_per_10k", ONE_DECIMAL), ("乡镇内排名", "rank", INT)] + PACE_COLUMNS
ROSTER_SUMMARY_COLUMNS = [("乡镇（街道）", "township", TEXT), ("村（社区）数", "villages_total", INT),
                          ("完整村数", "villages_complete", INT), ("完整率", "completeness", PCT)]
ROSTER_GAP_COLUMNS = [("乡镇（街道）", "township", TEXT), ("村（社区）", "village", TEXT), ("队伍类别", "role_group_label", TEXT),
                      ("应有人数下限", "required_min", INT), ("应有人数上限", "required_max", INT), ("实有人数", "actual", INT),
                      ("有误记录数", "invalid_records", INT), ("状态", "status", TEXT), ("原因", "reasons", TEXT)]
ISSUE_COLUMNS = [("环节", "stage", TEXT), ("来源文件", "source_file", TEXT), ("检查项", "check", TEXT),
                 ("严重程度", "severity", TEXT), ("乡镇（街道）", "township", TEXT), ("村（社区）", "village", TEXT),
                 ("行号", "row_number", INT), ("字段", "field", TEXT), ("原值（已脱敏）", "value_masked", TEXT),
                 ("说明", "message", TEXT), ("是否隔离", "quarantined", YES_NO)]
QUOTA_COLUMNS = [("乡镇（街道）", "township", TEXT), ("村（社区）", "village", TEXT), ("姓名", "cadre_name", TEXT),
                 ("职务", "roles", TEXT), ("村任务数", "village_target", INT), ("分配任务数", "quota", INT)]
ACTIVITY_KINDS = [("居民诉求", "request"), ("信息发布", "notice"), ("村（居）务公开", "disclosure"),
                  ("在线协商", "consultation"), ("民主决策", "decision"), ("民主评议", "review")]
ROLE_GROUP_ORDER = ["committee", "supervisor", "worker", "group_leader", "representative"]

FILLS = {"滞后": PatternFill("solid", fgColor="FCE4D6"), "严重滞后": PatternFill("solid", fgColor="FFC7CE"),
         "不完整": PatternFill("solid", fgColor="FCE4D6"), "有误": PatternFill("solid", fgColor="FFC7CE")}
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
# Excel and LibreOffice treat these first characters as the start of a formula when a cell is typed or imported.
FORMULA_TRIGGERS = ("=", "+", "-", "@")
MAX_CELL_CHARS = 32767
MAX_WIDTH = 40  # characters; CJK count double
UNMATCHED_REMARK = "无法匹配乡镇的用户"


def report_file_name(snapshot_date, campaign: Campaign | None = None) -> str:
    """<county>渝快社区注册进度报表_YYYY-MM-DD.xlsx (the campaign in use when none is given)."""
    stem = (campaign or settings.campaign()).report_name
    return f"{stem}_{pd.Timestamp(snapshot_date).date().isoformat()}.xlsx"


def write_workbook(data: ReportData, directory: Path) -> Path:
    """Build the workbook and put it in place atomically, so readers never see a half-written file.

    The file is private to its owner (mkstemp); the caller widens it to the configured mode."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / report_file_name(data.snapshot_date, data.campaign)
    payload = stable_workbook_bytes(build_workbook(data), data.snapshot_date)  # same data, same bytes
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".report-", suffix=".xlsx.tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def build_workbook(data: ReportData) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    township_rows = _township_sheet(wb.create_sheet("乡镇进度"), data)
    _village_sheet(wb.create_sheet("村（社区）进度"), data)
    _roster_sheet(wb.create_sheet("基层队伍完整性"), data)
    _issue_sheet(wb.create_sheet("数据质量问题"), data)
    _quota_sheet(wb.create_sheet("干部分配任务"), data)
    _activity_sheet(wb.create_sheet("平台应用"), data)
    _chart_sheet(wb.create_sheet("图表"), wb["乡镇进度"], township_rows, data)
    stamp = dt.datetime.combine(data.snapshot_date, dt.time())
    wb.properties.created = wb.properties.modified = stamp  # from the data, not the clock: same input, same file
    wb.properties.creator = wb.properties.lastModifiedBy = "yukuai-pipeline"
    wb.properties.title = f"{_title(data)}（{data.snapshot_date.isoformat()}）"
    return wb


def furthest_behind(data: ReportData, n: int = 10) -> pd.DataFrame:
    """The n attachment townships with the lowest completion rate (ties in attachment order)."""
    rows = official_townships(data.townships)
    rows = rows.assign(_rate=rows["completion_rate"].astype("float64"))
    rows = rows.sort_values(["_rate", "seq"], kind="stable", na_position="last").head(n)
    return pd.DataFrame({"乡镇（街道）": rows["township"].astype(str), "任务数": rows["target"].astype("Int64"),
                         "完成数": rows["completed"].astype("Int64"), "尚差任务数": rows["gap"].astype("Int64"),
                         "完成率": rows["_rate"], "状态": rows["status"]}).reset_index(drop=True)


def put_text(cell, value) -> None:
    """The one way text from input reaches a cell: always a literal string. openpyxl turns "=…" into a formula
    (and "#N/A" into an error), so the type is forced back to string; values an editor would read as a formula
    (=, +, -, @, or a leading tab/CR) also get Excel's quote prefix, so they stay text if the cell is edited."""
    if _missing(value):
        return
    text = "、".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]  # control characters are invalid in XML
    cell.value = text
    cell.data_type = "s"
    if text.lstrip(" ").startswith(FORMULA_TRIGGERS) or text.startswith(("\t", "\r")):
        cell.quotePrefix = True


def put_value(cell, value, kind: str) -> None:
    if _missing(value):
        return
    if isinstance(value, str) or kind == TEXT:
        put_text(cell, value)
    elif kind == YES_NO:
        put_text(cell, "是" if bool(value) else "否")
    elif kind == INT:
        cell.value = int(value)
    elif kind == DATE:
        cell.value, cell.number_format = pd.Timestamp(value).date(), DATE
    else:
        cell.value, cell.number_format = float(value), kind


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays are values, not missing
        return False


def write_table(ws, top: int, columns: list, frame: pd.DataFrame) -> int:
    """Header row at `top`, one row per frame row below it; returns the last row written. Rows whose status has
    a fill (滞后, 严重滞后, 不完整, 有误) are highlighted across the table."""
    for col, (header, _, _) in enumerate(columns, start=1):
        cell = ws.cell(top, col)
        put_text(cell, header)
        cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for offset, record in enumerate(frame.to_dict("records"), start=1):
        fill = FILLS.get(record.get("status")) if isinstance(record.get("status"), str) else None
        for col, (_, key, kind) in enumerate(columns, start=1):
            cell = ws.cell(top + offset, col)
            put_value(cell, record.get(key), kind)
            cell.border = BORDER
            if fill:
                cell.fill = fill
    return top + len(frame)


def put_line(ws, row: int, text: str, width: int, bold: bool = False, size: int = 11) -> None:
    """A line of prose merged across the table (title, legend, notes)."""
    put_text(ws.cell(row, 1), text)
    ws.cell(row, 1).font = Font(bold=bold, size=size)
    ws.cell(row, 1).alignment = Alignment(horizontal="left" if not bold else "center", vertical="center")
    if width > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)


def _title(data: ReportData) -> str:
    """The campaign title with the notice's typographic quotes (campaign.yaml writes ASCII ones)."""
    first, *rest = data.campaign.title.split('"')
    return first + "".join(("“" if i % 2 == 0 else "”") + part for i, part in enumerate(rest))


def _sorted_by_township(frame: pd.DataFrame, data: ReportData, then: list[str]) -> pd.DataFrame:
    """Attachment order of townships (unknown ones last), then the given columns."""
    seq = dict(zip(data.townships["township"], data.townships["seq"].astype("Float64")))
    order = frame["township"].map(seq).astype("Float64")
    return (frame.assign(_order=order).sort_values(["_order", "township", *then], kind="stable", na_position="last")
            .drop(columns="_order").reset_index(drop=True))


def _attachment_rows(data: ReportData) -> tuple[pd.DataFrame, int]:
    """The townships in attachment order, then 未匹配 (if any), then the county row labelled like the notice;
    also how many attachment townships there are."""
    county_label, unmatched = data.campaign.county_row_label, data.campaign.unmatched_label
    frame = data.townships
    official = official_townships(frame)
    others = frame[frame["seq"].isna() & (frame["township"] != county_label)]
    county = frame[frame["township"] == county_label].assign(seq=county_label, township=None, rank=pd.NA)
    # 未匹配 has no target of its own: a pace status or a finishing date would mean nothing there.
    others = others.assign(status=None, required_daily=None, projected_date=None)
    rows = pd.concat([official.astype({"seq": "object"}), others, county], ignore_index=True)
    remarks = [UNMATCHED_REMARK if township == unmatched else
               (f"超额完成{int(surplus)}人" if not _missing(surplus) and surplus > 0 else None)
               for township, surplus in zip(rows["township"], rows["surplus"])]
    return rows.assign(remark=remarks), len(official)


def _township_sheet(ws, data: ReportData) -> tuple[int, int]:
    """Sheet 1; returns the first and last row of the attachment townships (the bar chart reads them)."""
    rows, official = _attachment_rows(data)
    columns = TOWNSHIP_COLUMNS
    if data.activity is not None and not data.activity.empty:  # the notice's other indicators beside progress
        totals = data.activity.pivot_table(index="township", columns="kind", values="count_total", aggfunc="sum")
        county = data.campaign.county_row_label
        key = rows["township"].where(rows["seq"] != county, county)  # the county row carries 合计 in 序号
        rows = rows.join(totals.add_prefix("activity_"), on=key)
        columns = columns + [(label, f"activity_{kind}", INT) for label, kind in ACTIVITY_KINDS]
    width = len(columns)
    put_line(ws, 1, _title(data), width, bold=True, size=14)
    put_line(ws, 2, _as_of(data), width)
    last = write_table(ws, 3, columns, rows)
    for row in range(4, last + 1):
        ws.cell(row, 1).alignment = Alignment(horizontal="center")
    put_line(ws, last + 2, _legend(data.campaign.pace), width)
    _doubt_note(ws, last + 3, data, width)
    _print_ready(ws, data, header_row=3, freeze="C4", title_rows="1:3")
    return 4, 3 + official


def _doubt_note(ws, row: int, data: ReportData, width: int) -> None:
    """Under the table, in red: why the day's figures are doubtful (metrics/doubts.py), so nobody sends them unread."""
    issues = data.issues
    reasons = reasons_of_day(issues[issues["stage"] == "township_progress"]) if len(issues) else []
    if not reasons:
        return
    lines = [f"⚠ 注意：本日数据存疑（{len(reasons)} 项），发送前请核对：", *(f"{i}. {r}" for i, r in enumerate(reasons, 1))]
    for offset, text in enumerate(lines):
        put_line(ws, row + offset, text, width, bold=offset == 0)
        ws.cell(row + offset, 1).font = Font(bold=offset == 0, color="C00000")
        ws.cell(row + offset, 1).alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)


def _as_of(data: ReportData) -> str:
    line = f"统计截止：{data.snapshot_date.isoformat()}"
    county = report_charts.county_row(data)
    data_date = None if county is None else county.get("data_date")
    if not _missing(data_date) and pd.Timestamp(data_date).date() != data.snapshot_date:
        line += f"（数据所用导出日期：{pd.Timestamp(data_date).date().isoformat()}）"
    return line


def _legend(pace: Pace) -> str:
    on, behind, days = f"{pace.on_track_ratio:g}", f"{pace.behind_ratio:g}", pace.window_days
    return (f"图例：浅橙色底 = 滞后（近{days}日日均新增 < 所需日均×{on}，且 ≥ 所需日均×{behind}）；"
            f"浅红色底 = 严重滞后（< 所需日均×{behind}，或已过截止日仍未完成）。所需日均 = 尚差任务数 ÷ 距截止日天数；"
            "状态为空：历史数据尚不足以计算速度。")


def _village_sheet(ws, data: ReportData) -> None:
    rows = _sorted_by_township(data.villages, data, ["village"]) if len(data.villages) else data.villages
    write_table(ws, 1, VILLAGE_COLUMNS, rows)
    _print_ready(ws, data, header_row=1, freeze="C2")


def _nothing_yet(ws, data: ReportData, frame: pd.DataFrame | None, message: str) -> bool:
    """A sheet whose input has not landed says so in one line instead of showing an empty table."""
    if frame is not None and not frame.empty:
        return False
    put_text(ws.cell(1, 1), message)
    _print_ready(ws, data, header_row=1, freeze=None)
    return True


def _roster_sheet(ws, data: ReportData) -> None:
    if _nothing_yet(ws, data, data.roster, "尚未收到基层队伍名单：名单落地后，这里按村（社区）列出五类队伍是否完整。"):
        return
    summary = _sorted_by_township(data.roster_summary, data, []) if len(data.roster_summary) else data.roster_summary
    last = write_table(ws, 1, ROSTER_SUMMARY_COLUMNS, summary)
    gaps = data.roster[data.roster["status"] != "完整"]
    gaps = gaps.assign(_group=gaps["role_group"].map({g: i for i, g in enumerate(ROLE_GROUP_ORDER)}))
    gaps = _sorted_by_township(gaps, data, ["village", "_group"])
    put_line(ws, last + 2, f"未完整的队伍（{len(gaps)} 项；状态为“不完整”或“有误”）", len(ROSTER_GAP_COLUMNS), bold=True)
    write_table(ws, last + 3, ROSTER_GAP_COLUMNS, gaps)
    _print_ready(ws, data, header_row=1, freeze="A2")


def _issue_sheet(ws, data: ReportData) -> None:
    issues = data.issues
    if len(issues):  # a stable order, whatever order the database returned
        keys = [c for c in ("severity", "stage", "source_file", "row_number", "check", "field") if c in issues]
        issues = issues.sort_values(keys, kind="stable", na_position="last")
    last = write_table(ws, 1, ISSUE_COLUMNS, issues)
    if not len(issues):
        put_text(ws.cell(last + 2, 1), "本日没有数据质量问题。")
    _print_ready(ws, data, header_row=1, freeze="A2")


def _quota_sheet(ws, data: ReportData) -> None:
    if _nothing_yet(ws, data, data.quotas,
                    "尚无干部分配任务：需要基层队伍名单中的村（社区）“两委”成员，才能把村任务数按比例分配到人。"):
        return
    write_table(ws, 1, QUOTA_COLUMNS, _sorted_by_township(data.quotas, data, ["village", "cadre_name"]))
    _print_ready(ws, data, header_row=1, freeze="A2")


def _activity_sheet(ws, data: ReportData) -> None:
    """The notice's six other assessed functions (一（三）), township by township: total and last 30 days."""
    if _nothing_yet(ws, data, data.activity, "尚未收到平台应用明细：导出后放入落地目录，这里按乡镇列出六项应用的次数。"):
        return
    wide = data.activity.pivot_table(index="township", columns="kind", values=["count_total", "count_30d"],
                                     aggfunc="sum", fill_value=0)
    wide.columns = [f"{measure}_{kind}" for measure, kind in wide.columns]
    wide = wide.reset_index()
    county = data.campaign.county_row_label
    body = _sorted_by_township(wide[wide["township"] != county], data, [])
    rows = pd.concat([body, wide[wide["township"] == county]], ignore_index=True)
    columns = [("乡镇（街道）", "township", TEXT)]
    columns += [(f"{label}（累计）", f"count_total_{kind}", INT) for label, kind in ACTIVITY_KINDS]
    columns += [(f"{label}（近30日）", f"count_30d_{kind}", INT) for label, kind in ACTIVITY_KINDS]
    write_table(ws, 1, columns, rows)
    _print_ready(ws, data, header_row=1, freeze="B2")


def _chart_sheet(ws, township_ws, township_rows: tuple[int, int], data: ReportData) -> None:
    series = report_charts.progress_series(data)
    columns = [("日期", "date", DATE), ("完成数", "completed", INT), ("目标路径", "target_path", ONE_DECIMAL)]
    last = write_table(ws, 1, columns, series)
    report_charts.add_progress_line_chart(ws, 1, last, "E2")
    first, final = township_rows
    if final >= first:
        statuses = [township_ws.cell(row, _column("status")).value for row in range(first, final + 1)]
        report_charts.add_rate_bar_chart(ws, township_ws, first, final, name_col=_column("township"),
                                         rate_col=_column("completion_rate"), anchor="E25", statuses=statuses)
    _print_ready(ws, data, header_row=1, freeze="A2")


def _column(key: str) -> int:
    """1-based column of a key on sheet 1."""
    return [k for _, k, _ in TOWNSHIP_COLUMNS].index(key) + 1


def _print_ready(ws, data: ReportData, header_row: int, freeze: str | None, title_rows: str | None = None) -> None:
    """A4 landscape, one page wide, header rows repeated, snapshot date and page numbers in header/footer."""
    if freeze:
        ws.freeze_panes = freeze
        ws.print_title_rows = title_rows or f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0  # 0: as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddHeader.left.text = "&A"  # the sheet name
    ws.oddHeader.right.text = f"统计截止：{data.snapshot_date.isoformat()}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    _fit_columns(ws)


def _fit_columns(ws) -> None:
    """Column widths from the longest value; CJK characters count double. Merged prose lines are ignored."""
    widths: dict[str, int] = {}
    merged = ws.merged_cells
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None or cell.coordinate in merged:
                continue
            width = _display_width(cell)
            widths[cell.column_letter] = max(widths.get(cell.column_letter, 0), width)
            if width > MAX_WIDTH:  # long messages wrap instead of widening the page
                cell.alignment = Alignment(horizontal=cell.alignment.horizontal, vertical="top", wrap_text=True)
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = min(max(width + 2, 6), MAX_WIDTH)


def _display_width(cell) -> int:
    if isinstance(cell.value, (dt.date, dt.datetime)):
        return 10
    if isinstance(cell.value, float):
        return len(f"{cell.value:,.2f}")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(cell.value))
