"""Every check the officer can meet has a Chinese name (schemas/check_labels.yaml): each declared asset check, and
each data-quality issue kind the code writes (found in the source, so a new kind without a name fails here)."""

import re
from pathlib import Path

from yukuai_pipeline import settings
from yukuai_pipeline.contracts import load_contract
from yukuai_pipeline.quality.check_labels import check_label, known

PACKAGE = Path(__file__).resolve().parents[2] / "yukuai_pipeline"
# "check": "x", check="x", warn_issue("x", a bare "x", line in metrics/counting.py (its _issue( calls), ISSUE_CHECKS
WRITTEN = re.compile(
    r"""(?:"check":\s*|check=|warn_issue\(\s*)"([a-z_]+)"|^\s+"([a-z_]+)",\s*$|:\s*"([a-z_]+_header)",""", re.M
)


def _issue_kinds() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for match in WRITTEN.finditer(text):
            name = next(g for g in match.groups() if g)
            if match.group(2) and path.name != "counting.py":
                continue  # there the check is the first argument of _issue(, on a line of its own
            found.add(name)
    for kind in ("registrations", "roster"):
        for meaning in (load_contract(kind, "input").if_missing or {}).values():
            found.add(meaning.get("issue", "optional_column_missing"))
    return found


def test_every_issue_kind_written_by_the_code_has_a_chinese_name():
    kinds = _issue_kinds()
    assert {"file_waiting", "unknown_township", "invalid_roster_record", "status_assumed"} <= kinds
    missing = sorted(k for k in kinds if not known(k) and k not in _NOT_KINDS)
    assert not missing, f"add these to schemas/check_labels.yaml: {missing}"


# identifiers the scan also meets that are not issue kinds (column names in the same modules)
_NOT_KINDS = set(load_contract("data_quality_issues").columns)


def test_labels_are_short_chinese_names():
    doc = settings.read_yaml(settings.schemas_dir() / "check_labels.yaml")
    labels = {**doc["asset_checks"], **doc["issues"]}
    assert all(re.search(r"[\u4e00-\u9fff]", v) and len(v) <= 12 for v in labels.values())
    assert check_label("roster_complete") == "基层队伍完整" and check_label("no_such_check") == "no_such_check"


def test_alerts_name_the_check_in_chinese():
    import datetime as dt

    from yukuai_pipeline.alerts import texts

    alert = texts.check_failed(
        "registration_counts",
        "files_complete",
        dt.date(2023, 3, 30),
        "WARN",
        "2023-03-30：1 个文件",
        None,
        None,
        None,
        "http://ui",
    )
    assert (
        "文件已写完整 未通过（2023-03-30）" in alert.title and "**检查**：文件已写完整（files_complete" in alert.message
    )
