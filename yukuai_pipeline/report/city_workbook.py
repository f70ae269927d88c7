"""The city's workbook: one sheet 区县进度 — every county's 合计 of the day ranked by completion rate, with the
data date of each figure and the city's 合计 row. Aggregates only: it is the file the municipal bureau may hold
and send without any county's personal data (README, "全市版 / City edition")."""

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from yukuai_pipeline.report.cells import DATE, INT, ONE_DECIMAL, PCT, TEXT, put_line, write_table
from yukuai_pipeline.report.print_setup import print_ready
from yukuai_pipeline.report.xlsx_files import stable_workbook_bytes, write_atomically

CITY_COLUMNS = [
    ("排名", "rank", INT),
    ("区县", "county_name", TEXT),
    ("区县代码", "county_code", TEXT),
    ("常住人口数（人）", "resident_population", INT),
    ("任务数（人）", "target", INT),
    ("完成数", "completed", INT),
    ("尚差任务数", "gap", INT),
    ("超额完成数", "surplus", INT),
    ("完成率", "completion_rate", PCT),
    ("每万人用户数", "users_per_10k", ONE_DECIMAL),
    ("数据日期", "data_date", DATE),
    ("数据状态", "status", TEXT),
]
NOTES = (
    "注：全市合计的尚差任务数为各区县尚差之和，超额完成的区县不抵其他区县的差额（超额另列）；"
    "“沿用旧数据”的区县当日未物化，取其之前最近一天的合计，日期见“数据日期”；“无数据”的区县只计任务数。"
    "本表只含各区县合计，不含乡镇、村（社区）和个人信息。"
)


def city_file_name(day: dt.date) -> str:
    return f"全市渝快社区注册进度_{day.isoformat()}.xlsx"


def build_city_workbook(progress: pd.DataFrame, day: dt.date) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None, "a new workbook has a sheet"
    ws.title = "区县进度"
    width = len(CITY_COLUMNS)
    put_line(ws, 1, "全市“渝快社区”小程序注册进度（区县排名）", width, bold=True, size=14)
    counted = int((progress["status"] != "无数据").sum()) - 1  # the city's own row is not a county
    put_line(ws, 2, f"统计截止：{day.isoformat()}　区县数：{len(progress) - 1}（有数据 {max(counted, 0)}）", width)
    last = write_table(ws, 3, CITY_COLUMNS, progress)
    put_line(ws, last + 2, NOTES, width)
    print_ready(ws, day, header_row=3, freeze="C4", title_rows="1:3")
    stamp = dt.datetime.combine(day, dt.time())
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = wb.properties.lastModifiedBy = "yukuai-pipeline"
    wb.properties.title = f"全市渝快社区注册进度（{day.isoformat()}）"
    return wb


def write_city_workbook(progress: pd.DataFrame, day: dt.date, directory: Path) -> Path:
    """The workbook put in place atomically (private to its owner; the caller widens it to the configured mode)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / city_file_name(day)
    return write_atomically(stable_workbook_bytes(build_city_workbook(progress, day), day), path)
