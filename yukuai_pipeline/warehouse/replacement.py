"""One unit of a warehouse transaction (tables.py applies a run's replacements together)."""

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Replacement:
    """Delete the rows matching `where`, then insert `frame` — one unit of a transaction.

    With upsert=True the rows are instead inserted or, where their primary key exists, updated (only_new=True:
    left alone). Rows keyed by file, which concurrent runs may both write, use it so that neither run fails.
    """

    table: str
    frame: pd.DataFrame
    where: dict = field(default_factory=dict)
    upsert: bool = False
    only_new: bool = False
    # the rows another day has (steps/unchanged.py): their codes are not filled again, and a stored-once table's day
    # is pointed at that day's content (`frame` unused) as long as it is still `content_id` — else the transaction
    # fails (ContentGone), and the step computes instead
    same_as: "SameAs | None" = None


@dataclass(frozen=True)
class SameAs:
    day: dt.date
    content_id: str | None = None  # stored-once tables
