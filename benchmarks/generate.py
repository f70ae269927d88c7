"""A seeded synthetic city (SPEC §8) laid out as the pipeline expects it: a campaign folder (YUKUAI_ASSETS_DIR) with
the township target table, and a landing folder with the village registry and one day's user-level export.

    python -m benchmarks.generate --size city [--out benchmarks/data/city] [--seed 8]

The export is a CSV: a city-scale snapshot (≈ 3.8 million users) does not fit one Excel sheet (1,048,576 rows),
so the platform hands it out as CSV. At county and 10 % size the same rows are also written as an .xlsx (in
landing_xlsx/) to measure the workbook path against a bare calamine read.
"""

import argparse
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from yukuai_pipeline import settings
from yukuai_pipeline.demo.places import NAME_CHARS
from yukuai_pipeline.metrics.targets import allocate_largest_remainder, rule_target
from yukuai_pipeline.report.xlsx_files import write_streamed_xlsx

DAY = date(2023, 6, 30)  # the benchmarked partition
REGISTRY_DAY = date(2023, 2, 17)
FIRST_REGISTRATION = np.datetime64("2022-06-01T00:00:00")
DATA_ROOT = Path(__file__).resolve().parent / "data"
EXPORT_COLUMNS = ["序号", "用户ID", "昵称", "手机号", "乡镇（街道）", "村（社区）", "注册时间", "审核状态"]
REGISTRY_COLUMNS = [
    "序号",
    "社区编码",
    "乡镇（街道）",
    "村（社区）名称",
    "类型",
    "常住人口（人）",
    "户数",
    "村（居）民小组数",
]
# Chongqing's 38 districts and counties: only their names are real; everything below them is synthetic.
# (One spaced string reads as the list it is; SIM905's 38 quoted items would not.)
DISTRICTS = (  # noqa: SIM905
    "万州区 涪陵区 渝中区 大渡口区 江北区 沙坪坝区 九龙坡区 南岸区 北碚区 綦江区 大足区 渝北区 巴南区 黔江区 长寿区 "
    "江津区 合川区 永川区 南川区 璧山区 铜梁区 潼南区 荣昌区 开州区 梁平区 武隆区 城口县 丰都县 垫江县 忠县 云阳县 "
    "奉节县 巫山县 巫溪县 石柱土家族自治县 秀山土家族苗族自治县 酉阳土家族苗族自治县 彭水苗族土家族自治县"
).split()
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙冉田彭向白石罗何胡谢龚崔"
_GIVEN = "明华军平芳英兰红霞梅丽强伟勇秀玉福贵春秋云燕波涛辉敏静娟琴林海"
STATUSES = np.array(["已通过", "待审核", "已驳回"])


@dataclass(frozen=True)
class Size:
    districts: int
    townships: int
    villages: int
    users: int


SIZES = {  # each 10× the one before, so the scaling of time with rows is visible
    "tiny": Size(1, 3, 30, 3_000),
    "county": Size(1, 10, 110, 38_000),
    "10pct": Size(4, 100, 1_100, 380_000),
    "city": Size(38, 1_000, 11_000, 3_800_000),
}
XLSX_MAX_ROWS = 1_048_576


def data_dir(size: str, out: Path | None = None) -> Path:
    return Path(out) if out else DATA_ROOT / size


def generate(size: str, out: Path | None = None, seed: int = 8) -> Path:
    spec, folder = SIZES[size], data_dir(size, out)
    rng = np.random.default_rng(seed)
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "assets").mkdir(parents=True)
    (folder / "landing").mkdir()
    registry = _registry(rng, spec)
    attachment = _attachment(registry)
    _write_assets(folder / "assets", attachment, spec)
    _write_registry_csv(folder / "landing" / f"社区基本信息_{REGISTRY_DAY:%Y-%m-%d}.csv", registry)
    users = _users(rng, registry, spec.users)
    export = folder / "landing" / f"渝快社区注册用户_{DAY:%Y%m%d}.csv"
    _write_export_csv(export, users)
    if len(users) + 5 <= XLSX_MAX_ROWS and size != "city":
        (folder / "landing_xlsx").mkdir()
        shutil.copy(folder / "landing" / f"社区基本信息_{REGISTRY_DAY:%Y-%m-%d}.csv", folder / "landing_xlsx")
        _write_export_xlsx(folder / "landing_xlsx" / f"注册用户明细_{DAY:%Y-%m-%d}.xlsx", users)
    return folder


def _stems(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """n distinct stems of `length` characters (never containing 村/社/区/居, so never a suffix)."""
    chars = np.array(list(NAME_CHARS))
    seen: dict[str, None] = {}
    while len(seen) < n:
        for row in rng.choice(chars, size=(n, length)):
            seen.setdefault("".join(row), None)
    return list(seen)[:n]


def _registry(rng: np.random.Generator, spec: Size) -> pd.DataFrame:
    townships = [
        s + ("街道" if i % 5 == 0 else "乡" if i % 7 == 0 else "镇")
        for i, s in enumerate(_stems(rng, spec.townships, 3))
    ]
    district = np.sort(rng.integers(0, spec.districts, spec.townships))
    per_township = allocate_largest_remainder(spec.villages, rng.uniform(0.4, 1.6, spec.townships))
    frames = []
    for t, (township, count) in enumerate(zip(townships, per_township)):
        stems = _stems(rng, int(count), 2)
        communities = max(1, int(np.ceil(0.75 * count))) if township.endswith("街道") else 1
        people = np.maximum(200, rng.gamma(3.0, 970.0, count)).astype("int64")  # ≈ 2,900 per village
        code = f"5001{district[t]:02d}{t:04d}"
        frames.append(
            pd.DataFrame(
                {
                    "district": DISTRICTS[district[t]],
                    "township": township,
                    "village": [f"{s}社区居民委员会" for s in stems[:communities]]
                    + [f"{s}村村民委员会" for s in stems[communities:]],
                    "village_short": [f"{s}社区" for s in stems[:communities]]
                    + [f"{s}村" for s in stems[communities:]],
                    "village_code": [f"{code}{i:03d}" for i in range(count)],
                    "committee_type": ["居委会"] * communities + ["村委会"] * (count - communities),
                    "resident_population": people,
                    "households": np.rint(people / rng.uniform(2.8, 3.4, count)).astype("int64"),
                    "group_count": np.maximum(1, np.rint(people / rng.uniform(250, 450, count))).astype("int64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _attachment(registry: pd.DataFrame) -> pd.DataFrame:
    towns = registry.groupby("township", sort=False)["resident_population"].sum().reset_index()
    towns["target"] = [rule_target(p) for p in towns["resident_population"]]
    towns.insert(0, "seq", range(1, len(towns) + 1))
    towns["completed_20230217"] = 0
    towns["gap_20230217"] = towns["target"]
    return towns


def _write_assets(folder: Path, attachment: pd.DataFrame, spec: Size) -> None:
    """The county campaign's files, with the synthetic city's townships as its target table."""
    source = settings.assets_dir()
    campaign = yaml.safe_load((source / "campaign.yaml").read_text(encoding="utf-8"))
    campaign.update(
        campaign_id=f"synthetic-city-{spec.townships}", title="合成城市基准测试", target_table="attachment.csv"
    )
    campaign["county"] = {"name": "重庆市", "code": "500000", "name_prefixes": ["重庆市", *DISTRICTS[: spec.districts]]}
    (folder / "campaign.yaml").write_text(
        yaml.safe_dump(campaign, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    attachment.to_csv(folder / "attachment.csv", index=False, encoding="utf-8")
    (folder / "township_aliases.csv").write_text("alias,township,note\n", encoding="utf-8")
    shutil.copy(source / "roster_rules.yaml", folder / "roster_rules.yaml")


def _write_registry_csv(path: Path, registry: pd.DataFrame) -> None:
    table = registry[
        ["village_code", "township", "village", "committee_type", "resident_population", "households", "group_count"]
    ]
    table.insert(0, "序号", range(1, len(table) + 1))
    table.columns = REGISTRY_COLUMNS
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(f"统计截止：{REGISTRY_DAY:%Y-%m-%d}\r\n")
        table.to_csv(fh, index=False, lineterminator="\r\n")


def _users(rng: np.random.Generator, registry: pd.DataFrame, n: int) -> pd.DataFrame:
    """One row per user in order of registration: the village by population, 85 % approved, 10 % pending,
    5 % rejected."""
    weights = registry["resident_population"].to_numpy(dtype="float64")
    village = rng.choice(len(registry), size=n, p=weights / weights.sum())
    span = int((np.datetime64(f"{DAY}T23:59:59") - FIRST_REGISTRATION) / np.timedelta64(1, "s"))
    registered = FIRST_REGISTRATION + np.sort(rng.integers(0, span, n)).astype("timedelta64[s]")  # export order
    names = np.array([s + a + b for s in _SURNAMES for a in _GIVEN for b in ("", *_GIVEN[:8])])
    phones = pd.Series(rng.choice(["139", "138", "151", "187", "199", "177"], n)) + pd.Series(
        rng.integers(0, 10**8, n)
    ).astype(str).str.zfill(8)
    return pd.DataFrame(
        {
            "序号": np.arange(1, n + 1),
            "用户ID": pd.Series(rng.permutation(n) + 10**9).astype(str).radd("YK"),
            "昵称": rng.choice(names, n),
            "手机号": phones,
            "乡镇（街道）": registry["township"].to_numpy()[village],
            "村（社区）": registry["village_short"].to_numpy()[village],
            "注册时间": pd.Series(registered).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "审核状态": STATUSES[rng.choice(3, n, p=[0.85, 0.10, 0.05])],
        }
    )


def _write_export_csv(path: Path, users: pd.DataFrame) -> None:
    pad = "," * (len(EXPORT_COLUMNS) - 1)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(f"渝快社区注册用户明细{pad}\r\n导出时间：{DAY:%Y-%m-%d} 23:59{pad}\r\n")
        users.to_csv(fh, index=False, lineterminator="\r\n")
        fh.write(f"合计,共{len(users)}人{pad[1:]}\r\n制表人：系统导出{pad}\r\n")


def _write_export_xlsx(path: Path, users: pd.DataFrame) -> None:
    rows = [
        ["渝快社区注册用户明细"],
        [f"导出时间：{DAY:%Y-%m-%d} 23:59"],
        EXPORT_COLUMNS,
        *users.to_numpy(dtype=object).tolist(),
        ["合计", f"共{len(users)}人"],
        ["制表人：系统导出"],
    ]
    write_streamed_xlsx(path, "注册用户明细", rows, merged=["A1:H1"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="county")
    parser.add_argument("--out", type=Path, help="default benchmarks/data/<size>")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    print(generate(args.size, args.out, args.seed))


if __name__ == "__main__":
    main()
