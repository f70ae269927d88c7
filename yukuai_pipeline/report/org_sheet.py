"""The report's sheet 社区社会组织: the date of the list in force and the benchmark with its source, then per township
the urban and rural averages against it, then every village with its registered, filed and invalid organisations
(those below the benchmark highlighted). It reads the day's `community_orgs` rows from `data.community_orgs`; a day
without any list says so in one line.
"""

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.metrics.community_orgs import rollup
from yukuai_pipeline.report.cells import INT, ONE_DECIMAL, TEXT, put_line, put_text, write_table
from yukuai_pipeline.report.data import ReportData
from yukuai_pipeline.report.print_setup import print_ready

NOTHING_YET = "尚未收到社区社会组织信息：导出后放入落地目录，这里按村（社区）列出登记、备案的组织数及是否达到基准。"
MEETS, BELOW, NO_BENCHMARK = "达到基准", "低于基准", "无基准（未匹配）"
TOWNSHIP_COLUMNS = [
    ("乡镇（街道）", "township", TEXT),
    ("村（社区）数", "villages", INT),
    ("达到基准", "villages_meeting", INT),
    ("城市社区数", "urban_villages", INT),
    ("城市社区平均组织数", "urban_average", ONE_DECIMAL),
    ("农村社区数", "rural_villages", INT),
    ("农村社区平均组织数", "rural_average", ONE_DECIMAL),
    ("登记", "registered", INT),
    ("备案", "filed", INT),
    ("信息有误", "invalid", INT),
]
VILLAGE_COLUMNS = [
    ("乡镇（街道）", "township", TEXT),
    ("村（社区）", "village", TEXT),
    ("城乡类型", "village_type", TEXT),
    ("组织数", "orgs_total", INT),
    ("登记", "registered", INT),
    ("备案", "filed", INT),
    ("信息有误（未计入）", "invalid", INT),
    ("基准", "benchmark", INT),
    ("还差", "shortfall", INT),
    ("是否达到", "state", TEXT),
]


def org_sheet(ws: Worksheet, data: ReportData) -> None:
    """data: the report's ReportData; its `community_orgs` attribute holds the day's community_orgs rows."""
    villages = getattr(data, "community_orgs", None)
    if villages is None or villages.empty:
        put_text(ws.cell(1, 1), NOTHING_YET)
        print_ready(ws, data.snapshot_date, header_row=1, freeze=None)
        return
    villages = _in_township_order(villages, data)
    width = len(VILLAGE_COLUMNS)
    put_line(ws, 1, _heading(villages), width)
    towns = rollup(villages, data.campaign.county_row_label)
    last = write_table(ws, 2, TOWNSHIP_COLUMNS, towns)
    put_line(
        ws, last + 2, f"村（社区）明细（低于基准的 {int((villages['state'] == BELOW).sum())} 个标色）", width, bold=True
    )
    write_table(ws, last + 3, VILLAGE_COLUMNS, villages)
    print_ready(ws, data.snapshot_date, header_row=2, freeze="B3")


def _heading(villages: pd.DataFrame) -> str:
    """社区社会组织信息数据日期 and the benchmark as the day's rows carry it (its numbers per type, its source)."""
    dates = pd.to_datetime(villages["orgs_date"], errors="coerce").dropna()
    when = f"社区社会组织信息数据日期：{dates.max().date().isoformat()}" if len(dates) else "社区社会组织信息"
    per_type = villages.dropna(subset=["benchmark"]).groupby("village_type")["benchmark"].max()
    numbers = "、".join(f"{kind}不少于 {int(n)} 个" for kind, n in per_type.items())
    sources = villages["benchmark_source"].dropna() if "benchmark_source" in villages else pd.Series(dtype="object")
    source = f"（{sources.iloc[0]}）" if len(sources) else ""
    return f"{when}；基准：{numbers}{source}；计入基准的是登记数 + 备案数" if numbers else when


def _in_township_order(villages: pd.DataFrame, data: ReportData) -> pd.DataFrame:
    """Attachment order of townships (unknown ones last), villages by name; each row's state, and the fill of
    cells.write_table ("不完整") on the rows below the benchmark."""
    townships = getattr(data, "townships", None)
    seq = {} if townships is None or townships.empty else dict(zip(townships["township"], townships["seq"]))
    meets = villages["meets_benchmark"].astype("boolean")
    state = meets.map({True: MEETS, False: BELOW}).astype("object").where(meets.notna(), NO_BENCHMARK)
    return (
        villages.assign(
            state=state,
            status=state.map({BELOW: "不完整"}),
            _order=pd.to_numeric(villages["township"].map(seq), errors="coerce"),
        )
        .sort_values(["_order", "township", "village"], kind="stable", na_position="last")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
