"""The workbook's 考核得分 sheet: each township's score, its rank and the points of each part (the parts add up to
the score), the weights stated as configured (the notice gives none), the date of the input each part was computed
from (数据未更新 where it is older than the campaign allows), and the parts without data named."""

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.metrics.data_dates import INPUTS, MISSING, date_phrase
from yukuai_pipeline.metrics.township_score import PART_INPUTS, PARTS, part_dates, weights_of
from yukuai_pipeline.report.cells import INT, PCT, SERIAL, TEXT, put_line, put_text, write_table
from yukuai_pipeline.report.data import ReportData
from yukuai_pipeline.report.print_setup import print_ready, wrap_prose

POINTS = "0.00"
SCORE_COLUMNS = [
    ("排名", "rank", INT),
    ("序号", "seq", SERIAL),
    ("乡镇（街道）", "township", TEXT),
    ("考核得分", "score", POINTS),
    *[(f"{label}得分", f"{part}_points", POINTS) for part, label in PARTS.items()],
    *[(label, f"{part}_share", PCT) for part, label in PARTS.items()],
    ("无数据的部分（记 0 分）", "missing", TEXT),
]
HEADER_ROW = 4  # title, weights and the parts' data dates above it
# a part scored from data whose date was not stored: scores written before the dates were kept (a rerun adds them)
UNRECORDED = "日期未记录（重新物化当天即可补上）"


def dates_line(data: ReportData) -> str:
    """`各部分所用数据的日期：注册完成率（用户注册导出）2023-02-24；…；六项应用使用率（平台应用明细）2023-02-17
    （9 天前，数据未更新）。` from the dates stored with the day's scores and the campaign's freshness limits."""
    scores = data.scores
    dates = part_dates(scores, data.snapshot_date, data.campaign.max_age_days)
    shown = []
    for part, label in PARTS.items():
        kind = PART_INPUTS[part]
        phrase = date_phrase(dates, kind)
        if phrase == MISSING and scores[f"{part}_share"].notna().any():
            phrase = UNRECORDED
        shown.append(f"{label}（{INPUTS[kind][0]}）{phrase}")
    return f"各部分所用数据的日期：{'；'.join(shown)}。"


def score_sheet(ws: Worksheet, data: ReportData) -> None:
    scores = getattr(data, "scores", None)
    if scores is None or scores.empty:
        put_text(ws.cell(1, 1), "尚无考核得分：需要当天的乡镇进度；其余部分没有数据时记 0 分。")
        print_ready(ws, data.snapshot_date, header_row=1, freeze=None)
        return
    width = len(SCORE_COLUMNS)
    weights = weights_of(data.campaign.score_weights)
    total = sum(weights.values())
    shown = "，".join(f"{PARTS[p]} {100 * weights[p] / total:g} 分" for p in PARTS)
    put_line(ws, 1, f"乡镇（街道）考核得分（{data.snapshot_date.isoformat()}，满分 100）", width, bold=True, size=14)
    put_line(ws, 2, f"权重（活动文件 campaign.yaml 的 score.weights，可配置；通知未规定权重）：{shown}。", width)
    put_line(ws, 3, dates_line(data), width)
    rows = scores.sort_values("rank", kind="stable").astype({"seq": "object"})
    last = write_table(ws, HEADER_ROW, SCORE_COLUMNS, rows)
    put_line(ws, last + 2, "各部分得分 = 权重 × 比率（比率超过 100% 按 100% 计），考核得分为各部分得分之和。", width)
    print_ready(ws, data.snapshot_date, header_row=HEADER_ROW, freeze="D5", title_rows=f"1:{HEADER_ROW}")
    # the dates line names five inputs: wrapped and as tall as its lines once the columns have their widths
    wrap_prose(ws, 3, sum(ws.column_dimensions[get_column_letter(c)].width for c in range(1, width + 1)))
