"""Python's cycle collector paused while a workbook is built and saved.

A city's county workbook is over a million openpyxl cells, each a tracked object: the collector's generations fill
again and again while they are made and walks them each time (about half of the build, measured at city size).
Nothing built there is garbage until the workbook is dropped, so collecting can wait until the end.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off inside, and back as it was after (also when the body raises); nests."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
