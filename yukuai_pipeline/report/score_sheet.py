"""The workbook's 考核得分 sheet: each township's score, its rank and the points of each part (the parts add up to
the score), the weights stated as configured (the notice gives none), and the parts without data named."""

from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.metrics.township_score import PARTS, weights_of
from yukuai_pipeline.report.cells import INT, PCT, SERIAL, TEXT, put_line, put_text, write_table
from yukuai_pipeline.report.data import ReportData
from yukuai_pipeline.report.print_setup import print_ready

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
    rows = scores.sort_values("rank", kind="stable").astype({"seq": "object"})
    last = write_table(ws, 3, SCORE_COLUMNS, rows)
    put_line(ws, last + 2, "各部分得分 = 权重 × 比率（比率超过 100% 按 100% 计），考核得分为各部分得分之和。", width)
    print_ready(ws, data.snapshot_date, header_row=3, freeze="D4", title_rows="1:3")
