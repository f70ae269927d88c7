from pathlib import Path

import pandas as pd
import pytest

from yukuai_pipeline.places.names import VillageMatcher, normalize_text, short_village_name
from yukuai_pipeline.steps.context import township_matcher

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "youyang_villages.csv"


def test_normalize_folds_width_and_removes_every_space():
    assert normalize_text("村（社 区）") == "村(社区)"
    assert normalize_text(" 天\u3000山堡村 ") == "天山堡村"
    assert normalize_text("１２３") == "123"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("龙潭镇", "龙潭镇"),
        (" 龙 潭 镇 ", "龙潭镇"),
        ("酉阳县龙潭镇", "龙潭镇"),
        ("重庆市酉阳土家族苗族自治县麻旺镇", "麻旺镇"),
        ("宜居镇", "宜居乡"),
        ("庙溪镇", "庙溪乡"),
        ("龙潭镇人民政府", "龙潭镇"),
        ("桃花源街道办事处", "桃花源街道"),
        ("不存在镇", None),
        ("", None),
    ],
)
def test_township_matching(raw, expected):
    assert township_matcher().match(raw) == expected


def test_short_names_drop_only_the_committee_suffix():
    assert short_village_name("天山堡村村民委员会") == "天山堡村"
    assert short_village_name("城北社区居民委员会") == "城北社区"
    assert short_village_name("城北社区居委会") == "城北社区"
    assert short_village_name("天山堡村委会") == "天山堡村"
    assert short_village_name("城北社区") == "城北社区"


def test_village_short_key_is_used_only_when_unique_in_the_township():
    registry = pd.DataFrame({"township": ["甲镇", "甲镇", "乙镇"], "village": ["石门村", "石门社区", "石门村"]})
    matcher = VillageMatcher(registry)
    assert matcher.match("甲镇", "石门村村民委员会") == "石门村"
    assert matcher.match("甲镇", "石门社区居委会") == "石门社区"
    assert matcher.match("甲镇", "石门") is None  # two villages share the bare name: never guess
    assert matcher.match("乙镇", "石门") == "石门村"
    assert matcher.match("乙镇", "石 门 村") == "石门村"


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is not beside this checkout")
def test_real_youyang_village_names_match_in_long_and_short_form():
    villages = pd.read_csv(REFERENCE, dtype=str)
    registry = pd.DataFrame(
        {"township": villages["township_name"], "village": villages["name"].map(short_village_name)}
    )
    matcher = VillageMatcher(registry)
    assert matcher.match("桃花源街道", "天山堡村村民委员会") == "天山堡村"
    assert matcher.match("桃花源街道", "天山堡村") == "天山堡村"
    long_hits = [matcher.match(t, n) for t, n in zip(villages["township_name"], villages["name"])]
    assert None not in long_hits and len(long_hits) == 278
    # every real township name is one of the notice's 39 (宜居/庙溪 included)
    towns = pd.read_csv(REFERENCE.parent / "youyang_townships_mca20251231.csv", dtype=str)
    assert all(township_matcher().match(n) for n in towns["name"])
