"""The workbook's 本周进展 sheet: each township's users added since a week before and its change of rank, with the
day compared named in the title (the newest snapshot on or before seven days earlier: metrics/week_over_week.py)."""

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.report.cells import INT, TEXT, is_missing, put_line, write_table
from yukuai_pipeline.report.charts import official_townships
from yukuai_pipeline.report.data import ReportData
from yukuai_pipeline.report.print_setup import print_ready

SIGNED = '+0;"−"0;0'  # 排名变化: +4 moved up four places, −2 down two
WEEK_COLUMNS = [
    ("序号", "seq", INT),
    ("乡镇（街道）", "township", TEXT),
    ("完成数", "completed", INT),
    ("上周完成数", "last_week_completed", INT),
    ("本周新增", "new_this_week", INT),
    ("排名", "rank", INT),
    ("上周排名", "last_week_rank", INT),
    ("排名变化", "rank_change", SIGNED),
]


def week_sheet(ws: Worksheet, data: ReportData) -> None:
    width = len(WEEK_COLUMNS)
    frame = data.townships
    label = data.campaign.county_row_label
    if "new_this_week" not in frame.columns or frame["last_week_date"].dropna().empty:
        put_line(ws, 1, f"本周进展：{data.snapshot_date} 之前一周还没有数据，满一周后显示本周新增和排名变化。", width)
        print_ready(ws, data.snapshot_date, header_row=1, freeze=None)
        return
    compared = min(frame["last_week_date"].dropna())
    rows = pd.concat(
        [official_townships(frame), frame[frame["township"] == label].assign(seq=pd.NA, rank=pd.NA)],
        ignore_index=True,
    )
    put_line(ws, 1, f"本周进展：{data.snapshot_date} 与 {compared} 相比", width, bold=True, size=14)
    last = write_table(ws, 2, WEEK_COLUMNS, rows.astype({"seq": "object"}))
    movers = rows[rows["rank_change"].notna()].sort_values("rank_change")
    notes = ["排名按完成率，1 为最好；排名变化 = 上周排名 − 本周排名，正数为上升。"]
    if len(movers) and not is_missing(movers.iloc[-1]["rank_change"]) and movers.iloc[-1]["rank_change"] > 0:
        best = movers.iloc[-1]
        notes.append(f"上升最多：{best['township']}（{int(best['last_week_rank'])} → {int(best['rank'])}）。")
    put_line(ws, last + 2, "".join(notes), width)
    print_ready(ws, data.snapshot_date, header_row=2, freeze="C3", title_rows="1:2")
