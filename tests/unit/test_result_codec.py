"""A step's result survives the JSON a reused day shows it from (steps/result_codec.py)."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from yukuai_pipeline.quality.outcomes import CheckOutcome
from yukuai_pipeline.steps import result_codec
from yukuai_pipeline.steps.context import StepResult


def _result() -> StepResult:
    table = pd.DataFrame({"township": ["龙潭镇", "麻旺镇"], "villages": [3, 1], "completeness": [0.75, np.nan]})
    check = CheckOutcome(
        "roster_complete",
        False,
        "WARN",
        "4 个村（社区）基层队伍信息不完整或有误",
        townships=["龙潭镇", "麻旺镇"],
        villages=["龙潭镇梨耳村（两委）"],
        numbers={"villages_incomplete": np.int64(4), "as_of": dt.date(2023, 2, 17)},
        table=table,
    )
    skipped = CheckOutcome("roster_group_column_present", True, "WARN", "没有名单文件", evaluated=False)
    return StepResult(
        278,
        [check, skipped],
        {"roster_file": "基层队伍信息_2023-02-17.xlsx", "villages": np.int64(278)},
        table.head(1),
        {"表头 → 字段 / header mapping": "| a |\n|---|"},
        "完整率最低的乡镇",
    )


def test_a_result_comes_back_with_its_checks_numbers_and_tables():
    back = result_codec.decode(result_codec.encode(_result()))
    assert back.rows == 278 and back.preview_title == "完整率最低的乡镇"
    check, skipped = back.checks
    assert (check.name, check.passed, check.severity) == ("roster_complete", False, "WARN")
    assert check.summary == "4 个村（社区）基层队伍信息不完整或有误"
    assert check.villages == ["龙潭镇梨耳村（两委）"] and check.townships == ["龙潭镇", "麻旺镇"]
    assert check.numbers == {"villages_incomplete": 4, "as_of": "2023-02-17"}
    assert check.table["township"].tolist() == ["龙潭镇", "麻旺镇"]
    assert check.table["villages"].tolist() == [3, 1]
    assert check.table["completeness"].iloc[0] == 0.75 and pd.isna(check.table["completeness"].iloc[1])
    assert skipped.evaluated is False and skipped.table is None
    assert back.metadata == {"roster_file": "基层队伍信息_2023-02-17.xlsx", "villages": 278}
    assert back.preview["township"].tolist() == ["龙潭镇"]
    assert back.markdown == {"表头 → 字段 / header mapping": "| a |\n|---|"}


def test_the_text_is_plain_json_in_chinese():
    text = result_codec.encode(_result())
    assert "基层队伍信息不完整" in text  # not \\u-escaped: readable in SQL
    assert json.loads(text)["rows"] == 278


def test_a_value_json_cannot_hold_is_refused_not_pickled():
    result = StepResult(1, [], {"odd": object()})
    with pytest.raises(TypeError, match="JSON"):
        result_codec.encode(result)
