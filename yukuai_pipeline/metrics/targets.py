"""Campaign targets: the notice's target rule and the largest-remainder split of a target over villages."""

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from yukuai_pipeline.campaign import Campaign


def rule_target(population: int, multiplier: int = 2, population_factor: str = "0.06") -> int:
    """2 × round_half_up(population × 0.06): 1,200 per 10,000 with the notice's own rounding (Decimal, no float)."""
    half = (Decimal(int(population)) * Decimal(population_factor)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return multiplier * int(half)


def allocate_largest_remainder(total: int, weights: ArrayLike) -> np.ndarray:
    """Split an integer total in proportion to weights so that the parts sum exactly to total.

    Hamilton's method: floor of each exact quota, then one more to the largest remainders; ties go to the
    earlier item so the result is deterministic. Zero total weight splits evenly.
    """
    weights = np.asarray(weights, dtype="float64")
    if total < 0:
        raise ValueError(f"cannot allocate a negative total ({total})")
    if len(weights) == 0:
        if total:
            raise ValueError(f"cannot allocate {total} over no items")
        return np.zeros(0, dtype="int64")
    if (weights < 0).any() or np.isnan(weights).any():
        raise ValueError("weights must be non-negative numbers")
    if weights.sum() == 0:
        weights = np.ones_like(weights)
    if np.all(weights == np.floor(weights)) and weights.sum() * max(total, 1) < 2**62:
        # Integer weights (populations): exact quotas, so exact ties stay ties and go to the earlier item.
        w = weights.astype("int64")
        parts, remainders = np.divmod(w * total, int(w.sum()))
    else:
        quotas = weights * total / weights.sum()
        parts = np.floor(quotas).astype("int64")
        remainders = quotas - parts
    short = int(total - parts.sum())
    if short:
        order = np.lexsort((np.arange(len(weights)), -remainders))
        parts[order[:short]] += 1
    return parts


def township_targets(attachment: pd.DataFrame, campaign: Campaign) -> pd.DataFrame:
    """The official target table with the rule's own target beside it."""
    rule = campaign.target_rule
    out = attachment.rename(columns=campaign.baseline_columns).copy()
    if "baseline_completed" not in out.columns:
        out["baseline_completed"] = None
    out["rule_target"] = [
        rule_target(p, rule.multiplier, str(rule.population_factor)) for p in out["resident_population"]
    ]
    out["township_type"] = out["township"].map(_township_type)
    out["campaign_id"] = campaign.campaign_id
    out["target_source"] = campaign.target_source
    out["rate_per_10k"] = campaign.rate_per_10k
    columns = [
        "campaign_id",
        "seq",
        "township",
        "township_type",
        "resident_population",
        "target",
        "rule_target",
        "baseline_completed",
        "rate_per_10k",
        "target_source",
    ]
    return out[columns].reset_index(drop=True)


def _township_type(name: str) -> str:
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix):
            return suffix
    return ""


def village_targets(registry: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Each township target split over its villages by resident population (largest remainder, sums exact)."""
    by_township = targets.set_index("township")["target"].to_dict()
    groups = registry.groupby("township", sort=False).indices
    population = registry["resident_population"].fillna(0).to_numpy()
    order, split = [], []  # the townships in the registry's order, each township's villages in theirs
    for township in pd.unique(registry["township"]):
        if township in by_township:
            rows = groups[township]
            order.append(rows)
            split.append(allocate_largest_remainder(int(by_township[township]), population[rows]))
    if not order:
        return registry.head(0).assign(target=pd.Series(dtype="int64"))
    return registry.iloc[np.concatenate(order)].assign(target=np.concatenate(split)).reset_index(drop=True)


def cadre_quotas(
    targets: pd.DataFrame,
    committee: pd.DataFrame,
    gaps: pd.DataFrame | None = None,
    share: Decimal = Decimal(1),
    role_weights: dict[str, int] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each village's task split among its 两委 members 按比例 (largest remainder, sums exact), both ways the notice's
    advice can be read: a share of the village target (`quota`) and a share of what is left to do (`gap_quota`).

    committee: one row per person (township, village, person_key, cadre_name, roles). gaps: the day's
    village_progress (township, village, gap); without it gap_quota is empty. share: the part of the task the 两委
    carry together (campaign.yaml `quotas.share`, 1 = all of it), rounded half up to whole people. role_weights:
    a member's weight is the largest weight of their roles (主任 2, 委员 1…), 1 when none is named.
    Returns (quotas, the target rows of villages that have no committee member to give the task to).
    """
    people = committee.sort_values(["township", "village", "person_key"], kind="stable").reset_index(drop=True)
    # each village's members as positions in `people` (in person_key order), and every member's weight, computed once:
    # the split below is then plain lists, one pass over the villages (not a frame per village)
    positions = people.groupby(["township", "village"], sort=False).indices if len(people) else {}
    weight = [_member_weight(roles, role_weights or {}) for roles in people["roles"]]
    left = {} if gaps is None else {(t, v): g for t, v, g in zip(gaps["township"], gaps["village"], gaps["gap"])}
    taken: list[np.ndarray] = []
    village_target: list[int] = []
    quota: list[int] = []
    village_gap: list[int | None] = []
    gap_quota: list[int | None] = []
    missing = []
    for row in targets.itertuples(index=False):
        members = positions.get((row.township, row.village))
        if members is None or len(members) == 0:
            missing.append(row)
            continue
        weights = [weight[i] for i in members]
        gap = left.get((row.township, row.village))
        gap = None if gap is None or pd.isna(gap) else max(int(gap), 0)
        taken.append(members)
        village_target.extend([int(row.target)] * len(members))
        quota.extend(allocate_largest_remainder(share_of(int(row.target), share), weights).tolist())
        village_gap.extend([gap] * len(members))
        if gap is None:
            gap_quota.extend([None] * len(members))
        else:
            gap_quota.extend(allocate_largest_remainder(share_of(gap, share), weights).tolist())
    columns = ["township", "village", "person_key", "cadre_name", "roles", "village_target", "quota"]
    columns += ["village_gap", "gap_quota"]
    if taken:
        quotas = people.iloc[np.concatenate(taken)].reset_index(drop=True)
        quotas = quotas.assign(
            village_target=village_target,
            quota=quota,
            village_gap=pd.array(village_gap, dtype="Int64"),
            gap_quota=pd.array(gap_quota, dtype="Int64"),
        )[columns]
    else:
        quotas = pd.DataFrame(columns=columns)
    return quotas.astype({"village_gap": "Int64", "gap_quota": "Int64"}), pd.DataFrame(missing, columns=targets.columns)


def share_of(total: int, share: Decimal) -> int:
    """The 两委's part of a village's task: share × total, rounded half up to whole people."""
    return int((Decimal(total) * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _member_weight(roles: str, role_weights: dict[str, int]) -> int:
    named = [w for role, w in role_weights.items() if role in str(roles).split("、")]
    return max(named) if named else 1
