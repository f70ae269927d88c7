"""The vectorised text paths (Arrow's string functions over a whole column) give exactly what the cell-by-cell rules
give, for columns of Python strings and for Arrow text alike."""

import pandas as pd
import pytest

from yukuai_pipeline.intake.arrow_csv import TEXT
from yukuai_pipeline.intake.body_rows import blank_cells as _blank_cells
from yukuai_pipeline.intake.body_rows import may_hold_total_word as _may_hold_total_word
from yukuai_pipeline.intake.text_parsing import (
    EMPTY_WORDS as _EMPTY,
)
from yukuai_pipeline.intake.text_parsing import (
    is_empty as _is_empty,
)
from yukuai_pipeline.intake.text_parsing import (
    parse_identifier,
    parse_phone,
)
from yukuai_pipeline.metrics.counting import _has_repeats

IDS = [f"YK{i:08d}" for i in range(3000)]
ODD = ["", "NULL", "None", "nan", "N/A", "—", "无", "-", "合计", "共3000人", "ToTaL", "小计", "8613900001111"]


@pytest.mark.parametrize(
    "extra",
    [ODD, [*ODD, "İx"], [*ODD, "a\x00b", ""], [*ODD, " ", " nan ", "\u3000无", "TOTAL 3"], ["x"]],
    ids=["joined", "lower() lengthens", "NUL in a cell", "whitespace", "plain"],
)
@pytest.mark.parametrize("dtype", ["object", TEXT])
def test_text_shortcuts_match_the_cell_by_cell_rules(extra, dtype):
    values = pd.Series(IDS[:1500] + extra + IDS[1500:], dtype=dtype)
    assert _is_empty(values).tolist() == [v.strip().lower() in _EMPTY for v in values]
    assert _blank_cells(values).tolist() == [v.strip() in {"", "nan", "None"} for v in values]
    assert _may_hold_total_word(values).tolist() == values.str.contains("合|总|小|累|total", case=False).tolist()


def test_total_words_are_looked_for_in_the_text_cells_of_a_workbook_column():
    values = pd.Series([*range(1, 2001), 2000.5, None, "合计", " total：2000 ", "注：…"], dtype="object")
    assert (
        _may_hold_total_word(values).tolist()
        == values.astype("str").str.contains("合|总|小|累|total", case=False).tolist()
    )


def test_identifier_and_phone_shortcuts_keep_the_cells():
    values = pd.Series([*IDS, "13900001111"], dtype="object")
    ids, _ = parse_identifier(values)
    assert ids.tolist() == values.tolist() and str(ids.dtype) == "str"
    phones, _ = parse_phone(pd.Series([*IDS, "+86 139-0000-1111", "8613900001111"], dtype="object"))
    assert phones.tolist()[-2:] == ["13900001111", "13900001111"]


def _chunked(*parts: list[str]) -> pd.Series:
    """Arrow text in several chunks, as a CSV read by pyarrow comes, one of them a slice (offset into its buffers)."""
    series = [pd.Series(["skip", *p], dtype=TEXT).iloc[1:] for p in parts]
    return pd.concat(series, ignore_index=True)


@pytest.mark.parametrize(
    "parts",
    [
        [IDS[:1000], IDS[1000:2000]],  # fixed width, all distinct
        [IDS[:1000], IDS[999:1500]],  # one ID in two chunks
        [[*IDS[:10], "YK1"], IDS[10:20]],  # another width in one chunk
        [["甲村", "乙村"], ["甲村"]],  # multi-byte text, repeated
        [[], ["a"]],
    ],
)
def test_repeated_user_ids_found_as_a_set_finds_them(parts):
    values = _chunked(*parts)
    cells = [v for p in parts for v in p]
    assert _has_repeats(values) == (len(set(cells)) < len(cells))
