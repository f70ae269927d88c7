"""Unmasked ID and phone numbers in whatever text the pipeline leaves behind (tables, events, logs, files)."""

import re

# Dagster's run ids and data-version hashes are hex: a run of 11 digits inside one is chance, not a phone number
_DIGESTS = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{32,}", re.IGNORECASE)
# Embedded files (the chart in the report's metadata is a data: URI) and other base64 blobs are binary: digits in them
# are chance too. Only the blob itself is taken out, so a number written right next to one is still found.
_BLOBS = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/]+={0,2}|(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{200,}={0,2}")


def leaks(text: str, not_touching: str = r"\d") -> list[str]:
    """ID numbers (17 digits and a check digit) and mobile numbers not masked. not_touching: what may not stand
    right before or after a number for it to count (digits; also ASCII letters for binary files, whose bytes
    decode to letters and digits at random)."""
    text = _DIGESTS.sub("#", _BLOBS.sub("#", text))
    # digits right after "<digit>." are a decimal fraction (a run's duration_ms: 91.15966599893), not a number
    id_number = re.compile(rf"(?<![{not_touching}])(?<!\d\.)\d{{17}}[\dXx](?![{not_touching}])")
    phone = re.compile(rf"(?<![{not_touching}])(?<!\d\.)1[3-9]\d{{9}}(?![{not_touching}])")
    return id_number.findall(text) + phone.findall(text)
