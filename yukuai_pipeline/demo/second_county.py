"""The demo's second county (演示县, 509901 — fictional: no Chongqing district has that code): its notice, written
as a county bureau would publish it (text with a tab-separated attachment table), for `yukuai campaign import`.

Half of its townships carry the names of 酉阳县's on purpose (龙潭镇, 钟多街道 …): the city edition must keep two
counties' 龙潭镇 apart. Populations are drawn from the seed; targets follow the notice's own rule,
2 × round_half_up(population × 0.06), so the import's checks pass as they do for Youyang's real notice.
"""

import datetime as dt
from pathlib import Path

import numpy as np

from yukuai_pipeline.demo.seeds import DEFAULT_SEED
from yukuai_pipeline.file_modes import private_dir, private_file
from yukuai_pipeline.metrics.targets import rule_target

CODE = "509901"
NAME = "演示县"
# the first six are 酉阳县's township names (collisions on purpose); the rest are the county's own
TOWNSHIPS = (
    "钟多街道",
    "龙潭镇",
    "麻旺镇",
    "酉酬镇",
    "兴隆镇",
    "黑水镇",
    "城南街道",
    "石门镇",
    "清溪镇",
    "白云乡",
    "青山乡",
    "红岩乡",
)
BASELINE = dt.date(2023, 2, 17)
NOTICE_NAME = f"{NAME}民政局关于推广渝快社区的通知.txt"


def attachment_rows(seed: int = DEFAULT_SEED) -> list[tuple[int, str, int, int, int, int]]:
    """(序号, 乡镇（街道）, 常住人口数, 任务数, 完成数, 尚差任务数) for each township, from the seed."""
    rng = np.random.default_rng(seed + int(CODE))
    rows = []
    for seq, township in enumerate(TOWNSHIPS, start=1):
        low, high = (30_000, 60_000) if township.endswith("街道") else (8_000, 30_000)
        population = int(rng.integers(low, high))
        target = rule_target(population)
        completed = int(target * rng.uniform(0.05, 0.3))
        rows.append((seq, township, population, target, completed, target - completed))
    return rows


def notice_text(seed: int = DEFAULT_SEED) -> str:
    rows = attachment_rows(seed)
    total = [sum(int(r[i]) for r in rows) for i in (2, 3, 4, 5)]
    table = "\n".join(
        ["序号\t乡镇（街道）\t常住人口数（人）\t任务数（人）\t完成数\t尚差任务数\t备注"]
        + ["\t".join(str(v) for v in row) + "\t" for row in rows]
        + ["合计\t\t" + "\t".join(str(v) for v in total) + "\t"]
    )
    return f"""{NAME}民政局
演示民政发〔2023〕5号
{NAME}民政局
关于推广“渝快社区”小程序的通知（演示用虚构文件）
各乡镇人民政府、街道办事处：
为扩大“渝快社区”服务品牌的知晓度和影响力，辖区常住人口每万人使用“渝快社区”APP 或小程序人数不低于1200人。
10月底前，全县完成“渝快社区”用户注册使用{total[1]}人（具体任务数见附件）。
附件：2023年全县“渝快社区”小程序注册使用目标任务安排表
{NAME}民政局
{BASELINE.year}年{BASELINE.month}月{BASELINE.day}日
附件：
2023年全县“渝快社区”小程序注册使用目标任务安排表
{table}
"""


def write_notice(folder: Path, seed: int = DEFAULT_SEED) -> Path:
    """The notice file in `folder` (0640 in a 0750 folder); `yukuai campaign import` reads it."""
    path = private_dir(folder) / NOTICE_NAME
    path.write_text(notice_text(seed), encoding="utf-8")
    return private_file(path)
