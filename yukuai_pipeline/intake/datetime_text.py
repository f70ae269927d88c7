"""A column of text (or Excel serial numbers) read as naive datetime64[ns] Asia/Shanghai wall-clock times, NaT where
unreadable, under the rules of datetime_parsing.py. Text is read by the cheapest reader that can: the export's usual
2023-02-17 08:00:00 in one pyarrow pass, a few other strptime formats each only on the cells of its shape, pyarrow
regex passes for 年月日, slashes, ISO's T and zones (a zoned time converted to Asia/Shanghai through the tz
database), and pandas' free-form parser last, once per distinct text, for what is left.
"""

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yukuai_pipeline.intake.arrow_csv import TEXT
from yukuai_pipeline.intake.text_parsing import arrow_text, is_empty, nfkc_distinct, per_distinct

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_USUAL_FORMAT = "%Y-%m-%d %H:%M:%S"
SHANGHAI = "Asia/Shanghai"  # the time zone the project counts days in
_FIRST_NS, _LAST_NS = pd.Timestamp.min, pd.Timestamp.max  # datetime64[ns]: 1677-09-21 00:12:43 .. 2262-04-11 23:47:16
# A time of day followed by a zone: Z, UTC, GMT, UTC+8 / GMT+08:00 (the sign as written, not dateutil's inverted
# POSIX reading), or an ISO offset of two digits (+08, +0800, +08:00)
_ZONED = (
    r"(?i)^(?P<local>.*\d:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*"
    r"(?P<zone>z|utc|gmt|(?:utc|gmt)\s*[+-]\d{1,2}(?::?\d{2})?|[+-]\d{2}(?::?\d{2})?)$"
)
_OFFSET = r"(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$"
# The text each strptime format can read, as an RE2 pattern: a cell of another shape is not offered to it
_SHAPES = {
    _USUAL_FORMAT: r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}$",
    "%Y-%m-%d %H:%M:%S.%f": r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}\.\d+$",
    "%Y-%m-%d %H:%M": r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}$",
    "%Y-%m-%d": r"^\d{4}-\d{1,2}-\d{1,2}$",
}
_LATEST_OFFSET = 14 * 60  # minutes: no zone is further from UTC than +14:00


def parse_datetime_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A column of text: the export's usual format read in one pass first. A cell it reads is no "empty" word,
    so the emptiness test and the slower formats only see the rest (cell by cell the same result)."""
    out = _in_usual_format(values)
    unread = out.isna()
    empty = pd.Series(False, index=values.index)
    if unread.any():
        empty[unread] = is_empty(values[unread])
        rest = unread & ~empty
        if rest.any():
            out[rest] = from_text(values[rest].astype(str))
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


def from_serial(serial: pd.Series) -> pd.Series:
    in_range = serial.between(20000, 80000)  # 1954..2119: anything else is not a plausible date serial
    return (_EXCEL_EPOCH + pd.to_timedelta(serial.where(in_range), unit="D")).astype("datetime64[ns]")


def from_text(raw: pd.Series) -> pd.Series:
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
    text = nfkc_distinct(raw)
    if not arrow_text(text):
        text = text.astype(TEXT)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    serial = _matches(_arrow(text), r"^\d{5}(\.\d+)?$")
    if serial.any():
        out[serial] = from_serial(pd.to_numeric(text[serial], errors="coerce")).astype("datetime64[us]")
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
    matched: np.ndarray = pc.fill_null(pc.match_substring_regex(cells, pattern), False).to_numpy(zero_copy_only=False)
    return matched


def _normalised(cells: pa.ChunkedArray) -> pa.ChunkedArray:
    """年月日/时分秒 as - and :, 2023/2/17 and 2023.2.17 as 2023-2-17 (in 08:00:00.5 the dot is the seconds' fraction:
    there only the leading date's separators are replaced), ISO's T as a space, runs of spaces as one. Each
    replacement is made only when some cell holds what it replaces (a match is several times cheaper)."""

    def replace(cells: pa.ChunkedArray, pattern: str, replacement: str, needle: str | None = None) -> pa.ChunkedArray:
        if not pc.any(pc.match_substring_regex(cells, needle or pattern)).as_py():
            return cells
        return pc.replace_substring_regex(cells, pattern=pattern, replacement=replacement)

    cells = replace(
        replace(replace(cells, r"\s*年\s*", "-", "年"), r"\s*月\s*", "-", "月"), r"\s*[日号]\s*", " ", "[日号]"
    )
    if pc.any(pc.match_substring_regex(cells, r"[/.]")).as_py():
        fraction = pc.fill_null(pc.match_substring_regex(cells, r":\d{2}\.\d"), False)
        everywhere = replace(cells, r"[/.]", "-")
        cells = (
            everywhere
            if not pc.any(fraction).as_py()
            else pc.if_else(fraction, replace(cells, r"^(\d{1,4})[/.](\d{1,2})[/.](\d{1,4})", r"\1-\2-\3"), everywhere)
        )
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


def _free_form_one(value: object) -> pd.Timestamp:
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
        numbers: np.ndarray = pc.cast(pc.if_else(pc.equal(digits, ""), "0", digits), pa.int64()).to_numpy(
            zero_copy_only=False
        )
        return numbers

    hours, minutes = number("hours"), number("minutes")
    west = pc.fill_null(pc.equal(pc.struct_field(parts, "sign"), "-"), False).to_numpy(zero_copy_only=False)
    offset = np.where(west, -1, 1) * (hours * 60 + minutes)
    valid = (minutes < 60) & (np.abs(offset) <= _LATEST_OFFSET)
    local = local.where(valid & local.between(_FIRST_NS, _LAST_NS).to_numpy())  # no overflow in the shift below
    utc = local - pd.to_timedelta(np.where(valid, offset, 0), unit="min")
    return utc.dt.tz_localize("UTC").dt.tz_convert(SHANGHAI).dt.tz_localize(None).astype("datetime64[us]")
