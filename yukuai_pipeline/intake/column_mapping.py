"""Which logical column each header cell names (SPEC §4: every non-empty header cell is accounted for).

Trust comes in three steps, each from data in the YAML contracts, none from Python:
1. the header is one of the field's `header_aliases` (after `header_key`: NFKC, no spaces, one bracket style);
2. it becomes one after taking off decorations one at a time (schemas/header_matching.yaml: prefixes such as 所属,
   suffixes such as 名称, a bracketed part removed or unwrapped; 编号/代码 read as 编码) — the fewest removals win;
3. it contains one of the field's `key_terms` (the one nearest its end: Chinese names the head last) — only in a row
   that already names two fields by 1 or 2, so that a data row is never taken for a header.
A header that two fields fit equally well is *ambiguous*; one that no field fits is *not recognised* (with the
likeliest field as a suggestion); a field named by two different headers keeps the better one and reports the
other. Nothing is guessed silently: every outcome is recorded per cell and the doubtful ones are reported.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

FIELD, NOISE, UNRECOGNISED, AMBIGUOUS, DUPLICATE = "field", "noise", "unrecognised", "ambiguous", "duplicate"
ALIAS, DECORATED, KEY_TERM = "alias", "decorated", "key_term"
_METHOD_RANK = {ALIAS: 0, DECORATED: 1, KEY_TERM: 2}
_GROUP = re.compile(r"\(([^()]*)\)")
_DATA_LIKE = re.compile(r"^[\d\s.,:/\-+年月日时分秒]+$")  # numbers and dates are data, never a header


@dataclass(frozen=True)
class Decorations:
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    equivalents: dict[str, str] = field(default_factory=dict)  # word -> the word it is read as
    max_header_length: int = 40
    max_removals: int = 3
    min_key_term_length: int = 2

    @classmethod
    def from_doc(cls, doc: dict[str, Any], key: Callable[[object], str]) -> "Decorations":
        equivalents = {key(word): key(group[0]) for group in doc.get("equivalents") or [] for word in group[1:]}
        return cls(
            tuple(key(p) for p in doc.get("prefixes") or []),
            tuple(key(s) for s in doc.get("suffixes") or []),
            equivalents,
            int(doc.get("max_header_length", 40)),
            int(doc.get("max_removals", 3)),
            int(doc.get("min_key_term_length", 2)),
        )

    def canonical(self, key: str) -> str:
        if not self.equivalents:
            return key
        return _equivalents_pattern(tuple(sorted(self.equivalents.items()))).sub(
            lambda m: self.equivalents[m.group(0)], key
        )


@lru_cache(maxsize=16)
def _equivalents_pattern(pairs: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    words = sorted((w for w, _ in pairs), key=len, reverse=True)  # 编号 before 号: the longer word is read first
    return re.compile("|".join(map(re.escape, words)))


@dataclass(frozen=True)
class CellMatch:
    outcome: str  # FIELD, NOISE, UNRECOGNISED or AMBIGUOUS
    field: str | None = None
    method: str = ""
    removals: int = 0
    candidates: tuple[str, ...] = ()  # ambiguous: the fields that fit; unrecognised: the likeliest field(s)

    @property
    def rank(self) -> tuple[int, int]:
        return _METHOD_RANK.get(self.method, 9), self.removals


NOT_RECOGNISED = CellMatch(UNRECOGNISED)


class HeaderMatcher:
    """One contract's header vocabulary: aliases, key terms and noise headers, all as canonical keys."""

    def __init__(
        self,
        kind: str,
        aliases: dict[str, tuple[str, ...]],
        key_terms: dict[str, tuple[str, ...]],
        noise: tuple[str, ...],
        decorations: Decorations,
        key: Callable[[object], str],
    ) -> None:
        self.kind, self.decorations = kind, decorations
        self.targets: dict[str, str] = {}
        for column, words in aliases.items():
            for word in (column, *words):
                self._claim(decorations.canonical(key(word)), column, f"header alias {word!r}")
        self.key_terms: list[tuple[str, str]] = []
        for column, terms in key_terms.items():
            for term in terms:
                canonical = decorations.canonical(key(term))
                self._claim(canonical, column, f"key term {term!r}")
                self.key_terms.append((canonical, column))
        self.key_terms.sort(key=lambda pair: -len(pair[0]))
        self.noise = {decorations.canonical(key(word)) for word in noise}
        clash = self.noise & set(self.targets)
        if clash:
            raise ValueError(f"schemas/inputs/{kind}.yaml: {sorted(clash)} are both noise headers and a field's alias")
        self._cache: dict[tuple[str, bool], CellMatch] = {}

    def _claim(self, key: str, column: str, what: str) -> None:
        if self.targets.get(key, column) != column:
            raise ValueError(
                f"schemas/inputs/{self.kind}.yaml: {what} names two columns ({self.targets[key]}, {column})"
            )
        self.targets[key] = column

    def match(self, key: str, key_terms: bool = False) -> CellMatch:
        """The match of one header key (already `header_key`'d). key_terms: also look for contained key terms."""
        cached = self._cache.get((key, key_terms))
        if cached is None:
            cached = self._match(key, key_terms)
            if len(self._cache) < 50_000:  # a file's header rows repeat few texts; data rows must not fill memory
                self._cache[(key, key_terms)] = cached
        return cached

    def _match(self, key: str, key_terms: bool) -> CellMatch:
        if not key or len(key) > self.decorations.max_header_length or _DATA_LIKE.match(key):
            return NOT_RECOGNISED
        levels = list(self._undecorated(self.decorations.canonical(key)))
        for removals, forms in enumerate(levels):
            fields = {self.targets[f] for f in forms if f in self.targets}
            noisy = any(f in self.noise for f in forms)
            if len(fields) == 1 and not noisy:
                return CellMatch(FIELD, fields.pop(), ALIAS if removals == 0 else DECORATED, removals)
            if noisy and not fields:
                return CellMatch(NOISE, removals=removals)
            if fields:
                return CellMatch(AMBIGUOUS, candidates=tuple(sorted(fields)), removals=removals)
        if key_terms:
            contained = self._contained([f for forms in levels for f in forms])
            if contained is not None:
                return contained
        return CellMatch(UNRECOGNISED, candidates=self._likeliest(levels[0][0]))

    def _undecorated(self, key: str) -> Iterator[list[str]]:
        """The key, then every form one removal further, up to max_removals: one set of forms per level."""
        seen, level = {key}, {key}
        yield [key]
        for _ in range(self.decorations.max_removals):
            level = {f for form in level for f in self._one_removal(form) if f and f not in seen}
            if not level:
                return
            seen |= level
            yield sorted(level)

    def _one_removal(self, form: str) -> Iterator[str]:
        for m in _GROUP.finditer(form):
            yield form[: m.start()] + form[m.end() :]
            yield form[: m.start()] + m.group(1) + form[m.end() :]
        if form.count("(") != form.count(")"):  # a bracket left open or closed alone
            yield form.replace("(", "").replace(")", "")
        for prefix in self.decorations.prefixes:
            if form.startswith(prefix) and len(form) > len(prefix):
                yield form[len(prefix) :]
        for suffix in self.decorations.suffixes:
            if form.endswith(suffix) and len(form) > len(suffix):
                yield form[: -len(suffix)]

    def _contained(self, forms: list[str]) -> CellMatch | None:
        """The field whose key term ends nearest the end of the header: a Chinese compound names its head last
        (村（居）民小组组别 is a 组别, 加入社区审核状态 a 审核状态); then the longer term."""
        best: dict[str, tuple[int, int]] = {}
        for form in forms:
            for term, column in self.key_terms:
                at = form.rfind(term)
                if len(term) >= self.decorations.min_key_term_length and at >= 0:
                    score = (at + len(term) - len(form), len(term))
                    best[column] = max(best.get(column, score), score)
        if not best:
            return None
        top = max(best.values())
        fields = sorted(c for c, score in best.items() if score == top)
        if len(fields) == 1:
            return CellMatch(FIELD, fields[0], KEY_TERM, 0)
        return CellMatch(AMBIGUOUS, candidates=tuple(fields))

    def _likeliest(self, key: str) -> tuple[str, ...]:
        """The field whose alias shares most characters with the header, when at least half of one of them."""
        chars = set(key)
        scores: dict[str, float] = {}
        for target, column in self.targets.items():
            common = len(chars & set(target))
            if common >= 2 and common >= len(set(target)) / 2:
                scores[column] = max(scores.get(column, 0.0), common / len(set(target) | chars))
        if not scores:
            return ()
        top = max(scores.values())
        return tuple(sorted(c for c, s in scores.items() if s == top))


@dataclass(frozen=True)
class HeaderCell:
    """One non-empty header cell and what became of it."""

    position: int  # 0-based column of the sheet
    text: str  # as written (two-row headers: "上／下")
    outcome: str  # FIELD, NOISE, UNRECOGNISED, AMBIGUOUS or DUPLICATE
    field: str | None = None
    method: str = ""
    candidates: tuple[str, ...] = ()
    note: str = ""


@dataclass
class RowMapping:
    columns: dict[str, int]  # field -> position
    copies: dict[str, list[int]]  # field -> further positions under the very same header text
    cells: list[HeaderCell]


def column_letter(position: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names the column."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def map_row(matcher: HeaderMatcher, candidates: list[list[str]], texts: list[str]) -> RowMapping:
    """Every cell of a header row (one or two rows: several candidate keys per column) mapped, conflicts settled."""
    chosen = [_best(matcher, keys, key_terms=False) for keys in candidates]
    if len({m.field for _, m in chosen if m.outcome == FIELD}) >= 2:
        chosen = [
            (key, m) if m.outcome != UNRECOGNISED else _best(matcher, keys, key_terms=True)
            for (key, m), keys in zip(chosen, candidates)
        ]
    by_field: dict[str, list[int]] = {}
    for position, (_, m) in enumerate(chosen):
        if m.outcome == FIELD and m.field is not None:  # a FIELD match always names its field
            by_field.setdefault(m.field, []).append(position)
    columns: dict[str, int] = {}
    copies: dict[str, list[int]] = {}
    notes: dict[int, str] = {}
    outcomes: dict[int, str] = {}
    for column, positions in by_field.items():
        best_rank = min(chosen[p][1].rank for p in positions)
        best = [p for p in positions if chosen[p][1].rank == best_rank]
        if len({chosen[p][0] for p in best}) > 1:  # two different headers equally good: refuse to guess
            for p in positions:
                outcomes[p] = AMBIGUOUS
                others = "、".join(column_letter(q) for q in positions if q != p)
                notes[p] = f"与第 {others} 列同样像“{column}”，无法确定用哪一列"
            continue
        same_text = [p for p in positions if chosen[p][0] == chosen[best[0]][0]]
        columns[column] = same_text[0]
        if len(same_text) > 1:
            copies[column] = same_text[1:]
        for p in positions:
            if p not in same_text:
                outcomes[p] = DUPLICATE
                notes[p] = f"第 {column_letter(same_text[0])} 列已是“{column}”，本列未使用"
    cells = []
    for position, ((_, m), text) in enumerate(zip(chosen, texts)):
        if not text:
            continue
        outcome = outcomes.get(position, m.outcome)
        offered = m.candidates
        if outcome == AMBIGUOUS and not offered and m.field is not None:  # made ambiguous above: its own field
            offered = (m.field,)
        cells.append(
            HeaderCell(
                position,
                text,
                outcome,
                m.field,
                m.method,
                offered,
                notes.get(position, ""),
            )
        )
    return RowMapping(columns, copies, cells)


def _best(matcher: HeaderMatcher, keys: list[str], key_terms: bool) -> tuple[str, CellMatch]:
    """The best match among a column's candidate keys (a two-row header offers several), first one on a tie."""
    results = [(key, matcher.match(key, key_terms)) for key in keys if key]
    if not results:
        return "", NOT_RECOGNISED
    for outcome in (FIELD, NOISE, AMBIGUOUS):
        hits = [r for r in results if r[1].outcome == outcome]
        if hits:
            return min(hits, key=lambda r: r[1].rank)
    return results[0]
