"""The synthetic users of the platform in the demo window: who registered when, where, and when they were approved or
rejected, and what they typed.

The numbers that matter are pinned to the attachment of 酉阳民政发〔2023〕9号:

* on the baseline day (2023-02-17) the approved users of each township are exactly its 完成数 (28,632 in all);
* approved counts never fall from one day to the next: a user is pending, then approved or rejected, never
  un-approved, and no user leaves the platform;
* from day 1 on, a few users a day write a village the registry does not know, and 3–5 users in all a township
  nobody knows (未知乡).

Users follow population: a village's share of its township's users is its share of the township's residents.
"""

from datetime import date, timedelta

import numpy as np
import pandas as pd

from yukuai_pipeline.demo import noise
from yukuai_pipeline.demo.people import mobile_numbers
from yukuai_pipeline.demo.places import baseline_date, short_names
from yukuai_pipeline.metrics.targets import allocate_largest_remainder

NEVER = 10**6  # day index of a decision that never happens
UNKNOWN_TOWNSHIP = "未知乡"

_FIRST_BASELINE_REGISTRATION = date(2022, 6, 1)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙冉田彭向白石罗何胡谢龚崔"
_GIVEN_CHARS = "明华军平芳英兰红霞梅丽强伟勇秀玉福贵春秋云燕波涛辉敏静娟琴林海"
# Nicknames that a spreadsheet would read as a formula; downstream must keep them as literal text.
_FORMULA_LIKE_NICKNAMES = ["=SUM(A1)", "+86用户", "-小红", "@酉阳小助手"]


def build_users(rng: np.random.Generator, attachment: pd.DataFrame, registry: pd.DataFrame, days: int) -> pd.DataFrame:
    """One row per user the platform ever knows in the window, sorted by registration time.

    Times are seconds from midnight of the baseline day and decisions are day indices (0 = baseline day), so a
    day's snapshot is a prefix of the table and its statuses are two comparisons.
    """
    users = pd.concat(
        [
            _baseline_users(rng, attachment, registry),
            _new_users(rng, attachment, registry, days),
            _unknown_township_users(rng, registry, days),
        ],
        ignore_index=True,
    )
    order = np.lexsort((rng.random(len(users)), users["registered_s"].to_numpy()))
    users = users.iloc[order].reset_index(drop=True)
    # Platform ids grow with registration time; the gaps are users of other counties.
    users["user_id"] = [f"YK{i:08d}" for i in 10_300_000 + np.cumsum(rng.integers(1, 30, len(users)))]
    users["nickname"] = _nicknames(rng, len(users), in_every_file=np.flatnonzero(users["registered_s"] < 86_400))
    users["phone"] = mobile_numbers(rng, len(users))
    users["township_text"] = _township_texts(rng, users)
    users["village_text"] = _village_texts(rng, users, registry)
    registered = pd.Timestamp(baseline_date()) + pd.to_timedelta(users["registered_s"], unit="s")
    users["registered_text"] = registered.dt.strftime("%Y-%m-%d %H:%M:%S")
    return users


def _user_frame(
    township, village_rows, registered_s, approved_day, rejected_day, unknown_village=False
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "township": township,
            "village_row": np.asarray(village_rows, dtype="int64"),
            "registered_s": np.asarray(registered_s, dtype="int64"),
            "approved_day": np.asarray(approved_day, dtype="int64"),
            "rejected_day": np.asarray(rejected_day, dtype="int64"),
            "unknown_village": unknown_village,
        }
    )


def _baseline_users(rng: np.random.Generator, attachment: pd.DataFrame, registry: pd.DataFrame) -> pd.DataFrame:
    """Everyone on the platform on the baseline day: exactly 完成数 approved per township, plus ~3 % pending and
    ~1 % rejected."""
    frames = []
    for township, completed in zip(attachment["township"], attachment["completed_20230217"]):
        rows, share = _villages_of(registry, township)
        approved_rows = np.repeat(rows, allocate_largest_remainder(int(completed), share))
        frames.append(_approved_by_baseline(rng, township, approved_rows))
        n_pending = round(completed * rng.uniform(0.02, 0.04))
        frames.append(_pending_at_baseline(rng, township, rng.choice(rows, n_pending, p=share)))
        n_rejected = round(completed * rng.uniform(0.005, 0.015))
        frames.append(_rejected_by_baseline(rng, township, rng.choice(rows, n_rejected, p=share)))
    return pd.concat(frames, ignore_index=True)


def _approved_by_baseline(rng, township: str, village_rows: np.ndarray) -> pd.DataFrame:
    n = len(village_rows)
    registered_day = _days_before_baseline(rng, n, latest=0)
    # Reviewed within three days, but by the baseline day at the latest: these are the attachment's 完成数.
    approved_day = np.minimum(registered_day + rng.integers(0, 4, n), 0)
    return _user_frame(township, village_rows, _at_daytime(rng, registered_day), approved_day, np.full(n, NEVER))


def _pending_at_baseline(rng, township: str, village_rows: np.ndarray) -> pd.DataFrame:
    """Most registered in the last three days and are decided in the next three; the rest are old and stay pending."""
    n = len(village_rows)
    recent = rng.random(n) < 0.6
    registered_day = np.where(recent, -rng.integers(0, 3, n), _days_before_baseline(rng, n, latest=-3))
    approved_day, rejected_day = _decisions(rng, rng.integers(1, 4, n), p_approve=0.9, p_reject=0.05)
    approved_day = np.where(recent, approved_day, NEVER)
    rejected_day = np.where(recent, rejected_day, NEVER)
    return _user_frame(township, village_rows, _at_daytime(rng, registered_day), approved_day, rejected_day)


def _rejected_by_baseline(rng, township: str, village_rows: np.ndarray) -> pd.DataFrame:
    n = len(village_rows)
    registered_day = _days_before_baseline(rng, n, latest=-1)
    rejected_day = np.minimum(registered_day + rng.integers(1, 4, n), 0)
    return _user_frame(township, village_rows, _at_daytime(rng, registered_day), np.full(n, NEVER), rejected_day)


def _new_users(rng: np.random.Generator, attachment: pd.DataFrame, registry: pd.DataFrame, days: int) -> pd.DataFrame:
    """Registrations after the baseline day: Poisson per township and day, 0.3 %–1.2 % of the remaining gap.

    The rate is the township's own, so some are on pace for October and some lag; weekends are quieter.
    """
    townships = attachment["township"].to_numpy()
    rate = rng.uniform(0.003, 0.012, len(townships))
    remaining = attachment["gap_20230217"].to_numpy().astype("float64")
    per_day = np.zeros((days, len(townships)), dtype="int64")
    for day in range(1, days):
        weekend = (baseline_date() + timedelta(days=day)).weekday() >= 5
        per_day[day] = rng.poisson(rate * remaining * (0.6 if weekend else 1.0))
        remaining = np.maximum(remaining - per_day[day], 0.0)

    cell = np.repeat(np.arange(per_day.size), per_day.ravel())
    registered_day, township_index = np.divmod(cell, len(townships))
    village_rows = np.empty(len(cell), dtype="int64")
    for i, township in enumerate(townships):
        rows, share = _villages_of(registry, township)
        mine = township_index == i
        village_rows[mine] = rng.choice(rows, int(mine.sum()), p=share)
    approved_day, rejected_day = _decisions(
        rng, registered_day + rng.integers(1, 4, len(cell)), p_approve=0.92, p_reject=0.03
    )
    return _user_frame(
        townships[township_index],
        village_rows,
        _at_daytime(rng, registered_day),
        approved_day,
        rejected_day,
        unknown_village=_misspelt_village_flags(rng, registered_day, days),
    )


def _misspelt_village_flags(rng: np.random.Generator, registered_day: np.ndarray, days: int) -> np.ndarray:
    """From day 1 on, 5–20 of each day's new users write a village the registry does not know."""
    flags = np.zeros(len(registered_day), dtype=bool)
    for day in range(1, days):
        candidates = np.flatnonzero(registered_day == day)
        k = min(int(rng.integers(5, 21)), len(candidates))
        flags[rng.choice(candidates, k, replace=False)] = True
    return flags


def _unknown_township_users(rng: np.random.Generator, registry: pd.DataFrame, days: int) -> pd.DataFrame:
    """From day 1 on, 3–5 users whose township is 未知乡: pending, and approved by a careless reviewer or not."""
    n = int(rng.integers(3, 6)) if days > 1 else 0
    registered_day = rng.integers(1, max(days, 2), n)
    approved_day, rejected_day = _decisions(rng, registered_day + rng.integers(1, 4, n), p_approve=0.5, p_reject=0.0)
    return _user_frame(None, rng.choice(len(registry), n), _at_daytime(rng, registered_day), approved_day, rejected_day)


def _villages_of(registry: pd.DataFrame, township: str) -> tuple[np.ndarray, np.ndarray]:
    """Registry rows of a township and each one's share of its population (users follow population)."""
    mine = registry.index[registry["township"] == township].to_numpy()
    population = registry.loc[mine, "resident_population"].to_numpy().astype("float64")
    return mine, population / population.sum()


def _days_before_baseline(rng: np.random.Generator, n: int, latest: int) -> np.ndarray:
    """Day indices from 2022-06-01 to `latest`, denser towards the baseline as the platform caught on."""
    earliest = (_FIRST_BASELINE_REGISTRATION - baseline_date()).days
    return latest - np.floor(rng.beta(1.0, 1.6, n) * (latest - earliest + 1)).astype("int64")


def _at_daytime(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    """Seconds from baseline midnight: the given day, sometime between 07:00 and 23:00."""
    day = np.asarray(day, dtype="int64")
    return day * 86_400 + rng.integers(7 * 3600, 23 * 3600, len(day))


def _decisions(
    rng: np.random.Generator, decision_day: np.ndarray, p_approve: float, p_reject: float
) -> tuple[np.ndarray, np.ndarray]:
    """Approved or rejected on decision_day with these probabilities; otherwise pending for good."""
    outcome = rng.random(len(decision_day))
    approved = outcome < p_approve
    rejected = ~approved & (outcome < p_approve + p_reject)
    return np.where(approved, decision_day, NEVER), np.where(rejected, decision_day, NEVER)


# --------------------------------------------------------------------------------------------------------------
# What users typed: nicknames and the deliberate mess in township and village
# --------------------------------------------------------------------------------------------------------------


def _nicknames(rng: np.random.Generator, n: int, in_every_file: np.ndarray) -> np.ndarray:
    """居民1234, 冉秀英 or 微信用户; the formula-like ones go to users of the baseline day so every file has them."""
    kind = rng.choice(3, n, p=[0.35, 0.5, 0.15])
    resident = np.char.add("居民", rng.integers(1000, 10000, n).astype(str))
    given = np.char.add(
        rng.choice(list(_GIVEN_CHARS), n), np.where(rng.random(n) < 0.6, rng.choice(list(_GIVEN_CHARS), n), "")
    )
    person = np.char.add(rng.choice(list(_SURNAMES), n), given)
    names = np.where(kind == 0, resident, np.where(kind == 1, person, "微信用户")).astype(object)
    names[rng.choice(in_every_file, len(_FORMULA_LIKE_NICKNAMES), replace=False)] = _FORMULA_LIKE_NICKNAMES
    return names


def _township_texts(rng: np.random.Generator, users: pd.DataFrame) -> np.ndarray:
    """The township as written: the county prefix on a few rows, an old name on a few rows of renamed ones."""
    township = users["township"]
    texts = township.fillna(UNKNOWN_TOWNSHIP).to_numpy(dtype=object, copy=True)
    prefixed = noise.county_prefixed(rng, texts, township.notna().to_numpy(), share=0.002)
    noise.old_names(rng, texts, township, share=0.03, untouched=prefixed)
    return texts


def _village_texts(rng: np.random.Generator, users: pd.DataFrame, registry: pd.DataFrame) -> np.ndarray:
    """The village as written: mostly the short name, sometimes the registry's long one, a few with a stray space,
    and the flagged users with a name one character off."""
    short = short_names(registry["village"]).to_numpy(dtype=object)
    rows = users["village_row"].to_numpy()
    texts = short[rows]
    draw = rng.random(len(users))
    long_form = draw < 0.02
    texts[long_form] = registry["village"].to_numpy(dtype=object)[rows[long_form]]
    spaced = np.flatnonzero((draw >= 0.02) & (draw < 0.022))
    texts[spaced] = [noise.with_stray_space(rng, name) for name in texts[spaced]]
    misspelt = np.flatnonzero(users["unknown_village"].to_numpy())
    taken = {name[:2] for name in short}
    texts[misspelt] = [noise.misspelt(rng, name, taken) for name in short[rows[misspelt]]]
    return texts
