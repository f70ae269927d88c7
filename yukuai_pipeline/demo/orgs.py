"""Synthetic community social organisation list (社区社会组织信息) for the demo and the tests: one row per organisation.

Most villages have 2–12 organisations: a 社区 6–13, a 村 2–9, so some communities fall below the benchmark of
民发〔2017〕191号 (10 urban, 5 rural). About one in eight is registered (登记) with civil affairs and carries a
统一社会信用代码 of 民政 (5), 社会团体 (1) or 民办非企业单位 (2), registered in the county, its 主体标识码 MJ… and
both check characters right; the others are filed (备案) with a 备案编号 and a 指导单位. The leader's mobile is in
the 联系电话 column, as the platform exports it (the pipeline drops it at ingest).

Planted faults, recorded by 序号 in frame.attrs: three credit codes with a wrong check character, one with the letter
O typed for a digit, one valid code from a business licence (工商, 9) instead of civil affairs, one filed
organisation without its 指导单位, and one organisation entered twice (its name with a stray space). Everything comes
from the export's own stream of the caller's seed (seeds.py), so the other demo files keep their bytes.
"""

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from yukuai_pipeline.demo import noise
from yukuai_pipeline.demo.exports import write_listing
from yukuai_pipeline.demo.people import particulars
from yukuai_pipeline.demo.places import short_names
from yukuai_pipeline.demo.seeds import stream
from yukuai_pipeline.quality.credit_code import CHARSET, credit_check_char, organisation_check_char

ORGS_STREAM = 0x0C50  # seeds.stream(seed, ORGS_STREAM): this export's own Generator
ORGS_TITLE = "社区社会组织信息"
ORGS_FOOTNOTE = (
    "注：数据来源于重庆市智慧社区智慧养老云平台；登记的组织填统一社会信用代码，备案的组织填备案编号和指导单位"
)
ORGS_COLUMNS = [
    "序号",
    "乡镇（街道）",
    "村（社区）",
    "组织名称",
    "组织类型",
    "负责人",
    "联系电话",
    "成立日期",
    "成员数",
    "登记状态",
    "统一社会信用代码",
    "备案编号",
    "指导单位",
]
FIRST_ROW = 4  # title, 统计截止, header, then the rows: 序号 n is on line n + 3
PER_VILLAGE = {"社区": (6, 13), "村": (2, 9)}
REGISTERED_SHARE = 0.12
# (name after the village's, type) — the kinds 民发〔2017〕191号 asks to foster
KINDS = [
    ("老年人协会", "生活服务类"),
    ("志愿服务队", "公益慈善类"),
    ("文艺宣传队", "文体娱乐类"),
    ("摆手舞队", "文体娱乐类"),
    ("广场舞队", "文体娱乐类"),
    ("红白理事会", "居民互助类"),
    ("乡贤理事会", "居民互助类"),
    ("邻里互助会", "居民互助类"),
    ("关爱留守儿童服务队", "公益慈善类"),
    ("互助养老服务队", "生活服务类"),
    ("平安巡逻队", "居民互助类"),
    ("书画协会", "文体娱乐类"),
    ("篮球协会", "文体娱乐类"),
    ("环境卫生志愿队", "公益慈善类"),
    ("妇女互助会", "居民互助类"),
    ("种养殖技术协会", "农村生产技术服务类"),
    ("青年志愿者协会", "公益慈善类"),
    ("家政便民服务社", "生活服务类"),
]
FIRST_DAY = date(2016, 1, 1)


def demo_orgs(registry: pd.DataFrame, snapshot: date, seed: int) -> pd.DataFrame:
    """The export's rows (ORGS_COLUMNS, as written) for the villages of `registry` (the demo's registry: township,
    village with its long official name, village_code). The planted faults' 序号 are in frame.attrs."""
    rng = stream(seed, ORGS_STREAM)
    registry = registry.reset_index(drop=True)
    short = short_names(registry["village"]).to_numpy(dtype=object)
    sizes = [int(rng.integers(*(PER_VILLAGE["社区" if s.endswith("社区") else "村"]), endpoint=True)) for s in short]
    v = np.repeat(np.arange(len(registry)), sizes)
    kind = np.concatenate([rng.choice(len(KINDS), n, replace=False) for n in sizes])
    n = len(v)
    township = registry["township"].to_numpy(dtype=object)[v]
    people = particulars(
        rng,
        list(rng.choice(["男", "女"], n, p=[0.6, 0.4])),
        [(30, 70)] * n,
        list(v),
        len(registry),
        snapshot,
        np.zeros(n, dtype=bool),
    )
    founded = [FIRST_DAY + timedelta(days=int(d)) for d in rng.integers(0, (snapshot - FIRST_DAY).days, n)]
    registered = rng.random(n) < REGISTERED_SHARE
    county = str(registry["village_code"].iloc[0])[:6]
    codes = _credit_codes(rng, county, int(registered.sum()))
    credit = np.full(n, None, dtype=object)
    credit[registered] = codes
    filing = np.array(
        [None if r else f"酉民社备〔{d.year}〕{i:04d}号" for i, (r, d) in enumerate(zip(registered, founded), 1)],
        dtype=object,
    )
    guide = np.where(
        rng.random(n) < 0.5, registry["village"].to_numpy(dtype=object)[v], [_government(t) for t in township]
    )
    town_text = township.copy()
    noise.old_names(rng, town_text, township, share=0.2)
    frame = pd.DataFrame(
        {
            "乡镇（街道）": town_text,
            "村（社区）": short[v],
            "组织名称": [f"{s}{KINDS[k][0]}" for s, k in zip(short[v], kind)],
            "组织类型": [KINDS[k][1] for k in kind],
            "负责人": people["姓名"].to_numpy(dtype=object),
            "联系电话": people["手机号"].to_numpy(dtype=object),
            "成立日期": [d.isoformat() for d in founded],
            "成员数": rng.integers(8, 81, n),
            "登记状态": np.where(registered, "登记", "备案"),
            "统一社会信用代码": credit,
            "备案编号": filing,
            "指导单位": np.where(registered, np.array(None, dtype=object), guide),
        }
    ).astype(object)
    return _with_faults(rng, frame, county)


def write_orgs(path: Path, frame: pd.DataFrame, snapshot: date) -> None:
    """Title (merged over the columns), 统计截止 line, header, rows, footnote; the same frame gives the same bytes."""
    write_listing(path, "社区社会组织", ORGS_TITLE, snapshot, frame, ORGS_COLUMNS, ORGS_FOOTNOTE)


def _government(township: str) -> str:
    return f"{township}办事处" if township.endswith("街道") else f"{township}人民政府"


def _credit_codes(rng: np.random.Generator, county: str, n: int) -> list[str]:
    """n distinct civil-affairs codes of the county: 5, 社会团体 (1) or 民办非企业单位 (2), MJ + 6 digits."""
    numbers = rng.choice(10**6, n, replace=False)
    classes = rng.choice(["1", "2"], n, p=[0.6, 0.4])
    codes = []
    for number, category in zip(numbers, classes):
        body = f"MJ{int(number):06d}"
        first17 = f"5{category}{county}{body}{organisation_check_char(body)}"
        codes.append(first17 + credit_check_char(first17))
    return codes


def _with_faults(rng: np.random.Generator, frame: pd.DataFrame, county: str) -> pd.DataFrame:
    """The planted faults, then 序号; each fault's 序号 in attrs."""
    registered = np.flatnonzero(frame["登记状态"].to_numpy() == "登记")
    filed = np.flatnonzero(frame["登记状态"].to_numpy() == "备案")
    picked = rng.choice(registered, 5, replace=False)
    wrong_check, typo_o, licence = picked[:3], picked[3], picked[4]
    for i in wrong_check:
        code = frame.at[i, "统一社会信用代码"]
        others = [c for c in CHARSET if c != code[17]]
        frame.at[i, "统一社会信用代码"] = code[:17] + others[int(rng.integers(len(others)))]
    code = frame.at[typo_o, "统一社会信用代码"]
    frame.at[typo_o, "统一社会信用代码"] = code[:12] + "O" + code[13:]
    body = f"MA{int(rng.integers(10**6)):06d}"  # a business licence's 主体标识码 (市场监管 issues MA…)
    first17 = f"92{county}{body}{organisation_check_char(body)}"
    frame.at[licence, "统一社会信用代码"] = first17 + credit_check_char(first17)
    no_guide, copied = rng.choice(filed, 2, replace=False)
    frame.at[no_guide, "指导单位"] = None
    copy = frame.loc[[copied]].copy()
    copy["组织名称"] = noise.with_stray_space(rng, copy["组织名称"].iloc[0])
    frame = pd.concat([frame.loc[:copied], copy, frame.loc[copied + 1 :]], ignore_index=True)
    frame.insert(0, "序号", np.arange(1, len(frame) + 1))
    frame = frame.where(frame.notna(), None)
    frame["序号"] = frame["序号"].astype("int64")
    frame["成员数"] = frame["成员数"].astype("int64")

    def seq(i: int) -> int:  # 序号 of an original row, after the copy went in below `copied`
        return int(i) + 1 + int(i > copied)

    frame.attrs = {
        "wrong_check_rows": sorted(seq(i) for i in wrong_check),
        "illegal_char_rows": [seq(typo_o)],
        "not_civil_affairs_rows": [seq(licence)],
        "missing_guide_rows": [seq(no_guide)],
        "duplicate_rows": [(seq(copied), seq(copied) + 1)],  # (the original, its copy)
    }
    return frame
