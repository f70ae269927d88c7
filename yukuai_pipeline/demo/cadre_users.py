"""Cadres on the demo roster who registered on the platform themselves, and users they brought in (issue 20 item 3).

Some of the roster's 两委 members take over the phone number of one of their own village's demo users (the user who
registered at that time becomes the cadre's account), and later users of those villages name a cadre as 推荐人.
No user is added or removed, so every count of the demo stays as it was; the draws are on a stream of their own.
"""

import numpy as np
import pandas as pd

from yukuai_pipeline.demo.seeds import stream

CADRE_STREAM = 0xCAD2
COMMITTEE_WORDS = ("书记", "主任", "委员")
REGISTERED_SHARE = 0.6  # of the committee members of the villages chosen
VILLAGES = 40  # the first villages of the roster with registered cadres
REFERRED_SHARE = 0.25  # of the later users of those villages


def link_cadres(users: pd.DataFrame, roster: pd.DataFrame, registry: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The users with some phones replaced by cadres' and a `referrer` column (a cadre's phone, or empty)."""
    rng = stream(seed, CADRE_STREAM)
    users = users.assign(referrer="")
    phones = roster["手机号"].astype(str)
    committee = roster[
        roster["职务"].astype(str).str.contains("|".join(COMMITTEE_WORDS)) & phones.str.fullmatch(r"1[3-9]\d{9}")
    ]
    rows_of_village: dict[str, int] = {}
    for row, name in enumerate(registry["village"]):
        for short in committee["村（社区）"].unique():
            if name.startswith(short) and short not in rows_of_village:
                rows_of_village[short] = row
    taken: set[int] = set()
    for short in list(dict.fromkeys(committee["村（社区）"]))[:VILLAGES]:
        if short not in rows_of_village:
            continue
        row = rows_of_village[short]
        members = committee[committee["村（社区）"] == short]
        chosen = members[rng.random(len(members)) < REGISTERED_SHARE]
        candidates = [i for i in np.flatnonzero(users["village_row"].to_numpy() == row) if i not in taken]
        if not len(chosen) or len(candidates) < len(chosen):
            continue
        accounts = rng.choice(candidates, size=len(chosen), replace=False)
        users.loc[accounts, "phone"] = chosen["手机号"].astype(str).to_numpy()
        taken.update(int(a) for a in accounts)
        later = [i for i in candidates if i not in taken and users.at[i, "registered_s"] >= 86_400]
        referred = [i for i in later if rng.random() < REFERRED_SHARE]
        users.loc[referred, "referrer"] = rng.choice(chosen["手机号"].astype(str).to_numpy(), size=len(referred))
    return users
