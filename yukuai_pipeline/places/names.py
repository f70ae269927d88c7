"""Normalising township and village names so that the many spellings of real exports meet one reference list.

Matching is done once per *distinct* name (a city export repeats a few thousand names millions of times), then
mapped back onto the rows.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd

_SPACE = re.compile(r"\s+")
# Committee suffixes, longest first; a village committee's short name keeps its 村 (天山堡村委会 -> 天山堡村).
_VILLAGE_COMMITTEE = ("村民委员会", "村委会")
_RESIDENT_COMMITTEE = ("居民委员会", "居委会")
_TOWNSHIP_SUFFIXES = ("人民政府", "办事处")


def normalize_text(value: object) -> str:
    """NFKC (full-width brackets, digits and spaces become half-width), all whitespace removed."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    return _normalized(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=65536)
def _normalized(text: str) -> str:
    """Remembered: a city's 11,000 village names are normalised by every matcher and step of a run."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACE.sub("", text).replace("\u200b", "").replace("\ufeff", "")


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def short_village_name(name: object) -> str:
    """The name without its committee suffix: 天山堡村村民委员会 / 天山堡村委会 -> 天山堡村,
    城北社区居委会 -> 城北社区."""
    full = normalize_text(name)
    short = _strip_suffix(full, _VILLAGE_COMMITTEE)
    if short != full:
        return short if short.endswith("村") else short + "村"
    if full.endswith("村委") and len(full) > 3:
        return full[:-1]
    return _strip_suffix(full, _RESIDENT_COMMITTEE)


def village_keys(name: object) -> list[str]:
    """Keys a village may be written as, most specific first.

    天山堡村村民委员会 -> [天山堡村村民委员会, 天山堡村, 天山堡]; 城北社区居民委员会 -> [..., 城北社区, 城北].
    """
    full = normalize_text(name)
    short = short_village_name(full)
    keys = [full, short]
    for tail in ("社区", "村", "居"):
        if short.endswith(tail) and len(short) > len(tail) + 1:
            keys.append(short[: -len(tail)])
            break
    return list(dict.fromkeys(k for k in keys if k))


class TownshipMatcher:
    """Maps raw township names onto the official list: prefixes, suffixes and old names (aliases)."""

    def __init__(self, townships: list[str], aliases: dict[str, str], prefixes: list[str]):
        self.townships = list(townships)
        self._prefixes = sorted((normalize_text(p) for p in prefixes), key=len, reverse=True)
        self._lookup: dict[str, str] = {}
        for name in townships:
            self._lookup[normalize_text(name)] = name
        for alias, target in aliases.items():
            self._lookup.setdefault(normalize_text(alias), target)

    def match(self, raw: object) -> str | None:
        name = normalize_text(raw)
        stripped = True
        while stripped:  # 重庆市酉阳土家族苗族自治县麻旺镇: several prefixes in a row
            stripped = False
            for prefix in self._prefixes:
                if name.startswith(prefix) and len(name) > len(prefix):
                    name, stripped = name[len(prefix) :], True
                    break
        for candidate in (name, _strip_suffix(name, _TOWNSHIP_SUFFIXES)):
            if candidate in self._lookup:
                return self._lookup[candidate]
        return None

    def match_series(self, raw: pd.Series) -> pd.Series:
        """Matched once per distinct name (missing names stay missing)."""
        codes, matched = self.match_codes(raw)
        return pd.Series(matched[codes], index=raw.index, dtype="object")

    def match_codes(self, raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(a code per row, the official name per code or NaN): each distinct name matched once."""
        codes, distinct = pd.factorize(raw, use_na_sentinel=False)
        matched = np.array([self.match(value) for value in distinct], dtype="object")
        matched[pd.isna(matched)] = np.nan  # as Series.map gave it
        return codes, matched


class VillageMatcher:
    """Maps (township, raw village name) onto the registry's official village names.

    A short key (without 村民委员会, or without 村/社区) is used only where it is unique in its township, so that
    two villages never collapse into one.
    """

    def __init__(self, registry: pd.DataFrame):
        candidates: dict[tuple[str, str], set[str]] = defaultdict(set)
        for township, village in zip(registry["township"], registry["village"]):
            for key in village_keys(village):
                candidates[(township, key)].add(village)
        self._lookup = {key: next(iter(v)) for key, v in candidates.items() if len(v) == 1}

    def match(self, township: str | None, raw: object) -> str | None:
        if not township:
            return None
        for key in village_keys(raw):
            found = self._lookup.get((township, key))
            if found:
                return found
        return None

    def match_frame(self, townships: pd.Series, raw: pd.Series) -> pd.Series:
        """Matched once per distinct (township, name) pair, found through integer codes (no join of string keys)."""
        town_codes, towns = pd.factorize(townships, use_na_sentinel=False)
        return self.match_coded(town_codes, np.asarray(towns, dtype="object"), raw)

    def match_coded(self, town_codes: np.ndarray, towns: np.ndarray, raw: pd.Series) -> pd.Series:
        """match_frame for townships given as codes into `towns` (as TownshipMatcher.match_codes gives them)."""
        return per_distinct_pair(town_codes, towns, raw, self.match)


def per_distinct_pair(
    town_codes: np.ndarray, towns: np.ndarray, raw: pd.Series, look_up: Callable[[str, str], str | None]
) -> pd.Series:
    """look_up(township, name) per row of `raw`, called once per distinct (township, name) pair (a city's rows
    repeat a few thousand pairs millions of times); townships given as codes into `towns`."""
    name_codes, names = pd.factorize(raw, use_na_sentinel=False)
    width = max(len(names), 1)
    pair_codes, pairs = pd.factorize(town_codes.astype("int64") * width + name_codes)
    names = np.asarray(names, dtype="object")
    found = np.array([look_up(towns[p // width], names[p % width]) for p in pairs] + [None], dtype="object")
    return pd.Series(found[pair_codes], index=raw.index, dtype="object")


_MATCHERS: dict[tuple[tuple[str, ...], tuple[str, ...]], VillageMatcher] = {}


def village_matcher(registry: pd.DataFrame) -> VillageMatcher | None:
    """The VillageMatcher of a registry (None without one), built once per registry content: the counting, roster
    and activity steps of a day all match against the same 11,000 villages of a city."""
    if not len(registry):
        return None
    key = (tuple(registry["township"]), tuple(registry["village"]))
    if key not in _MATCHERS:
        _MATCHERS.clear()  # one registry is in force at a time; a range of days rarely changes it
        _MATCHERS[key] = VillageMatcher(registry)
    return _MATCHERS[key]
