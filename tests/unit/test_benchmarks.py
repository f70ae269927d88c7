"""The city-scale benchmark's machinery at a tiny size (its timings are run by hand: benchmarks/README.md)."""

import datetime as dt
import zipfile

import pandas as pd
import sqlalchemy as sa

from benchmarks.generate import DAY, generate
from benchmarks.run import measure, table


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
        "peer_duckdb_s",
        "ratio_vs_peer_duckdb",
        "report_s",
        "report_files",
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
        for other in ("peer_arrow", "peer_duckdb"):
            pd.testing.assert_frame_equal(
                _table(work / f"{other}-0" / "peer.db", query).astype("object"), pipeline.astype("object")
            )
    # The DuckDB peer's tables are the pandas peer's, every column (population, rate) and row order included.
    for name in ("township_progress", "village_progress"):
        pd.testing.assert_frame_equal(
            _table(work / "peer_duckdb-0" / "peer.db", f"SELECT * FROM {name}"),
            _table(work / "peer-0" / "peer.db", f"SELECT * FROM {name}"),
        )
    # … and they hold the day's numbers: the townships' targets, split over their villages to the person.
    towns = _table(work / "peer_duckdb-0" / "peer.db", "SELECT * FROM township_progress")
    villages = _table(work / "peer_duckdb-0" / "peer.db", "SELECT * FROM village_progress")
    attachment = pd.read_csv(data / "assets" / "attachment.csv")
    assert list(towns["township"]) == [*attachment["township"], "合计"]
    assert list(towns["target"]) == [*attachment["target"], attachment["target"].sum()]
    assert towns["completed"].iloc[-1] == 2_532 == villages["completed"].sum() == towns["completed"].iloc[:-1].sum()
    assert len(villages) == 30 and not villages["village"].str.endswith("委员会").any()
    by_town = villages.groupby("township")[["target", "completed"]].sum()
    assert by_town["target"].to_dict() == dict(zip(attachment["township"], attachment["target"]))
    assert by_town["completed"].to_dict() == dict(zip(towns["township"].iloc[:-1], towns["completed"].iloc[:-1]))
    assert (towns["gap"] == (towns["target"] - towns["completed"]).clip(lower=0)).all()
    assert (villages["completion_rate"] == (villages["completed"] / villages["target"]).round(4)).all()
    # The ordinary next day (only a new export landed) counts the same users, its reference steps reused.
    assert result["next_day_same_completed"] and result["next_day_s"] > 0
    next_day = _table(work / "pipeline_next_day-0" / "next_day.db", "SELECT * FROM step_runs ORDER BY step")
    assert set(next_day["snapshot_date"]) == {DAY.isoformat(), (DAY + dt.timedelta(days=1)).isoformat()}
    reused = next_day[next_day["snapshot_date"] != next_day["computed_on"]]
    # the synthetic city has no activity or organisation export: those steps write nothing, so nothing to reuse
    assert set(reused["step"]) == {"community_registry", "village_targets", "roster_completeness"}
    assert set(reused["computed_on"]) == {DAY.isoformat()}
    # The Excel report, timed on its own over the day's tables (its setup materialized them into its own database):
    # the workbook, its chart, the bulletin in Word and text, one return per township and their zip.
    day = DAY.isoformat()
    reports = work / "report-0" / "reports"
    assert result["report_success"] and result["report_s"] > 0  # no timing target in a test: benchmarks/README.md
    assert result["report_townships"] == len(attachment) == 3
    assert result["report_files"] == 8 == sum(1 for p in reports.rglob("*") if p.is_file())
    returns = sorted(p.name for p in (reports / f"乡镇回执_{day}").iterdir())
    assert returns == sorted(f"{town}_回执_{day}.xlsx" for town in attachment["township"])
    assert {p.suffix for p in reports.iterdir() if p.is_file()} == {".xlsx", ".png", ".docx", ".txt", ".zip"}
    with zipfile.ZipFile(next(reports.glob(f"*乡镇回执_{day}.zip"))) as archive:
        assert sorted(archive.namelist()) == returns
    progress = "SELECT township, target, completed FROM township_progress ORDER BY township"
    pd.testing.assert_frame_equal(
        _table(work / "report-0" / "report.db", progress), _table(work / "pipeline-0" / "pipeline.db", progress)
    )
    assert f"Excel report {result['report_s']:.2f} s, 8 files (3 township returns;" in table([result])


def test_city_splits_into_counties_that_hold_exactly_the_citys_rows(tmp_path, monkeypatch):
    """benchmarks.city_counties' split (its timings need RabbitMQ and PostgreSQL: benchmarks/README.md)."""
    from benchmarks.city_counties import split
    from benchmarks.generate import SIZES, Size
    from yukuai_pipeline.campaign import parse
    from yukuai_pipeline.settings import read_yaml

    monkeypatch.setitem(SIZES, "tiny", Size(3, 9, 60, 3_000))  # tiny with three districts
    city = generate("tiny", tmp_path / "city")
    manifest = split(city, tmp_path / "counties")

    def export(folder):
        path = next(folder.glob("渝快社区注册用户_*.csv"))
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        return lines, pd.read_csv(path, skiprows=2, dtype=str).iloc[:-2]

    city_lines, users = export(city / "landing")
    approved = int((users["审核状态"] == "已通过").sum())
    assert manifest["users"] == 3_000 and manifest["approved"] == approved
    assert len(manifest["counties"]) == 3
    towns, ids, registry_rows = [], [], 0
    for code, county in manifest["counties"].items():
        folder = tmp_path / "counties" / code
        campaign = parse(read_yaml(folder / "campaign" / "campaign.yaml"), folder / "campaign")
        assert campaign.county.code == code and code.startswith("5099") and campaign.county.name == county["district"]
        attachment = pd.read_csv(folder / "campaign" / "attachment.csv")
        assert list(attachment["seq"]) == list(range(1, len(attachment) + 1))
        lines, own = export(folder / "landing")
        assert lines[:3] == city_lines[:3] and lines[-2] == f"合计,共{len(own)}人,,,,,," and lines[-1] == city_lines[-1]
        assert list(own["序号"]) == [str(i) for i in range(1, len(own) + 1)] and len(own) == county["users"]
        assert set(own["乡镇（街道）"]) <= set(attachment["township"])
        registry = pd.read_csv(next((folder / "landing").glob("社区基本信息_*.csv")), skiprows=1, dtype=str)
        assert set(registry["乡镇（街道）"]) == set(attachment["township"])
        towns += list(attachment["township"])
        ids += list(own["用户ID"])
        registry_rows += len(registry)
    assert sorted(towns) == sorted(pd.read_csv(city / "assets" / "attachment.csv")["township"])  # each once
    assert sorted(ids) == sorted(users["用户ID"]) and registry_rows == 60


def test_a_backfill_day_lands_each_countys_export_as_it_stood_that_evening(tmp_path):
    """benchmarks.city_backfill's landing (its run needs PostgreSQL: benchmarks/README.md): the users registered
    by the day's end, renumbered, under the platform's title and footer; the day before's export replaced."""
    from benchmarks.city_backfill import land_day

    users = pd.DataFrame(
        {
            "序号": ["1", "2", "3", "4", "5"],
            "用户ID": ["YK1", "YK2", "YK2", "YK3", "YK4"],
            "昵称": ["甲", "乙", "乙", "丙", "丁"],
            "手机号": ["13800000001", "13800000002", "13800000002", "13800000003", "13800000004"],
            "乡镇（街道）": ["钟多街道"] * 5,
            "村（社区）": ["桃花源社区"] * 5,
            "注册时间": [
                "2023-06-01 08:00:00",
                "2023-06-01 23:59:59",
                "2023-06-02 00:00:00",
                "2023-06-02 12:00:00",
                "2023-06-03 09:00:00",
            ],
            "审核状态": ["已通过", "已通过", "已通过", "待审核", "已通过"],
        }
    )
    landing = tmp_path / "landing"
    (landing / "509901").mkdir(parents=True)
    assert land_day(landing, {"509901": users}, dt.date(2023, 6, 1)) == 2
    assert land_day(landing, {"509901": users}, dt.date(2023, 6, 2)) == 2  # YK2 twice, YK3 not yet approved
    files = list((landing / "509901").iterdir())
    assert [f.name for f in files] == ["渝快社区注册用户_20230602.csv"]
    lines = files[0].read_text(encoding="utf-8-sig").splitlines()
    assert lines[:2] == ["渝快社区注册用户明细,,,,,,,", "导出时间：2023-06-02 23:59,,,,,,,"]
    assert lines[-2:] == ["合计,共4人,,,,,,", "制表人：系统导出,,,,,,,"]
    landed = pd.read_csv(files[0], skiprows=2, dtype=str).iloc[:-2]
    assert list(landed["序号"]) == ["1", "2", "3", "4"] and list(landed["用户ID"]) == ["YK1", "YK2", "YK2", "YK3"]


def test_the_whole_process_contenders_count_the_same_day(tmp_path):
    """benchmarks.whole_process's two processes (the county it picks is the city's: benchmarks/README.md): the
    officer's `yukuai materialize --date`, report included, and the bare pandas script, on the tiny city."""
    from benchmarks.whole_process import run_peer, run_pipeline

    data = generate("tiny", tmp_path / "data")
    pipeline_s, pipeline_completed = run_pipeline(data, tmp_path / "pipeline")
    peer_s, peer_completed = run_peer(data, tmp_path / "peer")
    assert pipeline_completed == peer_completed == 2_532 and pipeline_s > 0 and peer_s > 0
    assert list((tmp_path / "pipeline" / "reports").glob("*.xlsx"))  # the report is part of the officer's wait
