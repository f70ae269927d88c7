"""The city-scale benchmark's machinery at a tiny size (its timings are run by hand: benchmarks/README.md)."""

import pandas as pd
import sqlalchemy as sa

from benchmarks.generate import generate
from benchmarks.run import measure


def _table(database: str, query: str) -> pd.DataFrame:
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text(query), conn)
    engine.dispose()
    return frame


def test_generator_writes_a_seeded_city(tmp_path):
    first, second = generate("tiny", tmp_path / "a"), generate("tiny", tmp_path / "b")
    export = next((first / "landing").glob("渝快社区注册用户_*.csv"))
    assert export.read_bytes() == next((second / "landing").glob("*注册用户*.csv")).read_bytes()
    users = pd.read_csv(export, skiprows=2, dtype=str).iloc[:-2]  # less the 合计 and 制表人 footer
    assert len(users) == 3_000 and users["用户ID"].is_unique
    attachment = pd.read_csv(first / "assets" / "attachment.csv")
    registry = pd.read_csv(next((first / "landing").glob("社区基本信息_*.csv")), skiprows=1)
    assert len(attachment) == 3 and len(registry) == 30
    assert attachment["resident_population"].sum() == registry["常住人口（人）"].sum()
    assert set(users["乡镇（街道）"]) == set(attachment["township"])


def test_runner_times_peer_and_pipeline_on_the_same_numbers(tmp_path):
    data = generate("tiny", tmp_path / "data")
    result = measure("tiny", 1, tmp_path / "work", data=data)
    for key in (
        "size",
        "rows",
        "parse_s",
        "peer_s",
        "pipeline_s",
        "ratio_vs_peer",
        "ratio_vs_parse",
        "peak_rss_mb",
        "data_dir",
        "xlsx_speed_vs_calamine",
        "peer_arrow_s",
    ):
        assert key in result
    assert result["rows"] == 3_000 and result["data_dir"] == str(data)
    users = pd.read_csv(next((data / "landing").glob("*注册用户*.csv")), skiprows=2, dtype=str).iloc[:-2]
    assert result["same_completed"] and result["completed"] == (users["审核状态"] == "已通过").sum() == 2_532
    work = tmp_path / "work" / "tiny"
    for query in (
        "SELECT township, target, completed, gap FROM township_progress ORDER BY township",
        "SELECT township, village, target, completed, gap FROM village_progress ORDER BY township, village",
    ):
        peer = _table(work / "peer-0" / "peer.db", query)
        pipeline = _table(work / "pipeline-0" / "pipeline.db", query)
        assert len(peer) > 3
        pd.testing.assert_frame_equal(peer.astype("object"), pipeline.astype("object"))
        pd.testing.assert_frame_equal(
            _table(work / "peer_arrow-0" / "peer.db", query).astype("object"), pipeline.astype("object")
        )
