"""The short Chinese name of every check and data-quality issue kind (schemas/check_labels.yaml): what the officer
reads in the Dagster UI, the issue table's check_label, the report and the alerts. The English id stays the
identifier in code and SQL."""

from functools import cache

from yukuai_pipeline import settings


@cache
def _labels() -> dict[str, str]:
    doc = settings.read_yaml(settings.schemas_dir() / "check_labels.yaml")
    labels: dict[str, str] = {}
    for section in ("asset_checks", "issues"):
        for name, label in (doc.get(section) or {}).items():
            labels[str(name)] = str(label)
    return labels


def known(check: str) -> bool:
    return check in _labels()


def check_label(check: str) -> str:
    """The Chinese name; an id without one is shown as it is (tests/unit/test_check_labels.py keeps that from
    happening)."""
    return _labels().get(check, check)
