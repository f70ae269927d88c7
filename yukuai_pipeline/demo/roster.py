"""Synthetic grassroots roster (基层队伍信息) for the demo and the tests: one row per person per role.

A county where most villages are in order and a few are not (posts.py builds who holds which post). The faults are
planted on purpose, each in its own villages or rows, and returned with the rows (DemoRoster.faults), so that a test
can check that the pipeline finds exactly those.

Everything comes from the roster's own stream of the caller's seed (seeds.py); the wall clock is never read.
"""

from datetime import date
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from yukuai_pipeline import settings
from yukuai_pipeline.demo import noise
from yukuai_pipeline.demo.exports import write_listing
from yukuai_pipeline.demo.people import particulars, wrong_check_char
from yukuai_pipeline.demo.places import short_names
from yukuai_pipeline.demo.posts import REPRESENTATIVE_ROW, VillagePosts
from yukuai_pipeline.demo.seeds import ROSTER_STREAM, stream

ROSTER_FOOTNOTE = "注：一人多职的按职务分行填写"
ROSTER_COLUMNS = [
    "序号",
    "乡镇（街道）",
    "村（社区）",
    "姓名",
    "性别",
    "民族",
    "出生年月",
    "身份证号",
    "手机号",
    "职务",
    "所在小组",
]


class DemoRoster(NamedTuple):
    """The roster's rows (ROSTER_COLUMNS, as written) and what was planted in them, keyed by fault: village lists hold
    the registry's (long) names, row lists the 序号 of the rows."""

    rows: pd.DataFrame
    faults: dict


def demo_roster(registry: pd.DataFrame, snapshot: date, seed: int) -> DemoRoster:
    """The roster of the villages of `registry` (the demo's village registry: township, village, committee_type,
    households, group_count) on the snapshot date, with the faults planted in it."""
    posts = VillagePosts(stream(seed, ROSTER_STREAM), registry.reset_index(drop=True))
    posts.build()
    return _as_written(posts, snapshot)


def write_roster(path: Path, roster: pd.DataFrame, snapshot: date) -> None:
    """Title (merged over the columns), 统计截止 line, header, rows, footnote; the same roster gives the same bytes."""
    write_listing(path, "基层队伍信息", roster_title(), snapshot, roster, ROSTER_COLUMNS, ROSTER_FOOTNOTE)


# --------------------------------------------------------------------------------------------------------------
# The rows as written
# --------------------------------------------------------------------------------------------------------------


def _as_written(posts: VillagePosts, snapshot: date) -> DemoRoster:
    """The posts as rows of the file, in village and post order, with the row faults planted; and every fault."""
    rng = posts.rng
    plan = posts.plan
    reg = posts.registry
    name_of = reg["village"].tolist()
    people, underage_persons, flipped_persons = _people(posts, snapshot)

    rows = pd.DataFrame(posts.rows, columns=["v", "p", "kind", "职务", "group", "所在小组"])
    rows["row_index"] = np.arange(len(rows))
    rows = rows.join(people, on="p")
    rows["乡镇（街道）"] = reg["township"].to_numpy()[rows["v"]]
    short = short_names(reg["village"]).to_numpy(dtype=object)
    rows["村（社区）"] = short[rows["v"]]
    rows = rows.sort_values(["v", "kind", "row_index"], kind="stable").reset_index(drop=True)
    rows["序号"] = np.arange(1, len(rows) + 1)
    seq = rows["序号"].to_numpy()

    # rows no other fault may touch: the duplicate pair, both rows of an overlap person, every planted person
    fixed = (
        rows["row_index"].isin(posts.duplicate_pair)
        | rows["p"].isin(posts.overlap_persons)
        | rows["p"].isin(underage_persons)
        | rows["p"].isin(flipped_persons)
    ).to_numpy(copy=True)

    # the village as typed: 2 rows (a man's 代表 row, so no count of women moves) of a village nobody knows
    taken = {name[:2] for name in short}
    misspelt_rows = []
    for v in plan["misspelt"]:
        candidates = np.flatnonzero(
            (rows["v"].to_numpy() == v)
            & (rows["kind"].to_numpy() == REPRESENTATIVE_ROW)
            & (rows["性别"].to_numpy() == "男")
            & ~fixed
        )
        i = int(candidates[rng.integers(len(candidates))])
        rows.loc[i, "村（社区）"] = noise.misspelt(rng, short[v], taken)
        misspelt_rows.append(i)
        fixed[i] = True

    free = np.flatnonzero(~fixed)
    free = free[rng.permutation(len(free))]
    cursor = 0

    def take(k: int) -> np.ndarray:
        nonlocal cursor
        chosen = np.sort(free[cursor : cursor + k])
        cursor += k
        return chosen

    # the long name on ~1 % of rows, stray spaces on a few
    n = len(rows)
    long_rows = take(max(3, round(0.01 * n)))
    rows.loc[long_rows, "村（社区）"] = reg["village"].to_numpy(dtype=object)[rows.loc[long_rows, "v"]]
    spaced_rows = take(6)
    rows.loc[spaced_rows, "村（社区）"] = [
        noise.with_hand_typed_space(rng, text, k) for k, text in enumerate(rows.loc[spaced_rows, "村（社区）"])
    ]

    # identifiers and phones: ~0.5 % wrong check char, 5 empty IDs, ~0.5 % bad phones
    bad_check = take(round(0.005 * n))
    rows.loc[bad_check, "身份证号"] = [wrong_check_char(rng, value) for value in rows.loc[bad_check, "身份证号"]]
    empty_id = take(5)
    rows.loc[empty_id, "身份证号"] = None
    bad_phone = take(round(0.005 * n))
    rows.loc[bad_phone, "手机号"] = [
        value[:10] if k % 2 == 0 else "2" + value[1:] for k, value in enumerate(rows.loc[bad_phone, "手机号"])
    ]

    roster = rows[ROSTER_COLUMNS].astype(object)
    roster = roster.where(pd.notna(roster), None)
    roster["序号"] = seq.astype("int64")

    persons_rows = lambda persons: sorted(int(s) for s in seq[rows["p"].isin(persons).to_numpy()])  # noqa: E731
    committee_sizes = {name_of[v]: 2 for v in plan["committee_of_2"]}
    committee_sizes.update({name_of[v]: 4 for v in plan["committee_of_4"]})
    duplicate_rows = sorted(int(s) for s in seq[rows["row_index"].isin(posts.duplicate_pair).to_numpy()])
    faults = {
        "no_roster_villages": [name_of[v] for v in plan["no_roster"]],
        "too_few_representatives": [name_of[v] for v in plan["few_representatives"]],
        "missing_group_leader": dict(sorted(posts.faults.get("missing_group_leader", {}).items())),
        "duplicate_group_leader": dict(sorted(posts.faults.get("duplicate_group_leader", {}).items())),
        "committee_without_women": [name_of[v] for v in plan["no_women"]],
        "committee_too_small": committee_sizes,
        "committee_member_on_supervisors": [name_of[v] for v in plan["overlap"]],
        "no_supervisors": [name_of[v] for v in plan["no_supervisors"]],
        "few_women_in_assembly": [name_of[v] for v in plan["few_women"]],
        "duplicate_rows": duplicate_rows,
        "unknown_village_rows": sorted(int(seq[i]) for i in misspelt_rows),
        "long_village_name_rows": [int(s) for s in seq[long_rows]],
        "stray_space_village_rows": [int(s) for s in seq[spaced_rows]],
        "underage_rows": persons_rows(underage_persons),
        "gender_mismatch_rows": persons_rows(flipped_persons),
        "bad_check_char_rows": [int(s) for s in seq[bad_check]],
        "empty_id_rows": [int(s) for s in seq[empty_id]],
        "bad_phone_rows": [int(s) for s in seq[bad_phone]],
    }
    return DemoRoster(roster.reset_index(drop=True), faults)


def _people(posts: VillagePosts, snapshot: date) -> tuple[pd.DataFrame, list[int], list[int]]:
    """Everyone's particulars, with the person faults: ~5 under 18 (single-row 代表 of clean villages), ~5 with 性别
    against the ID (组长 or 专职工作者 outside the 村民代表会议, so no women count moves)."""
    rng = posts.rng
    plain = sorted(set(posts.plain_representatives))
    underage_persons = _spread(rng, plain, posts.p_village, 5)
    underage = np.zeros(len(posts.p_gender), dtype=bool)
    underage[underage_persons] = True
    flippable = sorted(set(posts.leader_only) - posts.protected_persons)
    flipped_persons = _spread(rng, flippable, posts.p_village, 5)
    people = particulars(rng, posts.p_gender, posts.p_age, posts.p_village, len(posts.registry), snapshot, underage)
    people.loc[flipped_persons, "性别"] = people.loc[flipped_persons, "性别"].map({"男": "女", "女": "男"})
    return people, underage_persons, flipped_persons


def _spread(rng: np.random.Generator, persons: list[int], village_of: list[int], k: int) -> list[int]:
    """k persons of distinct villages."""
    chosen, villages = [], set()
    for i in rng.permutation(len(persons)):
        p = persons[i]
        if village_of[p] not in villages:
            chosen.append(p)
            villages.add(village_of[p])
        if len(chosen) == k:
            break
    return sorted(chosen)


def roster_title() -> str:
    """The export's title line, with the county's short name (酉阳县基层队伍信息表)."""
    return f"{settings.campaign().county.short_name}基层队伍信息表"
