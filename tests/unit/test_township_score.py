"""The 考核得分: weighted parts that add up to the score, ranked, with missing parts named and scored 0, and each
part dated by its own input (数据未更新 past the campaign's freshness)."""

import datetime as dt

import pandas as pd
import pytest

from yukuai_pipeline.metrics.data_dates import date_phrase
from yukuai_pipeline.metrics.township_score import (
    DEFAULT_WEIGHTS,
    activity_share,
    part_dates,
    township_scores,
    weights_of,
)

TOWNS = pd.DataFrame({"township": ["甲镇", "乙镇", "丙乡"], "seq": [1, 2, 3]})


def _series(values: dict) -> pd.Series:
    return pd.Series(values, dtype="float64")


def test_parts_add_up_to_the_score_and_rank_by_it():
    parts = {
        "registration": _series({"甲镇": 0.5, "乙镇": 1.2, "丙乡": 0.25}),  # 乙镇 past its target counts as 1
        "registry": _series({"甲镇": 1.0, "乙镇": 0.5, "丙乡": 1.0}),
        "roster": _series({"甲镇": 0.75, "乙镇": 0.5, "丙乡": 1.0}),
        "orgs": _series({"甲镇": 0.0, "乙镇": 1.0}),  # 丙乡 has no organisation list
        "activity": _series({"甲镇": 1 / 3, "乙镇": 0.5, "丙乡": 0.5}),
    }
    scores = township_scores(TOWNS, parts, weights_of(None)).set_index("township")
    # 甲镇: 40×0.5 + 10×1 + 20×0.75 + 10×0 + 20×⅓ = 20 + 10 + 15 + 0 + 6.67 = 51.67
    assert scores.loc["甲镇", "score"] == 51.67
    assert scores.loc["乙镇", "score"] == 40 + 5 + 10 + 10 + 10
    assert scores.loc["丙乡", "score"] == 10 + 10 + 20 + 0 + 10
    for town, row in scores.iterrows():
        assert round(sum(row[f"{p}_points"] for p in DEFAULT_WEIGHTS), 2) == row["score"], town
    assert scores["rank"].to_dict() == {"乙镇": 1, "甲镇": 2, "丙乡": 3}
    assert scores.loc["丙乡", "missing"] == "社区社会组织达标率" and pd.isna(scores.loc["甲镇", "missing"])


def test_weights_are_scaled_to_100_and_validated():
    weights = weights_of({"registration": 1, "registry": 1, "roster": 1, "orgs": 1, "activity": 0})
    full = {p: _series(dict.fromkeys(TOWNS["township"], 1.0)) for p in DEFAULT_WEIGHTS}
    scores = township_scores(TOWNS, full, weights)
    assert scores["score"].tolist() == [100.0, 100.0, 100.0] and (scores["activity_points"] == 0).all()
    assert scores["rank"].tolist() == [1, 2, 3]  # ties in attachment order
    with pytest.raises(ValueError, match="未知"):
        weights_of({"speed": 5})
    with pytest.raises(ValueError, match="不能为负"):
        weights_of({"orgs": -1})


def test_activity_share_is_the_mean_over_kinds_of_villages_using_it():
    rollup = pd.DataFrame(
        {
            "township": ["甲镇", "甲镇", "乙镇"],
            "kind": ["request", "notice", "request"],
            "villages": [4, 4, 0],
            "villages_used_30d": [4, 2, 0],
        }
    )
    shares = activity_share(rollup)
    assert shares["甲镇"] == 0.75 and "乙镇" not in shares  # a township without villages has no share


DAY = dt.date(2023, 3, 30)


def test_each_part_keeps_its_inputs_date_and_a_stale_one_is_marked():
    full = {p: _series(dict.fromkeys(TOWNS["township"], 1.0)) for p in DEFAULT_WEIGHTS}
    dates = {
        "registration": DAY,
        "registry": dt.date(2023, 2, 17),
        "roster": dt.date(2023, 2, 17),
        "orgs": None,  # no organisation list on the day
        "activity": dt.date(2023, 2, 17),  # the one activity export, 41 days before
    }
    scores = township_scores(TOWNS, full, weights_of(None), dates)
    assert scores["activity_data_date"].tolist() == [dt.date(2023, 2, 17)] * 3
    assert scores["registration_data_date"].tolist() == [DAY] * 3
    assert scores["orgs_data_date"].isna().all()
    found = part_dates(scores, DAY, {}).set_index("input")
    assert found.loc["activity", ["age_days", "stale", "status"]].tolist() == [41, True, "数据未更新"]
    assert found.loc["registry", ["age_days", "stale"]].tolist() == [41, False]  # 90 days allowed for a registry
    assert found.loc["registrations", "status"] == "当日数据" and found.loc["orgs", "status"] == "无数据"
    assert date_phrase(found.reset_index(), "activity") == "2023-02-17（41 天前，数据未更新）"
    # a campaign that allows 60 days for the activity export: the same date is current
    assert not part_dates(scores, DAY, {"activity": 60}).set_index("input").loc["activity", "stale"]


def test_scores_without_dates_have_empty_date_columns():
    full = {p: _series(dict.fromkeys(TOWNS["township"], 1.0)) for p in DEFAULT_WEIGHTS}
    scores = township_scores(TOWNS, full, weights_of(None))
    assert all(scores[f"{p}_data_date"].isna().all() for p in DEFAULT_WEIGHTS)
    assert (part_dates(scores, DAY, {})["status"] == "无数据").all()
