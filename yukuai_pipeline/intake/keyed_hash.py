"""Keyed hashes of phone and ID numbers (issue 20 item 3): whether a cadre on the roster registered on the platform
can only be known by matching people across the two exports, and neither may keep the numbers themselves.

Why keyed, not a plain hash: an 11-digit mainland mobile number starts 1[3-9], so there are fewer than 10^10 of
them; SHA-256 of every one of them is a few hours on one GPU, so a table of plain hashes is a table of phone
numbers. An ID number (6-digit place code, 8-digit birth date, 3-digit sequence, check digit) is even fewer
guesses. An HMAC under a secret key that is never stored with the data cannot be reversed that way without the
key: whoever holds only the warehouse holds only opaque tokens.

The key comes from YUKUAI_PERSON_KEY_FILE (a file readable only by the pipeline's user) or YUKUAI_PERSON_KEY;
without one the feature is off: nothing is hashed and the checks that need it say so. Changing the key changes
every token (old and new snapshots no longer match): keep it as long as the campaign runs.

Tokens are written in letters a–p only (the hex digest, one letter per nibble): a token can never contain a run of
digits that the privacy scrubber or a reviewer would take for a phone or ID number.
"""

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

MIN_KEY_BYTES = 16
TOKEN_CHARACTERS = 32  # 128 bits of the HMAC-SHA256 digest
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
_PHONE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_ID = re.compile(r"^(\d{17}[\dX]|\d{15})$")


class PersonKeyError(ValueError):
    """The configured key cannot be used (too short, unreadable file)."""


def person_key(env: Mapping[str, str] | None = None) -> bytes | None:
    """The secret key, or None when the feature is off."""
    env = os.environ if env is None else env
    path = (env.get("YUKUAI_PERSON_KEY_FILE") or "").strip()
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise PersonKeyError(f"YUKUAI_PERSON_KEY_FILE 无法读取（{path}）：{err.strerror}") from None
    else:
        text = (env.get("YUKUAI_PERSON_KEY") or "").strip()
    if not text:
        return None
    key = text.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise PersonKeyError(f"人员比对密钥太短：至少 {MIN_KEY_BYTES} 字节（现为 {len(key)}），请用随机生成的长密钥")
    return key


def normal_phone(value: object) -> str | None:
    """The 11 digits of a mainland mobile number (spaces, dashes and a +86 prefix removed), else None."""
    if not isinstance(value, str):
        value = None if value is None or pd.isna(value) else str(value)
    if value is None:
        return None
    digits = re.sub(r"[\s\-()（）]", "", value)
    found = _PHONE.match(digits)
    return found.group(1) if found else None


def normal_id(value: object) -> str | None:
    """An 18-character (or old 15-digit) ID number, upper case, without spaces, else None."""
    if not isinstance(value, str):
        value = None if value is None or pd.isna(value) else str(value)
    if value is None:
        return None
    text = value.replace(" ", "").strip().upper()
    return text if _ID.match(text) else None


NORMALISERS = {"phone": normal_phone, "id_number": normal_id}


def token(key: bytes, kind: str, normal: str) -> str:
    """The keyed token of one normalised number; the kind is part of the message, so a phone number and an ID
    number never share a token."""
    digest = hmac.new(key, f"{kind}:{normal}".encode(), hashlib.sha256).hexdigest()[:TOKEN_CHARACTERS]
    return digest.translate(_LETTERS)


def tokens(values: pd.Series, kind: str, key: bytes) -> pd.Series:
    """A column of numbers as tokens (None where a value is not a well-formed number of its kind). Distinct values
    are hashed once: an export repeats few numbers, but a city's million rows should not cost a million HMACs twice."""
    normalise = NORMALISERS[kind]
    text = values.astype("object").where(values.notna(), None)
    table = {}
    for value in pd.unique(text):
        normal = None if value is None else normalise(value)
        if normal is not None:
            table[value] = token(key, kind, normal)
    out = text.map(table)
    return out.astype("object").where(out.notna(), None)
