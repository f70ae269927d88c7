"""The 考核得分 from a real run of the demo's first day: one row per attachment township, parts that add up to the
score, each part equal to the table it comes from, shown in the workbook and named in the bulletin."""

import datetime as dt

import pandas as pd
from openpyxl import load_workbook

from yukuai_pipeline.metrics.township_score import PARTS

DAY = dt.date(2023, 2, 17)


def test_scores_add_up_and_come_from_their_tables(runner, tmp_path):
    assert runner.run(DAY.isoformat()).success
    scores = runner.table("township_scores", snapshot_date=DAY).set_index("township")
    progress = runner.table("township_progress", snapshot_date=DAY)
    towns = progress[progress["seq"].notna()].set_index("township")
    assert set(scores.index) == set(towns.index) and len(scores) == 39
    assert sorted(scores["rank"]) == list(range(1, 40))
    for town, row in scores.iterrows():
        assert round(sum(row[f"{p}_points"] for p in PARTS), 2) == row["score"], town
    expected = towns["completion_rate"].astype(float).clip(upper=1)
    assert (scores.loc[expected.index, "registration_share"] - expected).abs().max() < 1e-9
    roster = runner.table("roster_township_summary", snapshot_date=DAY).set_index("township")["completeness"]
    assert (scores.loc[roster.index.intersection(scores.index), "roster_share"] - roster).abs().max() < 1e-9
    assert scores["orgs_share"].notna().all() and scores["registry_share"].notna().all()  # the demo lands all three
    best = scores.sort_values("rank").index[0]
    book = load_workbook(tmp_path / "reports" / f"酉阳县渝快社区注册进度报表_{DAY}.xlsx", read_only=True)
    rows = list(book["考核得分"].iter_rows(min_row=4, max_col=4, values_only=True))
    assert rows[0][:4] == (1, int(towns.loc[best, "seq"]), best, scores.loc[best, "score"])
    text = (tmp_path / "reports" / f"酉阳县渝快社区注册工作通报_{DAY}.txt").read_text(encoding="utf-8")
    assert f"最高的是{best}（{scores.loc[best, 'score']:.2f} 分）" in text
    assert pd.notna(scores["score"]).all()
