"""Checks are declared once (quality/checks.py): the Dagster specs come from the declarations, a misspelt name
raises where it is written, and a declared check nobody evaluated is an error, never a quiet pass."""

import pytest

from yukuai_pipeline.defs.assets import ALL_ASSETS
from yukuai_pipeline.quality.check_labels import check_label
from yukuai_pipeline.quality.checks import ERROR, STRICT_ENV, WARN, Check, Checks, UndeclaredCheck
from yukuai_pipeline.steps import (
    activity,
    cadre_registration,
    community_orgs,
    progress,
    registrations,
    registry,
    report,
    roster,
    targets,
    township_score,
)

DECLARED = [
    targets.TOWNSHIP_TARGET_CHECKS,
    targets.VILLAGE_TARGET_CHECKS,
    registry.CHECKS,
    registrations.CHECKS,
    progress.TOWNSHIP_CHECKS,
    progress.VILLAGE_CHECKS,
    progress.QUALITY_CHECKS,
    roster.CHECKS,
    roster.QUOTA_CHECKS,
    activity.CHECKS,
    community_orgs.CHECKS,
    cadre_registration.CHECKS,
    township_score.CHECKS,
    report.CHECKS,
]
PROBE = Checks(
    "probe",
    Check("file_usable", ERROR, "文件可以读取。", "The file can be read.", blocking=True),
    Check("rows_known", WARN, "每行都能识别。", "Every row is known."),
)


def test_the_dagster_specs_are_the_declarations():
    specs = {(spec.asset_key.to_user_string(), spec.name): spec for asset in ALL_ASSETS for spec in asset.check_specs}
    declared = {(c.asset, check.name): check for c in DECLARED for check in c}
    assert set(specs) == set(declared)
    for key, check in declared.items():
        assert specs[key].blocking == check.blocking
        label = check_label(check.name)
        assert label != check.name, f"{check.name} has no Chinese name in schemas/check_labels.yaml"
        assert specs[key].description.startswith(f"{label}：{check.zh}") and check.en in specs[key].description
    assert all(c.severity == ERROR for c in declared.values() if c.blocking)


def test_a_misspelt_check_name_raises_where_it_is_written():
    with pytest.raises(UndeclaredCheck, match="files_usable"):
        PROBE.passed("files_usable", "读取 1 个文件")
    assert PROBE.failed("file_usable", "文件损坏").severity == ERROR  # the declared severity, not the caller's


def test_a_check_neither_evaluated_nor_skipped_fails_in_strict_mode(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(RuntimeError, match=r"\['rows_known'\] were neither evaluated nor skipped"):
        PROBE.resolve([PROBE.passed("file_usable", "读取 1 个文件")])
    monkeypatch.delenv(STRICT_ENV)
    resolved = {c.name: o for c, o in PROBE.resolve([PROBE.passed("file_usable", "读取 1 个文件")])}
    assert resolved["rows_known"].evaluated is False and resolved["rows_known"].summary == "本次未检查"


def test_a_step_that_stops_early_says_why_the_rest_were_not_checked():
    outcomes = PROBE.rest_skipped([PROBE.failed("file_usable", "文件损坏")], "输入文件无法使用，未检查")
    assert [(o.name, o.passed, o.evaluated, o.summary) for o in outcomes] == [
        ("file_usable", False, True, "文件损坏"),
        ("rows_known", True, False, "输入文件无法使用，未检查"),
    ]
