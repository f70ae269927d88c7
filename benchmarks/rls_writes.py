"""What row-level security costs a county's writes on PostgreSQL (deploy/README.md, warehouse/access.py):

    python -m benchmarks.rls_writes [--rows N] [--repeat 3] [--url URL] [--json out.json]

In a city deployment every county writes the one warehouse through a role of its own, under row-level security.
PostgreSQL refuses COPY FROM into a table whose row-level security applies to the role, so such a role's bulk writes
are one pipelined executemany of INSERTs (`WarehouseTables._bulk_insert`); the tables' owner, to whom the policies do
not apply, writes with COPY. This times the same `Warehouse.replace` of one day of `cadre_quotas` for county 500242
these ways, interleaved (a busy moment hits all of them), and reports the medians:

- RLS: `Warehouse(<URL as the county's role>, county_code="500242")`, the role made as `yukuai warehouse-roles` says
  (`county_role_statements`, plus USAGE on the schema): pipelined INSERT;
- COPY: `Warehouse(<URL as the owner>, county_code="500242")`: COPY FROM STDIN;
- INSERT (control): the owner's handle sent down the county role's path (pipelined INSERT, no policy applying), which
  splits the RLS/COPY ratio into what the INSERT path costs and what the policy adds on top of it.

Each timed replace is the whole transaction a run's step makes: the advisory lock, deleting the day's previous rows
of the county (the same number of rows: an untimed write goes first), the bulk insert and the commit; the frame is
built and validated beforehand (`conform_output`), not in the timing. After each write the day's rows are counted
(and their quotas summed) as the owner. `client_cpu_s` is this process's CPU time during the write (pandas,
SQLAlchemy and psycopg on the client side); the rest of the wall time is the server and the wire.

Why `cadre_quotas`: of the tables a county replaces every day with a plain bulk insert, it has the most rows at city
size: one row per 两委 member per village (`village_progress` has one per village, `cadre_registration_summary` at
most one per village and role group). The demo's roster has 7.2 两委 members per village (1,909 in 264 villages), so
the benchmark city's 11,000 villages make ~80,000 rows a day (the default). A real county writes its own share of
that (~2,000 rows for 300 villages); ~80,000 is what the 38 counties write together. (`cadre_registration` has more
rows, but it is stored as ranges and inserts only rows that changed, warehouse/stored_as_ranges.py; the reference
files' rows, `roster_input` …, are written once per landed file.)

Everything happens in a fresh schema of the database given (default: YUKUAI_TEST_POSTGRES_URL, else the local test
database), with a fresh login role; both are dropped at the end, whatever happens.
"""

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from psycopg import sql

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.warehouse import Replacement, Warehouse
from yukuai_pipeline.warehouse.access import county_role_statements

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TABLE = "cadre_quotas"
COUNTY = "500242"
DAY = dt.date(2023, 6, 30)  # the city benchmark's day (benchmarks/generate.py)
CITY_VILLAGES = 11_000  # the benchmark city (benchmarks/README.md, Sizes)
CADRES_PER_VILLAGE = 1_909 / 264  # 两委 members per village in the demo's roster (yukuai_pipeline/demo/roster.py)
DEFAULT_ROWS = 80_000  # ≈ CITY_VILLAGES × CADRES_PER_VILLAGE (79,545), rounded
PATHS = {
    "rls": "county role, row-level security: pipelined INSERT",
    "copy": "owner, no row-level security: COPY",
    "insert": "owner, no row-level security: pipelined INSERT (control)",
}


class _InsertingWarehouse(Warehouse):
    """The owner's handle made to take the county role's path (the control): `_bulk_insert` believes row-level
    security applies, so it sends the pipelined INSERT although no policy applies to the owner."""

    def _row_security(self, conn, table) -> bool:
        return True


_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = list(
    "德明华国建文军平志永春海清玉秀英兰芳丽红霞燕桂珍凤梅琴云洪林强伟勇刚杰涛斌超波辉鹏飞宇浩然小大中新成光荣"
)
_ROLES = [
    "党组织书记、村（居）委会主任",
    "党组织副书记",
    "党组织委员",
    "党组织委员、村（居）委会委员",
    "村（居）委会副主任",
    "村（居）委会委员",
    "村（居）委会委员",
]


def synthetic_quotas(rows: int, day: dt.date = DAY, seed: int = 20231) -> pd.DataFrame:
    """`rows` rows of cadre_quotas for one day (seeded: the same frame every time), as the cadre_quotas step
    writes them (conform_output, no county column: the warehouse stamps it): 5–9 两委 members a village (7 on
    average), 11 villages a township, each village's target and gap split among its members by largest remainder
    (equal weights), so the sums are exact."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 10, size=rows // 5 + 1)  # 5..9 members
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), rows)) + 1]
    sizes[-1] -= int(sizes.sum()) - rows  # the last village takes what is left
    villages = len(sizes)
    village = np.repeat(np.arange(villages), sizes)
    member = np.arange(rows) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    target = rng.integers(20, 600, size=villages)
    gap = np.where(rng.random(villages) < 0.1, 0, (target * rng.random(villages)).astype(np.int64))
    k, t, g = sizes[village], target[village], gap[village]
    surname = np.array(_SURNAMES, dtype=object)[rng.integers(len(_SURNAMES), size=rows)]
    given = np.array(_GIVEN, dtype=object)
    names = (
        surname
        + given[rng.integers(len(_GIVEN), size=rows)]
        + np.where(rng.random(rows) < 0.7, given[rng.integers(len(_GIVEN), size=rows)], "")
    )
    keys = rng.bytes(16 * rows).hex()
    frame = pd.DataFrame(
        {
            "snapshot_date": day,
            "township": [f"第{v // 11 + 1:04d}镇" for v in village],
            "village": [f"第{v + 1:05d}村" for v in village],
            "person_key": [keys[32 * i : 32 * i + 32] for i in range(rows)],  # as a 32-character keyed token
            "cadre_name": names,
            "roles": np.array(_ROLES, dtype=object)[np.minimum(member, len(_ROLES) - 1)],
            "village_target": t,
            "quota": t // k + (member < t % k),
            "village_gap": g,
            "gap_quota": g // k + (member < g % k),
        }
    )
    return conform_output(frame, load_contract(TABLE))


def _with_schema(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def scratch(url: str) -> Iterator[dict]:
    """A fresh schema with the warehouse's tables (made by the owner, the day's month partitions made ahead) and a
    fresh login role for county COUNTY with its policies: {"schema", "role", "owner_url", "role_url"}. The schema and
    the role are dropped on the way out, whatever happened (dispose the handles on them first)."""
    suffix = secrets.token_hex(5)
    schema, role, password = f"yk_bench_{suffix}", f"yk_bench_{suffix}_{COUNTY}", secrets.token_hex(16)
    admin = sa.create_engine(url)
    created_schema = created_role = False
    owner = None
    try:
        _run(admin, [sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema))])
        created_schema = True
        _run(admin, [sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))])
        created_role = True
        owner_url = _with_schema(url, schema)
        owner = Warehouse(owner_url, county_code=None)
        owner.ensure_tables()
        owner.create_months(DAY, DAY)  # county roles may not create partitions (tables.py, _ensure_months)
        usage = sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(role))
        _run(owner.engine, [usage, *county_role_statements(COUNTY, role)])
        role_url = sa.make_url(owner_url).set(username=role, password=password).render_as_string(hide_password=False)
        yield {"schema": schema, "role": role, "owner_url": owner_url, "role_url": role_url}
    finally:
        if owner is not None:
            owner.dispose()
        drops = [sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema))] if created_schema else []
        if created_role:
            drops += [sql.SQL(f"DROP {what} {{}}").format(sql.Identifier(role)) for what in ("OWNED BY", "ROLE")]
        _run(admin, drops)
        admin.dispose()


def _run(engine: sa.Engine, statements: list) -> None:
    """psycopg's composed statements, in one transaction."""
    with engine.begin() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None, "the connection was closed"
        with driver.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _day_rows(engine: sa.Engine) -> tuple[int, int]:
    """(rows, sum of quota) of the county's day, as the owner sees them; and no other rows in the table."""
    with engine.connect() as conn:
        rows, quota = conn.execute(
            sa.text(
                f"SELECT count(*), coalesce(sum(quota), 0) FROM {TABLE} WHERE county_code = :c AND snapshot_date = :d"
            ),
            {"c": COUNTY, "d": DAY},
        ).one()
        everything = conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar()
    if everything != rows:
        raise AssertionError(f"{TABLE} holds {everything} rows, the county's day {rows}: a replace left rows behind")
    return int(rows), int(quota)


def _row_security_active(warehouse: Warehouse) -> bool:
    with warehouse.engine.connect() as conn:
        return bool(conn.execute(sa.select(sa.func.row_security_active(TABLE))).scalar())


def measure(rows: int = DEFAULT_ROWS, repeat: int = 3, url: str = DEFAULT_URL) -> dict:
    """Time the day's replace through each path (PATHS), `repeat` times each, interleaved (the order alternating), after
    one untimed write; check the rows after every write. Returns the medians, every run and the setting."""
    frame = synthetic_quotas(rows)
    expected = (len(frame), int(frame["quota"].sum()))
    runs: dict[str, list[dict]] = {path: [] for path in PATHS}
    with scratch(url) as place:
        handles = {
            "rls": Warehouse(place["role_url"], county_code=COUNTY),
            "copy": Warehouse(place["owner_url"], county_code=COUNTY),
            "insert": _InsertingWarehouse(place["owner_url"], county_code=COUNTY),
        }
        try:
            for handle in handles.values():
                handle.ensure_tables()  # inspecting the tables is not timed
            active = {path: _row_security_active(handle) for path, handle in handles.items()}
            if active != {"rls": True, "copy": False, "insert": False}:
                raise AssertionError(f"row-level security should apply to the county role only: {active}")
            owner_engine = handles["copy"].engine
            with owner_engine.connect() as conn:
                server = conn.execute(sa.text("SHOW server_version")).scalar()
            handles["copy"].replace([Replacement(TABLE, frame, {"snapshot_date": DAY})])  # untimed: rows to delete
            if _day_rows(owner_engine) != expected:
                raise AssertionError("the untimed write did not leave the frame's rows")
            for i in range(repeat):
                for path in list(PATHS) if i % 2 == 0 else list(PATHS)[::-1]:
                    wall, cpu = time.perf_counter(), time.process_time()
                    written = handles[path].replace([Replacement(TABLE, frame, {"snapshot_date": DAY})])
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    found = _day_rows(owner_engine)
                    if written != {TABLE: rows} or found != expected:
                        raise AssertionError(
                            f"{path}: wrote {written}, found {found} (rows, quota sum), expected {expected}"
                        )
                    runs[path].append(
                        {"seconds": round(wall, 4), "client_cpu_s": round(cpu, 4), "rows_found": found[0]}
                    )
        finally:
            for handle in handles.values():
                handle.dispose()
    result: dict = {"table": TABLE, "county_code": COUNTY, "day": DAY.isoformat(), "rows": rows, "repeat": repeat}
    for path, timed in runs.items():
        seconds = statistics.median(r["seconds"] for r in timed)
        result[path] = {
            "how": PATHS[path],
            "seconds": round(seconds, 4),
            "rows_per_s": round(rows / seconds) if seconds else None,
            "client_cpu_s": round(statistics.median(r["client_cpu_s"] for r in timed), 4),
            "runs": timed,
        }
    result["ratio_rls_to_copy"] = round(result["rls"]["seconds"] / result["copy"]["seconds"], 2)
    # the control splits the ratio: the INSERT path itself, and the policy on top of it
    result["ratio_insert_to_copy"] = round(result["insert"]["seconds"] / result["copy"]["seconds"], 2)
    result["ratio_rls_to_insert"] = round(result["rls"]["seconds"] / result["insert"]["seconds"], 2)
    result["schema"], result["role"] = place["schema"], place["role"]  # dropped by now
    result["machine"] = _machine(server)
    return result


def _machine(server: str | None) -> dict:
    import psycopg

    from benchmarks.run import _machine as cores_cpu_memory_versions

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {
        "when_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "commit": commit,
        "machine": cores_cpu_memory_versions(),  # the same description as benchmarks.run's results
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "sqlalchemy": sa.__version__,
        "psycopg": psycopg.__version__,
        "postgresql": server,
    }


def table(result: dict) -> str:
    """The result as a Markdown table, one line per path, and the ratios."""
    n = result["repeat"]
    lines = [
        f"| path | rows | seconds (median of {n}) | rows/s | client CPU s | runs (s) |",
        "|---|---|---|---|---|---|",
    ]
    for path in PATHS:
        r = result[path]
        runs = " / ".join(f"{x['seconds']:.2f}" for x in r["runs"])
        lines.append(
            f"| {r['how']} | {result['rows']:,} | {r['seconds']:.2f} | {r['rows_per_s']:,} "
            f"| {r['client_cpu_s']:.2f} | {runs} |"
        )
    lines.append(
        f"\nRLS / COPY: **{result['ratio_rls_to_copy']:.2f}×** ({result['table']}, county {result['county_code']}); "
        f"of which the INSERT path {result['ratio_insert_to_copy']:.2f}× (owner's INSERT / COPY) and the policy "
        f"{result['ratio_rls_to_insert']:.2f}× (RLS / owner's INSERT)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rls_writes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"rows of {TABLE} (default {DEFAULT_ROWS:,})")
    parser.add_argument("--repeat", type=int, default=3, help="timed writes per path (default 3; the median counts)")
    parser.add_argument(
        "--url",
        default=os.environ.get("YUKUAI_TEST_POSTGRES_URL", DEFAULT_URL),
        help="PostgreSQL URL of a role that may create schemas and roles (default YUKUAI_TEST_POSTGRES_URL or "
        f"{DEFAULT_URL})",
    )
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    result = measure(args.rows, args.repeat, args.url)
    print(table(result))
    m = result["machine"]
    print(
        f"\n{m['when_utc']} UTC, commit {m['commit']} (working tree), {m['machine']}, load average "
        f"{' / '.join(map(str, m['load_average']))}, PostgreSQL {m['postgresql']}, "
        f"SQLAlchemy {m['sqlalchemy']}, psycopg {m['psycopg']}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
