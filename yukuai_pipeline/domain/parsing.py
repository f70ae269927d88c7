"""Typed values from untyped cells, as each input contract's `parse:` section says.

Every parser is vectorised over a column, and reports the cells it could not read instead of guessing: (row index,
field, raw value, reason). Text is handled as Arrow text (pandas' "str" dtype stored in pyarrow), whose string
functions run in C++ over a million cells; a workbook column that mixes numbers, dates and text keeps its Python
cells, and per-text work on it is done once per distinct value.
"""

import datetime as dt
import itertools
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yukuai_pipeline.domain.arrow_csv import TEXT
from yukuai_pipeline.domain.contracts import Contract, header_key

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_USUAL_FORMAT = "%Y-%m-%d %H:%M:%S"
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
    numbers = pd.to_numeric(cleaned.where(~empty), errors="coerce")
    whole = numbers.notna() & (numbers == np.floor(numbers.fillna(0)))
    bad = ~empty & ~whole
    out = pd.array(np.where(whole, numbers.fillna(0), 0).astype("int64"), dtype="Int64")
    out[~whole.to_numpy()] = pd.NA
    return pd.Series(out, index=values.index), bad


def parse_datetime(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """datetime cells as they are; Excel serial numbers (also written as text, as a CSV saved from Excel holds them);
    text such as 2023-02-17 08:00, 2023/2/17, 2023年2月17日 8时30分."""
    values = as_arrow_text(values)
    if arrow_text(values):
        return _parse_datetime_text(values)
    empty = _is_empty(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    is_datetime = values.map(lambda v: isinstance(v, (dt.datetime, dt.date, pd.Timestamp)))
    if is_datetime.any():
        # one by one: a column mixing dates and datetimes (calamine gives a date for a midnight time) must not
        # have its format inferred from the first cell
        out[is_datetime] = values[is_datetime].map(_timestamp).astype("datetime64[ns]")
    is_number = values.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool)) & ~empty
    if is_number.any():
        out[is_number] = _from_serial(pd.to_numeric(values[is_number], errors="coerce"))
    is_text = ~empty & ~is_datetime & ~is_number
    if is_text.any():
        out[is_text] = _from_text(values[is_text].astype(str)).astype("datetime64[ns]")
    bad = ~empty & out.isna()
    return out, bad


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
            out[rest] = _from_text(values[rest].astype(str)).astype("datetime64[ns]")
    return out, ~empty & out.isna()


def _in_usual_format(values: pd.Series) -> pd.Series:
    """The cells written in the usual format, read in one pass (NaT elsewhere). Arrow text is read by pyarrow's
    strptime, whose answer is kept only for text written exactly so and naming a real day: pyarrow rolls 02-30 over
    into March and skips leading spaces, where pandas refuses both (those cells go on to the slower formats)."""
    if not arrow_text(values):
        return pd.to_datetime(values, format=_USUAL_FORMAT, errors="coerce").astype("datetime64[ns]")
    text = values.array.__arrow_array__()  # the column's own chunks, not a combined copy
    parsed = pc.strptime(text, format=_USUAL_FORMAT, unit="ns", error_is_null=True)
    exact = pc.fill_null(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"), False)
    written_day = pc.cast(pc.if_else(exact, pc.utf8_slice_codeunits(text, 8, 10), "0"), pa.int64())
    kept = pc.fill_null(pc.and_(exact, pc.equal(pc.day(parsed), written_day)), False)
    read = pc.if_else(kept, parsed, pa.scalar(None, parsed.type))
    return pd.Series(read.to_numpy(zero_copy_only=False), index=values.index).astype("datetime64[ns]")


def _timestamp(value) -> pd.Timestamp:
    try:
        return pd.Timestamp(value).tz_localize(None).as_unit("ns")
    except (ValueError, OverflowError):  # OutOfBoundsDatetime is a ValueError
        return pd.NaT


def _from_serial(serial: pd.Series) -> pd.Series:
    in_range = serial.between(20000, 80000)  # 1954..2119: anything else is not a plausible date serial
    return (_EXCEL_EPOCH + pd.to_timedelta(serial.where(in_range), unit="D")).astype("datetime64[ns]")


def _from_text(raw: pd.Series) -> pd.Series:
    # The common exports first, in one vectorised pass each; only what is left goes through normalisation.
    parsed = pd.to_datetime(raw, format=_USUAL_FORMAT, errors="coerce")
    for form in ("%Y-%m-%d", "%Y-%m-%d %H:%M"):
        rest = parsed.isna()
        if rest.any():
            parsed[rest] = pd.to_datetime(raw[rest], format=form, errors="coerce")
    rest = parsed.isna()
    if not rest.any():
        return parsed
    text = _nfkc_distinct(raw[rest])
    serial = text.str.fullmatch(r"\d{5}(\.\d+)?")
    if serial.any():
        parsed[serial[serial].index] = _from_serial(pd.to_numeric(text[serial], errors="coerce"))
    text = text[~serial]
    text = (text.str.replace(r"\s*年\s*", "-", regex=True).str.replace(r"\s*月\s*", "-", regex=True)
            .str.replace(r"\s*[日号]\s*", " ", regex=True).str.replace(r"[/.]", "-", regex=True)
            .str.replace(r"\s*[时時点點分]\s*", ":", regex=True).str.replace(r"\s*秒\s*", "", regex=True)
            .str.replace(r"\s+", " ", regex=True).str.strip().str.replace(r":$", ":00", regex=True))
    if text.empty:
        return parsed
    strict = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    left = strict.isna()
    if left.any():
        strict[left] = pd.to_datetime(text[left], format="mixed", errors="coerce")
    parsed[text.index] = strict
    return parsed


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
