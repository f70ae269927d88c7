"""Every generated header wording (tests/support/header_variants.py) is read as its field or reported — never read
as another field and never dropped as noise; a renamed column never changes a count without a warning."""

import csv
from collections import Counter

import pandas as pd
import pytest

from support import header_variants
from support.header_variants import VALUES, Variant
from yukuai_pipeline.contracts import input_contracts, load_contract
from yukuai_pipeline.intake.column_mapping import AMBIGUOUS, DUPLICATE, FIELD, UNRECOGNISED
from yukuai_pipeline.intake.file_identity import identify
from yukuai_pipeline.intake.headers import find_header
from yukuai_pipeline.intake.loading import load
from yukuai_pipeline.intake.readers import InputFileError
from yukuai_pipeline.metrics.counting import Labels, count_users, match_places
from yukuai_pipeline.quality.header_report import missing_meanings, unread_columns
from yukuai_pipeline.steps.context import township_matcher

VARIANTS = header_variants.variants()
REPORTED = (UNRECOGNISED, AMBIGUOUS, DUPLICATE)


def test_the_corpus_covers_every_kind_and_column():
    assert len(VARIANTS) >= 300
    kinds = ("registrations", "registration_summary", "community_registry", "roster", "platform_activity")
    for kind in (*kinds, "community_orgs"):
        fields = {v.field for v in VARIANTS if v.kind == kind}
        assert fields == set(load_contract(kind, "input").columns), kind


def _cells(variant: Variant) -> tuple[pd.DataFrame, int]:
    """A small sheet of the variant's kind: the kind's other required columns, the variant's column last."""
    contract = load_contract(variant.kind, "input")
    others = [c for c in contract.required_columns if c != variant.field]
    top = [contract.header_aliases[c][0] for c in others]
    parent, child = variant.header if isinstance(variant.header, tuple) else (None, variant.header)
    rows = [["导出时间：2023-02-17 08:00"] + [None] * len(others)]
    if parent:
        rows.append([None] * len(others) + [parent])
    rows.append([*top, child])
    rows += [[VALUES[c] for c in others] + [VALUES[variant.field]] for _ in range(3)]
    cells = pd.DataFrame(rows, dtype="object")
    return cells, len(others)


def _outcome(variant: Variant):
    cells, position = _cells(variant)
    match = find_header(cells, input_contracts())
    if match is None or match.contract.kind != variant.kind:
        return None  # the file is not recognised as its kind: refused with a message (tested below), never silent
    cell = next((c for c in match.cells if c.position == position), None)
    return cell


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: f"{v.kind}-{v.field}-{v.how}")
def test_a_variant_is_read_as_its_field_or_reported(variant):
    cell = _outcome(variant)
    if cell is None:
        assert variant.field in load_contract(variant.kind, "input").required_columns, "optional column lost the kind"
        return
    if cell.outcome == FIELD:
        assert cell.field == variant.field, f"{variant.header!r} read as {cell.field}, meant {variant.field}"
    else:
        assert cell.outcome in REPORTED, f"{variant.header!r}: {cell.outcome} (silently ignored)"


def test_most_variants_are_understood():
    """The corpus is not passed by reporting everything: at least 90 % of the decorated wordings are read."""
    outcomes = Counter(
        "read" if (c := _outcome(v)) is not None and c.outcome == FIELD else "reported" for v in VARIANTS
    )
    assert outcomes["read"] >= 0.9 * len(VARIANTS), outcomes


def test_a_required_column_not_understood_refuses_the_file_naming_the_header(tmp_path):
    contract = load_contract("registrations", "input")
    header = [contract.header_aliases[c][0] for c in contract.required_columns]
    header[header.index("用户ID")] = "天地玄黄"
    path = tmp_path / "注册用户_20230217.csv"
    _write(path, header, [[VALUES[c] for c in contract.required_columns]] * 3)
    identity = identify(path)
    assert identity.error is not None
    message = str(identity.error)
    assert "缺少必需的列：用户ID" in message and "“天地玄黄”" in message and path.name in message


def _write(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["导出时间：2023-02-17 08:00"])
        writer.writerow(header)
        writer.writerows(rows)


USERS = [
    ["YK1", "桃花源街道", "天山堡村", "2023-02-01 10:00:00", "已通过"],
    ["YK2", "龙潭镇", "某村", "2023-02-03 10:00:00", "待审核"],
    ["YK3", "龙潭镇", "某村", "2023-02-05 10:00:00", "已驳回"],
    ["YK4", "麻旺镇", "某村", "2023-02-07 10:00:00", "已通过"],
]
COLUMNS = ["user_id", "township", "village", "registered_at", "status"]


def _completed(path) -> tuple[int | None, bool]:
    """(completed users, whether anything was said about the headers) of a registrations export."""
    try:
        loaded = load(path, identify(path))
    except InputFileError:
        return None, True  # refused with a message: loud
    matched, _ = match_places(loaded.accepted, township_matcher(), None, Labels())
    counts, _ = count_users(matched, pd.Timestamp("2023-02-17").date())
    said = (
        bool(unread_columns(loaded))
        or bool(missing_meanings(loaded))
        or any(c.method == "key_term" for c in loaded.header_cells)
    )
    return int(counts["completed"].sum()), said


@pytest.mark.parametrize("column,renamed", [*header_variants.random_renames("registrations"), ("status", "审核结论")])
def test_a_renamed_column_never_changes_a_count_without_a_warning(tmp_path, column, renamed):
    contract = load_contract("registrations", "input")
    header = [contract.header_aliases[c][0] for c in COLUMNS]
    path = tmp_path / "注册用户_20230217.csv"
    _write(path, header, USERS)
    baseline, said = _completed(path)
    assert (baseline, said) == (2, False)
    header[COLUMNS.index(column)] = renamed
    _write(path, header, USERS)
    completed, said = _completed(path)
    assert completed == baseline or said, f"{column} renamed {renamed!r}: {completed} instead of {baseline}, no warning"
    assert said, f"{column} renamed {renamed!r} was not reported"
