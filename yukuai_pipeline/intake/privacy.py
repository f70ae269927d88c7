"""Masking of personal data (SPEC §7): ID numbers keep the first 6 and last 4, phone numbers the first 3 and last 4."""

import re

import pandas as pd

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
    """Free text (messages, cells of unknown meaning) with any ID- or phone-number-like digits masked."""
    text = _ID_LIKE.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 10) + m.group(2), text)
    return _PHONE_LIKE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


_LONG_DIGITS = r"\d{11}"  # the shortest run either pattern above can mask (a phone number): a cheap first look (RE2)


def scrub_column(values: pd.Series) -> pd.Series:
    """scrub_text over a column of free text, in whatever column a phone or ID number was typed (乡镇, 村, 标题 …).
    Only the few cells holding eleven digits in a row are looked at in Python: a million names cost one pass."""
    if not len(values):
        return values
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype("object")
    holds = (
        text.astype("str").str.contains(_LONG_DIGITS, regex=True, na=False).to_numpy(dtype=bool)
        & values.notna().to_numpy()
    )
    if not holds.any():
        return values
    out = values.copy()
    out[holds] = [scrub_text(str(v)) for v in values[holds]]
    return out
