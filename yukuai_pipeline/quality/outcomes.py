"""Data-quality verdicts as plain values; the Dagster layer turns each into an asset check result."""

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

MAX_NAMED = 20


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    severity: str  # "ERROR" or "WARN"
    summary: str
    townships: list[str] = field(default_factory=list)
    villages: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    table: pd.DataFrame | None = None  # a small markdown preview of what is concerned
    evaluated: bool = True  # False: not evaluated today, `summary` says why

    def named(self, items: list[str]) -> str:
        shown = items[:MAX_NAMED]
        more = f" 等 {len(items)} 个" if len(items) > MAX_NAMED else ""
        return "、".join(shown) + more


def passed(name: str, summary: str, **numbers: Any) -> CheckOutcome:
    """A verdict made by domain code that serves several assets (header_report); the asset's declaration
    (quality/checks.py) sets its severity."""
    return CheckOutcome(name, True, "WARN", summary, numbers=numbers)


def failed(name: str, summary: str, **kwargs: Any) -> CheckOutcome:
    return CheckOutcome(name, False, "WARN", summary, **kwargs)
