"""Synthetic landing files for the demo and the tests: a village registry, one registration export per day and the
township summary of the first day.

Everything is drawn from one numpy Generator seeded by the caller, so a seed always gives the same files. The numbers
that matter are pinned to the attachment of 酉阳民政发〔2023〕9号:

* the villages of a township add up exactly to its resident population;
* on 2023-02-17 the approved users of each township are exactly its 完成数 (28,632 in all);
* approved counts never fall from one day to the next: a user is pending, then approved or rejected, never
  un-approved, and no user leaves the platform.

The mess of real exports is put in on purpose and kept small: short and long village names, stray spaces, a county
prefix or an old name before the township, villages the registry does not know, a township nobody knows, GBK and
BOM-less CSVs, half-width brackets in headers, thousands separators written as text and nicknames that look like
spreadsheet formulas.
"""

import csv
import io
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from yukuai_pipeline import settings
from yukuai_pipeline.metrics.targets import allocate_largest_remainder

DEFAULT_SEED = 20230217

# A fixed timestamp for workbook properties and zip entries: openpyxl and zipfile would otherwise stamp "now".
_FIXED_TIMESTAMP = datetime(2023, 2, 17, 8, 0, 0)

# Characters of plausible rural place names. None of 村/社/区/居/委/会, so that a stem never looks like a suffix.
_NAME_CHARS = "青石花桥龙凤竹溪坪坝岩湾田山水木桂柏松梨桃杨柳金银红白黄沙河泉井塘坡岭坳沟堡寨关庙堰马鹿茶林峰槽峡洞坎丰安兴和新阳光明长高"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙冉田彭向白石罗何胡谢龚崔"
_GIVEN_CHARS = "明华军平芳英兰红霞梅丽强伟勇秀玉福贵春秋云燕波涛辉敏静娟琴林海"
_MOBILE_PREFIXES = np.array([f"13{d}" for d in range(10)] + [f"15{d}" for d in "012356789"]
                            + ["170", "173", "175", "176", "177", "178"] + [f"18{d}" for d in range(10)]
                            + ["191", "198", "199"])
# Nicknames that a spreadsheet would read as a formula; downstream must keep them as literal text.
_FORMULA_LIKE_NICKNAMES = ["=SUM(A1)", "+86用户", "-小红", "@酉阳小助手"]

APPROVED, PENDING, REJECTED = "已通过", "待审核", "已驳回"
_NEVER = 10**6  # day index of a decision that never happens

_VILLAGES_PER_TOWNSHIP = (4, 12)
_VILLAGES_IN_COUNTY = (260, 290)
_FIRST_BASELINE_REGISTRATION = date(2022, 6, 1)
_COUNTY_PREFIX = "酉阳县"
_UNKNOWN_TOWNSHIP = "未知乡"

_EXPORT_TITLE = "渝快社区注册用户明细"
_EXPORT_COLUMNS = ["序号", "用户ID", "昵称", "手机号", "乡镇（街道）", "村（社区）", "注册时间", "审核状态"]
_REGISTRY_COLUMNS = ["序号", "社区编码", "乡镇（街道）", "村（社区）名称", "类型", "常住人口（人）", "户数",
                     "村（居）民小组数"]
# The attachment's title as the notice prints it (campaign.yaml spells the quotes in ASCII).
_SUMMARY_TITLE = "2023年全县“渝快社区”小程序注册使用目标任务安排表"
_GBK_DAYS = {3, 10}
_UTF8_WITHOUT_BOM_DAYS = {5}


# --------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------

def generate_demo_data(landing_dir: Path, days: int = 42, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the demo's landing files; return the paths written (sorted)."""
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    baseline = _baseline_date()
    attachment = _attachment()
    rng = np.random.default_rng(seed)
    registry = _build_registry(rng, attachment)

    paths = [
        _write_registry_xlsx(landing_dir / f"社区基本信息_{baseline:%Y-%m-%d}.xlsx", registry, baseline, rng),
        _write_summary_xlsx(landing_dir / f"乡镇注册汇总_{baseline:%Y-%m-%d}.xlsx", attachment, baseline),
    ]
    users = _build_users(rng, attachment, registry, days)
    for day in range(days):
        paths.append(_write_daily_export(landing_dir, users, day, baseline + timedelta(days=day)))
    from yukuai_pipeline.demo.roster import demo_roster, write_roster  # imports this module's xlsx writer
    roster_path = landing_dir / f"基层队伍信息_{baseline:%Y-%m-%d}.xlsx"
    write_roster(roster_path, demo_roster(registry, baseline, seed), baseline)
    paths.append(roster_path)
    from yukuai_pipeline.demo.activity import demo_activity, write_activity  # its own rng stream
    activity_path = landing_dir / f"平台应用情况_{baseline:%Y-%m-%d}.xlsx"
    write_activity(activity_path, demo_activity(registry, baseline, seed), baseline)
    paths.append(activity_path)
    return sorted(paths)


def demo_township_villages(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The village registry that generate_demo_data writes for this seed (long official village names)."""
    return _build_registry(np.random.default_rng(seed), _attachment())


# --------------------------------------------------------------------------------------------------------------
# Inputs from the campaign
# --------------------------------------------------------------------------------------------------------------

def _baseline_date() -> date:
    value = settings.campaign().baseline_date
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _attachment() -> pd.DataFrame:
    return pd.read_csv(settings.assets_dir() / settings.campaign().target_table, encoding="utf-8")


def _old_township_names() -> dict[str, str]:
    """township -> an old name that some exports still use (宜居乡 -> 宜居镇)."""
    aliases = pd.read_csv(settings.assets_dir() / "township_aliases.csv", encoding="utf-8")
    return dict(zip(aliases["township"], aliases["alias"]))


# --------------------------------------------------------------------------------------------------------------
# Village registry
# --------------------------------------------------------------------------------------------------------------

def _build_registry(rng: np.random.Generator, attachment: pd.DataFrame) -> pd.DataFrame:
    county_code = settings.campaign().county.code
    townships = attachment["township"].tolist()
    counts = _village_counts(rng, attachment["resident_population"].to_numpy())
    stems = iter(_village_stems(rng, int(counts.sum()), townships))
    frames = []
    for township, township_code, population, count in zip(
            townships, _township_codes(townships), attachment["resident_population"], counts):
        n_communities = _community_count(township, count)
        community_stems = [next(stems) for _ in range(n_communities)]
        village_stems = [next(stems) for _ in range(count - n_communities)]
        weights = rng.gamma(3.0, 1.0, count)
        if not township.endswith("街道"):
            weights[0] *= 2  # the seat of a 镇/乡 is its biggest place
        people = allocate_largest_remainder(int(population), weights)
        frames.append(pd.DataFrame({
            "township": township,
            "village": [f"{s}社区居民委员会" for s in community_stems] + [f"{s}村村民委员会" for s in village_stems],
            "village_code": [f"{county_code}{township_code}{i:03d}" for i in range(1, n_communities + 1)]
                            + [f"{county_code}{township_code}{i:03d}" for i in range(200, 200 + len(village_stems))],
            "committee_type": ["居委会"] * n_communities + ["村委会"] * len(village_stems),
            "resident_population": people,
            "households": np.rint(people / rng.uniform(2.8, 3.4, count)).astype("int64"),
            "group_count": np.maximum(1, np.rint(people / rng.uniform(250, 450, count))).astype("int64"),
        }))
    return pd.concat(frames, ignore_index=True)


def _village_counts(rng: np.random.Generator, populations: np.ndarray) -> np.ndarray:
    """4–12 villages per township, more in populous ones, 260–290 in the county.

    Every township starts with the minimum; the rest goes out by population, and whatever a full township cannot
    take goes round again to the others.
    """
    low, high = _VILLAGES_PER_TOWNSHIP
    total = int(rng.integers(_VILLAGES_IN_COUNTY[0], _VILLAGES_IN_COUNTY[1] + 1))
    weights = populations * rng.uniform(0.8, 1.2, len(populations))
    counts = np.full(len(populations), low, dtype="int64")
    while (short := total - int(counts.sum())) > 0:
        extra = allocate_largest_remainder(short, np.where(counts < high, weights, 0.0))
        counts = np.minimum(counts + extra, high)
    return counts


def _village_stems(rng: np.random.Generator, n: int, townships: list[str]) -> list[str]:
    """Distinct two-character stems, unique across the county and never the start of a township's name."""
    pairs = [a + b for a in _NAME_CHARS for b in _NAME_CHARS if a != b]
    pairs = [p for p in pairs if not any(t.startswith(p) for t in townships)]
    return [pairs[i] for i in rng.choice(len(pairs), size=n, replace=False)]


def _township_codes(townships: list[str]) -> list[str]:
    """001.. for 街道, 101.. for 镇, 201.. for 乡, in attachment order."""
    next_code = {"街道": 1, "镇": 101, "乡": 201}
    codes = []
    for township in townships:
        kind = next(k for k in next_code if township.endswith(k))
        codes.append(f"{next_code[kind]:03d}")
        next_code[kind] += 1
    return codes


def _community_count(township: str, village_count: int) -> int:
    """A 街道 is mostly 社区; a 镇 or 乡 has one 社区 at its seat and 村 around it."""
    return int(np.ceil(0.75 * village_count)) if township.endswith("街道") else 1


def _short_names(registry: pd.DataFrame) -> pd.Series:
    """青石村村民委员会 -> 青石村, 龙凤社区居民委员会 -> 龙凤社区: the form registration exports mostly use."""
    return registry["village"].str.replace(r"(村民|居民)委员会$", "", regex=True)


# --------------------------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------------------------

def _build_users(rng: np.random.Generator, attachment: pd.DataFrame, registry: pd.DataFrame,
                 days: int) -> pd.DataFrame:
    """One row per user the platform ever knows in the window, sorted by registration time.

    Times are seconds from midnight of the baseline day and decisions are day indices (0 = baseline day), so a
    day's snapshot is a prefix of the table and its statuses are two comparisons.
    """
    users = pd.concat([_baseline_users(rng, attachment, registry),
                       _new_users(rng, attachment, registry, days),
                       _unknown_township_users(rng, registry, days)], ignore_index=True)
    order = np.lexsort((rng.random(len(users)), users["registered_s"].to_numpy()))
    users = users.iloc[order].reset_index(drop=True)
    # Platform ids grow with registration time; the gaps are users of other counties.
    users["user_id"] = [f"YK{i:08d}" for i in 10_300_000 + np.cumsum(rng.integers(1, 30, len(users)))]
    users["nickname"] = _nicknames(rng, len(users), in_every_file=np.flatnonzero(users["registered_s"] < 86_400))
    users["phone"] = _mobile_numbers(rng, len(users))
    users["township_text"] = _township_texts(rng, users)
    users["village_text"] = _village_texts(rng, users, registry)
    registered = pd.Timestamp(_baseline_date()) + pd.to_timedelta(users["registered_s"], unit="s")
    users["registered_text"] = registered.dt.strftime("%Y-%m-%d %H:%M:%S")
    return users


def _user_frame(township, village_rows, registered_s, approved_day, rejected_day,
                unknown_village=False) -> pd.DataFrame:
    return pd.DataFrame({
        "township": township,
        "village_row": np.asarray(village_rows, dtype="int64"),
        "registered_s": np.asarray(registered_s, dtype="int64"),
        "approved_day": np.asarray(approved_day, dtype="int64"),
        "rejected_day": np.asarray(rejected_day, dtype="int64"),
        "unknown_village": unknown_village,
    })


def _baseline_users(rng: np.random.Generator, attachment: pd.DataFrame, registry: pd.DataFrame) -> pd.DataFrame:
    """Everyone on the platform on the baseline day: exactly 完成数 approved per township, plus ~3 % pending and
    ~1 % rejected."""
    frames = []
    for township, completed in zip(attachment["township"], attachment["completed_20230217"]):
        rows, share = _villages_of(registry, township)
        approved_rows = np.repeat(rows, allocate_largest_remainder(int(completed), share))
        frames.append(_approved_by_baseline(rng, township, approved_rows))
        n_pending = int(round(completed * rng.uniform(0.02, 0.04)))
        frames.append(_pending_at_baseline(rng, township, rng.choice(rows, n_pending, p=share)))
        n_rejected = int(round(completed * rng.uniform(0.005, 0.015)))
        frames.append(_rejected_by_baseline(rng, township, rng.choice(rows, n_rejected, p=share)))
    return pd.concat(frames, ignore_index=True)


def _approved_by_baseline(rng, township: str, village_rows: np.ndarray) -> pd.DataFrame:
    n = len(village_rows)
    registered_day = _days_before_baseline(rng, n, latest=0)
    # Reviewed within three days, but by the baseline day at the latest: these are the attachment's 完成数.
    approved_day = np.minimum(registered_day + rng.integers(0, 4, n), 0)
    return _user_frame(township, village_rows, _at_daytime(rng, registered_day), approved_day, np.full(n, _NEVER))


def _pending_at_baseline(rng, township: str, village_rows: np.ndarray) -> pd.DataFrame:
    """Most registered in the last three days and are decided in the next three; the rest are old and stay pending."""
    n = len(village_rows)
    recent = rng.random(n) < 0.6
    registered_day = np.where(recent, -rng.integers(0, 3, n), _days_before_baseline(rng, n, latest=-3))
    approved_day, rejected_day = _decisions(rng, rng.integers(1, 4, n), p_approve=0.9, p_reject=0.05)
    approved_day = np.where(recent, approved_day, _NEVER)
    rejected_day = np.where(recent, rejected_day, _NEVER)
    return _user_frame(township, village_rows, _at_daytime(rng, registered_day), approved_day, rejected_day)


def _rejected_by_baseline(rng, township: str, village_rows: np.ndarray) -> pd.DataFrame:
    n = len(village_rows)
    registered_day = _days_before_baseline(rng, n, latest=-1)
    rejected_day = np.minimum(registered_day + rng.integers(1, 4, n), 0)
    return _user_frame(township, village_rows, _at_daytime(rng, registered_day), np.full(n, _NEVER), rejected_day)


def _new_users(rng: np.random.Generator, attachment: pd.DataFrame, registry: pd.DataFrame,
               days: int) -> pd.DataFrame:
    """Registrations after the baseline day: Poisson per township and day, 0.3 %–1.2 % of the remaining gap.

    The rate is the township's own, so some are on pace for October and some lag; weekends are quieter.
    """
    townships = attachment["township"].to_numpy()
    rate = rng.uniform(0.003, 0.012, len(townships))
    remaining = attachment["gap_20230217"].to_numpy().astype("float64")
    per_day = np.zeros((days, len(townships)), dtype="int64")
    for day in range(1, days):
        weekend = (_baseline_date() + timedelta(days=day)).weekday() >= 5
        per_day[day] = rng.poisson(rate * remaining * (0.6 if weekend else 1.0))
        remaining = np.maximum(remaining - per_day[day], 0.0)

    cell = np.repeat(np.arange(per_day.size), per_day.ravel())
    registered_day, township_index = np.divmod(cell, len(townships))
    village_rows = np.empty(len(cell), dtype="int64")
    for i, township in enumerate(townships):
        rows, share = _villages_of(registry, township)
        mine = township_index == i
        village_rows[mine] = rng.choice(rows, int(mine.sum()), p=share)
    approved_day, rejected_day = _decisions(rng, registered_day + rng.integers(1, 4, len(cell)),
                                            p_approve=0.92, p_reject=0.03)
    return _user_frame(townships[township_index], village_rows, _at_daytime(rng, registered_day), approved_day,
                       rejected_day, unknown_village=_misspelt_village_flags(rng, registered_day, days))


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
    return _user_frame(None, rng.choice(len(registry), n), _at_daytime(rng, registered_day), approved_day,
                       rejected_day)


def _villages_of(registry: pd.DataFrame, township: str) -> tuple[np.ndarray, np.ndarray]:
    """Registry rows of a township and each one's share of its population (users follow population)."""
    mine = registry.index[registry["township"] == township].to_numpy()
    population = registry.loc[mine, "resident_population"].to_numpy().astype("float64")
    return mine, population / population.sum()


def _days_before_baseline(rng: np.random.Generator, n: int, latest: int) -> np.ndarray:
    """Day indices from 2022-06-01 to `latest`, denser towards the baseline as the platform caught on."""
    earliest = (_FIRST_BASELINE_REGISTRATION - _baseline_date()).days
    return latest - np.floor(rng.beta(1.0, 1.6, n) * (latest - earliest + 1)).astype("int64")


def _at_daytime(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    """Seconds from baseline midnight: the given day, sometime between 07:00 and 23:00."""
    day = np.asarray(day, dtype="int64")
    return day * 86_400 + rng.integers(7 * 3600, 23 * 3600, len(day))


def _decisions(rng: np.random.Generator, decision_day: np.ndarray, p_approve: float,
               p_reject: float) -> tuple[np.ndarray, np.ndarray]:
    """Approved or rejected on decision_day with these probabilities; otherwise pending for good."""
    outcome = rng.random(len(decision_day))
    approved = outcome < p_approve
    rejected = ~approved & (outcome < p_approve + p_reject)
    return np.where(approved, decision_day, _NEVER), np.where(rejected, decision_day, _NEVER)


# --------------------------------------------------------------------------------------------------------------
# What users typed: names, phones and the deliberate mess in township and village
# --------------------------------------------------------------------------------------------------------------

def _nicknames(rng: np.random.Generator, n: int, in_every_file: np.ndarray) -> np.ndarray:
    """居民1234, 冉秀英 or 微信用户; the formula-like ones go to users of the baseline day so every file has them."""
    kind = rng.choice(3, n, p=[0.35, 0.5, 0.15])
    resident = np.char.add("居民", rng.integers(1000, 10000, n).astype(str))
    given = np.char.add(rng.choice(list(_GIVEN_CHARS), n),
                        np.where(rng.random(n) < 0.6, rng.choice(list(_GIVEN_CHARS), n), ""))
    person = np.char.add(rng.choice(list(_SURNAMES), n), given)
    names = np.where(kind == 0, resident, np.where(kind == 1, person, "微信用户")).astype(object)
    names[rng.choice(in_every_file, len(_FORMULA_LIKE_NICKNAMES), replace=False)] = _FORMULA_LIKE_NICKNAMES
    return names


def _mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.char.add(rng.choice(_MOBILE_PREFIXES, n), np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8))


def _township_texts(rng: np.random.Generator, users: pd.DataFrame) -> np.ndarray:
    """The township as written: the county prefix on a few rows, an old name on a few rows of renamed ones."""
    township = users["township"]
    texts = township.fillna(_UNKNOWN_TOWNSHIP).to_numpy(dtype=object, copy=True)
    known = township.notna().to_numpy()
    prefixed = known & (rng.random(len(users)) < 0.002)
    texts[prefixed] = _COUNTY_PREFIX + texts[prefixed]
    old_name = township.map(_old_township_names()).to_numpy(dtype=object)
    renamed = pd.notna(old_name) & ~prefixed & (rng.random(len(users)) < 0.03)
    texts[renamed] = old_name[renamed]
    return texts


def _village_texts(rng: np.random.Generator, users: pd.DataFrame, registry: pd.DataFrame) -> np.ndarray:
    """The village as written: mostly the short name, sometimes the registry's long one, a few with a stray space,
    and the flagged users with a name one character off."""
    short = _short_names(registry).to_numpy(dtype=object)
    rows = users["village_row"].to_numpy()
    texts = short[rows]
    draw = rng.random(len(users))
    long_form = draw < 0.02
    texts[long_form] = registry["village"].to_numpy(dtype=object)[rows[long_form]]
    spaced = np.flatnonzero((draw >= 0.02) & (draw < 0.022))
    texts[spaced] = [_with_stray_space(rng, name) for name in texts[spaced]]
    misspelt = np.flatnonzero(users["unknown_village"].to_numpy())
    taken = {name[:2] for name in short}
    texts[misspelt] = [_misspelt(rng, name, taken) for name in short[rows[misspelt]]]
    return texts


def _with_stray_space(rng: np.random.Generator, name: str) -> str:
    """天山堡村 -> 天 山堡村 or 天山堡　村: an ASCII or ideographic space somewhere inside."""
    at = int(rng.integers(1, len(name)))
    return name[:at] + (" " if rng.random() < 0.5 else "\u3000") + name[at:]


def _misspelt(rng: np.random.Generator, short_name: str, taken_stems: set[str]) -> str:
    """One character of the stem changed so that it is no stem of the county (青石村 -> 青岩村 if 青岩 is free)."""
    stem, suffix = short_name[:2], short_name[2:]
    at = int(rng.integers(0, 2))
    while True:
        candidate = stem[:at] + rng.choice(list(_NAME_CHARS)) + stem[at + 1:]
        if candidate not in taken_stems and candidate[0] != candidate[1]:
            return candidate + suffix


# --------------------------------------------------------------------------------------------------------------
# Daily registration exports
# --------------------------------------------------------------------------------------------------------------

def _write_daily_export(landing_dir: Path, users: pd.DataFrame, day: int, on: date) -> Path:
    """Every 7th day an xlsx from another menu of the platform; otherwise a CSV in one of three encodings."""
    table = _snapshot(users, day)
    # The snapshot holds the whole day, so it is exported the next morning.
    exported = f"导出时间：{on + timedelta(days=1):%Y-%m-%d} 08:00"
    if day % 7 == 0:
        path = landing_dir / f"注册用户明细_{on:%Y-%m-%d}.xlsx"
        _write_export_xlsx(path, table, exported)
        return path
    if day % 2 == 0:
        table = table.rename(columns={"乡镇（街道）": "乡镇(街道)", "村（社区）": "村(社区)"})
    path = landing_dir / f"渝快社区注册用户_{on:%Y%m%d}.csv"
    _write_export_csv(path, table, exported, _csv_encoding(day))
    return path


def _csv_encoding(day: int) -> str:
    if day in _GBK_DAYS:
        return "gbk"
    if day in _UTF8_WITHOUT_BOM_DAYS:
        return "utf-8"
    return "utf-8-sig"


def _snapshot(users: pd.DataFrame, day: int) -> pd.DataFrame:
    """Everyone registered by the end of the day, with the status they had then."""
    known = users.iloc[: int(np.searchsorted(users["registered_s"].to_numpy(), (day + 1) * 86_400))]
    status = np.select([known["approved_day"].to_numpy() <= day, known["rejected_day"].to_numpy() <= day],
                       [APPROVED, REJECTED], PENDING)
    columns = [np.arange(1, len(known) + 1), known["user_id"], known["nickname"], known["phone"],
               known["township_text"], known["village_text"], known["registered_text"], status]
    return pd.DataFrame({name: np.asarray(values) for name, values in zip(_EXPORT_COLUMNS, columns)})


def _export_footer(table: pd.DataFrame) -> list[list]:
    return [["合计", f"共{len(table)}人"], ["制表人：系统导出"]]


def _write_export_csv(path: Path, table: pd.DataFrame, exported: str, encoding: str) -> None:
    width = len(table.columns)

    def padded(*cells):
        return list(cells) + [""] * (width - len(cells))

    # CRLF as the platform (a Windows export) writes it, and so the bytes do not depend on the OS we run on.
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerows([padded(_EXPORT_TITLE), padded(exported)])
        table.to_csv(fh, index=False, lineterminator="\r\n")
        writer.writerows(padded(*row) for row in _export_footer(table))


def _write_export_xlsx(path: Path, table: pd.DataFrame, exported: str) -> None:
    header = [[_EXPORT_TITLE], [exported], list(table.columns)]
    rows = [*header, *table.to_numpy(dtype=object).tolist(), *_export_footer(table)]
    _write_streamed_xlsx(path, "注册用户明细", rows, merged=[f"A1:{_column_letter(len(table.columns))}1"])


# --------------------------------------------------------------------------------------------------------------
# Registry and summary workbooks
# --------------------------------------------------------------------------------------------------------------

def _write_registry_xlsx(path: Path, registry: pd.DataFrame, baseline: date, rng: np.random.Generator) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "社区基本信息"
    ws.append(["酉阳县村（社区）基本信息表"])
    ws.merge_cells(f"A1:{_column_letter(len(_REGISTRY_COLUMNS))}1")
    ws.append([f"统计截止：{baseline:%Y-%m-%d}"])
    ws.append(_REGISTRY_COLUMNS)
    # Some rows were typed in by hand with thousands separators, so the cell is text, not a number.
    as_text = (rng.random(len(registry)) < 0.15) & (registry["resident_population"].to_numpy() >= 1000)
    for i, (village, text_population) in enumerate(zip(registry.itertuples(index=False), as_text), start=1):
        population = f"{village.resident_population:,}" if text_population else int(village.resident_population)
        ws.append([i, village.village_code, village.township, village.village, village.committee_type, population,
                   int(village.households), int(village.group_count)])
    ws.append(["合计", None, None, None, None, int(registry["resident_population"].sum()),
               int(registry["households"].sum()), int(registry["group_count"].sum())])
    ws.append(["注：数据来源于重庆市智慧社区智慧养老云平台"])
    _save_stable(wb, path)
    return path


def _write_summary_xlsx(path: Path, attachment: pd.DataFrame, baseline: date) -> Path:
    """The attachment as a township summary export: a two-row header and text numbers with thousands separators."""
    wb = Workbook()
    ws = wb.active
    ws.title = "注册汇总"
    ws.append([_SUMMARY_TITLE])
    ws.merge_cells("A1:G1")
    ws.append([f"统计截止：{baseline.year}年{baseline.month}月{baseline.day}日"])
    ws.append(["序号", "乡镇（街道）", "常住人口数（人）", "任务数（人）", "注册情况", None, "备注"])
    ws.append([None, None, None, None, "完成数", "尚差任务数", None])
    ws.merge_cells("E3:F3")
    for column in "ABCDG":
        ws.merge_cells(f"{column}3:{column}4")
    for row in attachment.itertuples(index=False):
        ws.append([int(row.seq), row.township, f"{row.resident_population:,}", f"{row.target:,}",
                   int(row.completed_20230217), int(row.gap_20230217), None])
    ws.append(["合计", None, f"{attachment['resident_population'].sum():,}", f"{attachment['target'].sum():,}",
               int(attachment["completed_20230217"].sum()), int(attachment["gap_20230217"].sum()), None])
    ws.merge_cells(f"A{ws.max_row}:B{ws.max_row}")
    _save_stable(wb, path)
    return path


def _column_letter(n: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n - 1]


def _save_stable(wb: Workbook, path: Path) -> None:
    """Save with fixed document dates, so that the same content gives the same bytes.

    Workbook.save stamps properties.modified with the clock, so the writer behind it is called directly.
    """
    wb.properties.created = wb.properties.modified = _FIXED_TIMESTAMP
    buffer = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    with zipfile.ZipFile(buffer) as saved:
        _write_zip(path, {entry: saved.read(entry) for entry in saved.namelist()})


def _write_zip(path: Path, parts: dict[str, bytes]) -> None:
    """Zip with fixed entry times and modes (zipfile stamps "now" and the temp file's mode otherwise)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            entry = zipfile.ZipInfo(name, date_time=_FIXED_TIMESTAMP.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)


# --------------------------------------------------------------------------------------------------------------
# Streamed xlsx, as the platform's exporter writes it
# --------------------------------------------------------------------------------------------------------------
# openpyxl without lxml (not a dependency) serialises ~40,000 cells a second: 10 s for one 46,000-user snapshot,
# most of the 60 s budget for six of them. Platform exporters (POI SXSSF, EasyExcel) write a bare package with
# inline strings instead; so does this, in a fraction of a second, and calamine and openpyxl read it like any xlsx.

_SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIP_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = _XML_DECLARATION + (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>')
_PACKAGE_RELS = _XML_DECLARATION + (
    f'<Relationships xmlns="{_PACKAGE_RELATIONSHIP_NS}">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIP_NS}/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>')
_WORKBOOK_RELS = _XML_DECLARATION + (
    f'<Relationships xmlns="{_PACKAGE_RELATIONSHIP_NS}">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIP_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_RELATIONSHIP_NS}/styles" Target="styles.xml"/>'
    '</Relationships>')
_STYLES = _XML_DECLARATION + (
    f'<styleSheet xmlns="{_SPREADSHEET_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def _write_streamed_xlsx(path: Path, sheet_name: str, rows: list[list], merged: list[str]) -> None:
    workbook = _XML_DECLARATION + (
        f'<workbook xmlns="{_SPREADSHEET_NS}" xmlns:r="{_RELATIONSHIP_NS}">'
        f'<sheets><sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    _write_zip(path, {
        "[Content_Types].xml": _CONTENT_TYPES.encode(),
        "_rels/.rels": _PACKAGE_RELS.encode(),
        "xl/workbook.xml": workbook.encode(),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.encode(),
        "xl/styles.xml": _STYLES.encode(),
        "xl/worksheets/sheet1.xml": _sheet_xml(rows, merged).encode(),
    })


def _sheet_xml(rows: list[list], merged: list[str]) -> str:
    letters = [_column_letter(c) for c in range(1, max(map(len, rows)) + 1)]
    parts = [_XML_DECLARATION, f'<worksheet xmlns="{_SPREADSHEET_NS}"><sheetData>']
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell_xml(f"{letter}{r}", value) for letter, value in zip(letters, row) if value is not None)
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData>")
    if merged:
        parts.append(f'<mergeCells count="{len(merged)}">'
                     + "".join(f'<mergeCell ref="{ref}"/>' for ref in merged) + "</mergeCells>")
    parts.append("</worksheet>")
    return "".join(parts)


def _cell_xml(ref: str, value) -> str:
    if isinstance(value, (int, np.integer)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'
