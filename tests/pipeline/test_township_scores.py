"""The 考核得分 from a real run of the demo's first day: one row per attachment township, parts that add up to the
score, each part equal to the table it comes from and dated by its input, shown in the workbook and named in the
bulletin."""

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
    rows = list(book["考核得分"].iter_rows(min_row=5, max_col=4, values_only=True))
    assert rows[0][:4] == (1, int(towns.loc[best, "seq"]), best, scores.loc[best, "score"])
    # on the demo's first day every input is that day's: each part's date is the day, none marked 数据未更新
    for part in PARTS:
        assert set(scores[f"{part}_data_date"]) == {DAY}, part
    dates = next(book["考核得分"].iter_rows(min_row=3, max_row=3, max_col=1, values_only=True))[0]
    assert dates.startswith("各部分所用数据的日期：注册完成率（用户注册导出）2023-02-17；")
    assert dates.endswith("六项应用使用率（平台应用明细）2023-02-17。") and "数据未更新" not in dates
    text = (tmp_path / "reports" / f"酉阳县渝快社区注册工作通报_{DAY}.txt").read_text(encoding="utf-8")
    assert f"最高的是{best}（{scores.loc[best, 'score']:.2f} 分）" in text
    assert "以上得分中" not in text  # no part of the day's scores is computed from old data
    assert pd.notna(scores["score"]).all()
