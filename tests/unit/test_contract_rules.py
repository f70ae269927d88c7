"""A contract's storage declaration is checked when it is loaded: stored as ranges, its scope is made of required
columns, a day column is another column and the order names columns; stored by content, it declares none of these."""

from dataclasses import replace

import pytest

from yukuai_pipeline.contracts import _check_stored_once, load_contract


def test_the_tables_stored_as_ranges_and_their_day_columns():
    cadres = load_contract("cadre_registration")
    assert cadres.stored_as_ranges and cadres.stored_once_per == ()
    assert cadres.stored_once_day_columns == ("export_date", "roster_date")
    assert cadres.stored_once_order == ("township", "village", "person_key")
    issues = load_contract("data_quality_issues")
    assert issues.stored_as_ranges and issues.stored_once_per == ("stage",)
    assert issues.stored_once_day_columns == ("source_file",)
    members = load_contract("roster_members")
    assert members.stored_once and not members.stored_as_ranges and not members.stored_once_per


@pytest.mark.parametrize(
    ("per", "day_columns", "order", "message"),
    [
        (("township_code",), (), (), "stored_once.per 的 township_code 不是必填的列"),
        (("nowhere",), (), (), "stored_once.per 的 nowhere 不是必填的列"),
        (("village",), ("village",), (), "stored_once.day_columns 的 village 不是范围之外的列"),
        ((), ("exported",), (), "stored_once.day_columns 的 exported 不是范围之外的列"),
        ((), (), ("rank",), "stored_once.order 的 rank 不是列"),
    ],
)
def test_a_scope_day_column_or_order_that_does_not_fit_is_refused(per, day_columns, order, message):
    contract = replace(
        load_contract("cadre_registration"),
        stored_once_per=per,
        stored_once_day_columns=day_columns,
        stored_once_order=order,
    )
    with pytest.raises(ValueError, match=f"schemas/tables/x.yaml: {message}"):
        _check_stored_once(contract, "tables/x.yaml")


def test_a_table_stored_by_content_declares_no_scope_and_an_unknown_storage_is_refused():
    by_content = replace(load_contract("roster_members"), stored_once_day_columns=("roster_date",))
    with pytest.raises(ValueError, match="只用于 as: ranges"):
        _check_stored_once(by_content, "tables/x.yaml")
    with pytest.raises(ValueError, match="只能是 contents 或 ranges（收到 rows）"):
        _check_stored_once(replace(load_contract("roster_members"), stored_once_as="rows"), "tables/x.yaml")
