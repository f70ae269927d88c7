import numpy as np
import pandas as pd
import pytest

from yukuai_pipeline import settings
from yukuai_pipeline.metrics.targets import allocate_largest_remainder, rule_target, township_targets
from yukuai_pipeline.steps.context import load_attachment


def test_attachment_transcribed_with_the_notice_totals():
    table = load_attachment()
    assert len(table) == 39
    assert table["seq"].tolist() == list(range(1, 40))
    assert table["resident_population"].sum() == 853_945
    assert table["target"].sum() == 102_476
    assert table["completed_20230217"].sum() == 28_632
    assert table["gap_20230217"].sum() == 73_844
    assert (table["target"] - table["completed_20230217"] == table["gap_20230217"]).all()
    first, last = table.iloc[0], table.iloc[-1]
    assert (first["township"], first["resident_population"], first["target"]) == ("桃花源街道", 50226, 6028)
    assert (last["township"], last["completed_20230217"]) == ("浪坪乡", 91)


def test_rule_reproduces_all_39_official_targets():
    table = township_targets(load_attachment(), settings.campaign())
    assert (table["rule_target"] == table["target"]).all()
    assert rule_target(50226) == 6028  # 50226 × 0.06 = 3013.56 -> 3014 -> 6028


@pytest.mark.parametrize("population, expected", [(25, 4), (75, 10), (8, 0), (9, 2), (10, 2)])
def test_rule_rounds_half_up_not_to_even(population, expected):
    # 25 × 0.06 = 1.5 -> 2 (banker's rounding would give 2 as well); 75 × 0.06 = 4.5 -> 5 (to-even gives 4)
    assert rule_target(population) == expected


def test_largest_remainder_sums_exactly_for_many_random_cases():
    rng = np.random.default_rng(7)
    for _ in range(500):
        n = int(rng.integers(1, 40))
        weights = rng.integers(0, 100_000, size=n)
        total = int(rng.integers(0, 20_000))
        parts = allocate_largest_remainder(total, weights)
        assert parts.sum() == total
        assert (parts >= 0).all()
        if weights.sum() > 0:
            quotas = weights * total / weights.sum()
            assert (np.abs(parts - quotas) < 1).all()  # quota rule: never more than one away from the exact share


def test_largest_remainder_ties_go_to_the_earlier_item_and_zero_weights_split_evenly():
    assert allocate_largest_remainder(10, [1, 1, 1]).tolist() == [4, 3, 3]
    assert allocate_largest_remainder(2, [0, 0, 0]).tolist() == [1, 1, 0]
    with pytest.raises(ValueError):
        allocate_largest_remainder(5, [])
    with pytest.raises(ValueError):
        allocate_largest_remainder(5, [1, -1])


def test_village_targets_split_each_township_target_by_population():
    from yukuai_pipeline.metrics.targets import village_targets

    registry = pd.DataFrame(
        {
            "township": ["桃花源街道"] * 3 + ["浪坪乡"] * 2,
            "village": list("abcde"),
            "resident_population": [20000, 20000, 10226, 10000, 530],
        }
    )
    targets = township_targets(load_attachment(), settings.campaign())
    split = village_targets(registry, targets)
    assert split.groupby("township")["target"].sum().to_dict() == {"桃花源街道": 6028, "浪坪乡": 1264}
    assert split["target"].tolist() == [2401, 2400, 1227, 1200, 64]
