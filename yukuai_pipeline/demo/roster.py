"""Synthetic grassroots roster (基层队伍信息) for the demo and the tests: one row per person per role.

A county where most villages are in order and a few are not. Sizes follow roster_rules.csv (村民委员会 3–7,
居民委员会 5–9, 村民代表 households/15..households/5 with women a third of the 村民代表会议, one 组长 per 小组,
村务监督委员会 3–5 and nobody on both committees). The faults are planted on purpose, each in its own villages or
rows, and listed in DEMO_ROSTER_FAULTS after every call of demo_roster.

Everything comes from a numpy Generator seeded by the caller (its own stream, so the registration files of
demo_data stay byte-identical); the wall clock is never read.
"""

from datetime import date
from math import ceil
from pathlib import Path

import numpy as np
import pandas as pd

from yukuai_pipeline.quality.identity import id_check_char

ROSTER_TITLE = "酉阳县基层队伍信息表"
ROSTER_FOOTNOTE = "注：一人多职的按职务分行填写"
ROSTER_COLUMNS = ["序号", "乡镇（街道）", "村（社区）", "姓名", "性别", "民族", "出生年月", "身份证号", "手机号", "职务",
                  "所在小组"]
REGION_CODE = "500242"

# What the last call of demo_roster planted, keyed by fault. Village lists hold the registry's (long) names, row lists
# the 序号 of the rows. Filled on every call (empty before the first); a copy is also in roster.attrs["faults"].
DEMO_ROSTER_FAULTS: dict = {}

# Keeps this generator's draws apart from demo_data's, which share the caller's seed.
_STREAM = 0x5E1A

_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙冉田彭向白石罗何胡谢龚崔杜邓秦简庞肖谭任姚陆")
_SURNAME_WEIGHTS = np.array([6, 6, 5, 5, 5, 5, 4, 3, 3, 3, 2, 2, 6, 6, 5, 4, 5, 5, 3, 3, 3, 2, 2, 2, 3, 2, 2, 2,
                             2, 2, 2, 2, 2, 2], dtype=float)
_MALE_GIVEN = list("明华军平强伟勇福贵波涛辉林海国成建东文志清德永洪江兵生荣祥兴刚发富宏")
_FEMALE_GIVEN = list("芳英兰红霞梅丽秀玉春燕敏静娟琴凤翠莲艳萍丹娜琳菊桂珍香群慧")
_ETHNICITIES = ["土家族", "苗族", "汉族", "侗族", "仡佬族", "回族"]
_MOBILE_PREFIXES = np.array([f"13{d}" for d in range(10)] + [f"15{d}" for d in "012356789"]
                            + ["170", "173", "175", "176", "177", "178"] + [f"18{d}" for d in range(10)]
                            + ["191", "198", "199"])
_NAME_CHARS = "青石花桥龙凤竹溪坪坝岩湾田山水木桂柏松梨桃杨柳金银红白黄沙河泉井塘坡岭坳沟堡寨关庙堰马鹿茶林峰槽峡洞坎丰安兴和新阳光明长高"

# Role spellings, each a family used together in one village; every part is in schemas/inputs/roster.yaml.
_PARTY = {  # (书记, 副书记, 委员)
    "村委会": [("党支部书记", "党支部副书记", "党支部委员"), ("村党支部书记", "党支部副书记", "支委"),
            ("党组织书记", "党组织副书记", "党组织委员"), ("支部书记", "副书记", "支部委员"),
            ("党总支书记", "党总支副书记", "党总支委员")],
    "居委会": [("社区党委书记", "党委副书记", "党委委员"), ("社区党支部书记", "党支部副书记", "党支部委员"),
            ("社区党组织书记", "党组织副书记", "党组织委员"), ("党总支书记", "党总支副书记", "党总支委员")],
}
_COMMITTEE = {  # (主任, 副主任, 委员)
    "村委会": [("村委会主任", "村委会副主任", "村委会委员"), ("村委主任", "村委副主任", "村委委员"),
            ("村民委员会主任", "村民委员会副主任", "村民委员会委员"), ("村（居）委会主任", "村（居）委会副主任", "村（居）委会委员"),
            ("村(居)委会主任", "村(居)委会副主任", "村(居)委会委员"), ("村主任", "副主任", "委员")],
    "居委会": [("居委会主任", "居委会副主任", "居委会委员"), ("居委主任", "居委副主任", "居委委员"),
            ("居民委员会主任", "居民委员会副主任", "居民委员会委员"), ("村（居）委会主任", "村（居）委会副主任", "村（居）委会委员"),
            ("村(居)委会主任", "村(居)委会副主任", "村(居)委会委员"), ("社区主任", "副主任", "委员")],
}
_SUPERVISOR = {  # (主任, 委员)
    "村委会": [("村务监督委员会主任", "村务监督委员会委员"), ("监委会主任", "监委会委员"), ("监委主任", "监委委员"),
            ("监督委员会主任", "村务监督委员"), ("村（居）务监督委员会主任", "村（居）务监督委员会委员")],
    "居委会": [("居务监督委员会主任", "居务监督委员会委员"), ("监委会主任", "监委会委员"), ("居务监督委员会主任", "居务监督委员"),
            ("村(居)务监督委员会主任", "村(居)务监督委员会委员")],
}
_GROUP_LEADER = {"村委会": ["村民小组长", "组长", "小组长", "村民组长", "村（居）民小组长"],
                 "居委会": ["居民小组长", "组长", "小组长", "居民组长", "村(居)民小组长"]}
_REPRESENTATIVE = {"村委会": ["村民代表", "代表", "村（居）民代表", "村(居)民代表"], "居委会": ["居民代表", "代表", "村（居）民代表"]}
_WORKER = ["社区专职工作者", "专职工作者", "社区工作者", "社区专干", "专职社区工作者"]
_GROUP_STYLES = ["第{cn}{kind}小组", "{n}组", "第{n}组", "{cn}组", "第{n}{kind}小组"]

# Ages on the snapshot date, by kind of post.
_AGES = {"head": (35, 58), "party": (28, 62), "committee": (25, 60), "supervisor": (30, 65), "leader": (30, 68),
         "representative": (22, 70), "worker": (22, 45), "underage": (16, 17)}
_WOMEN = {"head": 0.15, "party": 0.3, "committee": 0.35, "supervisor": 0.3, "leader": 0.15, "worker": 0.6}

# Row kinds, in the order a village's rows are written.
_PARTY_ROW, _COMMITTEE_ROW, _SUPERVISOR_ROW, _WORKER_ROW, _LEADER_ROW, _REPRESENTATIVE_ROW = range(6)


# --------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------

def demo_roster(registry: pd.DataFrame, snapshot: date, seed: int) -> pd.DataFrame:
    """The roster rows (columns as in the file, ROSTER_COLUMNS) for the villages of `registry`.

    `registry` is demo_data's village registry (township, village, committee_type, households, group_count). The
    planted faults go to DEMO_ROSTER_FAULTS and roster.attrs["faults"].
    """
    rng = np.random.default_rng([int(seed), _STREAM])
    builder = _Builder(rng, registry.reset_index(drop=True))
    builder.build()
    roster, faults = builder.finish(snapshot)
    DEMO_ROSTER_FAULTS.clear()
    DEMO_ROSTER_FAULTS.update(faults)
    roster.attrs["faults"] = faults
    return roster


def write_roster(path: Path, roster: pd.DataFrame, snapshot: date) -> None:
    """Title (merged over the columns), 统计截止 line, header, rows, footnote; the same roster gives the same bytes."""
    from yukuai_pipeline.demo import data as demo_data  # its streamed xlsx writer; imported here, demo_data imports us

    width = len(ROSTER_COLUMNS)
    body = roster[ROSTER_COLUMNS].to_numpy(dtype=object).tolist()
    rows = [[ROSTER_TITLE], [f"统计截止：{snapshot:%Y-%m-%d}"], list(ROSTER_COLUMNS),
            *([_cell(v) for v in row] for row in body), [ROSTER_FOOTNOTE]]
    demo_data._write_streamed_xlsx(Path(path), "基层队伍信息", rows,
                                   merged=[f"A1:{demo_data._column_letter(width)}1"])


def chinese_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 45 -> 四十五 (group numbers as people write them)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[units] if units else "")


# --------------------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------------------

def _cell(value):
    """None for a blank cell (no empty strings or NaN in the file); numpy ints as Python ints."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value == "":
        return None
    if isinstance(value, np.integer):
        return int(value)
    return value


class _Builder:
    """Persons (who they are) and rows (which post they hold where), then the rows as written."""

    def __init__(self, rng: np.random.Generator, registry: pd.DataFrame):
        self.rng = rng
        self.registry = registry
        # persons
        self.p_gender: list[str] = []   # true gender (the ID follows it)
        self.p_age: list[tuple[int, int]] = []
        self.p_village: list[int] = []
        # rows: village, person, row kind, role text, group number (0 = none), group text
        self.rows: list[tuple[int, int, int, str, int, str | None]] = []
        self.faults: dict[str, object] = {}
        self.protected_persons: set[int] = set()
        self.duplicate_pair: list[int] = []          # row indices
        self.overlap_persons: list[int] = []
        self.leader_only: list[int] = []             # persons holding only a 组长 post, or a worker post
        self.plain_representatives: list[int] = []   # persons holding only a 代表 post, in villages without faults

    # ---- persons and rows ----

    def person(self, village: int, kind: str, gender: str | None = None) -> int:
        if gender is None:
            gender = "女" if self.rng.random() < _WOMEN[kind] else "男"
        self.p_gender.append(gender)
        self.p_age.append(_AGES[kind])
        self.p_village.append(village)
        return len(self.p_gender) - 1

    def row(self, village: int, person: int, kind: int, role: str, group: int = 0, group_text: str | None = None):
        self.rows.append((village, person, kind, role, group, group_text))
        return len(self.rows) - 1

    # ---- village faults ----

    def _plan_faults(self) -> dict[str, list[int]]:
        """Each village fault in villages of its own, so that every planted fault can be seen alone."""
        reg = self.registry
        is_village = (reg["committee_type"] == "村委会").to_numpy()
        groups = reg["group_count"].to_numpy()
        order = self.rng.permutation(len(reg))
        used: set[int] = set()

        def pick(k: int, eligible: np.ndarray) -> list[int]:
            chosen = [int(i) for i in order if eligible[i] and int(i) not in used][:k]
            used.update(chosen)
            return sorted(chosen)

        anywhere = np.ones(len(reg), dtype=bool)
        n_villages = int(is_village.sum())
        return {
            "no_roster": pick(2, anywhere),
            "no_women": pick(3, is_village),
            "committee_of_2": pick(2, is_village),
            "committee_of_4": pick(1, ~is_village),
            "overlap": pick(2, is_village),
            "no_supervisors": pick(3, is_village),
            "duplicate_leader": pick(2, groups >= 2),
            "missing_leader": pick(max(1, round(0.05 * len(reg))), groups >= 2),
            "few_representatives": pick(max(1, round(0.10 * n_villages)), is_village),
            "few_women": pick(max(1, round(0.04 * n_villages)), is_village),
            "duplicate_row": pick(1, is_village),
            "misspelt": pick(2, anywhere),
        }

    def build(self) -> None:
        plan = self._plan_faults()
        self.plan = plan
        flagged = {v for villages in plan.values() for v in villages}
        self.clean = {v for v in range(len(self.registry)) if v not in flagged}
        for v, village in enumerate(self.registry.itertuples(index=False)):
            if v in plan["no_roster"]:
                continue
            self._village(v, village, plan)

    def _village(self, v: int, village, plan: dict[str, list[int]]) -> None:
        rng = self.rng
        kind = village.committee_type
        is_village = kind == "村委会"
        secretary, deputy_secretary, party_member = _PARTY[kind][rng.integers(len(_PARTY[kind]))]
        chair, vice_chair, member = _COMMITTEE[kind][rng.integers(len(_COMMITTEE[kind]))]
        sup_chair, sup_member = _SUPERVISOR[kind][rng.integers(len(_SUPERVISOR[kind]))]

        # 村（居）民委员会
        if v in plan["committee_of_2"]:
            size = 2
        elif v in plan["committee_of_4"]:
            size = 4
        elif is_village:
            size = int(rng.choice([3, 4, 5, 5, 5, 6, 7]))
        else:
            size = int(rng.choice([5, 6, 7, 7, 8, 9]))
        n_vice = int(rng.random() < 0.6) if size >= 3 else 0
        committee = [self.person(v, "head")] + [self.person(v, "committee") for _ in range(size - 1)]
        if v in plan["no_women"]:
            for p in committee:
                self.p_gender[p] = "男"
        elif not any(self.p_gender[p] == "女" for p in committee):
            self.p_gender[committee[-1]] = "女"
        committee_roles = [chair] + [vice_chair] * n_vice + [member] * (size - 1 - n_vice)

        # 党组织: the 书记 is the 主任 in most places (一肩挑), written once or as two rows
        n_party = int(rng.integers(3, 6)) if is_village else int(rng.integers(3, 8))
        mode = rng.random()
        combined, same_head = mode < 0.6, mode < 0.8
        party = [committee[0] if same_head else self.person(v, "head")]
        # 交叉任职: some 委员 of the committee sit on the party committee too
        cross = [p for p in committee[1:] if rng.random() < 0.4][: n_party - 1]
        party += cross + [self.person(v, "party") for _ in range(n_party - 1 - len(cross))]
        n_deputy = int(rng.random() < 0.5)
        party_roles = [secretary] + [deputy_secretary] * n_deputy + [party_member] * (n_party - 1 - n_deputy)
        for i, (p, role) in enumerate(zip(party, party_roles)):
            if i == 0 and combined:
                role = f"{role}兼{chair}"
            self.row(v, p, _PARTY_ROW, role)
        for i, (p, role) in enumerate(zip(committee, committee_roles)):
            if i == 0 and combined:
                continue
            r = self.row(v, p, _COMMITTEE_ROW, role)
            if v in plan["duplicate_row"] and role == member and not self.duplicate_pair:
                self.duplicate_pair = [r, self.row(v, p, _COMMITTEE_ROW, role)]
        self.protected_persons.update(committee)

        # 村（居）务监督委员会
        if v not in plan["no_supervisors"]:
            n_sup = int(rng.integers(3, 6)) if is_village else 3
            supervisors = [self.person(v, "supervisor") for _ in range(n_sup)]
            if v in plan["overlap"]:
                supervisors[-1] = committee[-1]  # the law forbids it: a committee member on the supervisors
                self.overlap_persons.append(committee[-1])
            for i, p in enumerate(supervisors):
                self.row(v, p, _SUPERVISOR_ROW, sup_chair if i == 0 else sup_member)

        # 社区专职工作者
        n_workers = int(rng.integers(0, 3)) if is_village else int(rng.integers(2, 9))
        worker_role = _WORKER[rng.integers(len(_WORKER))]
        for _ in range(n_workers):
            p = self.person(v, "worker")
            self.row(v, p, _WORKER_ROW, worker_role)
            self.leader_only.append(p)

        # 村（居）民小组长: one per group, with the planted gaps and doubles
        n_groups = int(village.group_count)
        leader_role = _GROUP_LEADER[kind][rng.integers(len(_GROUP_LEADER[kind]))]
        style = int(rng.integers(len(_GROUP_STYLES)))
        group_word = "村民" if is_village else "居民"
        groups = list(range(1, n_groups + 1))
        if v in plan["missing_leader"]:
            missing = int(rng.integers(1, n_groups + 1))
            groups.remove(missing)
            self.faults.setdefault("missing_group_leader", {})[village.village] = missing
        leaders = {}
        for g in groups:
            p = self.person(v, "leader")
            leaders[g] = p
            self.row(v, p, _LEADER_ROW, leader_role, g, self._group_text(g, style, group_word))
        if v in plan["duplicate_leader"]:
            g = int(rng.integers(1, n_groups + 1))
            p = self.person(v, "leader")
            self.row(v, p, _LEADER_ROW, leader_role, g, self._group_text(g, style, group_word))
            self.protected_persons.add(p)
            self.faults.setdefault("duplicate_group_leader", {})[village.village] = g

        # 村（居）民代表: households/15..households/5, some of them group leaders (a second row)
        households = int(village.households)
        least = ceil(households / 15)
        if v in plan["few_representatives"]:
            n_reps = max(1, int(least * rng.uniform(0.5, 0.9)))
            n_reps = min(n_reps, least - 1)
        else:
            n_reps = min(least + 2 + int(least * rng.uniform(0.0, 0.2)), households // 5)
        leader_reps = [p for g, p in leaders.items() if rng.random() < 0.3][:n_reps]
        rep_groups = [g for g, p in leaders.items() if p in leader_reps]
        others = n_reps - len(leader_reps)
        # women: a third of the 村民代表会议 (committee + representatives), less in the planted villages
        assembly = size + n_reps
        women_have = sum(self.p_gender[p] == "女" for p in leader_reps)
        if v in plan["few_women"]:
            share = rng.uniform(0.15, 0.25)
            women_wanted = int(share * assembly) - sum(self.p_gender[p] == "女" for p in committee)
        else:
            women_wanted = max(ceil(assembly / 3), round(rng.uniform(0.34, 0.45) * n_reps))
        women_new = int(np.clip(women_wanted - women_have, 0, others))
        genders = ["女"] * women_new + ["男"] * (others - women_new)
        genders = [genders[i] for i in rng.permutation(others)]
        rep_role = _REPRESENTATIVE[kind][rng.integers(len(_REPRESENTATIVE[kind]))]
        with_group = rng.random() < 0.8
        other_groups = np.sort(rng.integers(1, n_groups + 1, others))
        entries = [(g, p) for g, p in zip(rep_groups, leader_reps)]
        entries += [(int(g), self.person(v, "representative", gender))
                    for g, gender in zip(other_groups, genders)]
        entries.sort(key=lambda e: e[0])
        village_is_clean = v in self.clean
        for g, p in entries:
            text = self._group_text(g, style, group_word) if with_group else None
            self.row(v, p, _REPRESENTATIVE_ROW, rep_role, g if with_group else 0, text)
            if p not in leader_reps and village_is_clean:
                self.plain_representatives.append(p)
        for p in leaders.values():
            if p not in leader_reps:
                self.leader_only.append(p)

    def _group_text(self, g: int, style: int, group_word: str) -> str:
        if self.rng.random() < 0.15:  # typed by hand: another style now and then
            style = int(self.rng.integers(len(_GROUP_STYLES)))
        return _GROUP_STYLES[style].format(n=g, cn=chinese_number(g), kind=group_word)

    # ---- persons' particulars ----

    def _particulars(self, snapshot: date, underage: np.ndarray) -> pd.DataFrame:
        rng = self.rng
        n = len(self.p_gender)
        male = np.array([g == "男" for g in self.p_gender])
        ages = np.array(self.p_age)
        ages[underage] = _AGES["underage"]
        # birth dates: uniform between the oldest and youngest date that gives an age in range on the snapshot
        snap = np.datetime64(snapshot, "D")
        latest = _years_before(snapshot, ages[:, 0])                 # exactly age_lo today
        earliest = _years_before(snapshot, ages[:, 1] + 1) + 1        # one day short of age_hi + 1
        span = (latest - earliest).astype("int64")
        born = earliest + (rng.random(n) * (span + 1)).astype("int64").astype("timedelta64[D]")
        born = np.minimum(born, snap)
        born_text = pd.to_datetime(born).strftime("%Y%m%d").to_numpy(dtype=object)

        given = np.where(male[:, None], rng.choice(_MALE_GIVEN, (n, 2)), rng.choice(_FEMALE_GIVEN, (n, 2)))
        two_chars = rng.random(n) < 0.7
        surname = rng.choice(_SURNAMES, n, p=_SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum())
        names = [s + a + (b if t else "") for s, a, b, t in zip(surname, given[:, 0], given[:, 1], two_chars)]
        # namesakes born in the same month in one village would be one person to anybody reading the roster
        villages = np.array(self.p_village)
        while True:
            clash = np.flatnonzero(pd.DataFrame({"v": villages, "name": names, "born": born_text.astype(str)})
                                   .assign(born=lambda d: d["born"].str[:6]).duplicated())
            if not len(clash):
                break
            for i in clash:
                pool = _MALE_GIVEN if male[i] else _FEMALE_GIVEN
                names[i] = names[i][0] + "".join(rng.choice(pool, 2))

        # 顺序码: two free digits, then odd for men and even for women; redrawn until every ID is unique
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

        n_villages = len(self.registry)
        tujia = rng.uniform(0.45, 0.8, n_villages)[villages]
        miao = rng.uniform(0.08, 0.25, n_villages)[villages]
        draw = rng.random(n)
        ethnicity = np.where(draw < tujia, "土家族", np.where(draw < tujia + miao, "苗族", np.where(
            draw < 0.985, "汉族", rng.choice(_ETHNICITIES[3:], n))))
        phones = np.char.add(rng.choice(_MOBILE_PREFIXES, n), np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8))
        return pd.DataFrame({
            "姓名": names, "性别": self.p_gender, "民族": ethnicity,
            "出生年月": [f"{b[:4]}-{b[4:6]}" for b in born_text],
            "身份证号": ids, "手机号": phones.astype(object),
        })

    # ---- the rows as written ----

    def finish(self, snapshot: date) -> tuple[pd.DataFrame, dict]:
        rng = self.rng
        plan = self.plan
        reg = self.registry
        name_of = reg["village"].tolist()

        # person faults: ~5 under 18 (single-row 代表 of clean villages), ~5 with 性别 against the ID
        # (组长 or 专职工作者 outside the 村民代表会议, so no women count moves)
        plain = sorted(set(self.plain_representatives))
        underage_persons = self._spread(plain, 5)
        underage = np.zeros(len(self.p_gender), dtype=bool)
        underage[underage_persons] = True
        flippable = sorted(set(self.leader_only) - self.protected_persons)
        flipped_persons = self._spread(flippable, 5)
        people = self._particulars(snapshot, underage)
        people.loc[flipped_persons, "性别"] = people.loc[flipped_persons, "性别"].map({"男": "女", "女": "男"})

        rows = pd.DataFrame(self.rows, columns=["v", "p", "kind", "职务", "group", "所在小组"])
        rows["row_index"] = np.arange(len(rows))
        rows = rows.join(people, on="p")
        rows["乡镇（街道）"] = reg["township"].to_numpy()[rows["v"]]
        short = reg["village"].str.replace(r"(村民|居民)委员会$", "", regex=True).to_numpy(dtype=object)
        rows["村（社区）"] = short[rows["v"]]
        rows = rows.sort_values(["v", "kind", "row_index"], kind="stable").reset_index(drop=True)
        rows["序号"] = np.arange(1, len(rows) + 1)
        seq = rows["序号"].to_numpy()

        # rows no other fault may touch: the duplicate pair, both rows of an overlap person, every planted person
        fixed = (rows["row_index"].isin(self.duplicate_pair) | rows["p"].isin(self.overlap_persons)
                 | rows["p"].isin(underage_persons) | rows["p"].isin(flipped_persons)).to_numpy(copy=True)

        # the village as typed: 2 rows (a man's 代表 row, so no count of women moves) of a village nobody knows
        taken = {name[:2] for name in short}
        misspelt_rows = []
        for v in plan["misspelt"]:
            candidates = np.flatnonzero((rows["v"].to_numpy() == v) & (rows["kind"].to_numpy() == _REPRESENTATIVE_ROW)
                                        & (rows["性别"].to_numpy() == "男") & ~fixed)
            i = int(candidates[rng.integers(len(candidates))])
            rows.loc[i, "村（社区）"] = _misspelt(rng, short[v], taken)
            misspelt_rows.append(i)
            fixed[i] = True

        free = np.flatnonzero(~fixed)
        free = free[rng.permutation(len(free))]
        cursor = 0

        def take(k: int) -> np.ndarray:
            nonlocal cursor
            chosen = np.sort(free[cursor:cursor + k])
            cursor += k
            return chosen

        # the long name on ~1 % of rows, stray spaces on a few

        n = len(rows)
        long_rows = take(max(3, round(0.01 * n)))
        rows.loc[long_rows, "村（社区）"] = reg["village"].to_numpy(dtype=object)[rows.loc[long_rows, "v"]]
        spaced_rows = take(6)
        rows.loc[spaced_rows, "村（社区）"] = [_with_stray_space(rng, text, k)
                                          for k, text in enumerate(rows.loc[spaced_rows, "村（社区）"])]

        # identifiers and phones: ~0.5 % wrong check char, 5 empty IDs, ~0.5 % bad phones
        bad_check = take(round(0.005 * n))
        rows.loc[bad_check, "身份证号"] = [_wrong_check(rng, value) for value in rows.loc[bad_check, "身份证号"]]
        empty_id = take(5)
        rows.loc[empty_id, "身份证号"] = None
        bad_phone = take(round(0.005 * n))
        rows.loc[bad_phone, "手机号"] = [value[:10] if k % 2 == 0 else "2" + value[1:]
                                       for k, value in enumerate(rows.loc[bad_phone, "手机号"])]

        roster = rows[ROSTER_COLUMNS].astype(object)
        roster = roster.where(pd.notna(roster), None)
        roster["序号"] = seq.astype("int64")

        persons_rows = lambda persons: sorted(int(s) for s in seq[rows["p"].isin(persons).to_numpy()])  # noqa: E731
        committee_sizes = {name_of[v]: 2 for v in plan["committee_of_2"]}
        committee_sizes.update({name_of[v]: 4 for v in plan["committee_of_4"]})
        duplicate_rows = sorted(int(s) for s in seq[rows["row_index"].isin(self.duplicate_pair).to_numpy()])
        faults = {
            "no_roster_villages": [name_of[v] for v in plan["no_roster"]],
            "too_few_representatives": [name_of[v] for v in plan["few_representatives"]],
            "missing_group_leader": dict(sorted(self.faults.get("missing_group_leader", {}).items())),
            "duplicate_group_leader": dict(sorted(self.faults.get("duplicate_group_leader", {}).items())),
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
        return roster.reset_index(drop=True), faults

    def _spread(self, persons: list[int], k: int) -> list[int]:
        """k persons of distinct villages."""
        chosen, villages = [], set()
        for i in self.rng.permutation(len(persons)):
            p = persons[i]
            if self.p_village[p] not in villages:
                chosen.append(p)
                villages.add(self.p_village[p])
            if len(chosen) == k:
                break
        return sorted(chosen)


def _years_before(snapshot: date, years: np.ndarray) -> np.ndarray:
    """The date `years` years before the snapshot (29 Feb -> 28 Feb), as datetime64[D]."""
    out = []
    for y in years:
        year = snapshot.year - int(y)
        day = snapshot.day if not (snapshot.month == 2 and snapshot.day == 29) else 28
        out.append(np.datetime64(date(year, snapshot.month, day), "D"))
    return np.array(out, dtype="datetime64[D]")


def _wrong_check(rng: np.random.Generator, id_number: str) -> str:
    right = id_number[17]
    wrong = [c for c in "0123456789X" if c != right]
    return id_number[:17] + wrong[int(rng.integers(len(wrong)))]


def _with_stray_space(rng: np.random.Generator, name: str, k: int) -> str:
    """青石村 -> 青 石村, 青石　村 (ideographic space), 青石村␣ or ␣青石村: what hand-typing leaves behind."""
    space = " " if k % 2 == 0 else "\u3000"
    where = k % 3
    if where == 0:
        at = int(rng.integers(1, len(name)))
        return name[:at] + space + name[at:]
    return name + space if where == 1 else space + name


def _misspelt(rng: np.random.Generator, short_name: str, taken_stems: set[str]) -> str:
    """One character of the stem changed so that it is no stem of the county (青石村 -> 青岩村 if 青岩 is free)."""
    stem, suffix = short_name[:2], short_name[2:]
    at = int(rng.integers(0, 2))
    while True:
        candidate = stem[:at] + _NAME_CHARS[int(rng.integers(len(_NAME_CHARS)))] + stem[at + 1:]
        if candidate not in taken_stems and candidate[0] != candidate[1]:
            return candidate + suffix
