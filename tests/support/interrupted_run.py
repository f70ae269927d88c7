"""`yukuai materialize` in a child process, held at a chosen point of a partition write so a test can kill it there
or make two runs collide there.

    python interrupted_run.py freeze TABLE -- ARGS     after the partition DELETE of TABLE has run inside the open
                                                      transaction: print MID-WRITE and sleep (the test SIGKILLs)
    python interrupted_run.py collide DIR -- ARGS      two runs meet before writing registration_counts (each leaves
                                                      a mark in DIR and waits for the other), then each holds its
                                                      transaction open for a moment after the DELETE
"""

import sys
import time
from pathlib import Path

import sqlalchemy as sa

from yukuai_pipeline.cli import main as yukuai
from yukuai_pipeline.warehouse import Warehouse

TABLE = "registration_counts"


def _after_delete_of(table: str, action) -> None:
    prefix = f"DELETE FROM {table}".upper()

    def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(prefix):
            action()

    sa.event.listen(sa.engine.Engine, "after_cursor_execute", after_cursor_execute)


def freeze(table: str) -> None:
    def hold():
        print("MID-WRITE", flush=True)
        time.sleep(600)

    _after_delete_of(table, hold)


def collide(folder: str) -> None:
    marks = Path(folder)
    original = Warehouse.replace

    def replace(self, replacements):
        replacements = list(replacements)
        if any(item.table == TABLE for item in replacements):
            (marks / str(time.monotonic_ns())).touch()
            deadline = time.monotonic() + 60
            while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        return original(self, replacements)

    Warehouse.replace = replace
    _after_delete_of(TABLE, lambda: time.sleep(1.5))


if __name__ == "__main__":
    mode, argument, separator, *args = sys.argv[1:]
    assert separator == "--", __doc__
    {"freeze": freeze, "collide": collide}[mode](argument)
    sys.exit(yukuai(args))
