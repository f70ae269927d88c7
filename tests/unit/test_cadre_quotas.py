"""Quotas both ways (issue 20 item 4): a share of the village target and a share of what is left, each exact."""

from decimal import Decimal

import pandas as pd
import pytest

from yukuai_pipeline.campaign import _quotas
from yukuai_pipeline.metrics.targets import cadre_quotas, share_of

TARGETS = pd.DataFrame({"township": ["钟多街道"], "village": ["峡杨村"], "target": [126]})
GAPS = pd.DataFrame({"township": ["钟多街道"], "village": ["峡杨村"], "gap": [58]})  # 68 of 126 done


def _committee(roles: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "township": "钟多街道",
            "village": "峡杨村",
            "person_key": [f"p{i}" for i in range(len(roles))],
            "cadre_name": [f"干部{i}" for i in range(len(roles))],
            "roles": roles,
        }
    )


def test_six_cadres_get_21_of_the_target_and_10_or_9_of_the_gap():
    quotas, missing = cadre_quotas(TARGETS, _committee(["委员"] * 6), GAPS)
    assert missing.empty
    assert quotas["quota"].tolist() == [21] * 6
    assert quotas["gap_quota"].tolist() == [10, 10, 10, 10, 9, 9]  # 58 = 4 × 10 + 2 × 9, earlier members first
    assert int(quotas["gap_quota"].sum()) == 58 and set(quotas["village_gap"]) == {58}


def test_share_and_role_weights_from_the_campaign():
    rule = _quotas({"share": "0.5", "role_weights": {"书记": 2}})
    quotas, _ = cadre_quotas(TARGETS, _committee(["书记、主任", "委员", "委员"]), GAPS, rule.share, rule.role_weights)
    assert quotas["quota"].tolist() == [31, 16, 16]  # half of 126 = 63 over 2:1:1: 31.5, 15.75, 15.75
    assert quotas["gap_quota"].tolist() == [15, 7, 7]  # half of 58 = 29 over 2:1:1: 14.5, 7.25, 7.25
    assert share_of(125, Decimal("0.5")) == 63  # 62.5 rounds half up


def test_without_the_days_progress_gap_quotas_are_empty_and_a_finished_village_gets_none():
    quotas, _ = cadre_quotas(TARGETS, _committee(["委员"] * 3))
    assert quotas["gap_quota"].isna().all() and quotas["quota"].tolist() == [42, 42, 42]
    done = GAPS.assign(gap=[-4])  # past its target: nothing left to split, not a negative quota
    quotas, _ = cadre_quotas(TARGETS, _committee(["委员"] * 3), done)
    assert quotas["gap_quota"].tolist() == [0, 0, 0]


@pytest.mark.parametrize("share", ["0", "1.5", "-1"])
def test_a_share_outside_zero_to_one_is_refused(share):
    with pytest.raises(ValueError, match=r"quotas\.share"):
        _quotas({"share": share})
