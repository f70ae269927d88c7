"""The people of the demo county as lists record them: names, sex, ethnicity, birth month, ID numbers and mobiles.

ID numbers are valid 18-character resident IDs of the county (region 500242), their birth date and sex matching the
person's and their check character computed as GB 11643 says; every one is unique.
"""

from datetime import date

import numpy as np
import pandas as pd

from yukuai_pipeline.quality.identity import id_check_char

REGION_CODE = "500242"

_MOBILE_PREFIXES = np.array(
    [f"13{d}" for d in range(10)]
    + [f"15{d}" for d in "012356789"]
    + ["170", "173", "175", "176", "177", "178"]
    + [f"18{d}" for d in range(10)]
    + ["191", "198", "199"]
)
_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙冉田彭向白石罗何胡谢龚崔杜邓秦简庞肖谭任姚陆")
_SURNAME_WEIGHTS = np.array(
    [6, 6, 5, 5, 5, 5, 4, 3, 3, 3, 2, 2, 6, 6, 5, 4, 5, 5, 3, 3, 3, 2, 2, 2, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2], dtype=float
)
_MALE_GIVEN = list("明华军平强伟勇福贵波涛辉林海国成建东文志清德永洪江兵生荣祥兴刚发富宏")
_FEMALE_GIVEN = list("芳英兰红霞梅丽秀玉春燕敏静娟琴凤翠莲艳萍丹娜琳菊桂珍香群慧")
_ETHNICITIES = ["土家族", "苗族", "汉族", "侗族", "仡佬族", "回族"]

# Ages on the snapshot date, by kind of post, and the share of women in each.
AGES = {
    "head": (35, 58),
    "party": (28, 62),
    "committee": (25, 60),
    "supervisor": (30, 65),
    "leader": (30, 68),
    "representative": (22, 70),
    "worker": (22, 45),
    "underage": (16, 17),
}
WOMEN = {"head": 0.15, "party": 0.3, "committee": 0.35, "supervisor": 0.3, "leader": 0.15, "worker": 0.6}


def mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """n eleven-digit mainland mobile numbers."""
    return np.char.add(rng.choice(_MOBILE_PREFIXES, n), np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8))


def particulars(
    rng: np.random.Generator,
    genders: list[str],
    ages: list[tuple[int, int]],
    villages: list[int],
    n_villages: int,
    snapshot: date,
    underage: np.ndarray,
) -> pd.DataFrame:
    """姓名, 性别, 民族, 出生年月, 身份证号 and 手机号 of each person, given their sex, age range and village
    (row of the registry); the underage persons are 16 or 17 whatever their post."""
    n = len(genders)
    male = np.array([g == "男" for g in genders])
    age_ranges = np.array(ages)
    age_ranges[underage] = AGES["underage"]
    # birth dates: uniform between the oldest and youngest date that gives an age in range on the snapshot
    snap = np.datetime64(snapshot, "D")
    latest = _years_before(snapshot, age_ranges[:, 0])  # exactly age_lo today
    earliest = _years_before(snapshot, age_ranges[:, 1] + 1) + 1  # one day short of age_hi + 1
    span = (latest - earliest).astype("int64")
    born = earliest + (rng.random(n) * (span + 1)).astype("int64").astype("timedelta64[D]")
    born = np.minimum(born, snap)
    born_text = pd.to_datetime(born).strftime("%Y%m%d").to_numpy(dtype=object)

    given = np.where(male[:, None], rng.choice(_MALE_GIVEN, (n, 2)), rng.choice(_FEMALE_GIVEN, (n, 2)))
    two_chars = rng.random(n) < 0.7
    surname = rng.choice(_SURNAMES, n, p=_SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum())
    names = [s + a + (b if t else "") for s, a, b, t in zip(surname, given[:, 0], given[:, 1], two_chars)]
    # namesakes born in the same month in one village would be one person to anybody reading the roster
    village_rows = np.array(villages)
    while True:
        clash = np.flatnonzero(
            pd.DataFrame({"v": village_rows, "name": names, "born": born_text.astype(str)})
            .assign(born=lambda d: d["born"].str[:6])
            .duplicated()
        )
        if not len(clash):
            break
        for i in clash:
            pool = _MALE_GIVEN if male[i] else _FEMALE_GIVEN
            names[i] = names[i][0] + "".join(rng.choice(pool, 2))

    ids = _id_numbers(rng, born_text, male)
    tujia = rng.uniform(0.45, 0.8, n_villages)[village_rows]
    miao = rng.uniform(0.08, 0.25, n_villages)[village_rows]
    draw = rng.random(n)
    ethnicity = np.where(
        draw < tujia,
        "土家族",
        np.where(draw < tujia + miao, "苗族", np.where(draw < 0.985, "汉族", rng.choice(_ETHNICITIES[3:], n))),
    )
    phones = mobile_numbers(rng, n)
    return pd.DataFrame(
        {
            "姓名": names,
            "性别": genders,
            "民族": ethnicity,
            "出生年月": [f"{b[:4]}-{b[4:6]}" for b in born_text],
            "身份证号": ids,
            "手机号": phones.astype(object),
        }
    )


def wrong_check_char(rng: np.random.Generator, id_number: str) -> str:
    """The ID with another check character (a typo the check character catches)."""
    right = id_number[17]
    wrong = [c for c in "0123456789X" if c != right]
    return id_number[:17] + wrong[int(rng.integers(len(wrong)))]


def _id_numbers(rng: np.random.Generator, born_text: np.ndarray, male: np.ndarray) -> np.ndarray:
    """顺序码: two free digits, then odd for men and even for women; redrawn until every ID is unique."""
    n = len(born_text)
    ids = np.empty(n, dtype=object)
    todo = np.arange(n)
    taken: set[str] = set()
    while len(todo):
        head = rng.integers(0, 100, len(todo))
        last = 2 * rng.integers(0, 5, len(todo)) + male[todo]
        again = []
        for i, h, d in zip(todo, head, last):
            first17 = f"{REGION_CODE}{born_text[i]}{h:02d}{d}"
            if first17 in taken:
                again.append(i)
                continue
            taken.add(first17)
            ids[i] = first17 + id_check_char(first17)
        todo = np.array(again, dtype="int64")
    return ids


def _years_before(snapshot: date, years: np.ndarray) -> np.ndarray:
    """The date `years` years before the snapshot (29 Feb -> 28 Feb), as datetime64[D]."""
    out = []
    for y in years:
        year = snapshot.year - int(y)
        day = snapshot.day if not (snapshot.month == 2 and snapshot.day == 29) else 28
        out.append(np.datetime64(date(year, snapshot.month, day), "D"))
    return np.array(out, dtype="datetime64[D]")
