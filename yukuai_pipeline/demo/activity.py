"""Synthetic platform activity export (平台应用情况明细) for the demo and the tests: one row per event.

The county totals on the snapshot date are pinned to 酉阳民政发〔2023〕9号 一（三）: 居民诉求 480 件, 社区信息发布
135 条, 网上村（居）务公开 321 次, 社区事务在线协商 27 次, 民主决策 7 次 (all in 麻旺镇, the only township that held
any) and 民主评议 1 次, over 2022-06-01 .. the snapshot date. Use is uneven, as the notice complains: a few active
townships and villages carry most of it, about one village in ten never used the platform, and most villages never
used the rarer applications. Requests are mostly 已办结 (with 办结时间, 分流渠道 of the 三事分流 and usually a
满意度), some 办理中, and some 未处理 — several of those more than 7 days old.

The mess kept in is the kind that still matches: several spellings of a kind or status, an old township name, a
village's long official name or a stray space. Every event can be placed, so the totals read back exactly.

Everything comes from the activity export's own stream of the caller's seed (seeds.py); the wall clock is never
read.
"""

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from yukuai_pipeline.demo import noise
from yukuai_pipeline.demo.activity_words import (
    CHANNELS,
    CONSULTATION_TOPICS,
    DECISION_TOPICS,
    ID_PREFIX,
    KIND_SPELLINGS,
    NOTICE_TOPICS,
    RATINGS,
    REQUEST_TOPICS,
    STATUS_SPELLINGS,
)
from yukuai_pipeline.demo.exports import write_listing
from yukuai_pipeline.demo.places import short_names
from yukuai_pipeline.demo.seeds import ACTIVITY_STREAM, stream

NOTICE_TOTALS = {"request": 480, "notice": 135, "disclosure": 321, "consultation": 27, "decision": 7, "review": 1}
DECISION_TOWNSHIP = "麻旺镇"
FIRST_DAY = date(2022, 6, 1)
ACTIVITY_TITLE = "平台应用情况明细"
ACTIVITY_FOOTNOTE = "注：数据来源于重庆市智慧社区智慧养老云平台，按发生时间统计，含截止日当天"
ACTIVITY_COLUMNS = [
    "序号",
    "乡镇（街道）",
    "村（社区）",
    "事件编号",
    "类型",
    "标题",
    "发生时间",
    "办理状态",
    "办结时间",
    "分流渠道",
    "满意度",
]

# --------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------


def demo_activity(registry: pd.DataFrame, snapshot: date, seed: int) -> pd.DataFrame:
    """The export's rows (ACTIVITY_COLUMNS, as written) for the villages of `registry` (the demo's village registry:
    township, village with its long official name, committee_type, resident_population).

    Events fall on 2022-06-01 .. snapshot, so the file dated `snapshot` counts exactly NOTICE_TOTALS. The canonical
    kind of each row is in frame.attrs["kinds"], the totals in frame.attrs["totals"].
    """
    if snapshot < FIRST_DAY:
        raise ValueError(f"snapshot {snapshot} is before the first platform event {FIRST_DAY}")
    rng = stream(seed, ACTIVITY_STREAM)
    registry = registry.reset_index(drop=True)
    weight = _village_weights(rng, registry)
    n_days = (snapshot - FIRST_DAY).days + 1

    frames = []
    for kind, total in NOTICE_TOTALS.items():
        village = _villages_for(rng, registry, weight, kind, total)
        day = _days(rng, total, n_days, kind)
        frames.append(
            pd.DataFrame(
                {"kind": kind, "v": village, "day": day, "second": _daytime(rng, total, staff=kind != "request")}
            )
        )
    events = pd.concat(frames, ignore_index=True)
    events["occurred"] = [
        datetime.combine(FIRST_DAY, datetime.min.time()) + timedelta(days=int(d), seconds=int(s))
        for d, s in zip(events["day"], events["second"])
    ]
    events = events.sort_values(["occurred", "kind", "v"], kind="stable").reset_index(drop=True)
    end = datetime.combine(snapshot, datetime.min.time()) + timedelta(days=1)
    events = _requests(rng, events, snapshot, end)
    return _as_written(rng, events, registry, snapshot)


def write_activity(path: Path, frame: pd.DataFrame, snapshot: date) -> None:
    """Title (merged over the columns), 统计截止 line, header, rows, footnote; the same frame gives the same bytes."""
    write_listing(path, "平台应用情况", ACTIVITY_TITLE, snapshot, frame, ACTIVITY_COLUMNS, ACTIVITY_FOOTNOTE)


# --------------------------------------------------------------------------------------------------------------
# Where and when
# --------------------------------------------------------------------------------------------------------------


def _village_weights(rng: np.random.Generator, registry: pd.DataFrame) -> np.ndarray:
    """How much a village uses the platform: the township's zeal × the village's × √population; one in ten never."""
    townships = registry["township"].to_numpy()
    names = pd.unique(townships)
    zeal = dict(zip(names, rng.gamma(1.5, 1.0, len(names))))
    own = rng.gamma(0.9, 1.0, len(registry))
    population = (
        registry["resident_population"].to_numpy(dtype="float64")
        if "resident_population" in registry
        else np.full(len(registry), 1000.0)
    )
    weight = np.array([zeal[t] for t in townships]) * own * np.sqrt(np.maximum(population, 1.0))
    weight[rng.random(len(registry)) < 0.1] = 0.0
    if not weight.any():
        weight[:] = 1.0
    return weight


def _villages_for(
    rng: np.random.Generator, registry: pd.DataFrame, weight: np.ndarray, kind: str, total: int
) -> np.ndarray:
    """Row numbers of the registry, one per event. Rarer applications concentrate in the keenest villages; every
    民主决策 is in 麻旺镇 (anywhere, if the registry has no 麻旺镇)."""
    concentration = {
        "request": 1.0,
        "notice": 1.4,
        "disclosure": 1.1,
        "consultation": 2.2,
        "decision": 1.0,
        "review": 1.0,
    }[kind]
    w = weight**concentration
    if kind == "decision":
        in_town = (registry["township"] == DECISION_TOWNSHIP).to_numpy()
        if in_town.any():
            # two or three villages of 麻旺镇 that use the platform held them all
            candidates = np.flatnonzero(in_town)
            order = candidates[np.argsort(-(weight[candidates] + 1e-9 * rng.random(len(candidates))))]
            chosen = order[: int(rng.integers(2, 4))]
            w = np.zeros(len(registry))
            w[chosen] = rng.uniform(0.5, 1.5, len(chosen))
    if not w.any():
        w = np.ones(len(registry))
    counts = rng.multinomial(total, w / w.sum())
    return np.repeat(np.arange(len(registry)), counts)


def _days(rng: np.random.Generator, n: int, n_days: int, kind: str) -> np.ndarray:
    """Day offsets from 2022-06-01, denser towards the snapshot as the platform caught on. Disclosures follow the
    calendar: most are posted in the first ten days of a month."""
    back = np.floor(rng.beta(1.0, 1.5, n) * n_days).astype("int64")
    day = (n_days - 1) - back
    if kind == "disclosure":
        first = np.array([(FIRST_DAY + timedelta(days=int(d))).replace(day=1) for d in day], dtype="datetime64[D]")
        early = first + rng.integers(0, 10, n).astype("timedelta64[D]")
        early_day = (early - np.datetime64(FIRST_DAY, "D")).astype("int64")
        use_early = (rng.random(n) < 0.75) & (early_day <= n_days - 1) & (early_day >= 0)
        day = np.where(use_early, early_day, day)
    return day


def _daytime(rng: np.random.Generator, n: int, staff: bool) -> np.ndarray:
    """Seconds after midnight: office hours for what staff post, 07:00–22:30 for what residents submit."""
    if staff:
        return rng.integers(8 * 3600 + 1800, 18 * 3600, n)
    return rng.integers(7 * 3600, 22 * 3600 + 1800, n)


# --------------------------------------------------------------------------------------------------------------
# Requests: status, 办结时间, 分流渠道, 满意度
# --------------------------------------------------------------------------------------------------------------


def _requests(rng: np.random.Generator, events: pd.DataFrame, snapshot: date, end: datetime) -> pd.DataFrame:
    events = events.assign(status=None, closed=None, channel=None, rating=None)
    requests = np.flatnonzero(events["kind"].to_numpy() == "request")
    age = np.array([(snapshot - t.date()).days for t in events.loc[requests, "occurred"]])
    status = np.full(len(requests), "done", dtype=object)
    # 未处理: a few recent ones, and a good number left lying for more than 7 days
    recent, old = np.flatnonzero(age < 7), np.flatnonzero(age >= 7)
    pending = np.concatenate(
        [rng.choice(recent, min(5, len(recent)), replace=False), rng.choice(old, min(21, len(old)), replace=False)]
    ).astype("int64")
    status[pending] = "pending"
    # 办理中: about half of the last ten days' requests, and a few long-running ones
    open_p = np.where(age <= 10, 0.5, 0.03)
    in_progress = (rng.random(len(requests)) < open_p) & (status != "pending")
    status[in_progress] = "in_progress"
    done = status == "done"

    none = np.array(None, dtype=object)  # what np.where makes of a bare None (numpy's stubs do not take one)
    channel = np.where(status == "pending", none, _pick(rng, CHANNELS, len(requests)))
    occurred = events.loc[requests, "occurred"].to_list()
    hours = np.clip(rng.exponential(40.0, len(requests)), 0.5, 24 * 20)
    closed = [
        min(t + timedelta(hours=float(h)), end - timedelta(minutes=1)) if d else None
        for t, h, d in zip(occurred, hours, done)
    ]
    rated = done & (rng.random(len(requests)) < 0.86)
    words = _pick(rng, RATINGS, len(requests))
    scores = np.select([words == "满意", words == "基本满意"], [5, 4], 2)
    as_score = rng.random(len(requests)) < 0.1  # some villages' operators typed a score instead
    rating = np.where(rated, np.where(as_score, scores.astype(object), words), none)

    events.loc[requests, "status"] = status
    events.loc[requests, "closed"] = pd.Series(closed, index=requests, dtype=object)
    events.loc[requests, "channel"] = channel
    events.loc[requests, "rating"] = rating
    return events


def _pick(rng: np.random.Generator, choices: list[tuple[str, float]], n: int) -> np.ndarray:
    labels = np.array([c for c, _ in choices], dtype=object)
    weights = np.array([w for _, w in choices], dtype="float64")
    return labels[rng.choice(len(labels), n, p=weights / weights.sum())]


# --------------------------------------------------------------------------------------------------------------
# The rows as written
# --------------------------------------------------------------------------------------------------------------


def _as_written(rng: np.random.Generator, events: pd.DataFrame, registry: pd.DataFrame, snapshot: date) -> pd.DataFrame:
    n = len(events)
    v = events["v"].to_numpy()
    kinds = events["kind"].to_numpy()
    township = registry["township"].to_numpy(dtype=object)[v]
    long_name = registry["village"].to_numpy(dtype=object)[v]
    short = short_names(long_name).to_numpy(dtype=object)
    is_community = np.array([s.endswith("社区") for s in short])

    # places: an old township name on a few rows, the long village name on some, a stray space on a handful
    township_text = township.copy()
    noise.old_names(rng, township_text, township, share=0.2)
    village_text = short.copy()
    draw = rng.random(n)
    village_text[draw < 0.04] = long_name[draw < 0.04]
    for i in np.flatnonzero((draw >= 0.04) & (draw < 0.05)):
        village_text[i] = noise.with_stray_space(rng, village_text[i])

    # kinds, as the menus spell them; disclosures by what was disclosed
    label = np.empty(n, dtype=object)
    for kind, spellings in KIND_SPELLINGS.items():
        mine = kinds == kind
        label[mine] = _pick(rng, spellings, int(mine.sum()))
    disclosure = np.flatnonzero(kinds == "disclosure")
    what = rng.choice(4, len(disclosure), p=[0.6, 0.25, 0.08, 0.07])
    own_word = np.where(is_community[disclosure], "居务公开", "村务公开")
    label[disclosure] = np.select(
        [what == 0, what == 1, what == 2], ["村（居）务公开", own_word, "党务公开"], "财务公开"
    )

    occurred = events["occurred"].to_list()
    titles = [_title(rng, k, lab, t, s) for k, lab, t, s in zip(kinds, label, occurred, short)]
    status = events["status"].to_numpy(dtype=object)
    status_text = np.array(
        [_pick(rng, STATUS_SPELLINGS[s], 1)[0] if isinstance(s, str) else None for s in status], dtype=object
    )
    ids = [f"{ID_PREFIX[k]}{t:%Y%m%d}{i:05d}" for i, (k, t) in enumerate(zip(kinds, occurred), start=1)]

    frame = pd.DataFrame(
        {
            "序号": np.arange(1, n + 1),
            "乡镇（街道）": township_text,
            "村（社区）": village_text,
            "事件编号": ids,
            "类型": label,
            "标题": titles,
            "发生时间": [f"{t:%Y-%m-%d %H:%M:%S}" for t in occurred],
            "办理状态": status_text,
            "办结时间": [None if c is None or pd.isna(c) else f"{c:%Y-%m-%d %H:%M:%S}" for c in events["closed"]],
            "分流渠道": events["channel"].to_numpy(dtype=object),
            "满意度": events["rating"].to_numpy(dtype=object),
        }
    )[ACTIVITY_COLUMNS].astype(object)
    frame = frame.where(frame.notna(), None)  # blank cells as None, never NaN
    frame["序号"] = frame["序号"].astype("int64")
    frame.attrs["kinds"] = kinds.tolist()
    frame.attrs["totals"] = {k: int((kinds == k).sum()) for k in NOTICE_TOTALS}
    frame.attrs["snapshot"] = snapshot.isoformat()
    return frame


def _title(rng: np.random.Generator, kind: str, label: str, at: datetime, village: str) -> str:
    group = int(rng.integers(1, 9))
    if kind == "request":
        topic = REQUEST_TOPICS[int(rng.integers(len(REQUEST_TOPICS)))]
        return f"{group}组{topic}" if rng.random() < 0.4 else topic
    if kind == "notice":
        return f"关于开展{NOTICE_TOPICS[int(rng.integers(len(NOTICE_TOPICS)))]}的通知"
    if kind == "disclosure":
        month = at.replace(day=1) - timedelta(days=1)  # posted early in a month, about the month before
        return f"{village}{month.year}年{month.month}月{label}"
    if kind == "consultation":
        return f"关于{CONSULTATION_TOPICS[int(rng.integers(len(CONSULTATION_TOPICS)))].format(g=group)}的协商"
    if kind == "decision":
        return f"{village}{DECISION_TOPICS[int(rng.integers(len(DECISION_TOPICS)))]}民主决策"
    return f"{village}{at.year - 1}年度村（社区）干部述职民主评议"
