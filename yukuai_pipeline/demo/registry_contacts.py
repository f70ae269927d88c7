"""The registry export's 办公地址, 联系电话 and 负责人 columns, with the few faults a county's registry really has:
two villages without an address, two malformed phone numbers (a landline typed without its area code, a mobile
short of a digit), two without a 负责人, and two communities whose 户数 were typed into each other's rows (one of
them now has more households than residents).

Drawn from a stream of their own (seeds.py), so that adding them changed no draw of the registry, the users or any
other export; the swap moves no household out of the county, so every total stays as it was. Which village got
which fault is recorded in `faults` for the tests.
"""

import numpy as np
import pandas as pd

from yukuai_pipeline.demo.people import mobile_numbers
from yukuai_pipeline.demo.places import short_names

REGISTRY_CONTACTS_STREAM = 0xC0DE
HEADERS = ["办公地址", "联系电话", "负责人"]
# the county's common surnames (土家族、苗族 surnames 冉 田 彭 向 白 石 among them) and given-name characters
SURNAMES = list("冉田彭向白石杨王李张刘陈黄吴周罗何谢")
GIVEN = list("明华军平强伟勇福贵波涛辉林海国成建东文志清德永洪江兵芳英兰红霞梅丽秀玉春燕")


def stream_of(rng: np.random.Generator) -> np.random.Generator:
    """The stream of the seed the caller's registry Generator was made from (default_rng(seed)): nothing is drawn
    from the caller's Generator, so its next draws are the same as before these columns existed."""
    entropy = rng.bit_generator.seed_seq.entropy  # type: ignore[attr-defined]
    return np.random.default_rng([*np.atleast_1d(entropy).tolist(), REGISTRY_CONTACTS_STREAM])


def contacts(registry: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """(户数, 办公地址, 联系电话, 负责人 per registry row, village long name -> its faults)."""
    n = len(registry)
    short = short_names(registry["village"]).to_numpy()
    community = (registry["committee_type"] == "居委会").to_numpy()
    centre = np.where(community, "党群服务中心", "便民服务中心")
    address = pd.Series(registry["township"].to_numpy() + short + centre, dtype=object)
    landline = np.char.add("023-755", np.char.zfill(rng.integers(0, 10**5, n).astype(str), 5))
    phone = pd.Series(np.where(rng.random(n) < 0.7, landline, mobile_numbers(rng, n)), dtype=object)
    given = rng.choice(GIVEN, (n, 2))
    surname = rng.choice(SURNAMES, n)
    head = pd.Series([s + a + (b if two else "") for s, (a, b), two in zip(surname, given, rng.random(n) < 0.7)])
    households = registry["households"].astype("int64").reset_index(drop=True)
    faults: dict[str, list[str]] = {}

    def mark(i: int, fault: str) -> None:
        faults.setdefault(str(registry["village"].iloc[i]), []).append(fault)

    swapped = _swap_pair(registry)
    if swapped:
        small, big = swapped
        households[small], households[big] = households[big], households[small]
        mark(small, "户数")
    others = [i for i in range(n) if i not in (swapped or ())]
    picks = rng.choice(others, 6, replace=False)
    for i in picks[:2]:
        address[i] = None
        mark(i, "办公地址")
    phone[picks[2]] = str(landline[picks[2]]).removeprefix("023-")  # as the notice writes its own: 75558921
    phone[picks[3]] = str(mobile_numbers(rng, 1)[0])[:10]
    mark(picks[2], "联系电话")
    mark(picks[3], "联系电话")
    for i in picks[4:6]:
        head[i] = None
        mark(i, "负责人")
    frame = pd.DataFrame({"户数": households, "办公地址": address, "联系电话": phone, "负责人": head})
    return frame, faults


def _swap_pair(registry: pd.DataFrame) -> tuple[int, int] | None:
    """(the least populous community, the community with the most households) when swapping their 户数 gives the
    first more households than residents. Only communities: no roster rule reads a 居委会's 户数, so the roster's
    verdicts stay as they were."""
    communities = registry.reset_index(drop=True)
    communities = communities[communities["committee_type"] == "居委会"]
    if len(communities) < 2:
        return None
    small = int(communities["resident_population"].idxmin())
    big = int(communities["households"].idxmax())
    if small == big or communities.loc[big, "households"] <= communities.loc[small, "resident_population"]:
        return None
    return small, big
