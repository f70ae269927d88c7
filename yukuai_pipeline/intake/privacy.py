"""Masking of personal data (SPEC §7): ID numbers keep the first 6 and last 4, phone numbers the first 3 and last 4."""

import re
import unicodedata
from collections.abc import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Digits on neither side (letters may touch: "x110101199003077777" typed into a count cell is still an ID number).
_ID_LIKE = re.compile(r"(?<!\d)(\d{6})\d{7,10}(\d{3}[0-9Xx])(?!\d)")
_PHONE_LIKE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def mask_id_number(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_phone(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


MASKERS = {"id_number": mask_id_number, "phone": mask_phone}


def mask_value(value: object, kind: str | None) -> str | None:
    """Mask by the contract's sensitivity kind; anything else is still scrubbed of ID- and phone-like digit runs."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if kind in MASKERS:
        return MASKERS[kind](value)
    return scrub_text(str(value))


def scrub_text(text: str) -> str:
    """Free text (messages, cells of unknown meaning) with any ID- or phone-number-like digits masked; digits of
    other scripts count (a phone number typed in full-width １３８… is masked too, its kept digits as typed)."""
    plain = text if text.isascii() else _OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group())), text)
    text, plain = _masked(_ID_LIKE, text, plain, lambda m: len(m.group(0)) - 10)
    return _masked(_PHONE_LIKE, text, plain, lambda m: 4)[0]


_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a decimal digit of another script (Unicode Nd, as \d matches it)


def _masked(pattern: re.Pattern[str], text: str, plain: str, stars: Callable[[re.Match[str]], int]) -> tuple[str, str]:
    """Each match of `pattern` in `plain` (the text with ASCII digits: the same length, character for character)
    masked in both: its two groups kept, `stars(match)` stars between them."""
    texts, plains, last = [], [], 0
    for m in pattern.finditer(plain):
        middle = "*" * stars(m)
        texts += [text[last : m.start()], text[m.start(1) : m.end(1)], middle, text[m.start(2) : m.end(2)]]
        plains += [plain[last : m.start()], m.group(1), middle, m.group(2)]
        last = m.end()
    if not texts:
        return text, plain
    return "".join([*texts, text[last:]]), "".join([*plains, plain[last:]])


# The shortest run either pattern above can mask (a phone number), as a cheap first look in Arrow (RE2). \p{Nd} is
# what Python's \d matches (any decimal digit: full-width ０-９ too); pandas sends \d on non-ASCII text back to Python's
# re, a call per cell (2.5 s for a city export's names).
_LONG_DIGITS = r"\p{Nd}{11}"


def scrub_column(values: pd.Series) -> pd.Series:
    """scrub_text over a column of free text, in whatever column a phone or ID number was typed (乡镇, 村, 标题 …).
    Only the few cells holding eleven digits in a row are looked at in Python: a million names cost one pass."""
    if not len(values):
        return values
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype("object")
    found = pc.match_substring_regex(pa.array(text.astype("str")), _LONG_DIGITS)
    holds = found.fill_null(False).to_numpy(zero_copy_only=False) & values.notna().to_numpy()
    if not holds.any():
        return values
    out = values.copy()
    out[holds] = [scrub_text(str(v)) for v in values[holds]]
    return out
