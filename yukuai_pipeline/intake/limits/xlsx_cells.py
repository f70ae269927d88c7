"""A sheet part's cell references scanned for its extent (largest row and column of its non-empty cells), fed in
chunks. A regular part (every cell tag written `<c r="A1"…` or, all through, `<x:c r="A1"…`, as the writers known
do) is checked by one RE2 pass per chunk (pyarrow): "is there anything irregular, or a non-empty cell right of the
widest column or below the last row seen so far?", which for an export written row by row is never true after the
header row; only a chunk where it is true is looked at cell by cell. Anything else (mixed prefixes, cells without
`r`, odd references) raises Irregular, and the part is followed tag by tag exactly as calamine places cells. The
head of a part gives the sheet's `<dimension ref>` and the shared strings' uniqueCount.
"""

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yukuai_pipeline.intake.limits.refusals import column_letters, column_number

_HEAD = 64 * 1024


class Irregular(Exception):
    """A part the fast scan cannot vouch for: scanned again tag by tag."""


_DIMENSION = re.compile(rb"""<(?:[\w.-]+:)?dimension\b[^>]*?\bref\s*=\s*["']([^"']*)["']""")
_UNIQUE_COUNT = re.compile(rb"""<(?:[\w.-]+:)?sst\b[^>]*?\buniqueCount\s*=\s*["']\s*([0-9]+)""")


class PartScan:
    """Largest row and column (1-based) of a part's non-empty cells, fed in chunks that each end before a '<'."""

    def __init__(self) -> None:
        self.rows = self.columns = 0
        self.inflated = 0
        self.dimension: str | None = None
        self.unique_strings: int | None = None
        self._head_seen = False

    def _head(self, chunk: bytes, start: int, end: int) -> None:
        """The sheet's <dimension ref> and the shared strings' uniqueCount (calamine reserves that many strings)."""
        if self._head_seen:
            return
        self._head_seen = True
        end = min(end, start + _HEAD)
        dimension = _DIMENSION.search(chunk, start, end)
        if dimension:
            self.dimension = dimension.group(1).decode("ascii", "replace")
        strings = _UNIQUE_COUNT.search(chunk, start, end)
        if strings:
            self.unique_strings = int(strings.group(1))

    def feed(self, chunk: bytes, start: int, end: int) -> None:
        """Scan chunk[start:end], which ends before a '<' or at the end of the part."""
        raise NotImplementedError


# A cell tag as (nearly) every writer puts it: <c r="B7" ...> (or, all through the part, <x:c r="B7" ...>), the
# reference upper case, the row without leading zero. Non-empty: not self-closed, and a child element (<v>, <is>,
# <f>) follows (a chunk never ends between the two; at the end of a part, a cell is assumed non-empty).
_NON_EMPTY = rb"""(?:[^>/]|/[^>])*>(?=\s*<[A-Za-z_]|\s*$)"""
_NON_EMPTY_RE2 = r"(?:[^>/]|/[^>])*>\s*(?:<[A-Za-z_]|$)"  # RE2 has no look-ahead: the same, consumed
_NAME_START, _NAME_CHAR = "[A-Za-z_]", r"[A-Za-z0-9_.\-]"
_FIRST_CELL_TAG = re.compile(rb"<([A-Za-z_][\w.\-]*:)?c[\t\r\n />]")


def _other_prefixes(prefix: str) -> str:
    """RE2 for a tag prefix ("x:" or none) other than `prefix`."""
    if not prefix:
        return f"{_NAME_START}{_NAME_CHAR}*:"
    name = prefix[:-1]
    options = [f"{_NAME_START}{_NAME_CHAR}{{{len(name)},}}:", ""]  # longer, or none
    if len(name) > 1:
        options.append(f"{_NAME_START}{_NAME_CHAR}{{0,{len(name) - 2}}}:")  # shorter
    for i, ch in enumerate(name):  # as long, differing at i
        options.append(re.escape(name[:i]) + f"[^{re.escape(ch)}:]" + f"{_NAME_CHAR}{{{len(name) - i - 1}}}:")
    return "(?:" + "|".join(options) + ")"


class _CellForm:
    """The patterns for one spelling of the cell tag: <c or <x:c."""

    def __init__(self, prefix: str):
        tag = "<" + re.escape(prefix) + "c"
        self.start = f'<{prefix}c r="'.encode()
        self.irregular = "|".join(
            [
                tag + r'(?:[\t\r\n/>]| [^r]| r[^=]| r=[^"])',  # the cell tag without r="..." first
                "<" + _other_prefixes(prefix) + r"c[\t\r\n />]",  # a cell tag spelt otherwise
                tag + r' r="(?:[^A-Z]|[A-Z]{4}|[A-Z]{1,3}[^A-Z0-9]|[A-Z]{1,3}0|[A-Z]{1,3}[1-9][0-9]{7}'
                r'|[A-Z]{1,3}[1-9][0-9]{0,6}[^0-9"])',  # a reference calamine reads otherwise, or refuses
            ]
        )
        self.irregular_py = re.compile(self.irregular.encode())
        self.cell = re.compile(re.escape(self.start) + rb'([A-Z]{1,3})([1-9][0-9]{0,6})"' + _NON_EMPTY)
        self.tag = tag

    def beyond(self, columns: int, rows: int) -> str:
        """RE2: anything irregular, or a non-empty cell right of `columns` or below `rows`."""
        letters = _greater_letters(column_letters(columns))
        return "|".join(
            [
                self.irregular,
                f'{self.tag} r="(?:{letters})[A-Z]*[0-9]*"{_NON_EMPTY_RE2}',
                f'{self.tag} r="[A-Z]{{1,3}}(?:{_greater_number(rows)}){_NON_EMPTY_RE2}',
            ]
        )


_CELL_FORMS: dict[str, _CellForm] = {}


def _cell_form(prefix: str) -> _CellForm:
    if prefix not in _CELL_FORMS:
        _CELL_FORMS[prefix] = _CellForm(prefix)
    return _CELL_FORMS[prefix]


def _greater_letters(letters: str) -> str:
    """RE2 alternatives for a column reference right of `letters` (longer, or as long and greater)."""
    if not letters:
        return "[A-Z]"
    options = [f"[A-Z]{{{len(letters) + 1}}}"]
    for i, ch in enumerate(letters):
        if ch < "Z":
            options.append(f"{letters[:i]}[{chr(ord(ch) + 1)}-Z][A-Z]{{{len(letters) - i - 1}}}")
    return "|".join(options)


def _greater_number(number: int) -> str:
    """RE2 alternatives for a row number (no leading zero, followed by the closing quote) above `number`."""
    if number < 1:
        return '[1-9][0-9]*"'
    digits = str(number)
    options = [f'[1-9][0-9]{{{len(digits)},}}"']
    for i, ch in enumerate(digits):
        if ch < "9":
            options.append(f'{digits[:i]}[{int(ch) + 1}-9][0-9]{{{len(digits) - i - 1}}}"')
    return "|".join(options)


def _one_string(chunk: memoryview) -> pa.Array:
    offsets = pa.py_buffer(np.array([0, len(chunk)], dtype=np.int64))
    return pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(chunk)])


class FastScan(PartScan):
    """Regular parts: per chunk, one RE2 pass asks whether anything is irregular or lies beyond the extent known."""

    def __init__(self) -> None:
        super().__init__()
        self._form: _CellForm | None = None

    def feed(self, chunk: bytes, start: int, end: int) -> None:
        self._head(chunk, start, end)
        if self._form is None:
            found = _FIRST_CELL_TAG.search(chunk, start, end)
            if found is None:
                return  # no cell yet (a part's head, or a part that is not a sheet)
            self._form = _cell_form((found.group(1) or b"").decode("ascii"))
        form = self._form
        first = chunk.find(form.start, start, end)
        if first >= 0 and self.columns == 0:  # the widest column among the first cells (an export's header row)
            for match in form.cell.finditer(chunk, first, min(first + _HEAD, end)):
                self.columns = max(self.columns, column_number(match.group(1)))
        rows = max(self.rows, self._last_row(form, chunk, start, end)) if first >= 0 else self.rows
        window = _one_string(memoryview(chunk)[start:end])
        if not pc.match_substring_regex(window, form.beyond(self.columns, rows))[0].as_py():
            self.rows = rows
            return
        if form.irregular_py.search(chunk, start, end):
            raise Irregular
        for match in form.cell.finditer(chunk, start, end):  # this chunk cell by cell
            self.rows = max(self.rows, int(match.group(2)))
            self.columns = max(self.columns, column_number(match.group(1)))

    @staticmethod
    def _last_row(form: _CellForm, chunk: bytes, start: int, end: int) -> int:
        """Row of the chunk's last non-empty regular cell (the largest one, in a sheet written row by row)."""
        for _ in range(64):
            at = chunk.rfind(form.start, start, end)
            if at < 0:
                return 0
            match = form.cell.match(chunk, at, end)
            if match:
                return int(match.group(2))
            end = at
        return 0


_TAG = re.compile(rb"""<(/?)(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CHILD = re.compile(rb"\s*(?:<[A-Za-z_]|$)")
_REFERENCE = re.compile(rb"([A-Za-z]*)([0-9]+)")


class TagScan(PartScan):
    """Any part, tag by tag, placing cells as calamine does (its XML reader expands <x/> into <x></x>): by their r
    attribute, else after the cell before in the row; <row r> sets the row, </row> moves to the next. A cell counts
    when a child element (<v>, <is>, <f>) follows its start tag."""

    def __init__(self) -> None:
        super().__init__()
        self._row = 0  # 0-based, as calamine counts
        self._column = 0

    def feed(self, chunk: bytes, start: int, end: int) -> None:
        self._head(chunk, start, end)
        for match in _TAG.finditer(chunk, start, end):
            closing, name, attrs = match.groups()
            empty = attrs.endswith(b"/")
            if name == b"row":
                if not closing:
                    place = self._reference(attrs)
                    if place is not None:
                        self._row = place[0]
                if closing or empty:
                    self._row, self._column = self._row + 1, 0
                continue
            if closing:
                continue
            place = self._reference(attrs)
            row, column = self._row, self._column
            if place is not None and place[1] is not None:
                row, column = place[0], place[1]
            self._column = column + 1
            if not empty and _CHILD.match(chunk, match.end(), end):
                self.rows = max(self.rows, row + 1)
                self.columns = max(self.columns, column + 1)

    @staticmethod
    def _reference(attrs: bytes) -> tuple[int, int | None] | None:
        found = _R_ATTR.search(attrs)
        if not found:
            return None
        reference = _REFERENCE.fullmatch(found.group(1) if found.group(1) is not None else found.group(2))
        if not reference or int(reference.group(2)) < 1:
            return None  # calamine refuses the reference (and the file) without allocating
        column = column_number(reference.group(1)) - 1 if reference.group(1) else None
        return int(reference.group(2)) - 1, column
