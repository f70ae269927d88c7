"""Text cells and the parsers of the contracts' text kinds: a column as Arrow text (pandas' "str" dtype stored in
pyarrow, whose string functions run in C++ over a million cells), stripping, emptiness (the words an export writes
for nothing: -, 无, null …), per-distinct work for a workbook column that mixes numbers, dates and text (done once
per distinct value), and the text, identifier, count, phone and vocabulary parsers, each returning (values, bad
cells) and never guessing.
"""

import itertools
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yukuai_pipeline.contracts import header_key
from yukuai_pipeline.intake.arrow_csv import TEXT

EMPTY_WORDS = {"", "-", "—", "/", "无", "null", "none", "nan", "n/a"}
# the same words in every letter case (no other character lowers onto their letters), for a test without lower()
_EMPTY_ANY_CASE = sorted({"".join(c) for w in EMPTY_WORDS for c in itertools.product(*({x, x.upper()} for x in w))})


def per_distinct(values: pd.Series, function: Callable[[pd.Series], pd.Series]) -> pd.Series:
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


def text_or_none(cells: Sequence[Any] | np.ndarray, index: pd.Index | None = None) -> pd.Series | None:
    """Cells (a list or an object array; None/NaN missing) as Arrow text, or None when one is not text."""
    try:
        array = pa.array(cells, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError):  # a number, a date or a boolean among the cells
        return None
    return pd.Series(array, index=index, dtype=TEXT, copy=False)


def stripped(values: pd.Series) -> pd.Series:
    """str.strip() of every cell of Arrow text: pyarrow's utf8_trim_whitespace, which takes exactly the characters
    Python's strip() takes (tests/unit/test_arrow_csv.py checks every code point). The column itself when nothing was
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


def is_empty(values: pd.Series) -> pd.Series:
    values = as_arrow_text(values)
    if arrow_text(values):
        return _empty_words(values).astype(bool)
    return per_distinct(values, _empty_words).astype(bool)


def nfkc_distinct(values: pd.Series) -> pd.Series:
    """NFKC + strip, computed once per distinct text (exports repeat a few names many times)."""
    text = values.astype("str")
    if text.str.isascii().all():
        return text.str.strip()
    mapping = {v: unicodedata.normalize("NFKC", v).strip() for v in text.unique()}
    return text.map(mapping)


def _empty_words(distinct: pd.Series) -> pd.Series:
    if arrow_text(distinct):
        return _arrow_empty(stripped(distinct))
    return distinct.isna() | distinct.astype("str").str.strip().str.lower().isin(EMPTY_WORDS)


def _arrow_empty(stripped_text: pd.Series) -> pd.Series:
    return stripped_text.isna() | stripped_text.isin(_EMPTY_ANY_CASE)


def _empty_and_per_distinct(
    values: pd.Series, function: Callable[[pd.Series], pd.Series]
) -> tuple[pd.Series, pd.Series]:
    """(empty cells, per_distinct(values with empty cells as "", function)); for a column of few distinct texts
    (names, statuses) both come from one factorization."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        codes, distinct = _factorized(values)
        empty_distinct = _empty_words(distinct)
        result = function(distinct.where(~empty_distinct, ""))
        return (
            pd.Series(empty_distinct.to_numpy()[codes], index=values.index),
            pd.Series(result.to_numpy()[codes], index=values.index),
        )
    empty = is_empty(values)
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
    empty = is_empty(values)

    def one(v: object) -> str:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        return str(v)

    text = nfkc_distinct(values.where(~empty, "").map(one)).str.replace(r"\s+", "", regex=True)
    return text.where(~empty), pd.Series(False, index=values.index)


def _arrow_identifier(values: pd.Series) -> pd.Series:
    empty = is_empty(values)
    text = values  # an ASCII column without whitespace: NFKC and space removal would change nothing
    if not (values.str.isascii().all() and not values.str.contains(_WHITESPACE_RUN, regex=True).any()):
        text = values.str.normalize("NFKC").str.replace(_WHITESPACE_RUN, "", regex=True)
    return text.where(~empty) if empty.any() else text


def parse_count(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole non-negative-or-not numbers: "1,258", "１２５８", "1 258人" all read as 1258; 3.5 is an error, and so is
    "3,5": a comma is read only as a thousands separator between groups of three digits."""
    empty = is_empty(values)
    text = nfkc_distinct(values.where(~empty, "").map(lambda v: repr(v) if isinstance(v, float) else str(v)))
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


_PHONE_DECORATION = r"^\+?86|[-()]"  # the country code, then dashes and brackets


def parse_phone(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text, _ = parse_identifier(values)
    return text.str.replace(_PHONE_DECORATION, "", regex=True), pd.Series(False, index=values.index)


def parse_vocabulary(values: pd.Series, vocabulary: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    values = as_arrow_text(values)
    if arrow_text(values):  # a few distinct texts: looked up once each, spread back by an Arrow take
        codes, distinct = _factorized(values)
        looked_up = pd.Series(
            [vocabulary.get(header_key(v)) if isinstance(v, str) else None for v in distinct], dtype=values.dtype
        )
        out = looked_up.take(codes).set_axis(values.index)
        return out, pd.Series(~_empty_words(distinct).to_numpy()[codes] & out.isna().to_numpy(), index=values.index)
    empty, out = _empty_and_per_distinct(values, lambda d: d.map(lambda v: vocabulary.get(header_key(v))))
    bad = ~empty & out.isna()
    return out.astype("str").where(out.notna()), bad
