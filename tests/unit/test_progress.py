import datetime as dt

import numpy as np
import pandas as pd
import pytest

from yukuai_pipeline.campaign import Pace
from yukuai_pipeline.metrics.progress import add_pace
from yukuai_pipeline.metrics.targets import cadre_quotas

PACE = Pace(window_days=7, on_track_ratio=1.0, behind_ratio=0.5)
DEADLINE = dt.date(2023, 10, 31)


def _frame(completed, target):
    frame = pd.DataFrame(
        {"township": [f"t{i}" for i in range(len(completed))], "completed": completed, "target": target}
    )
    frame["gap"] = (frame["target"] - frame["completed"]).clip(lower=0)
    return frame


def test_pace_required_daily_projection_and_status_by_hand():
    day = dt.date(2023, 10, 1)  # 30 days left to 2023-10-31
    frame = _frame([700, 400, 100, 500, 1000], [1000, 1000, 1000, 1000, 900])
    base = pd.DataFrame({"township": frame["township"], "completed": [630, 379, 100, 493, 990]})
    out = add_pace(frame, ["township"], base, 7, day, DEADLINE, PACE).set_index("township")
    # t0: +70 in 7 days = 10/day; gap 300 / 30 days = 10/day -> on time, done in 30 days
    assert out.loc["t0", ["new_7d_avg", "required_daily"]].tolist() == [10.0, 10.0]
    assert out.loc["t0", "projected_date"] == dt.date(2023, 10, 31) and out.loc["t0", "status"] == "按期"
    # t1: 3/day against 20/day needed: below half -> 严重滞后; 600 / 3 = 200 days
    assert out.loc["t1", "status"] == "严重滞后" and out.loc["t1", "projected_date"] == dt.date(2024, 4, 18)
    # t2: pace 0 -> no projected date
    assert out.loc["t2", "new_7d_avg"] == 0 and out.loc["t2", "projected_date"] is None
    # t3: 1/day against 500/30 = 16.67 -> 严重滞后; t4 already done
    assert out.loc["t3", "required_daily"] == pytest.approx(16.6667, abs=1e-4)
    assert out.loc["t4", "status"] == "已完成" and out.loc["t4", "projected_date"] == day


def test_behind_between_half_and_full_pace_and_no_history():
    day = dt.date(2023, 10, 1)
    frame = _frame([700], [1000])
    base = pd.DataFrame({"township": ["t0"], "completed": [651]})  # 7/day against 10/day -> 滞后
    assert add_pace(frame, ["township"], base, 7, day, DEADLINE, PACE)["status"].tolist() == ["滞后"]
    first = add_pace(frame, ["township"], None, None, day, DEADLINE, PACE)
    assert np.isnan(first["new_7d_avg"].iloc[0]) and first["status"].iloc[0] is None
    late = add_pace(frame, ["township"], base, 7, dt.date(2023, 11, 2), DEADLINE, PACE)
    assert late["status"].tolist() == ["严重滞后"] and np.isnan(late["required_daily"].iloc[0])


def test_cadre_quotas_sum_exactly_for_many_random_villages():
    rng = np.random.default_rng(11)
    for _ in range(200):
        n_villages = int(rng.integers(1, 8))
        targets = pd.DataFrame(
            {
                "township": "t",
                "village": [f"v{i}" for i in range(n_villages)],
                "target": rng.integers(0, 3000, n_villages),
            }
        )
        sizes = rng.integers(0, 9, n_villages)
        committee = pd.DataFrame(
            [
                {
                    "township": "t",
                    "village": f"v{i}",
                    "person_key": f"P{i}-{j}",
                    "cadre_name": f"人{j}",
                    "roles": "村委会委员",
                }
                for i in range(n_villages)
                for j in range(sizes[i])
            ],
            columns=["township", "village", "person_key", "cadre_name", "roles"],
        )
        quotas, missing = cadre_quotas(targets, committee)
        sums = quotas.groupby("village")["quota"].sum()
        for village, target, size in zip(targets["village"], targets["target"], sizes):
            if size:
                assert sums[village] == target
                shares = quotas.loc[quotas["village"] == village, "quota"]
                assert shares.max() - shares.min() <= 1  # equal proportion: nobody carries more than one extra
            else:
                assert village in set(missing["village"])
