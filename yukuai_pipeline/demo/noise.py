"""The ways the demo's exports are messy, shared by the registration exports, the roster and the activity export.

Every kind of mess here is one the pipeline must see through: a stray ASCII or ideographic space, a township's old
name, the county's name before the township, and a village name one character off (a village nobody knows, which the
pipeline must report rather than guess). Each function draws from the caller's Generator, in a fixed order.
"""

import numpy as np
import pandas as pd

from yukuai_pipeline import settings
from yukuai_pipeline.demo.places import NAME_CHARS, old_township_names


def with_stray_space(rng: np.random.Generator, name: str) -> str:
    """天山堡村 -> 天 山堡村 or 天山堡　村: an ASCII or ideographic space somewhere inside."""
    at = int(rng.integers(1, len(name)))
    return name[:at] + (" " if rng.random() < 0.5 else "\u3000") + name[at:]


def with_hand_typed_space(rng: np.random.Generator, name: str, k: int) -> str:
    """The k-th of a series of hand-typed names: 青石村 -> 青 石村, 青石村　 (ideographic space), ␣青石村…; ASCII and
    ideographic spaces in turn, inside, after and before in turn."""
    space = " " if k % 2 == 0 else "\u3000"
    where = k % 3
    if where == 0:
        at = int(rng.integers(1, len(name)))
        return name[:at] + space + name[at:]
    return name + space if where == 1 else space + name


def misspelt(rng: np.random.Generator, short_name: str, taken_stems: set[str]) -> str:
    """One character of the stem changed so that it is no stem of the county (青石村 -> 青岩村 if 青岩 is free)."""
    stem, suffix = short_name[:2], short_name[2:]
    at = int(rng.integers(0, 2))
    while True:
        candidate = stem[:at] + NAME_CHARS[int(rng.integers(len(NAME_CHARS)))] + stem[at + 1 :]
        if candidate not in taken_stems and candidate[0] != candidate[1]:
            return candidate + suffix


def county_prefixed(rng: np.random.Generator, texts: np.ndarray, eligible: np.ndarray, share: float) -> np.ndarray:
    """The county's short name (酉阳县) put before about `share` of the eligible texts (in place); returns which rows
    got it."""
    prefixed = eligible & (rng.random(len(texts)) < share)
    texts[prefixed] = settings.campaign().county.short_name + texts[prefixed]
    return prefixed


def old_names(
    rng: np.random.Generator, texts: np.ndarray, townships, share: float, untouched: np.ndarray | None = None
) -> np.ndarray:
    """The old name written on about `share` of the rows of renamed townships (宜居乡 -> 宜居镇), in place, except on
    the untouched rows; returns which rows got it."""
    old = pd.Series(townships).map(old_township_names()).to_numpy(dtype=object)
    renamed = pd.notna(old) & (rng.random(len(texts)) < share)
    if untouched is not None:
        renamed &= ~untouched
    texts[renamed] = old[renamed]
    return renamed
