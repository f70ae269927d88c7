"""A contract's storage declaration is checked when it is loaded: a unit it is stored per must be part of its key, a
day column must be a plain column (its one value then stands for the unit's rows)."""

from dataclasses import replace

import pytest

from yukuai_pipeline.contracts import _check_stored_once, load_contract


def test_cadre_registration_is_stored_per_village_with_its_data_dates_per_day():
    contract = load_contract("cadre_registration")
    assert contract.stored_once and contract.stored_once_per == ("township", "village")
    assert contract.stored_once_day_columns == ("export_date", "roster_date")
    assert load_contract("roster_members").stored_once and not load_contract("roster_members").stored_once_per


@pytest.mark.parametrize(
    ("per", "day_columns", "message"),
    [
        (("name",), (), "stored_once.per 的 name 不在主键中"),
        (("village",), ("person_key",), "stored_once.day_columns 的 person_key 不是非主键的列"),
        (("village",), ("exported",), "stored_once.day_columns 的 exported 不是非主键的列"),
    ],
)
def test_a_unit_outside_the_key_or_a_day_column_in_it_is_refused(per, day_columns, message):
    contract = replace(load_contract("cadre_registration"), stored_once_per=per, stored_once_day_columns=day_columns)
    with pytest.raises(ValueError, match=f"schemas/tables/x.yaml: {message}"):
        _check_stored_once(contract, "tables/x.yaml")
