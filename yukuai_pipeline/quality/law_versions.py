"""Which revision of the two organic laws a roster is judged by, and what a rule cites under it.

roster_rules.yaml lists the revisions (`law_versions`: id, in_force_from, the village and urban law's names) and
gives each rule its article per revision. Both laws were amended in 2025 (in force 2026-01-01) and renumbered, so
the same rule cites a different article depending on the day judged; a rule's content is the same in both unless
the yaml says otherwise.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Confidence levels of ../shared/reference/roster_rules.csv under which a rule stays off unless `enabled: true`.
UNSURE = {"low", "none"}


@dataclass(frozen=True)
class LawVersion:
    id: str
    in_force_from: dt.date
    names: Mapping[str, str]  # law key (village_law, urban_law) -> the law's name in this revision


def law_versions(doc: Mapping[str, Any]) -> list[LawVersion]:
    """The revisions of roster_rules.yaml, oldest first. A campaign folder copied before revisions were listed has
    none: one revision then, each rule citing its fixed `source`."""
    entries = doc.get("law_versions") or [{"id": "", "in_force_from": dt.date.min}]
    versions = [
        LawVersion(
            str(entry["id"]),
            dt.date.fromisoformat(str(entry["in_force_from"])),
            {k: v for k, v in entry.items() if k.endswith("_law")},
        )
        for entry in entries
    ]
    return sorted(versions, key=lambda v: v.in_force_from)


def in_force(versions: list[LawVersion], day: dt.date) -> LawVersion:
    """The revision in force on `day`; before the first one, the first (the 2010 text it amended kept these
    articles' numbers)."""
    return next((v for v in reversed(versions) if v.in_force_from <= day), versions[0])


def _per_version(value: object, version: LawVersion) -> Any:
    """A yaml value given once for every revision, or per revision id ({2018: …, 2025: …})."""
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}.get(version.id)
    return value


def citation(entry: Mapping[str, Any], version: LawVersion) -> str:
    """`law` (a law key) + `sources` (the article per revision) -> 村民委员会组织法（2018修正）第六条; without `law`,
    `source` (or `sources`) is the whole citation (a notice, a plan)."""
    text = _per_version(entry.get("sources", entry.get("source")), version)
    if not text:
        raise ValueError(f"roster_rules.yaml: rule {entry['id']} has no source for law version {version.id}")
    law = entry.get("law")
    return f"{version.names[law]}{text}" if law else str(text)


def confidence(entry: Mapping[str, Any], version: LawVersion) -> str:
    return str(_per_version(entry.get("confidence", "high"), version) or "none")


def enabled(entry: Mapping[str, Any], version: LawVersion) -> bool:
    """`enabled` as the yaml says it; unsaid, on unless the rule's source is of low confidence (an unverified rule
    must not mark villages 有误 until someone has checked it and switched it on)."""
    if "enabled" in entry:
        return bool(entry["enabled"])
    return confidence(entry, version) not in UNSURE
