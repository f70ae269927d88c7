"""Dates and times (`parse_datetime`) from cells of any kind: datetime cells, Excel serial numbers and text (read by
datetime_text.py). They come out as naive datetime64[ns] wall-clock times in Asia/Shanghai, the zone the
project counts days in, and no cell makes it raise. The rules:

* A time written with a zone names an instant: Z, UTC, GMT, an ISO offset (+08:00, +0800, +08) or UTC+8/GMT+8 (the
  sign as written, as people mean it, not dateutil's inverted POSIX reading). It is converted to Asia/Shanghai
  through the tz database and the zone dropped: 2023-02-19T08:00:00Z is 2023-02-19 16:00, ...+08:00 stays 08:00.
  So is a tz-aware datetime cell. A zone in any other form (EST, CST, "(中国标准时间)") or an offset beyond ±14:00
  makes the cell unreadable: its instant is not certain, and a guessed one could move a user to another day.
* Unreadable (NaT, reported as bad: parse_frame's 无法识别为日期/时间, which quarantines the row when the field is
  required): text that is no date or names a day that does not exist (2023-02-30); any time outside
  datetime64[ns]'s range 1677-09-21 .. 2262-04-11 (9999-12-31, 0001-01-01, year 3000), as text, as a datetime cell
  or after the zone's shift; a time of day or a duration without a date (calamine's time and timedelta cells,
  text such as 08:30 or 2月17日 that names no year: the free-form parser would fill in today's date); a number
  that is no Excel date serial between 20000 and 80000 (1954..2119).
* Plausibility inside that range is the contract's business (`plausible_dates`) and the counting step's (a time
  after the file's date), not the parser's.
"""

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from yukuai_pipeline.intake.datetime_text import SHANGHAI, from_serial, from_text, parse_datetime_text
from yukuai_pipeline.intake.text_parsing import arrow_text, as_arrow_text, is_empty


def parse_datetime(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """datetime cells as they are; Excel serial numbers (also written as text, as a CSV saved from Excel holds them);
    text such as 2023-02-17 08:00, 2023/2/17, 2023年2月17日 8时30分, 2023-02-19T08:00:00Z. Never raises: a cell it
    cannot read (also one outside datetime64[ns]'s range, or a time of day without a date) is NaT and bad; times
    with a zone are converted to Asia/Shanghai wall-clock time (see the module docstring)."""
    values = as_arrow_text(values)
    if arrow_text(values):
        return parse_datetime_text(values)
    empty = is_empty(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    kinds = values.map(_cell_kind)
    is_datetime = kinds.eq("datetime").to_numpy()
    if is_datetime.any():
        # one by one: a column mixing dates and datetimes (calamine gives a date for a midnight time) must not
        # have its format inferred from the first cell
        out[is_datetime] = values[is_datetime].map(_timestamp).astype("datetime64[ns]")
    is_number = kinds.eq("number").to_numpy() & ~empty.to_numpy()
    if is_number.any():
        out[is_number] = from_serial(_numbers(values[is_number]))
    is_text = kinds.eq("text").to_numpy() & ~empty.to_numpy()
    if is_text.any():
        out[is_text] = from_text(values[is_text].astype(str))
    bad = ~empty & out.isna()  # a time of day or a duration ("other") is bad too: it names no day
    return out, bad


def _cell_kind(value: object) -> str:
    if isinstance(value, (dt.datetime, dt.date, np.datetime64)):  # pd.Timestamp is a datetime
        return "datetime"
    if isinstance(value, (dt.time, dt.timedelta, np.timedelta64)):  # calamine's time-only and duration cells
        return "other"
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return "number"
    return "text"


def _timestamp(value: object) -> pd.Timestamp:
    """A datetime cell as naive datetime64[ns]: a tz-aware one is the instant it names, in Asia/Shanghai time."""
    try:
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert(SHANGHAI).tz_localize(None)
        return stamp.as_unit("ns")
    except (ValueError, OverflowError, TypeError):  # OutOfBoundsDatetime is a ValueError
        return pd.NaT


def _numbers(cells: pd.Series) -> pd.Series:
    """Number cells as float64; an integer too large for a float (no date serial) as NaN."""
    try:
        return pd.to_numeric(cells, errors="coerce").astype("float64")
    except (OverflowError, TypeError, ValueError):
        return cells.map(_float).astype("float64")


def _float(value: Any) -> float:
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        return np.nan
