"""Typed values from untyped cells, as each input contract's `parse:` section says.

Every parser is vectorised over a column (and over its distinct values where the work is per text), and reports
the cells it could not read instead of guessing: (row index, field, raw value, reason).
"""

import datetime as dt
import unicodedata

import numpy as np
import pandas as pd

from yukuai_pipeline.domain.contracts import Contract, header_key

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EMPTY = {"", "-", "—", "/", "无", "null", "none", "nan", "n/a"}


def _is_empty(values: pd.Series) -> pd.Series:
    as_text = values.astype("str").str.strip().str.lower()
    return (values.isna() | as_text.isin(_EMPTY)).astype(bool)


def _nfkc_distinct(values: pd.Series) -> pd.Series:
    """NFKC + strip, computed once per distinct text (exports repeat a few names many times)."""
    text = values.astype("str")
    if text.str.isascii().all():
        return text.str.strip()
    mapping = {v: unicodedata.normalize("NFKC", v).strip() for v in text.unique()}
    return text.map(mapping)


def parse_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    empty = _is_empty(values)
    text = values.where(~empty, "").astype("str").str.strip()
    return text.where(~empty), pd.Series(False, index=values.index)


def parse_identifier(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """IDs and codes: Excel floats that hold integers lose their .0; text is NFKC'd with all spaces removed."""
    empty = _is_empty(values)

    def one(v):
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        return str(v)

    text = values.where(~empty, "")
    if pd.api.types.infer_dtype(text, skipna=True) != "string":  # CSV cells are all text already: skip the loop
        text = text.map(one)
    text = _nfkc_distinct(text).str.replace(r"\s+", "", regex=True)
    return text.where(~empty), pd.Series(False, index=values.index)


def parse_count(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole non-negative-or-not numbers: "1,258", "１２５８", "1 258人" all read as 1258; 3.5 is an error."""
    empty = _is_empty(values)
    text = _nfkc_distinct(values.where(~empty, "").map(lambda v: repr(v) if isinstance(v, float) else str(v)))
    cleaned = text.str.replace(r"[,，\s]", "", regex=True).str.replace(r"(人|户|个|组|名)$", "", regex=True)
    numbers = pd.to_numeric(cleaned.where(~empty), errors="coerce")
    whole = numbers.notna() & (numbers == np.floor(numbers.fillna(0)))
    bad = ~empty & ~whole
    out = pd.array(np.where(whole, numbers.fillna(0), 0).astype("int64"), dtype="Int64")
    out[~whole.to_numpy()] = pd.NA
    return pd.Series(out, index=values.index), bad


def parse_datetime(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """datetime cells as they are; Excel serial numbers; text such as 2023-02-17 08:00, 2023/2/17, 2023年2月17日."""
    empty = _is_empty(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    is_datetime = values.map(lambda v: isinstance(v, (dt.datetime, dt.date, pd.Timestamp)))
    if is_datetime.any():
        out[is_datetime] = pd.to_datetime(values[is_datetime].astype(str), errors="coerce")
    is_number = values.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool)) & ~empty
    if is_number.any():
        serial = pd.to_numeric(values[is_number], errors="coerce")
        in_range = serial.between(20000, 80000)  # 1954..2119: anything else is not a plausible date serial
        out[serial[in_range].index] = _EXCEL_EPOCH + pd.to_timedelta(serial[in_range], unit="D")
    is_text = ~empty & ~is_datetime & ~is_number
    if is_text.any():
        text = _nfkc_distinct(values[is_text].astype(str))
        text = (text.str.replace(r"\s*年\s*", "-", regex=True).str.replace(r"\s*月\s*", "-", regex=True)
                .str.replace(r"\s*[日号]\s*", " ", regex=True).str.replace(r"[/.]", "-", regex=True)
                .str.replace(r"\s+", " ", regex=True).str.strip())
        parsed = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S", errors="coerce")
        rest = parsed.isna()
        if rest.any():
            parsed[rest] = pd.to_datetime(text[rest], format="mixed", errors="coerce")
        out[is_text] = parsed.astype("datetime64[ns]")
    bad = ~empty & out.isna()
    return out, bad


def parse_phone(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text, _ = parse_identifier(values)
    digits = text.str.replace(r"^(\+?86)", "", regex=True).str.replace(r"[-()]", "", regex=True)
    return digits, pd.Series(False, index=values.index)


def parse_vocabulary(values: pd.Series, vocabulary: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    empty = _is_empty(values)
    keys = values.where(~empty, "").map(header_key)
    mapping = {k: vocabulary.get(k) for k in keys.unique()}
    out = keys.map(mapping)
    bad = ~empty & out.isna()
    return out.astype("str").where(out.notna()), bad


def parse_frame(frame: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(typed frame, parse failures with columns index, field, raw, message)."""
    typed = pd.DataFrame(index=frame.index)
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
            failures.append(pd.DataFrame({"index": frame.index[bad.to_numpy()], "field": column,
                                          "raw": frame.loc[bad, column].astype(str).str.slice(0, 200),
                                          "message": reason}))
    if failures:
        return typed, pd.concat(failures, ignore_index=True)
    return typed, pd.DataFrame(columns=["index", "field", "raw", "message"])
