"""一个区县一天，从敲下命令到结束 / A county's day as the officer waits for it (issue 17: ≤ 3× a bare script).

    python -m benchmarks.whole_process [--repeat 3] [--json out.json]

Both contenders are whole processes, timed from start to exit: interpreter start and imports included.
- The pipeline is `yukuai materialize --date 2023-06-30` in a fresh database and Dagster instance. It runs every
  asset and check and writes the Excel report with the chart, bulletin and township returns.
- The peer is a bare pandas script doing the counting job of benchmarks/peer.py (read the export, count the 已通过
  users per village, split the targets, write two tables to SQLite).

Both run on the county of the benchmark city (benchmarks.city_counties, split first if missing) whose export holds
the number of users nearest 112,000. They are interleaved, and the medians are compared. Each run's 合计 completed
must equal the peer's.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks.city_counties import prepare
from benchmarks.generate import DATA_ROOT, DAY

CHECKOUT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET = 3.0  # the pipeline's whole process at most 3× the bare script's
USERS = 112_000
PEER = "; ".join(
    [
        "import sys",
        "from pathlib import Path",
        "from benchmarks.peer import run_peer",
        "run_peer(Path(sys.argv[1]), sys.argv[2])",
    ]
)


def county_day() -> tuple[Path, str, int]:
    """The data folder (landing/ and assets/, as benchmarks.peer reads them) of the county nearest USERS users."""
    root, manifest = prepare("city")
    code, county = min(manifest["counties"].items(), key=lambda item: abs(item[1]["users"] - USERS))
    data = DATA_ROOT / "county_day"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    (data / "landing").symlink_to(root / code / "landing")
    (data / "assets").symlink_to(root / code / "campaign")
    return data, code, county["users"]


def _fresh(work: Path) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    (work / "dagster_home").mkdir(parents=True)
    return work


def run_pipeline(data: Path, work: Path) -> tuple[float, int]:
    """Seconds of `yukuai materialize --date`, and the 合计 row's completed it wrote."""
    work = _fresh(work)
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUKUAI_") and k != "DAGSTER_HOME"}
    env |= {
        "YUKUAI_ASSETS_DIR": str(data / "assets"),
        "YUKUAI_LANDING_DIR": str(data / "landing"),
        "YUKUAI_DATABASE_URL": f"sqlite:///{work / 'warehouse.db'}",
        "YUKUAI_REPORT_DIR": str(work / "reports"),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "YUKUAI_SETTLE_SECONDS": "0",
    }
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "yukuai"), "materialize", "--date", DAY.isoformat()], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 3):  # 3: the day ran, some figures doubtful
        raise RuntimeError(f"yukuai materialize failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, _county_completed(f"sqlite:///{work / 'warehouse.db'}")


def run_peer(data: Path, work: Path) -> tuple[float, int]:
    work = _fresh(work)
    database = f"sqlite:///{work / 'peer.db'}"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", PEER, str(data), database], cwd=CHECKOUT, check=True, capture_output=True)
    return time.perf_counter() - start, _county_completed(database)


def _county_completed(database: str) -> int:
    engine = sa.create_engine(database)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT completed FROM township_progress WHERE township = '合计'")
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def measure(repeat: int = 3) -> dict:
    data, code, users = county_day()
    work = DATA_ROOT / "county_day_work"
    seconds: dict[str, list[float]] = {"peer": [], "pipeline": []}
    completed = set()
    for _ in range(repeat):  # interleaved: a busy moment hits both
        for name, run in (("peer", run_peer), ("pipeline", run_pipeline)):
            took, total = run(data, work / name)
            seconds[name].append(round(took, 2))
            completed.add(total)
    peer, pipeline = statistics.median(seconds["peer"]), statistics.median(seconds["pipeline"])
    return {
        "county_code": code,
        "users": users,
        "day": DAY.isoformat(),
        "repeat": repeat,
        "peer_s": peer,
        "pipeline_s": pipeline,
        "ratio": round(pipeline / peer, 2),
        "target": TARGET,
        "met": pipeline / peer <= TARGET,
        "same_completed": len(completed) == 1,
        "completed": completed.pop() if len(completed) == 1 else sorted(completed),
        "runs": seconds,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **measure(args.repeat)}
    text = json.dumps(result, ensure_ascii=False, indent=1)
    (args.json or CHECKOUT / "benchmarks" / "results" / "whole_process.json").write_text(text + "\n")
    verdict = "met" if result["met"] else f"MISSED by {result['ratio'] / TARGET:.2f}×"
    print(text)
    print(
        f"county {result['county_code']} ({result['users']:,} users), whole process: pipeline {result['pipeline_s']} s,"
        f" bare pandas script {result['peer_s']} s: {result['ratio']}× (target ≤ {TARGET}×): {verdict}"
    )


if __name__ == "__main__":
    main()
