"""The fast CSV path: pyarrow's multi-threaded reader, cells kept as Arrow-backed text (pandas' "str" dtype with
pyarrow storage), so that header finding, parsing and counting never build a Python string per cell.

pyarrow wants every record as wide as the header; real exports put short title lines above it and short 合计/制表人
lines below. Those records are set aside while reading and put back where they were, after checking that they are
exactly the short records of the file's first and last lines. Anything else (a short or long record in the middle,
bytes that are not valid text) returns None, and the caller reads the file with pandas' reader as before: the
result is the same either way, only slower.
"""

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

TEXT = pd.StringDtype(storage="pyarrow", na_value=np.nan)  # pandas' "str" dtype, stored in Arrow
_TAIL_BYTES = 256 * 1024
_ARROW_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "gb18030": "gb18030"}  # UTF-16: pandas' reader


def read_csv_arrow(path: Path, encoding: str, delimiter: str, width: int, head_text: str) -> pd.DataFrame | None:
    """The file's records as a frame of `width` text columns (0..width-1) indexed by record number, or None when
    the fast path cannot vouch for the result. head_text: the file's first bytes, decoded."""
    if encoding not in _ARROW_ENCODINGS or width < 1:
        return None
    set_aside: list[str] = []

    def keep_aside(row: pa_csv.InvalidRow) -> str:
        set_aside.append(row.text)
        return "skip"

    names = [str(i) for i in range(width)]
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(column_names=names, encoding=_ARROW_ENCODINGS[encoding]),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=keep_aside,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, UnicodeError, OSError):  # invalid UTF-8 / GB18030, unbalanced quotes, ...
        return None
    placed = _place_short_records(path, encoding, delimiter, width, head_text, set_aside, table.num_rows)
    if placed is None:
        return None
    frame = table.to_pandas(types_mapper={pa.large_string(): TEXT}.get)  # pandas keeps large_string: no copy
    frame.columns = range(width)
    return _with_short_records(frame, placed, width)


def _records(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True))


def _short(record: list[str], width: int) -> bool:
    """A record pyarrow rejects: not as wide as the header (an empty line is read as an empty record)."""
    return len(record) != width and len(record) > 0


def _place_short_records(
    path: Path, encoding: str, delimiter: str, width: int, head_text: str, set_aside: list[str], rows_read: int
) -> dict[int, list[str]] | None:
    """{record number: fields} of the records pyarrow set aside, when they are all among the first and last lines."""
    if not set_aside:
        return {}
    records_total = rows_read + len(set_aside)
    head = _records(_whole_lines(head_text), delimiter)
    expected = [(i, r) for i, r in enumerate(head) if _short(r, width)]
    tail = _tail_records(path, encoding, delimiter)
    if tail is None or (path.stat().st_size <= _TAIL_BYTES and len(tail) != records_total):
        return None
    expected += [(records_total - len(tail) + i, r) for i, r in enumerate(tail) if _short(r, width)]
    seen: dict[int, list[str]] = {}
    for number, fields in expected:  # the head and the tail overlap in a small file
        seen.setdefault(number, fields)
    expected = sorted(seen.items())
    # compared as multisets: pyarrow's threads may report the records of the first and last blocks in either order
    got = sorted(next(iter(_records(text, delimiter)), []) for text in set_aside)
    if sorted(fields for _, fields in expected) != got or any(n < 0 or len(f) > width for n, f in expected):
        return None  # a record wider than the header needs the wider frame of pandas' reader
    return dict(expected)


def _whole_lines(text: str) -> str:
    """The decoded head without its last, possibly cut, line."""
    cut = max(text.rfind("\n"), 0)
    return text[:cut]


def _tail_records(path: Path, encoding: str, delimiter: str) -> list[list[str]] | None:
    """The records of the file's last bytes, from the first line break in them (a line break is one byte in UTF-8
    and GB18030, never part of another character)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(size - _TAIL_BYTES, 0))
        data = fh.read()
    if size > _TAIL_BYTES:
        data = data[data.find(b"\n") + 1 :] if b"\n" in data else b""
    try:
        text = data.decode(encoding)
    except UnicodeError:
        return None
    return _records(text, delimiter)


def _with_short_records(frame: pd.DataFrame, placed: dict[int, list[str]], width: int) -> pd.DataFrame:
    """The set-aside records put back at their record numbers, padded with empty cells as pandas' reader pads.
    The long runs read by pyarrow stay slices (no copy of a million rows to insert a title line)."""
    pieces, start = [], 0
    for rank, number in enumerate(sorted(placed)):
        stop = number - rank  # pyarrow's rows before this record
        if stop > start:
            pieces.append(frame.iloc[start:stop].set_axis(pd.RangeIndex(start + rank, stop + rank)))
        fields = placed[number]
        pieces.append(
            pd.DataFrame([fields + [""] * (width - len(fields))], index=[number], columns=range(width), dtype=TEXT)
        )
        start = stop
    if start < len(frame):
        pieces.append(frame.iloc[start:].set_axis(pd.RangeIndex(start + len(placed), len(frame) + len(placed))))
    return pd.concat(pieces)
