"""The DuckDB peer: the same day's job as benchmarks/peer.py, as a competent analyst would write it in DuckDB SQL.

Read the export (every field as text, the two title lines skipped; the 合计/制表人 footer lines are read as rows and
fall out with the status filter, as in peer.py), keep approved users (each 用户ID once: its first approved row),
count per village, split the township targets over the villages by population (largest remainder, ties to the
earlier village), compute the gap and the rate, and write `township_progress` and `village_progress` to the
database in one transaction. Everything up to the two finished tables (12,000 rows at city size) runs in DuckDB;
the write goes through pandas' `to_sql`, as the pandas peer's does. Same numbers as peer.py, column for column.
"""

from pathlib import Path

import duckdb
import sqlalchemy as sa


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def run_peer(data: Path, database_url: str) -> dict:
    landing = data / "landing"
    export = next(p for p in landing.iterdir() if "注册用户" in p.name)
    registry_file = next(p for p in landing.iterdir() if "社区基本信息" in p.name)
    con = duckdb.connect()  # in memory, every core
    # drop_duplicates("用户ID") keeps the first row: row_number() over the approved rows in file order (insertion
    # order is preserved) says which is first.
    con.execute(f"""
        CREATE TEMP TABLE counts AS
        WITH approved AS (
            SELECT "用户ID" AS id, "乡镇（街道）" AS township, "村（社区）" AS village, row_number() OVER () AS n
            FROM read_csv({_literal(export)}, skip = 2, header = true, all_varchar = true, delim = ',',
                          quote = '"', escape = '"')
            WHERE "审核状态" = '已通过'
        ), users AS (
            SELECT arg_min(township, n) AS township, arg_min(village, n) AS village FROM approved GROUP BY id
        )
        SELECT township, village, count(*) AS completed FROM users GROUP BY township, village
    """)
    (approved,) = con.sql("SELECT coalesce(sum(completed), 0)::BIGINT FROM counts").fetchall()[0]
    con.execute(f"""
        CREATE TEMP TABLE targets AS
        SELECT row_number() OVER () AS n, township, resident_population::BIGINT AS resident_population,
               target::BIGINT AS target
        FROM read_csv({_literal(data / "assets" / "attachment.csv")}, header = true)
    """)
    # The registry's village names lose their 村民/居民委员会; each township's target is split as
    # floor(population × target / township population), and the townships' shortfall goes one each to the villages
    # with the largest remainders.
    con.execute(f"""
        CREATE TEMP TABLE villages AS
        WITH registry AS (
            SELECT row_number() OVER () AS n, "乡镇（街道）" AS township,
                   regexp_replace("村（社区）名称", '(村民|居民)委员会$', '') AS village,
                   "常住人口（人）"::BIGINT AS resident_population
            FROM read_csv({_literal(registry_file)}, skip = 1, header = true, all_varchar = true)
        ), shares AS (
            SELECT r.*, t.target AS township_target,
                   (r.resident_population * t.target // sum(r.resident_population) OVER town)::BIGINT AS base,
                   (r.resident_population * t.target % sum(r.resident_population) OVER town)::BIGINT AS remainder
            FROM registry r LEFT JOIN targets t USING (township)
            WINDOW town AS (PARTITION BY r.township)
        )
        SELECT n, township, village, resident_population,
               base + (row_number() OVER (PARTITION BY township ORDER BY remainder DESC, n) - 1
                       < township_target - sum(base) OVER (PARTITION BY township))::BIGINT AS target
        FROM shares
    """)
    # pandas' round(4) is numpy's: rint(x × 10⁴) / 10⁴, half to even; round_even(…, 0) on the same product is that.
    progress = """
        SELECT * EXCLUDE (n), greatest(target - completed, 0) AS gap,
               round_even(completed / target * 10000, 0) / 10000 AS completion_rate
        FROM ({rows}) ORDER BY n
    """
    township_rows = """
        WITH town AS (
            SELECT t.n, t.township, t.resident_population, t.target, coalesce(c.completed, 0)::BIGINT AS completed
            FROM targets t LEFT JOIN (
                -- as pandas' groupby, which leaves out users without a village
                SELECT township, sum(completed) AS completed FROM counts WHERE village IS NOT NULL GROUP BY township
            ) c USING (township)
        )
        SELECT * FROM town
        UNION ALL
        SELECT max(n) + 1, '合计', sum(resident_population)::BIGINT, sum(target)::BIGINT, sum(completed)::BIGINT
        FROM town
    """
    village_rows = """
        SELECT v.n, v.township, v.village, v.resident_population, v.target, coalesce(c.completed, 0) AS completed
        FROM villages v LEFT JOIN counts c USING (township, village)
    """
    tables = {
        "township_progress": con.sql(progress.format(rows=township_rows)).df(),
        "village_progress": con.sql(progress.format(rows=village_rows)).df(),
    }
    con.close()
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        for name, frame in tables.items():
            frame.to_sql(name, conn, if_exists="replace", index=False)
    engine.dispose()
    return {"approved": int(approved), "completed": int(tables["township_progress"]["completed"].iloc[-1])}
