"""One contender, timed inside a fresh process (so that the peak RSS it reports is its own):

    python -m benchmarks.contenders NAME DATA_DIR WORK_DIR

NAME: parse, peer, peer_arrow, peer_duckdb, pipeline, pipeline_next_day, report, parse_xlsx or ingest_xlsx. It
prints one JSON line: seconds (the work only, after imports and setup), rows, peak_rss_mb, base_rss_mb (after
imports and setup).
"""

import datetime as dt
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

from benchmarks.generate import DAY

NEXT_DAY = DAY + dt.timedelta(days=1)  # pipeline_next_day's partition


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


def _export(folder: Path) -> Path:
    return next(p for p in folder.iterdir() if "注册用户" in p.name)


def parse(data: Path, work: Path) -> dict:
    """The parse floor: the export read by pandas, nothing else."""
    import pandas as pd

    def run():
        frame = pd.read_csv(_export(data / "landing"), skiprows=2, dtype=str)
        # measured after the clock stops (a deep memory count of millions of strings takes a while)
        return {"rows": len(frame) - 2, "frame_mb": lambda: round(frame.memory_usage(deep=True).sum() / 2**20, 1)}

    return run


def parse_xlsx(data: Path, work: Path) -> dict:
    """The xlsx floor: a bare calamine read of the workbook into Python rows."""
    from python_calamine import CalamineWorkbook

    def run():
        rows = CalamineWorkbook.from_path(str(_export(data / "landing_xlsx"))).get_sheet_by_index(0).to_python()
        return {"rows": len(rows) - 5}

    return run


def ingest_xlsx(data: Path, work: Path) -> dict:
    """The pipeline's own ingest of the workbook: read, header, parse, validate (intake.load)."""
    os.environ["YUKUAI_ASSETS_DIR"] = str(data / "assets")
    from yukuai_pipeline.intake.loading import load

    def run():
        loaded = load(_export(data / "landing_xlsx"))
        return {"rows": loaded.rows, "accepted": len(loaded.accepted)}

    return run


def peer(data: Path, work: Path) -> dict:
    from benchmarks.peer import run_peer

    def run():
        return run_peer(data, f"sqlite:///{work / 'peer.db'}")

    return run


def peer_arrow(data: Path, work: Path) -> dict:
    from benchmarks.peer import run_peer

    def run():
        return run_peer(data, f"sqlite:///{work / 'peer.db'}", engine="pyarrow")

    return run


def peer_duckdb(data: Path, work: Path) -> dict:
    """The same job in DuckDB SQL (benchmarks/peer_duckdb.py), written to SQLite through pandas."""
    from benchmarks.peer_duckdb import run_peer

    def run():
        return run_peer(data, f"sqlite:///{work / 'peer.db'}")

    return run


def _environment(data: Path, work: Path, database: str, landing: str = "landing") -> None:
    """The pipeline's settings for a contender: the synthetic campaign and landing folder, its own database file in
    its work dir (BENCH_DATABASE_URL instead, when set) and its own report folder."""
    os.environ.update(
        YUKUAI_ASSETS_DIR=str(data / "assets"),
        YUKUAI_LANDING_DIR=str(data / landing),
        YUKUAI_DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{work / database}"),
        YUKUAI_REPORT_DIR=str(work / "reports"),
    )


def _day_job(name: str, selection: list, day=DAY):
    """The day's partition of the selected assets, materialized in process (the definitions hold every asset, as
    the project's do); imports and job building happen here, outside the timed part."""
    import dagster as dg

    from yukuai_pipeline.cli.runs import QUIET
    from yukuai_pipeline.defs.assets import ALL_ASSETS
    from yukuai_pipeline.defs.resources import YukuaiResource

    job = dg.define_asset_job(name, selection=selection, executor_def=dg.in_process_executor)
    defs = dg.Definitions(assets=ALL_ASSETS, jobs=[job], resources={"yukuai": YukuaiResource.from_env()})
    resolved = defs.resolve_job_def(name)

    def execute():
        with dg.DagsterInstance.ephemeral() as instance:
            return resolved.execute_in_process(
                partition_key=day.isoformat(), instance=instance, raise_on_error=True, run_config=QUIET
            )

    return execute


def pipeline(data: Path, work: Path, landing: str = "landing") -> dict:
    """The day's partition materialized in process, as `yukuai materialize --date` does (the workbook report aside:
    the `report` contender times it)."""
    _environment(data, work, "pipeline.db", landing)
    from yukuai_pipeline.defs.assets import ALL_ASSETS, excel_report
    from yukuai_pipeline.defs.resources import YukuaiResource

    materialize = _day_job("bench_day", [a for a in ALL_ASSETS if a is not excel_report])

    def run():
        result = materialize()
        counts = YukuaiResource.from_env().warehouse().read("registration_counts")
        return {"success": result.success, "completed": int(counts["completed"].sum())}

    return run


def pipeline_next_day(data: Path, work: Path) -> dict:
    """The officer's ordinary day: the day before already in the warehouse (setup, not timed), the day's new export
    landed and nothing else, so the steps whose inputs did not change take the day before's rows
    (steps/unchanged.py), as every day after a campaign's first does. The workbook report aside, as in `pipeline`."""
    landing = work / "landing"
    shutil.copytree(data / "landing", landing)
    _environment(data, work, "next_day.db")
    os.environ["YUKUAI_LANDING_DIR"] = str(landing)
    from yukuai_pipeline.defs.assets import ALL_ASSETS, excel_report
    from yukuai_pipeline.defs.resources import YukuaiResource

    selection = [a for a in ALL_ASSETS if a is not excel_report]
    _day_job("bench_day", selection)()
    _next_days_export(landing)
    materialize = _day_job("bench_next_day", selection, NEXT_DAY)

    def run():
        result = materialize()
        counts = YukuaiResource.from_env().warehouse().read("registration_counts", {"snapshot_date": NEXT_DAY})
        return {"success": result.success, "completed": int(counts["completed"].sum())}

    return run


def _next_days_export(landing: Path) -> None:
    """The same users exported a day later: the file named and titled NEXT_DAY, written long enough ago to be read
    at once (a file must stay unchanged for YUKUAI_SETTLE_SECONDS)."""
    export = _export(landing)
    title = f"导出时间：{DAY:%Y-%m-%d}".encode()
    body = export.read_bytes()
    assert title in body[:4096], "the export's title line names its day"
    target = landing / export.name.replace(f"{DAY:%Y%m%d}", f"{NEXT_DAY:%Y%m%d}")
    target.write_bytes(body.replace(title, f"导出时间：{NEXT_DAY:%Y-%m-%d}".encode(), 1))
    settled = time.time() - 3600
    os.utime(target, (settled, settled))


def report(data: Path, work: Path) -> dict:
    """The officer's Excel report of the day (asset `excel_report`: the workbook and chart, the bulletin in Word and
    text, one return workbook per township and their zip), once the day's other assets are in the warehouse. Setup,
    not timed: the `pipeline` contender's day materialized into this contender's own database."""
    _environment(data, work, "report.db")
    from yukuai_pipeline.defs.assets import ALL_ASSETS, excel_report
    from yukuai_pipeline.report.township_returns import RETURN_SUFFIX, returns_folder_name

    _day_job("bench_day", [a for a in ALL_ASSETS if a is not excel_report])()
    materialize = _day_job("bench_report", [excel_report])
    reports = work / "reports"

    def run():
        result = materialize()
        returns = (reports / returns_folder_name(DAY)).glob("*" + RETURN_SUFFIX.format(day=DAY.isoformat()))
        return {
            "success": result.success,
            "files": sum(1 for p in reports.rglob("*") if p.is_file()),
            "townships": sum(1 for p in returns if p.is_file()),
        }

    return run


CONTENDERS = {
    "parse": parse,
    "peer": peer,
    "peer_arrow": peer_arrow,
    "peer_duckdb": peer_duckdb,
    "pipeline": pipeline,
    "pipeline_next_day": pipeline_next_day,
    "report": report,
    "parse_xlsx": parse_xlsx,
    "ingest_xlsx": ingest_xlsx,
}


def main() -> None:
    name, data, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    run = CONTENDERS[name](data, work)
    base = _rss_mb()
    start = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - start
    outcome = {k: v() if callable(v) else v for k, v in outcome.items()}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(
        json.dumps(
            {
                "name": name,
                "seconds": round(seconds, 3),
                "peak_rss_mb": round(peak, 1),
                "base_rss_mb": round(base, 1),
                **outcome,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
