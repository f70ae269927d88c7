"""Typed values from untyped cells, as each input contract's `parse:` section says.

Every parser is vectorised over a column, and reports the cells it could not read instead of guessing: (row index,
field, raw value, reason). Text is handled as Arrow text (pandas' "str" dtype stored in pyarrow), whose string
functions run in C++ over a million cells; a workbook column that mixes numbers, dates and text keeps its Python
cells, and per-text work on it is done once per distinct value.

Dates and times (`parse_datetime`) come out as naive datetime64[ns] wall-clock times in Asia/Shanghai, the zone the
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

Text is read by the cheapest reader that can: the export's usual 2023-02-17 08:00:00 in one pyarrow pass, a few
other strptime formats each only on the cells of its shape, pyarrow regex passes for 年月日, slashes, ISO's T
and zones, and pandas' free-form parser last, once per distinct text, for what is left.
"""

import datetime as dt
import itertools
import unicodedata
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yukuai_pipeline.intake.arrow_csv import TEXT
from yukuai_pipeline.contracts import Contract, header_key

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_USUAL_FORMAT = "%Y-%m-%d %H:%M:%S"
_SHANGHAI = "Asia/Shanghai"  # the time zone the project counts days in
_FIRST_NS, _LAST_NS = pd.Timestamp.min, pd.Timestamp.max  # datetime64[ns]: 1677-09-21 00:12:43 .. 2262-04-11 23:47:16
# A time of day followed by a zone: Z, UTC, GMT, UTC+8 / GMT+08:00 (the sign as written, not dateutil's inverted
# POSIX reading), or an ISO offset of two digits (+08, +0800, +08:00)
_ZONED = (r"(?i)^(?P<local>.*\d:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*"
          r"(?P<zone>z|utc|gmt|(?:utc|gmt)\s*[+-]\d{1,2}(?::?\d{2})?|[+-]\d{2}(?::?\d{2})?)$")
_OFFSET = r"(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$"
# The text each strptime format can read, as an RE2 pattern: a cell of another shape is not offered to it
_SHAPES = {_USUAL_FORMAT: r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}$",
           "%Y-%m-%d %H:%M:%S.%f": r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}\.\d+$",
           "%Y-%m-%d %H:%M": r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}$", "%Y-%m-%d": r"^\d{4}-\d{1,2}-\d{1,2}$"}
_LATEST_OFFSET = 14 * 60  # minutes: no zone is further from UTC than +14:00
_EMPTY = {"", "-", "—", "/", "无", "null", "none", "nan", "n/a"}
# the same words in every letter case (no other character lowers onto their letters), for a test without lower()
_EMPTY_ANY_CASE = sorted({"".join(c) for w in _EMPTY for c in itertools.product(*({x, x.upper()} for x in w))})


def per_distinct(values: pd.Series, function) -> pd.Series:
    """function(a Series of the distinct values) spread back onto every row: an export repeats a few townships,
    villages, statuses and dates a million times, so per-text work is done once per text. Only for text columns:
    factorize would take 1, 1.0 and True for one value."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return pd.Series(function(values.astype("object")).to_numpy(), index=values.index)
    codes, distinct = _factorized(values)
    return pd.Series(function(distinct).to_numpy()[codes], index=values.index)


def _factorized(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series([*uniques, None], dtype="object")  # the last one stands for every missing cell
    codes[codes < 0] = len(uniques)
    return codes, distinct


_WHITESPACE = tuple(c for c in map(chr, range(0x3001)) if c.isspace())  # all that str.strip() and \s take
_WHITESPACE_CHARS = "".join(_WHITESPACE)
_WHITESPACE_RUN = f"[{_WHITESPACE_CHARS}]+"  # Python's \s+, spelt out so that pyarrow's RE2 runs it


def arrow_text(values: pd.Series) -> bool:
    """Text stored in Arrow (every all-text column the readers give): pandas' .str methods, isin and factorize run
    on it in C++."""
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def as_arrow_text(values: pd.Series) -> pd.Series:
    """A column of Python strings as Arrow text, so that it takes the Arrow paths; a column holding numbers, dates or
    booleans (or already typed) is returned as it is."""
    if values.dtype != object:
        return values
    text = text_or_none(values.to_numpy(), values.index)
    return values if text is None else text


def text_or_none(cells, index=None) -> pd.Series | None:
    """Cells (a list or an object array; None/NaN missing) as Arrow text, or None when one is not text."""
    try:
        array = pa.array(cells, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError):  # a number, a date or a boolean among the cells
        return None
    return pd.Series(array, index=index, dtype=TEXT, copy=False)


def stripped(values: pd.Series) -> pd.Series:
    """str.strip() of every cell of Arrow text: pyarrow's utf8_trim_whitespace, which takes exactly the characters
    Python's strip() takes (tests/test_arrow_csv.py checks every code point). The column itself when nothing was
    stripped, so that a million-cell copy is not kept."""
    out = values.str.strip()
    return values if _text_bytes(out) == _text_bytes(values) else out


def _text_bytes(values: pd.Series) -> int:
    return pc.sum(pc.binary_length(values.array.__arrow_array__())).as_py() or 0


def blank_text(values: pd.Series, words: set[str]) -> pd.Series:
    """Missing, or nothing but whitespace around one of `words` (which include ""), for Arrow text — without a
    stripped copy of the column: only the few cells holding a word's text are stripped."""
    blank = values.isna() | values.str.isspace()
    for word in sorted(words - {""}):
        holds = values.str.contains(word, regex=False).to_numpy()
        if holds.any():
            blank[holds] |= stripped(values[holds]).eq(word).to_numpy()
    return blank | values.eq("") if "" in words else blank


def _is_empty(values: pd.Series) -> pd.Series:
    values = as_arrow_text(values)
    if arrow_text(values):
        return _empty_words(values).astype(bool)
    return per_distinct(values, _empty_words).astype(bool)


def _nfkc_distinct(values: pd.Series) -> pd.Series:
    """NFKC + strip, computed once per distinct text (exports repeat a few names many times)."""
    text = values.astype("str")
    if text.str.isascii().all():
        return text.str.strip()
    mapping = {v: unicodedata.normalize("NFKC", v).strip() for v in text.unique()}
    return text.map(mapping)


def _empty_words(distinct: pd.Series) -> pd.Series:
    if arrow_text(distinct):
        return _arrow_empty(stripped(distinct))
    return distinct.isna() | distinct.astype("str").str.strip().str.lower().isin(_EMPTY)


def _arrow_empty(stripped_text: pd.Series) -> pd.Series:
    return stripped_text.isna() | stripped_text.isin(_EMPTY_ANY_CASE)


def _empty_and_per_distinct(values: pd.Series, function) -> tuple[pd.Series, pd.Series]:
    """(empty cells, per_distinct(values with empty cells as "", function)); for a column of few distinct texts
    (names, statuses) both come from one factorization."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        codes, distinct = _factorized(values)
        empty_distinct = _empty_words(distinct)
        result = function(distinct.where(~empty_distinct, ""))
        return (pd.Series(empty_distinct.to_numpy()[codes], index=values.index),
                pd.Series(result.to_numpy()[codes], index=values.index))
    empty = _is_empty(values)
    return empty, per_distinct(values.where(~empty, ""), function)


def parse_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    values = as_arrow_text(values)
    if arrow_text(values):
        text = stripped(values)
        empty = _arrow_empty(text)
        return (text.where(~empty) if empty.any() else text), pd.Series(False, index=values.index)
    empty, text = _empty_and_per_distinct(values, lambda d: d.astype("str").str.strip())
    return text.astype("str").where(~empty), pd.Series(False, index=values.index)


def parse_identifier(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """IDs and codes: Excel floats that hold integers lose their .0; text is NFKC'd with all spaces removed."""
    values = as_arrow_text(values)
    if arrow_text(values):
        return _arrow_identifier(values), pd.Series(False, index=values.index)
    empty = _is_empty(values)

    def one(v):
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        return str(v)

    text = _nfkc_distinct(values.where(~empty, "").map(one)).str.replace(r"\s+", "", regex=True)
    return text.where(~empty), pd.Series(False, index=values.index)


def _arrow_identifier(values: pd.Series) -> pd.Series:
    empty = _is_empty(values)
    text = values  # an ASCII column without whitespace: NFKC and space removal would change nothing
    if not (values.str.isascii().all() and not values.str.contains(_WHITESPACE_RUN, regex=True).any()):
        text = values.str.normalize("NFKC").str.replace(_WHITESPACE_RUN, "", regex=True)
    return text.where(~empty) if empty.any() else text


def parse_count(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole non-negative-or-not numbers: "1,258", "１２５８", "1 258人" all read as 1258; 3.5 is an error, and so is
    "3,5": a comma is read only as a thousands separator between groups of three digits."""
    empty = _is_empty(values)
    text = _nfkc_distinct(values.where(~empty, "").map(lambda v: repr(v) if isinstance(v, float) else str(v)))
    cleaned = text.str.replace(r"\s", "", regex=True).str.replace(r"(人|户|个|组|名)$", "", regex=True)
    misgrouped = cleaned.str.contains(",", regex=False) & ~cleaned.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
    cleaned = cleaned.str.replace(",", "", regex=False).where(~misgrouped, "x")
    with np.errstate(all="ignore"):
        numbers = pd.to_numeric(cleaned.where(~empty), errors="coerce").astype("float64")
    # no count of people, households or groups comes near 10^15: past it (or inf) a cell is no count, not a wrapped int
    numbers = numbers.where(numbers.abs() < 1e15)
    whole = numbers.notna() & (numbers == np.floor(numbers.fillna(0)))
    bad = ~empty & ~whole
    out = pd.array(np.where(whole, numbers.fillna(0), 0).astype("int64"), dtype="Int64")
    out[~whole.to_numpy()] = pd.NA
    return pd.Series(out, index=values.index), bad


def parse_datetime(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """datetime cells as they are; Excel serial numbers (also written as text, as a CSV saved from Excel holds them);
    text such as 2023-02-17 08:00, 2023/2/17, 2023年2月17日 8时30分, 2023-02-19T08:00:00Z. Never raises: a cell it
    cannot read (also one outside datetime64[ns]'s range, or a time of day without a date) is NaT and bad; times
    with a zone are converted to Asia/Shanghai wall-clock time (see the module docstring)."""
    values = as_arrow_text(values)
    if arrow_text(values):
        return _parse_datetime_text(values)
    empty = _is_empty(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    kinds = values.map(_cell_kind)
    is_datetime = kinds.eq("datetime").to_numpy()
    if is_datetime.any():
        # one by one: a column mixing dates and datetimes (calamine gives a date for a midnight time) must not
        # have its format inferred from the first cell
        out[is_datetime] = values[is_datetime].map(_timestamp).astype("datetime64[ns]")
    is_number = kinds.eq("number").to_numpy() & ~empty.to_numpy()
    if is_number.any():
        out[is_number] = _from_serial(_numbers(values[is_number]))
    is_text = kinds.eq("text").to_numpy() & ~empty.to_numpy()
    if is_text.any():
        out[is_text] = _from_text(values[is_text].astype(str))
    bad = ~empty & out.isna()  # a time of day or a duration ("other") is bad too: it names no day
    return out, bad


def _cell_kind(value) -> str:
    if isinstance(value, (dt.datetime, dt.date, np.datetime64)):  # pd.Timestamp is a datetime
        return "datetime"
    if isinstance(value, (dt.time, dt.timedelta, np.timedelta64)):  # calamine's time-only and duration cells
        return "other"
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return "number"
    return "text"


def _parse_datetime_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A column of text: the export's usual format read in one pass first. A cell it reads is no "empty" word,
    so the emptiness test and the slower formats only see the rest (cell by cell the same result)."""
    out = _in_usual_format(values)
    unread = out.isna()
    empty = pd.Series(False, index=values.index)
    if unread.any():
        empty[unread] = _is_empty(values[unread])
        rest = unread & ~empty
        if rest.any():
            out[rest] = _from_text(values[rest].astype(str))
    return out, ~empty & out.isna()


def _in_usual_format(values: pd.Series) -> pd.Series:
    """The cells written in the usual format, read in one pass (NaT elsewhere). Arrow text is read by pyarrow's
    strptime, whose answer is kept only for text written exactly so and naming a real day: pyarrow rolls 02-30 over
    into March and skips leading spaces, where pandas refuses both (those cells go on to the slower formats). A year
    outside datetime64[ns]'s range comes back null from it (it does not wrap around) and goes on to be refused."""
    if not arrow_text(values):
        return _in_ns_range(_strict_formats(values, (_USUAL_FORMAT,)))
    text = values.array.__arrow_array__()  # the column's own chunks, not a combined copy
    parsed = pc.strptime(text, format=_USUAL_FORMAT, unit="ns", error_is_null=True)
    exact = pc.fill_null(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"), False)
    written_day = pc.cast(pc.if_else(exact, pc.utf8_slice_codeunits(text, 8, 10), "0"), pa.int64())
    kept = pc.fill_null(pc.and_(exact, pc.equal(pc.day(parsed), written_day)), False)
    read = pc.if_else(kept, parsed, pa.scalar(None, parsed.type))
    return pd.Series(read.to_numpy(zero_copy_only=False), index=values.index).astype("datetime64[ns]")


def _timestamp(value) -> pd.Timestamp:
    """A datetime cell as naive datetime64[ns]: a tz-aware one is the instant it names, in Asia/Shanghai time."""
    try:
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert(_SHANGHAI).tz_localize(None)
        return stamp.as_unit("ns")
    except (ValueError, OverflowError, TypeError):  # OutOfBoundsDatetime is a ValueError
        return pd.NaT


def _numbers(cells: pd.Series) -> pd.Series:
    """Number cells as float64; an integer too large for a float (no date serial) as NaN."""
    try:
        return pd.to_numeric(cells, errors="coerce").astype("float64")
    except (OverflowError, TypeError, ValueError):
        return cells.map(_float).astype("float64")


def _float(value) -> float:
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        return np.nan


def _from_serial(serial: pd.Series) -> pd.Series:
    in_range = serial.between(20000, 80000)  # 1954..2119: anything else is not a plausible date serial
    return (_EXCEL_EPOCH + pd.to_timedelta(serial.where(in_range), unit="D")).astype("datetime64[ns]")


def _from_text(raw: pd.Series) -> pd.Series:
    """Text cells as naive datetime64[ns], NaT where unreadable. The common exports first, in one vectorised pass
    each; only what is left goes through normalisation, and only what is left after that through the free-form
    parser."""
    parsed = _strict_formats(raw, (_USUAL_FORMAT, "%Y-%m-%d", "%Y-%m-%d %H:%M"))
    rest = parsed.isna()
    if rest.any():
        parsed[rest] = _unusual_text(raw[rest])
    return _in_ns_range(parsed)


def _strict_formats(text: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """datetime64[us] (wide enough for any year strptime reads, so that nothing overflows here), NaT where none of
    the formats reads the cell. A format is tried only on the cells left that have its shape (one pyarrow regex
    pass): pandas' strptime is quick on text it reads and slow on text it refuses."""
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if not arrow_text(text):
        text = text.astype(TEXT)
    rest = np.ones(len(text), dtype=bool)
    for form in formats:
        tried = rest & _matches(_arrow(text), _SHAPES[form])
        if tried.any():
            parsed[tried] = pd.to_datetime(text[tried], format=form, errors="coerce").astype("datetime64[us]")
            rest &= parsed.isna().to_numpy()
            if not rest.any():
                break
    return parsed


def _in_ns_range(parsed: pd.Series) -> pd.Series:
    """datetime64[ns]; a time outside its range (9999-12-31, 0001-01-01, year 3000) is NaT: unreadable."""
    if parsed.dtype == "datetime64[ns]":
        return parsed
    return parsed.where(parsed.between(_FIRST_NS, _LAST_NS)).astype("datetime64[ns]")


def _unusual_text(raw: pd.Series) -> pd.Series:
    """datetime64[us] of the cells no usual format read: serial numbers as text, full-width digits, 年月日 and 时分秒,
    slashes and dots, ISO's T, a zone or offset at the end. The text work runs in pyarrow's compute functions
    (a whole export in an unusual format lands here, a few times faster than through pandas' .str)."""
    text = _nfkc_distinct(raw)
    if not arrow_text(text):
        text = text.astype(TEXT)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    serial = _matches(_arrow(text), r"^\d{5}(\.\d+)?$")
    if serial.any():
        out[serial] = _from_serial(pd.to_numeric(text[serial], errors="coerce")).astype("datetime64[us]")
        text = text[~serial]
    if text.empty:
        return out
    cells = _arrow(text)
    zoned = _matches(cells, _ZONED)  # a match alone is cheap; the groups are extracted only where there is one
    if zoned.any():
        zone = pc.extract_regex(_arrow(text[zoned]), _ZONED)
        local = text.copy()
        local[zoned] = _as_series(pc.struct_field(zone, "local"), text.index[zoned])
        cells = _arrow(local)
    local = _as_series(_normalised(cells), text.index)
    read = _strict_formats(local, (_USUAL_FORMAT, "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M", "%Y-%m-%d"))
    left = read.isna().to_numpy()
    if left.any():
        read[left] = _free_form(local[left])
    if zoned.any():
        read[zoned] = _to_shanghai(read[zoned], _as_series(pc.struct_field(zone, "zone"), text.index[zoned]))
    out[text.index] = read
    return out


def _arrow(text: pd.Series) -> pa.ChunkedArray:
    return text.array.__arrow_array__()


def _as_series(cells: pa.ChunkedArray, index: pd.Index) -> pd.Series:
    return pd.Series(cells, index=index, dtype=TEXT, copy=False)


def _matches(cells: pa.ChunkedArray, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(cells, pattern), False).to_numpy(zero_copy_only=False)


def _normalised(cells: pa.ChunkedArray) -> pa.ChunkedArray:
    """年月日/时分秒 as - and :, 2023/2/17 and 2023.2.17 as 2023-2-17 (in 08:00:00.5 the dot is the seconds' fraction:
    there only the leading date's separators are replaced), ISO's T as a space, runs of spaces as one. Each
    replacement is made only when some cell holds what it replaces (a match is several times cheaper)."""
    def replace(cells, pattern, replacement, needle=None):
        if not pc.any(pc.match_substring_regex(cells, needle or pattern)).as_py():
            return cells
        return pc.replace_substring_regex(cells, pattern=pattern, replacement=replacement)

    cells = replace(replace(replace(cells, r"\s*年\s*", "-", "年"), r"\s*月\s*", "-", "月"), r"\s*[日号]\s*", " ", "[日号]")
    if pc.any(pc.match_substring_regex(cells, r"[/.]")).as_py():
        fraction = pc.fill_null(pc.match_substring_regex(cells, r":\d{2}\.\d"), False)
        everywhere = replace(cells, r"[/.]", "-")
        cells = everywhere if not pc.any(fraction).as_py() else pc.if_else(
            fraction, replace(cells, r"^(\d{1,4})[/.](\d{1,2})[/.](\d{1,4})", r"\1-\2-\3"), everywhere)
    cells = replace(cells, r"^(\d{1,4}-\d{1,2}-\d{1,2})[Tt](\d)", r"\1 \2")
    cells = replace(replace(cells, r"\s*[时時点點分]\s*", ":", "[时時点點分]"), r"\s*秒\s*", "", "秒")
    cells = pc.utf8_trim_whitespace(replace(cells, r"\s+", " ", r"\s{2}|[\t\n\v\f\r]"))
    return replace(cells, r":$", ":00")


def _free_form(text: pd.Series) -> pd.Series:
    """datetime64[us] from pandas' free-form parser, once per distinct text, for the few cells nothing else read.
    A text naming no year (08:30, 2-17) is no date: the parser would fill in today's. A zone the parser finds in a
    form _ZONED does not know (EST, dateutil's sign-inverted GMT+3) leaves the cell unread, not shifted."""
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    named = _matches(_arrow(text), r"\d{4}")
    if named.any():
        out[named] = per_distinct(text[named], _free_form_distinct).astype("datetime64[us]")
    return out


def _free_form_distinct(distinct: pd.Series) -> pd.Series:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(distinct, format="mixed", errors="coerce")
        if parsed.dtype.kind == "M" and not isinstance(parsed.dtype, pd.DatetimeTZDtype):
            return parsed.astype("datetime64[us]")
    except (ValueError, OverflowError, TypeError):  # zones mixed with naive times: one by one
        pass
    return pd.Series([_free_form_one(v) for v in distinct], index=distinct.index, dtype="datetime64[us]")


def _free_form_one(value) -> pd.Timestamp:
    if not isinstance(value, str):
        return pd.NaT
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stamp = pd.to_datetime(pd.Series([value]), format="mixed", errors="coerce").iloc[0]
        if pd.isna(stamp) or stamp.tzinfo is not None:
            return pd.NaT
        return stamp.as_unit("us")
    except (ValueError, OverflowError, TypeError):
        return pd.NaT


def _to_shanghai(local: pd.Series, zone: pd.Series) -> pd.Series:
    """The wall-clock times `local` at the written zone (Z, UTC, GMT: UTC; +08:00, +0800, +08, UTC+8: that offset,
    its sign as written) as naive Asia/Shanghai wall-clock times; an offset beyond ±14:00 is unreadable."""
    parts = pc.extract_regex(_arrow(zone), _OFFSET)  # null for Z, UTC and GMT: offset 0

    def number(field: str) -> np.ndarray:
        digits = pc.fill_null(pc.struct_field(parts, field), "0")
        return pc.cast(pc.if_else(pc.equal(digits, ""), "0", digits), pa.int64()).to_numpy(zero_copy_only=False)

    hours, minutes = number("hours"), number("minutes")
    west = pc.fill_null(pc.equal(pc.struct_field(parts, "sign"), "-"), False).to_numpy(zero_copy_only=False)
    offset = np.where(west, -1, 1) * (hours * 60 + minutes)
    valid = (minutes < 60) & (np.abs(offset) <= _LATEST_OFFSET)
    local = local.where(valid & local.between(_FIRST_NS, _LAST_NS).to_numpy())  # no overflow in the shift below
    utc = local - pd.to_timedelta(np.where(valid, offset, 0), unit="min")
    return utc.dt.tz_localize("UTC").dt.tz_convert(_SHANGHAI).dt.tz_localize(None).astype("datetime64[us]")


_PHONE_DECORATION = r"^\+?86|[-()]"  # the country code, then dashes and brackets


def parse_phone(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text, _ = parse_identifier(values)
    return text.str.replace(_PHONE_DECORATION, "", regex=True), pd.Series(False, index=values.index)


def parse_vocabulary(values: pd.Series, vocabulary: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    values = as_arrow_text(values)
    if arrow_text(values):  # a few distinct texts: looked up once each, spread back by an Arrow take
        codes, distinct = _factorized(values)
        looked_up = pd.Series([vocabulary.get(header_key(v)) if isinstance(v, str) else None for v in distinct],
                              dtype=values.dtype)
        out = looked_up.take(codes).set_axis(values.index)
        return out, pd.Series(~_empty_words(distinct).to_numpy()[codes] & out.isna().to_numpy(), index=values.index)
    empty, out = _empty_and_per_distinct(values, lambda d: d.map(lambda v: vocabulary.get(header_key(v))))
    bad = ~empty & out.isna()
    return out.astype("str").where(out.notna()), bad


def parse_frame(frame: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(typed frame, parse failures with columns index, field, raw, message)."""
    typed = {}
    failures = []
    for column in frame.columns:
        kind = contract.parse.get(column, "text")
        if kind == "vocabulary":
            parsed, bad = parse_vocabulary(frame[column], contract.vocabularies[column])
            reason = "取值无法识别（允许：" + "、".join(contract.vocabulary_labels[column].values()) + "）"
        else:
            parser = {"text": parse_text, "identifier": parse_identifier, "count": parse_count,
                      "datetime": parse_datetime, "phone": parse_phone}[kind]
            parsed, bad = parser(frame[column])
            reason = {"count": "不是整数", "datetime": "无法识别为日期/时间"}.get(kind, "无法识别")
        typed[column] = parsed
        if bad.any():
            failures.append(_failures(frame, column, bad, reason))
        if kind == "datetime" and column in contract.sections.get("plausible_dates", {}):
            earliest = pd.Timestamp(contract.sections["plausible_dates"][column]["min"])
            too_early = parsed < earliest
            if too_early.any():
                failures.append(_failures(frame, column, too_early, f"早于 {earliest:%Y-%m-%d}，不可能是真实的日期"))
    typed = pd.DataFrame(typed, index=frame.index)
    if failures:
        return typed, pd.concat(failures, ignore_index=True)
    return typed, pd.DataFrame(columns=["index", "field", "raw", "message"])


def _failures(frame: pd.DataFrame, column: str, bad: pd.Series, reason: str) -> pd.DataFrame:
    return pd.DataFrame({"index": frame.index[bad.to_numpy()], "field": column,
                         "raw": frame.loc[bad, column].astype(str).str.slice(0, 200), "message": reason})
