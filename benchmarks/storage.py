"""What stored-once tables save (warehouse/stored_once.py), measured on a real SQLite warehouse:

    python -m benchmarks.storage WAREHOUSE.db [--json out.json]

prints the warehouse's size as it is, and the size of a copy holding every stored-once table as plain daily copies
(as warehouses were written before), both after VACUUM, with each stored-once table's rows as read per day against
the rows actually stored. The warehouse given is not changed.
"""

import argparse
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import sqlalchemy as sa

from yukuai_pipeline.contracts import load_contract
from yukuai_pipeline.warehouse import Warehouse


def as_plain_tables(warehouse: Warehouse) -> dict[str, int]:
    """Each stored-once view replaced by a plain daily table holding its rows (what a warehouse held before); returns
    the rows kept per table. Copied a day at a time (a year of the roster is ~10 million rows: read at once, it did
    not fit in this machine's memory)."""
    kept = {}
    for name, logical in warehouse.stored_once.items():
        plain = logical.to_metadata(sa.MetaData(), name=f"{name}__plain")
        view = warehouse.table(name)
        with warehouse.engine.begin() as conn:
            plain.create(conn)
            days = conn.execute(sa.select(view.c.snapshot_date).distinct()).scalars().all()
        kept[name] = 0
        for day in sorted(days):  # each day's rows in the order the warehouse gives them
            frame = warehouse.read(name, {"snapshot_date": day})
            rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
            with warehouse.engine.begin() as conn:
                conn.execute(plain.insert(), rows)
            kept[name] += len(rows)
    with warehouse.engine.begin() as conn:
        for name in warehouse.stored_once:
            conn.exec_driver_sql(f"DROP VIEW {name}")
            for physical in ("contents", "days", "ranges"):  # as ranges (stored_as_ranges.py)
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}__{physical}")
            conn.exec_driver_sql(f"ALTER TABLE {name}__plain RENAME TO {name}")
        conn.exec_driver_sql("DROP TABLE snapshot_contents")
    return kept


def _physical(name: str) -> str:
    return "ranges" if load_contract(name).stored_as_ranges else "contents"


def _vacuumed_mb(path: Path) -> float:
    with sqlite3.connect(path) as conn:
        conn.execute("VACUUM")
    return round(path.stat().st_size / 2**20, 1)


def measure(database: Path) -> dict:
    with tempfile.TemporaryDirectory() as work:
        now, before = Path(work) / "now.db", Path(work) / "before.db"
        shutil.copy(database, now)
        warehouse = Warehouse(f"sqlite:///{now}", county_code=None)
        warehouse.ensure_tables()  # an older warehouse is converted first, as the pipeline would
        with warehouse.engine.connect() as conn:
            stored = {  # a table stored as ranges stores one row per range (stored_as_ranges.py)
                name: int(conn.execute(sa.text(f"SELECT count(*) FROM {name}__{_physical(name)}")).scalar() or 0)
                for name in warehouse.stored_once
            }
            days = conn.execute(sa.text("SELECT count(DISTINCT snapshot_date) FROM snapshot_contents")).scalar()
        warehouse.dispose()
        shutil.copy(now, before)
        old = Warehouse(f"sqlite:///{before}", county_code=None)
        rows = as_plain_tables(old)
        old.dispose()
        return {
            "days": int(days or 0),
            "size_mb": _vacuumed_mb(now),
            "size_mb_as_daily_copies": _vacuumed_mb(before),
            "tables": {name: {"rows_per_day_view": rows[name], "rows_stored": stored[name]} for name in rows},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = measure(args.database)
    print(f"{result['days']} days: {result['size_mb']} MB stored once,", end=" ")
    print(f"{result['size_mb_as_daily_copies']} MB as daily copies")
    for name, counts in result["tables"].items():
        print(f"  {name:28} {counts['rows_per_day_view']:>10,} rows over the days, {counts['rows_stored']:>8,} stored")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
