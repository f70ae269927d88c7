"""The county the demo uses: the townships of the campaign's target table and a synthetic village registry under them.

The townships, their resident populations and the baseline day come from the campaign folder (the attachment of
酉阳民政发〔2023〕9号); the villages are drawn: 4–12 per township, 260–290 in the county, whose populations add up
exactly to their township's.
"""

from datetime import date

import numpy as np
import pandas as pd

from yukuai_pipeline import settings
from yukuai_pipeline.demo.seeds import DEFAULT_SEED
from yukuai_pipeline.metrics.targets import allocate_largest_remainder
from yukuai_pipeline.places import campaign_places

# Characters of plausible rural place names. None of 村/社/区/居/委/会, so that a stem never looks like a suffix.
NAME_CHARS = (
    "青石花桥龙凤竹溪坪坝岩湾田山水木桂柏松梨桃杨柳金银红白黄沙河泉井塘"
    "坡岭坳沟堡寨关庙堰马鹿茶林峰槽峡洞坎丰安兴和新阳光明长高"
)

_VILLAGES_PER_TOWNSHIP = (4, 12)
_VILLAGES_IN_COUNTY = (260, 290)  # for 酉阳县's 39 townships (it has 278); scaled for a county of another size
_TOWNSHIPS_IN_COUNTY = 39


def demo_township_villages(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The village registry that generate_demo_data writes for this seed (long official village names)."""
    return build_registry(np.random.default_rng(seed), attachment())


# --------------------------------------------------------------------------------------------------------------
# Inputs from the campaign
# --------------------------------------------------------------------------------------------------------------


def baseline_date() -> date:
    return settings.campaign().baseline_date


def attachment() -> pd.DataFrame:
    """The campaign's target table: seq, township, resident_population, target, completed and gap of the baseline."""
    return pd.read_csv(settings.assets_dir() / settings.campaign().target_table, encoding="utf-8")


def old_township_names() -> dict[str, str]:
    """township -> an old name that some exports still use (宜居乡 -> 宜居镇)."""
    aliases = pd.read_csv(settings.assets_dir() / "township_aliases.csv", encoding="utf-8")
    return dict(zip(aliases["township"], aliases["alias"]))


# --------------------------------------------------------------------------------------------------------------
# Village registry
# --------------------------------------------------------------------------------------------------------------


def build_registry(rng: np.random.Generator, attachment: pd.DataFrame) -> pd.DataFrame:
    """township, village (long official name), village_code, committee_type, resident_population, households and
    group_count: one row per village, in attachment order."""
    county_code = settings.campaign().county.code
    townships = attachment["township"].tolist()
    counts = _village_counts(rng, attachment["resident_population"].to_numpy())
    stems = iter(_village_stems(rng, int(counts.sum()), townships))
    frames = []
    for township, township_code, population, count in zip(
        townships, _township_codes(townships), attachment["resident_population"], counts
    ):
        n_communities = _community_count(township, count)
        community_stems = [next(stems) for _ in range(n_communities)]
        village_stems = [next(stems) for _ in range(count - n_communities)]
        weights = rng.gamma(3.0, 1.0, count)
        if not township.endswith("街道"):
            weights[0] *= 2  # the seat of a 镇/乡 is its biggest place
        people = allocate_largest_remainder(int(population), weights)
        frames.append(
            pd.DataFrame(
                {
                    "township": township,
                    "village": [f"{s}社区居民委员会" for s in community_stems]
                    + [f"{s}村村民委员会" for s in village_stems],
                    "village_code": [f"{county_code}{township_code}{i:03d}" for i in range(1, n_communities + 1)]
                    + [f"{county_code}{township_code}{i:03d}" for i in range(200, 200 + len(village_stems))],
                    "committee_type": ["居委会"] * n_communities + ["村委会"] * len(village_stems),
                    "resident_population": people,
                    "households": np.rint(people / rng.uniform(2.8, 3.4, count)).astype("int64"),
                    "group_count": np.maximum(1, np.rint(people / rng.uniform(250, 450, count))).astype("int64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def short_names(long_names) -> pd.Series:
    """青石村村民委员会 -> 青石村, 龙凤社区居民委员会 -> 龙凤社区: the form exports mostly use."""
    return pd.Series(long_names).str.replace(r"(村民|居民)委员会$", "", regex=True)


def _village_counts(rng: np.random.Generator, populations: np.ndarray) -> np.ndarray:
    """4–12 villages per township, more in populous ones, 260–290 in a county of 39 townships (as many per township
    in a county of another size).

    Every township starts with the minimum; the rest goes out by population, and whatever a full township cannot
    take goes round again to the others.
    """
    low, high = _VILLAGES_PER_TOWNSHIP
    fewest, most = (round(n * len(populations) / _TOWNSHIPS_IN_COUNTY) for n in _VILLAGES_IN_COUNTY)
    total = int(rng.integers(fewest, most + 1))
    weights = populations * rng.uniform(0.8, 1.2, len(populations))
    counts = np.full(len(populations), low, dtype="int64")
    while (short := total - int(counts.sum())) > 0:
        extra = allocate_largest_remainder(short, np.where(counts < high, weights, 0.0))
        counts = np.minimum(counts + extra, high)
    return counts


def _village_stems(rng: np.random.Generator, n: int, townships: list[str]) -> list[str]:
    """Distinct two-character stems, unique across the county and never the start of a township's name."""
    pairs = [a + b for a in NAME_CHARS for b in NAME_CHARS if a != b]
    pairs = [p for p in pairs if not any(t.startswith(p) for t in townships)]
    return [pairs[i] for i in rng.choice(len(pairs), size=n, replace=False)]


def _township_codes(townships: list[str]) -> list[str]:
    """The 3 digits after the county's code: the campaign's township_codes.csv where it has them (酉阳县's are the
    statistics bureau's), else 001.. for 街道, 101.. for 镇, 201.. for 乡, in attachment order."""
    listed = campaign_places.township_codes(settings.campaign())
    if listed:
        return [listed[township][6:] for township in townships]
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
