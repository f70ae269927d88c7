"""Checks, each declared once beside the code that evaluates it: its name, whether it blocks, its severity and its
Chinese and English description. The Dagster check specs are built from the declarations, and a step can only
report a declared check: a misspelt name raises where it is written, and a declared check that a step neither
evaluated nor skipped with a reason is an error (in the tests; a "not evaluated" result in production).
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from yukuai_pipeline.quality.outcomes import CheckOutcome

ERROR, WARN = "ERROR", "WARN"
# tests set this: a declared check that a step neither evaluated nor skipped fails the run instead of passing quietly
STRICT_ENV = "YUKUAI_STRICT_CHECKS"


@dataclass(frozen=True)
class Check:
    name: str
    severity: str  # ERROR or WARN
    zh: str  # one Chinese sentence: what passing means
    en: str  # the same in English
    blocking: bool = False  # stops the assets downstream in the same run

    @property
    def description(self) -> str:
        """Chinese first (what the UI lists), English below."""
        return f"{self.zh}\n\n{self.en}"


class UndeclaredCheck(KeyError):
    pass


class Checks:
    """The checks of one asset."""

    def __init__(self, asset: str, *checks: Check):
        self.asset = asset
        self._checks = {c.name: c for c in checks}
        if len(self._checks) != len(checks):
            raise ValueError(f"{asset}: a check is declared twice")

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __getitem__(self, name: str) -> Check:
        if name not in self._checks:
            raise UndeclaredCheck(f"{self.asset}: check {name!r} is not declared (declared: {sorted(self._checks)})")
        return self._checks[name]

    def passed(self, name: str, summary: str, **numbers: Any) -> CheckOutcome:
        return CheckOutcome(name, True, self[name].severity, summary, numbers=numbers)

    def failed(self, name: str, summary: str, **kwargs: Any) -> CheckOutcome:
        return CheckOutcome(name, False, self[name].severity, summary, **kwargs)

    def skipped(self, name: str, reason: str) -> CheckOutcome:
        """Not evaluated today, and why (no input of its kind, the input refused…): shown as such, never failed."""
        return CheckOutcome(name, True, self[name].severity, reason, evaluated=False)

    def rest_skipped(self, outcomes: list[CheckOutcome], reason: str) -> list[CheckOutcome]:
        """The outcomes, and every other declared check skipped with the reason (a step that stopped early)."""
        done = {o.name for o in outcomes}
        return outcomes + [self.skipped(c.name, reason) for c in self if c.name not in done]

    def resolve(self, outcomes: list[CheckOutcome]) -> list[tuple[Check, CheckOutcome]]:
        """Every declared check with its outcome, in declaration order, at its declared severity. An outcome of an
        undeclared name raises; a declared check without an outcome raises in strict mode, else is not evaluated."""
        by_name = {}
        for outcome in outcomes:
            check = self[outcome.name]
            by_name[outcome.name] = replace(outcome, severity=check.severity)
        missing = [c.name for c in self if c.name not in by_name]
        if missing and os.environ.get(STRICT_ENV):
            raise RuntimeError(f"{self.asset}: checks {missing} were neither evaluated nor skipped with a reason")
        return [(c, by_name.get(c.name) or self.skipped(c.name, "本次未检查")) for c in self]
