"""Who holds which post in each village of the demo roster, with the village faults planted on purpose.

Sizes follow roster_rules.csv: 村民委员会 3–7, 居民委员会 5–9, 村民代表 households/15..households/5 with women a third
of the 村民代表会议, one 组长 per 小组, 村务监督委员会 3–5 and nobody on both committees. A few villages break one rule
each (VillagePosts.plan); roster.py then writes the rows and plants the faults of single rows.
"""

from math import ceil

import numpy as np
import pandas as pd

from yukuai_pipeline.demo.people import AGES, WOMEN
from yukuai_pipeline.demo.roles import (
    COMMITTEE,
    GROUP_LEADER,
    GROUP_STYLES,
    PARTY,
    REPRESENTATIVE,
    SUPERVISOR,
    WORKER,
    chinese_number,
)

# Row kinds, in the order a village's rows are written.
PARTY_ROW, COMMITTEE_ROW, SUPERVISOR_ROW, WORKER_ROW, LEADER_ROW, REPRESENTATIVE_ROW = range(6)


class VillagePosts:
    """Persons (who they are) and rows (which post they hold where), village by village; build() fills them."""

    def __init__(self, rng: np.random.Generator, registry: pd.DataFrame):
        self.rng = rng
        self.registry = registry
        # persons
        self.p_gender: list[str] = []  # true gender (the ID follows it)
        self.p_age: list[tuple[int, int]] = []
        self.p_village: list[int] = []
        # rows: village, person, row kind, role text, group number (0 = none), group text
        self.rows: list[tuple[int, int, int, str, int, str | None]] = []
        # the village faults: which villages each one went to (plan), what was planted there (faults), the rest
        self.plan: dict[str, list[int]] = {}
        self.clean: set[int] = set()
        self.faults: dict[str, dict[str, int]] = {}
        self.protected_persons: set[int] = set()
        self.duplicate_pair: list[int] = []  # row indices
        self.overlap_persons: list[int] = []
        self.leader_only: list[int] = []  # persons holding only a 组长 post, or a worker post
        self.plain_representatives: list[int] = []  # persons holding only a 代表 post, in villages without faults

    # ---- persons and rows ----

    def person(self, village: int, kind: str, gender: str | None = None) -> int:
        if gender is None:
            gender = "女" if self.rng.random() < WOMEN[kind] else "男"
        self.p_gender.append(gender)
        self.p_age.append(AGES[kind])
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
        """The persons and rows of every village but those planned to have no roster at all."""
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
        secretary, deputy_secretary, party_member = PARTY[kind][rng.integers(len(PARTY[kind]))]
        chair, vice_chair, member = COMMITTEE[kind][rng.integers(len(COMMITTEE[kind]))]
        sup_chair, sup_member = SUPERVISOR[kind][rng.integers(len(SUPERVISOR[kind]))]

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
            self.row(v, p, PARTY_ROW, role)
        for i, (p, role) in enumerate(zip(committee, committee_roles)):
            if i == 0 and combined:
                continue
            r = self.row(v, p, COMMITTEE_ROW, role)
            if v in plan["duplicate_row"] and role == member and not self.duplicate_pair:
                self.duplicate_pair = [r, self.row(v, p, COMMITTEE_ROW, role)]
        self.protected_persons.update(committee)

        # 村（居）务监督委员会
        if v not in plan["no_supervisors"]:
            n_sup = int(rng.integers(3, 6)) if is_village else 3
            supervisors = [self.person(v, "supervisor") for _ in range(n_sup)]
            if v in plan["overlap"]:
                supervisors[-1] = committee[-1]  # the law forbids it: a committee member on the supervisors
                self.overlap_persons.append(committee[-1])
            for i, p in enumerate(supervisors):
                self.row(v, p, SUPERVISOR_ROW, sup_chair if i == 0 else sup_member)

        # 社区专职工作者
        n_workers = int(rng.integers(0, 3)) if is_village else int(rng.integers(2, 9))
        worker_role = WORKER[rng.integers(len(WORKER))]
        for _ in range(n_workers):
            p = self.person(v, "worker")
            self.row(v, p, WORKER_ROW, worker_role)
            self.leader_only.append(p)

        # 村（居）民小组长: one per group, with the planted gaps and doubles
        n_groups = int(village.group_count)
        leader_role = GROUP_LEADER[kind][rng.integers(len(GROUP_LEADER[kind]))]
        style = int(rng.integers(len(GROUP_STYLES)))
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
            self.row(v, p, LEADER_ROW, leader_role, g, self._group_text(g, style, group_word))
        if v in plan["duplicate_leader"]:
            g = int(rng.integers(1, n_groups + 1))
            p = self.person(v, "leader")
            self.row(v, p, LEADER_ROW, leader_role, g, self._group_text(g, style, group_word))
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
        rep_role = REPRESENTATIVE[kind][rng.integers(len(REPRESENTATIVE[kind]))]
        with_group = rng.random() < 0.8
        other_groups = np.sort(rng.integers(1, n_groups + 1, others))
        entries = [(g, p) for g, p in zip(rep_groups, leader_reps)]
        entries += [(int(g), self.person(v, "representative", gender)) for g, gender in zip(other_groups, genders)]
        entries.sort(key=lambda e: e[0])
        village_is_clean = v in self.clean
        for g, p in entries:
            text = self._group_text(g, style, group_word) if with_group else None
            self.row(v, p, REPRESENTATIVE_ROW, rep_role, g if with_group else 0, text)
            if p not in leader_reps and village_is_clean:
                self.plain_representatives.append(p)
        for p in leaders.values():
            if p not in leader_reps:
                self.leader_only.append(p)

    def _group_text(self, g: int, style: int, group_word: str) -> str:
        if self.rng.random() < 0.15:  # typed by hand: another style now and then
            style = int(self.rng.integers(len(GROUP_STYLES)))
        return GROUP_STYLES[style].format(n=g, cn=chinese_number(g), kind=group_word)
