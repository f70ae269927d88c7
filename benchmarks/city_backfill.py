"""全市 30 天回填，数据仓库在 PostgreSQL / The whole city backfilled for 30 days into PostgreSQL, to project what a
city year costs on disk (issue 17).

    python -m benchmarks.city_backfill [--size city] [--days 30] [--url URL] [--json out.json] [--keep]

The city is the 38 counties of benchmarks.city_counties (split from the seeded city, made first if missing). Each
day of the 30 ending on 2023-06-30 lands, for every county, the platform's full export as it stood that evening
(the county's users registered by then, renumbered, with the title and footer lines) beside the county's village
registry. The day is then run for the 38 counties one after another, as `yukuai materialize --date` runs it
(in process, every asset of daily_refresh except the workbook report, which writes files and not the warehouse),
into one fresh PostgreSQL database (the COPY path, the daily tables partitioned by month), followed by a VACUUM
ANALYZE (what autovacuum does on a server; this machine's PostgreSQL has it off). The counties' landing folders are
the run's own (the split's stay as they are). A fresh child process runs
each day, so that each day's peak memory is its own; the landing of the files is not timed. After each day the
database's size is read, and the 38 合计 rows are checked against the 已通过 users of that day's exports; at the end
its size again after VACUUM FULL (the live rows alone).

URL: a PostgreSQL server the database is created on (default YUKUAI_TEST_POSTGRES_URL, else the local `test`
database); it is dropped at the end unless --keep.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from benchmarks.city_counties import PAD, POSTGRES, _campaign, _peak_mb, _renumbered, prepare
from benchmarks.generate import DATA_ROOT, DAY

CHECKOUT = Path(__file__).resolve().parent.parent
RESULTS = CHECKOUT / "benchmarks" / "results"
EXPORT = "渝快社区注册用户_{day:%Y%m%d}.csv"


def land_day(landing_root: Path, users: dict[str, pd.DataFrame], day: dt.date) -> int:
    """Each county's export of `day` in its landing folder (the day before's removed); the 已通过 users in them."""
    approved = 0
    until = f"{day:%Y-%m-%d} 23:59:59"
    for code, frame in users.items():
        landing = landing_root / code
        for old in landing.glob("渝快社区注册用户_*.csv"):
            old.unlink()
        mine = _renumbered(frame[frame["注册时间"] <= until])
        with open(landing / EXPORT.format(day=day), "w", encoding="utf-8-sig", newline="") as fh:
            fh.write(f"渝快社区注册用户明细{PAD}\r\n导出时间：{day:%Y-%m-%d} 23:59{PAD}\r\n")
            mine.to_csv(fh, index=False, lineterminator="\r\n")
            fh.write(f"合计,共{len(mine)}人{PAD[1:]}\r\n制表人：系统导出{PAD}\r\n")
        approved += mine.loc[mine["审核状态"] == "已通过", "用户ID"].nunique()
    return approved


def day_child(root: Path, work: Path, database: str, day: str) -> None:
    """One day of the 38 counties, in this fresh process: prints one JSON line."""
    codes = list(json.loads((root / "counties.json").read_text())["counties"])
    os.environ.pop("YUKUAI_EXECUTOR", None)
    os.environ.update(YUKUAI_ASSETS_DIR=_campaign(root, codes[0]), DAGSTER_HOME=str(work / "dagster_home"))
    os.environ["YUKUAI_SETTLE_SECONDS"] = "0"
    import dagster as dg

    from yukuai_pipeline.cli.runs import QUIET
    from yukuai_pipeline.defs.assets import ALL_ASSETS, excel_report
    from yukuai_pipeline.defs.resources import CAMPAIGN_TAG, COUNTY_TAG, YukuaiResource

    yukuai = YukuaiResource(
        landing_dir=f"{work}/landing/{{county}}", database_url=database, report_dir=f"{work}/{{county}}/reports"
    )
    job = dg.define_asset_job("backfill_day", selection=[a for a in ALL_ASSETS if a is not excel_report])
    job = dg.Definitions(assets=ALL_ASSETS, jobs=[job], resources={"yukuai": yukuai}).resolve_job_def("backfill_day")
    seconds = {}
    with dg.DagsterInstance.get() as instance:
        for code in codes:
            start = time.perf_counter()
            job.execute_in_process(
                partition_key=day,
                instance=instance,
                tags={COUNTY_TAG: code, CAMPAIGN_TAG: _campaign(root, code)},
                run_config=QUIET,
                raise_on_error=True,
            )
            seconds[code] = time.perf_counter() - start
    print(json.dumps({"seconds": round(sum(seconds.values()), 2), "peak_rss_mb": round(_peak_mb())}))


def _sizes(database: str) -> tuple[int, dict[str, int]]:
    """The database's bytes, and each table's (its month partitions, indexes and TOAST included)."""
    per_table = sa.text(
        "SELECT coalesce(parent.relname, c.relname), sum(pg_total_relation_size(c.oid)) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
        "LEFT JOIN pg_class parent ON parent.oid = i.inhparent "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r' GROUP BY 1 ORDER BY 2 DESC"
    )
    engine = sa.create_engine(database)
    try:
        with engine.connect() as conn:
            total = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
            return int(total), {name: int(size) for name, size in conn.execute(per_table)}
    finally:
        engine.dispose()


def _county_totals(database: str, day: dt.date) -> tuple[int, int]:
    engine = sa.create_engine(database)
    query = sa.text(
        "SELECT count(*), sum(completed) FROM township_progress WHERE township = '合计' AND snapshot_date = :d"
    )
    try:
        with engine.connect() as conn:
            rows, completed = conn.execute(query, {"d": day}).one()
            return int(rows), int(completed or 0)
    finally:
        engine.dispose()


def _database(server: str, name: str, create: bool) -> str:
    _autocommit(server, f'{"CREATE" if create else "DROP"} DATABASE "{name}"')
    return sa.make_url(server).set(database=name).render_as_string(hide_password=False)


def _autocommit(url: str, statement: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def backfill(size: str, days: int, server: str, keep: bool) -> dict:
    root, manifest = prepare(size)
    users = {}
    for code in manifest["counties"]:
        export = next((root / code / "landing").glob("渝快社区注册用户_*.csv"))
        users[code] = pd.read_csv(export, skiprows=2, dtype=str).iloc[:-2]  # the last day's: every user
    work = DATA_ROOT / f"{size}_backfill_work"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    (work / "dagster_home").mkdir(parents=True)
    for code in users:  # the landing of its own: the split's folders keep the last day's export
        (work / "landing" / code).mkdir(parents=True)
        for registry in (root / code / "landing").glob("社区基本信息_*.csv"):
            (work / "landing" / code / registry.name).write_bytes(registry.read_bytes())
    name = f"yukuai_backfill_{uuid.uuid4().hex[:8]}"
    database = _database(server, name, create=True)
    record: list[dict] = []
    try:
        for index in range(days):
            day = DAY - dt.timedelta(days=days - 1 - index)
            approved = land_day(work / "landing", users, day)
            command = [sys.executable, "-m", "benchmarks.city_backfill", "--child", str(root), str(work), database]
            done = subprocess.run([*command, day.isoformat()], capture_output=True, text=True, cwd=CHECKOUT)
            if done.returncode:
                raise RuntimeError(f"{day}: the day failed:\n{done.stderr[-3000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            county_rows, completed = _county_totals(database, day)
            # this machine's PostgreSQL runs without autovacuum (a server's default is on): done here as it would,
            # else each day's updated ranges leave their old versions in the tables for ever
            _autocommit(database, "VACUUM ANALYZE")
            total, _ = _sizes(database)
            record.append(
                result
                | {"day": day.isoformat(), "database_mb": round(total / 2**20, 1), "approved": approved}
                | {"county_rows": county_rows, "completed": completed, "ok": completed == approved}
            )
            print(json.dumps(record[-1], ensure_ascii=False), flush=True)
        total, tables = _sizes(database)
        _autocommit(database, "VACUUM FULL")  # the live rows alone: what the month partitions would hold
        compact, compact_tables = _sizes(database)
    finally:
        if not keep:
            _database(server, name, create=False)
    summary = _summary(size, record, total, tables, manifest)
    compact_mb = {name: round(size / 2**20, 1) for name, size in compact_tables.items() if size >= 2**20}
    return summary | {"database_mb_vacuum_full": round(compact / 2**20, 1), "tables_mb_vacuum_full": compact_mb}


def _summary(size: str, record: list[dict], total: int, tables: dict[str, int], manifest: dict) -> dict:
    days = len(record)
    half = days // 2
    growth = (record[-1]["database_mb"] - record[half - 1]["database_mb"]) / (days - half)  # MB a day, second half
    return {
        "size": size,
        "counties": len(manifest["counties"]),
        "days": days,
        "seconds_total": round(sum(r["seconds"] for r in record), 1),
        "seconds_per_county_day": round(sum(r["seconds"] for r in record) / days / len(manifest["counties"]), 2),
        "database_mb": round(total / 2**20, 1),
        "growth_mb_per_day": round(growth, 1),
        "year_projected_mb": round(total / 2**20 + (365 - days) * growth, 1),
        "all_days_ok": all(r["ok"] for r in record),
        "tables_mb": {name: round(size / 2**20, 1) for name, size in tables.items() if size >= 2**20},
        "days_record": record,
    }


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        day_child(Path(argv[1]), Path(argv[2]), argv[3], argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="city")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--url", default=POSTGRES, help="a PostgreSQL server to create the database on")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result = {"started": started, **backfill(args.size, args.days, args.url, args.keep)}
    text = json.dumps(result, ensure_ascii=False, indent=1)
    for path in [args.json] if args.json else [RESULTS / f"{args.size}_backfill.json"] if args.size == "city" else []:
        path.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
