"""One contender, timed inside a fresh process (so that the peak RSS it reports is its own):

    python -m benchmarks.contenders NAME DATA_DIR WORK_DIR

NAME: parse, peer, peer_arrow, peer_duckdb, pipeline, parse_xlsx or ingest_xlsx. It prints one JSON line: seconds
(the work only, after imports), rows, peak_rss_mb, base_rss_mb (after imports).
"""

import json
import os
import resource
import sys
import time
from pathlib import Path

from benchmarks.generate import DAY


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


def pipeline(data: Path, work: Path, landing: str = "landing") -> dict:
    """The day's partition materialized in process, as `yukuai materialize --date` does (the workbook report aside:
    see benchmarks/README.md)."""
    os.environ.update(
        YUKUAI_ASSETS_DIR=str(data / "assets"),
        YUKUAI_LANDING_DIR=str(data / landing),
        YUKUAI_DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{work / 'pipeline.db'}"),
        YUKUAI_REPORT_DIR=str(work / "reports"),
    )
    import dagster as dg

    from yukuai_pipeline.cli.runs import QUIET
    from yukuai_pipeline.defs.assets import ALL_ASSETS, excel_report
    from yukuai_pipeline.defs.resources import YukuaiResource

    selection = [a for a in ALL_ASSETS if a is not excel_report]
    job = dg.define_asset_job("bench_day", selection=selection, executor_def=dg.in_process_executor)
    defs = dg.Definitions(assets=ALL_ASSETS, jobs=[job], resources={"yukuai": YukuaiResource.from_env()})
    resolved = defs.resolve_job_def("bench_day")

    def run():
        with dg.DagsterInstance.ephemeral() as instance:
            result = resolved.execute_in_process(
                partition_key=DAY.isoformat(), instance=instance, raise_on_error=True, run_config=QUIET
            )
        counts = YukuaiResource.from_env().warehouse().read("registration_counts")
        return {"success": result.success, "completed": int(counts["completed"].sum())}

    return run


CONTENDERS = {
    "parse": parse,
    "peer": peer,
    "peer_arrow": peer_arrow,
    "peer_duckdb": peer_duckdb,
    "pipeline": pipeline,
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
