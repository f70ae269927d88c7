"""One unit of a warehouse transaction (tables.py applies a run's replacements together)."""

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
