"""Python's cycle collector paused while many objects that form no reference cycle are made.

Reading a workbook makes millions of small lists and strings (intake/readers.py); a city's county report is over a
million openpyxl cells (report/workbook.py). Each is a tracked object, and the collector walks its generations again
and again while they fill (~15 % of a workbook's read, about half of a city report's build). Nothing made there is
garbage before the work ends, so collecting can wait until then.
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
