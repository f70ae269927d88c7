"""Week over week: the users added since the newest snapshot a week back, the rank then and the places moved."""

import datetime as dt

import pandas as pd

from yukuai_pipeline.metrics.week_over_week import week_over_week

DAY = dt.date(2023, 3, 30)


def _rows(completed: list, rank: list, townships=("龙潭镇", "麻旺镇", "合计")) -> pd.DataFrame:
    return pd.DataFrame({"township": list(townships), "completed": completed, "rank": pd.array(rank, dtype="Int64")})


def test_added_users_rank_then_and_places_moved():
    now = _rows([1500, 900, 2400], [2, 1, None])
    then = _rows([1400, 700, 2100], [1, 2, None])
    out = week_over_week(now, then, dt.date(2023, 3, 23), ["township"]).set_index("township")
    assert out["new_this_week"].tolist() == [100, 200, 300]
    assert out["last_week_rank"].tolist()[:2] == [1, 2] and out.loc["合计", "last_week_rank"] is pd.NA
    assert out.loc["龙潭镇", "rank_change"] == -1 and out.loc["麻旺镇", "rank_change"] == 1  # 麻旺镇 moved up
    assert set(out["last_week_date"]) == {dt.date(2023, 3, 23)}


def test_a_place_new_since_last_week_and_no_snapshot_that_old_stay_empty():
    now = _rows([1500, 900, 5], [1, 2, None], townships=("龙潭镇", "麻旺镇", "未匹配"))
    then = _rows([1400, 700], [1, 2], townships=("龙潭镇", "麻旺镇"))
    out = week_over_week(now, then, dt.date(2023, 3, 21), ["township"]).set_index("township")
    assert out.loc["未匹配", "new_this_week"] is pd.NA and out.loc["未匹配", "last_week_date"] is None
    assert out.loc["龙潭镇", "last_week_date"] == dt.date(2023, 3, 21)  # the day actually compared
    first = week_over_week(now, None, None, ["township"])
    assert first[["new_this_week", "last_week_rank", "rank_change"]].isna().all().all()
