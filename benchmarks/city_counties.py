"""全市按 38 个区县分区跑一天：一个进程依次跑完 vs Celery 两个 worker / The city as 38 county partitions for one day:
one process running them one after another against two dagster-celery workers (issue 16, "City edition").

    python -m benchmarks.city_counties [--size city|10pct|county] [--json out.json] [--workers 2] [--launchers 3]

The synthetic city (benchmarks.generate) is split by district into counties with fictional codes 5099dd, each with
its campaign folder and landing folder (registry and export rows of its townships) in benchmarks/data/<size>_counties/.
Needs RabbitMQ (YUKUAI_TEST_CELERY_BROKER) and PostgreSQL (YUKUAI_TEST_POSTGRES_URL) on loopback, as tests/celery.
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
import yaml

from benchmarks.generate import DATA_ROOT, DAY, DISTRICTS, REGISTRY_DAY, SIZES, data_dir, generate

CHECKOUT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BROKER = os.environ.get("YUKUAI_TEST_CELERY_BROKER", "pyamqp://guest:guest@127.0.0.1:5672//")
POSTGRES = os.environ.get("YUKUAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LAUNCH = [str(BIN / "dagster"), "job", "execute", "-m", "yukuai_pipeline.definitions", "-j", "daily_refresh"]
# as deploy/celery/yukuai-celery-worker@.service starts a worker (queue and node name added per worker)
WORKER = f"worker start -A dagster_celery.app -i yukuai_pipeline.definitions -y {CHECKOUT}/deploy/celery/celery.yaml"
POOL = ["--", "--concurrency=1", "--without-mingle", "--without-gossip"]
SERVICES = ("postgres", "beam.smp", "epmd", "erl_child_setup")  # PostgreSQL and RabbitMQ: the Celery side's helpers
# Written by the run at the moment it ingests or stores: two runs of the same files differ there and only there.
RUN_SPECIFIC = {"ingest_log": {"ingested_at"}, "input_snapshots": {"stored_at"}}
PAD = "," * 7  # the export's 8 columns: its title and footer lines are padded to them


def split(city: Path, out: Path) -> dict:
    """One folder per district of the city: <out>/<code>/campaign and <out>/<code>/landing, in the city's formats."""
    registry = pd.read_csv(city / "landing" / f"社区基本信息_{REGISTRY_DAY:%Y-%m-%d}.csv", skiprows=1, dtype=str)
    export = next((city / "landing").glob("渝快社区注册用户_*.csv"))
    users = pd.read_csv(export, skiprows=2, dtype=str).iloc[:-2]  # less the 合计 and 制表人 footer
    attachment = pd.read_csv(city / "assets" / "attachment.csv")
    campaign = yaml.safe_load((city / "assets" / "campaign.yaml").read_text(encoding="utf-8"))
    # generate.py writes the district index into the village code (5001 dd tttt vvv): the township's district
    district = registry.groupby("乡镇（街道）")["社区编码"].first().str[4:6].astype(int)
    counties = {}
    for d in sorted(district.unique()):
        code, name = f"5099{d:02d}", DISTRICTS[d]  # 5099dd: no real county has it
        towns, folder = set(district.index[district == d]), out / code
        (folder / "campaign").mkdir(parents=True, exist_ok=True)
        (folder / "landing").mkdir(exist_ok=True)
        short = name if len(name) <= 4 else name[:2] + "县"  # 酉阳土家族苗族自治县 → 酉阳县, as the real notices do
        county = {"name": name, "short_name": short, "code": code, "name_prefixes": ["重庆市", name]}
        own = dict(campaign, campaign_id=f"synthetic-county-{code}", title=f"合成区县基准测试（{name}）", county=county)
        (folder / "campaign" / "campaign.yaml").write_text(yaml.safe_dump(own, allow_unicode=True, sort_keys=False))
        table = attachment[attachment["township"].isin(towns)].assign(seq=lambda t: range(1, len(t) + 1))
        table.to_csv(folder / "campaign" / "attachment.csv", index=False, encoding="utf-8")
        for kept in ("township_aliases.csv", "roster_rules.yaml"):
            (folder / "campaign" / kept).write_bytes((city / "assets" / kept).read_bytes())
        rows = _renumbered(registry[registry["乡镇（街道）"].isin(towns)])
        registry_csv = folder / "landing" / f"社区基本信息_{REGISTRY_DAY:%Y-%m-%d}.csv"
        with open(registry_csv, "w", encoding="utf-8-sig", newline="") as fh:
            fh.write(f"统计截止：{REGISTRY_DAY:%Y-%m-%d}\r\n")
            rows.to_csv(fh, index=False, lineterminator="\r\n")
        mine = _renumbered(users[users["乡镇（街道）"].isin(towns)])
        with open(folder / "landing" / export.name, "w", encoding="utf-8-sig", newline="") as fh:
            fh.write(f"渝快社区注册用户明细{PAD}\r\n导出时间：{DAY:%Y-%m-%d} 23:59{PAD}\r\n")
            mine.to_csv(fh, index=False, lineterminator="\r\n")
            fh.write(f"合计,共{len(mine)}人{PAD[1:]}\r\n制表人：系统导出{PAD}\r\n")
        counties[code] = {"district": name, "townships": len(table), "users": len(mine)}
    approved = users.loc[users["审核状态"] == "已通过", "用户ID"].nunique()
    manifest = {"city": str(city), "users": len(users), "approved": int(approved), "counties": counties}
    (out / "counties.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))  # last: a complete split
    return manifest


def _renumbered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(序号=[str(i) for i in range(1, len(frame) + 1)])


def prepare(size: str) -> tuple[Path, dict]:
    city, out = data_dir(size), DATA_ROOT / f"{size}_counties"
    if not (city / "landing").is_dir():
        generate(size, city)
    manifest = out / "counties.json"
    return out, json.loads(manifest.read_text()) if manifest.exists() else split(city, out)


def _campaign(root: Path, code: str) -> str:
    return str((root / code / "campaign").resolve())


# What the machine spent: CPU seconds from /proc (this process and its reaped children, the workers' sessions,
# PostgreSQL and RabbitMQ, every core), and peak RSS. A child's ru_maxrss is not used: on Linux it counts the
# parent's memory at the fork (here the split's frames), so it overstated each launcher by a gigabyte.
def _proc(pid: int | str) -> tuple[str, float, int | None]:
    """A process's name, CPU seconds with its reaped children's, and session; ('', 0, None) once it is gone."""
    with contextlib.suppress(OSError):
        name, rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
        fields = rest.split()  # fields[3]: session; 11..14: utime, stime, cutime, cstime
        return name.split("(", 1)[1], sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK"), int(fields[3])
    return "", 0.0, None


def _counters(sessions: frozenset[int] = frozenset()) -> dict[str, float]:
    procs = [_proc(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    ticks = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return {
        "own": sum(os.times()[:4]),
        "workers": sum(cpu for _, cpu, sid in procs if sid in sessions),
        "services": sum(cpu for name, cpu, _ in procs if name in SERVICES),
        "machine": (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK"),  # less idle and iowait
    }


def _spent(before: dict[str, float], seconds: float, sessions: frozenset[int] = frozenset()) -> dict[str, float]:
    after = _counters(sessions)
    spent = {f"{key}_cpu_s": round(after[key] - before[key], 1) for key in before}
    return spent | {"machine_busy_cores": round((after["machine"] - before["machine"]) / seconds, 2)}


def _peak_mb(pid: int | str = "self") -> float:
    """A live process's peak RSS (VmHWM, which only grows) in MB; 0 once it is gone."""
    with contextlib.suppress(OSError, StopIteration), open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    return 0.0


def inprocess_child(root: Path, work: Path) -> None:
    """The in-process contender, in a fresh process of its own: prints one JSON line."""
    codes = list(json.loads((root / "counties.json").read_text())["counties"])
    (work / "dagster_home").mkdir(parents=True)  # a fresh instance on SQLite (no dagster.yaml: Dagster's default)
    os.environ.pop("YUKUAI_EXECUTOR", None)
    # the job's partitions come from the campaign in use at import: any county's (they share the dates)
    os.environ.update(YUKUAI_ASSETS_DIR=_campaign(root, codes[0]), DAGSTER_HOME=str(work / "dagster_home"))
    os.environ["YUKUAI_SETTLE_SECONDS"] = "0"
    import dagster as dg

    from yukuai_pipeline.cli.runs import QUIET
    from yukuai_pipeline.defs.assets import ALL_ASSETS
    from yukuai_pipeline.defs.automation import daily_refresh
    from yukuai_pipeline.defs.resources import CAMPAIGN_TAG, COUNTY_TAG, YukuaiResource

    landing, reports = f"{root}/{{county}}/landing", f"{work}/inprocess/{{county}}/reports"
    yukuai = YukuaiResource(landing_dir=landing, database_url=f"sqlite:///{work}/inprocess.db", report_dir=reports)
    defs = dg.Definitions(assets=ALL_ASSETS, jobs=[daily_refresh], resources={"yukuai": yukuai})
    job = defs.resolve_job_def("daily_refresh")
    with dg.DagsterInstance.get() as instance:
        start, before = time.perf_counter(), _counters()
        for code in codes:
            tags = {COUNTY_TAG: code, CAMPAIGN_TAG: _campaign(root, code)}
            job.execute_in_process(
                partition_key=DAY.isoformat(), instance=instance, tags=tags, run_config=QUIET, raise_on_error=True
            )
        seconds = time.perf_counter() - start
        result = {"seconds": round(seconds, 2), **_spent(before, seconds), "peak_rss_mb": round(_peak_mb())}
        steps = 0.0  # the steps' own seconds (start to success), as for the Celery runs
        for run in instance.get_runs():
            started: dict[str | None, float] = {}
            for entry in instance.all_logs(run.run_id):
                kind = entry.dagster_event.event_type_value if entry.dagster_event else None
                if kind == "STEP_START":
                    started[entry.step_key] = entry.timestamp
                elif kind == "STEP_SUCCESS":
                    steps += entry.timestamp - started[entry.step_key]
    print(json.dumps(result | {"step_seconds_total": round(steps, 1)}))


def run_inprocess(root: Path, work: Path) -> dict:
    command = [sys.executable, "-m", "benchmarks.city_counties", "--child", str(root), str(work)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=CHECKOUT)
    if done.returncode:
        raise RuntimeError(f"in-process contender failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]), database=f"sqlite:///{work}/inprocess.db")


def _worker(index: int, env: dict, work: Path) -> subprocess.Popen:
    """One worker in a process group of its own (dagster-celery → celery → its pool process), with the unit's
    YUKUAI_SERVES_EVERY_COUNTY=1: a step whose run names no county fails instead of running for the wrong one."""
    queue, name = env["YUKUAI_CELERY_QUEUE"], f"{env['BENCH_PREFIX']}-{index}"
    command = [str(BIN / "dagster-celery"), *WORKER.split(), "-q", queue, "-n", name, *POOL]
    own = dict(env, YUKUAI_SERVES_EVERY_COUNTY="1")
    with open(work / f"worker{index}.log", "wb") as log:  # the worker keeps its own copy of the descriptor
        return subprocess.Popen(
            command, env=own, cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _launch(env: dict, work: Path, tags: dict) -> tuple[int, float]:
    """One `dagster job execute` of a county's day (its steps go to the workers): exit code, peak RSS in MB."""
    command = [*LAUNCH, "-c", str(work / "quiet.yaml"), "--tags", json.dumps(tags)]
    own = dict(env, YUKUAI_ASSETS_DIR=tags["yukuai/campaign"])  # so that the job's own tags name the county too
    with open(work / f"launch-{tags['yukuai/county']}.log", "wb") as log:
        process = subprocess.Popen(command, env=own, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    peak = 0.0
    while process.poll() is None:  # its peak RSS, read while it lives
        peak = max(peak, _peak_mb(process.pid))
        time.sleep(0.2)
    return process.returncode, peak


def _run_records(url: str) -> dict:
    """From the instance's tables: how the runs ended, their span, and the seconds their steps took in all."""
    with sa.create_engine(url).connect() as conn:
        runs = conn.execute(sa.text("SELECT status, start_time, end_time FROM runs")).all()
        steps = conn.execute(
            sa.text(
                "SELECT sum(EXTRACT(EPOCH FROM e.timestamp - s.timestamp)) FROM event_logs s JOIN event_logs e "
                "ON e.run_id = s.run_id AND e.step_key = s.step_key AND e.dagster_event_type = 'STEP_SUCCESS' "
                "WHERE s.dagster_event_type = 'STEP_START'"
            )
        ).scalar()
    return {
        "runs": len(runs),
        "run_statuses": sorted({r.status for r in runs}),
        "runs_span_s": round(max(r.end_time for r in runs) - min(r.start_time for r in runs), 2),
        "step_seconds_total": round(float(steps or 0), 1),
    }


def run_celery(root: Path, work: Path, codes: list[str], workers: int, launchers: int) -> dict:
    from celery import Celery  # type: ignore[import-untyped]

    tag = uuid.uuid4().hex[:10]  # this run's own database, queue and worker names: nothing left over takes part
    admin, database = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT"), f"yk_bench_{tag}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    (work / "dagster_home").mkdir(parents=True)
    (work / "dagster_home" / "dagster.yaml").write_bytes((CHECKOUT / "deploy/celery/dagster.yaml").read_bytes())
    (work / "quiet.yaml").write_text(yaml.safe_dump({"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}))
    instance_url = sa.make_url(POSTGRES).set(drivername="postgresql+psycopg2", database=database)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUKUAI_", "DAGSTER_"))} | {
        "DAGSTER_HOME": str(work / "dagster_home"),
        "YUKUAI_DAGSTER_POSTGRES_URL": instance_url.render_as_string(hide_password=False),
        "YUKUAI_EXECUTOR": "celery",
        "YUKUAI_CELERY_BROKER": BROKER,
        "YUKUAI_CELERY_BACKEND": "rpc://",
        "YUKUAI_CELERY_QUEUE": f"yk_bench_{tag}",
        "BENCH_PREFIX": f"yk-bench-{tag}",
        "YUKUAI_SETTLE_SECONDS": "0",
        "YUKUAI_DB_LOCK_TIMEOUT": "600",  # two workers share one SQLite file: a write may wait for the other's
        "YUKUAI_LANDING_DIR": f"{root}/{{county}}/landing",
        "YUKUAI_DATABASE_URL": f"sqlite:///{work}/celery.db",
        "YUKUAI_REPORT_DIR": f"{work}/celery/{{county}}/reports",
        "YUKUAI_ASSETS_DIR": _campaign(root, codes[0]),  # the workers' own county; each run carries its own
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-celery starts `celery` from PATH
    }
    app = Celery("yukuai-bench", broker=BROKER)
    pool: list[subprocess.Popen] = []
    try:
        pool = [_worker(i, env, work) for i in range(1, workers + 1)]
        deadline = time.monotonic() + 300
        while len({n for r in app.control.ping(timeout=2.0) for n in r if n.startswith(env["BENCH_PREFIX"])}) < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in pool):
                raise RuntimeError(f"workers not ready; see {work}/worker*.log")
            time.sleep(1)
        runs = [
            {"dagster/partition": DAY.isoformat(), "yukuai/county": code, "yukuai/campaign": _campaign(root, code)}
            for code in codes
        ]
        sessions = frozenset(p.pid for p in pool)
        start, before = time.perf_counter(), _counters(sessions)  # the workers answered: time the runs only
        with ThreadPoolExecutor(launchers) as threads:
            launched = list(threads.map(lambda tags: _launch(env, work, tags), runs))
        seconds = time.perf_counter() - start
        spent = _spent(before, seconds, sessions)  # own_cpu_s: the launchers (reaped children of this process)
        in_sessions = [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _proc(p.name)[2] in sessions]
        worker_peak = max((_peak_mb(pid) for pid in in_sessions), default=0.0)
        records = _run_records(env["YUKUAI_DAGSTER_POSTGRES_URL"])
    finally:
        for process in pool:  # warm shutdown of celery, then whatever is left of each group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in pool:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        with contextlib.suppress(Exception), app.connection_for_write() as conn:  # undeclared if no worker started
            conn.default_channel.queue_delete(env["YUKUAI_CELERY_QUEUE"])
        app.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    return records | {
        "seconds": round(seconds, 2),
        "failed_launches": [code for code, (rc, _) in zip(codes, launched) if rc],
        "workers": workers,
        "launchers_at_once": launchers,
        # the share of the workers' time spent inside steps (the rest: waiting for a task, Celery, Dagster's plan)
        "worker_busy_share": round(records["step_seconds_total"] / (workers * seconds), 2),
        **spent,
        "worker_peak_rss_mb": round(worker_peak),
        "launcher_peak_rss_mb": round(max(rss for _, rss in launched)),
        "database": f"sqlite:///{work}/celery.db",
    }


def verify(database: str, manifest: dict) -> dict:
    """The counties' 合计 rows against the export's 已通过 users, and every table (to compare both contenders)."""
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        tables = {name: pd.read_sql_table(name, conn) for name in sa.inspect(conn).get_table_names()}
    engine.dispose()
    tables = {name: t.drop(columns=[c for c in RUN_SPECIFIC.get(name, ()) if c in t]) for name, t in tables.items()}
    totals = tables["township_progress"].query("township == '合计'")
    completed, counties = int(totals["completed"].sum()), len(manifest["counties"])
    ok = len(totals) == totals["county_code"].nunique() == counties and completed == manifest["approved"]
    return {"county_rows": len(totals), "completed": completed, "ok": ok, "tables": tables}


def _differing(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> list[str]:
    """The tables that are not equal row for row (in any order) in both warehouses."""

    def canonical(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[sorted(frame.columns)].astype(str).sort_values(sorted(frame.columns), ignore_index=True)

    return sorted(
        n for n in a.keys() | b.keys() if n not in a.keys() & b.keys() or not canonical(a[n]).equals(canonical(b[n]))
    )


def measure(size: str, workers: int, launchers: int) -> dict:
    from benchmarks.run import _machine

    root, manifest = prepare(size)
    codes = list(manifest["counties"])
    started, load = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="yukuai-counties-") as work:
        inprocess = run_inprocess(root, Path(work) / "inprocess")  # one at a time: never both on the two cores
        celery = run_celery(root, Path(work) / "celery", codes, workers, launchers)
        checks = {
            name: verify(r.pop("database"), manifest) for name, r in (("inprocess", inprocess), ("celery", celery))
        }
    differing = _differing(checks["inprocess"].pop("tables"), checks["celery"].pop("tables"))
    for r in (inprocess, celery):
        r["per_county_s"] = round(r["seconds"] / len(codes), 2)
    ran = not celery["failed_launches"] and celery["run_statuses"] == ["SUCCESS"] and celery["runs"] == len(codes)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=CHECKOUT)
    return {
        "size": size,
        "day": DAY.isoformat(),
        "counties": len(codes),
        "users": manifest["users"],
        "approved": manifest["approved"],
        "inprocess": inprocess,
        "celery": celery,
        "ratio_celery_vs_inprocess": round(celery["seconds"] / inprocess["seconds"], 2),
        "verified": checks,
        "tables_differing": differing,  # every warehouse table compared, the moments of ingest aside
        "ok": ran and not differing and all(c["ok"] for c in checks.values()),
        "repeat": 1,
        "started": started,
        "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],  # before and after: a shared machine
        "commit": commit.stdout.strip(),
        "data_dir": str(root),
        "machine": _machine(),
    }


def main(argv: list[str] | None = None) -> None:
    if argv is None and sys.argv[1:2] == ["--child"]:
        return inprocess_child(Path(sys.argv[2]), Path(sys.argv[3]))
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", choices=[s for s in SIZES if s != "tiny"], default="city")
    parser.add_argument("--json", type=Path, help="also write the result here (city: results/city_counties.json)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--launchers", type=int, default=3, help="`dagster job execute` processes at a time")
    args = parser.parse_args(argv)
    result = measure(args.size, args.workers, args.launchers)
    text = json.dumps(result, ensure_ascii=False, indent=1) + "\n"
    if args.size == "city":  # the recorded result (benchmarks/README.md); a quick try at another size is not kept
        (CHECKOUT / "benchmarks" / "results" / "city_counties.json").write_text(text)
    if args.json:
        args.json.write_text(text)
    print(text)
    if not result["ok"]:
        sys.exit("✗ 两种方式的结果不一致或与导出不符 / the contenders' warehouses disagree or miss the export's count")


if __name__ == "__main__":
    main()
