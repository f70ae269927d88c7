"""Statistical codes of townships and villages (places/area_codes.py): the officer's code list is read by name
matching and refused loudly when half understood, the registry's 社区编码 give the rest, and filling keeps codes a
step already wrote."""

from pathlib import Path

import pandas as pd
import pytest

from yukuai_pipeline import settings
from yukuai_pipeline.places.area_codes import AreaCodes, CodeListError, read_township_codes, registry_code_issues
from yukuai_pipeline.places.campaign_places import township_codes, township_matcher

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "youyang_townships.csv"


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is not beside this checkout")
def test_youyangs_shipped_codes_are_the_statistics_bureaus_2023_list():
    reference = pd.read_csv(REFERENCE, dtype="str")
    assert township_codes(settings.campaign()) == dict(zip(reference["name"], reference["code"]))


def test_youyangs_code_list_gives_every_township_of_the_notice():
    codes = township_codes(settings.campaign())
    assert len(codes) == 39 and len(set(codes.values())) == 39
    assert codes["龙潭镇"] == "500242101" and codes["桃花源街道"] == "500242001" and codes["宜居乡"] == "500242212"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "township_codes.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_list_naming_townships_by_old_or_prefixed_names_is_matched(tmp_path):
    path = _write(tmp_path, "code,name\n500242125,宜居镇\n500242101,酉阳县龙潭镇\n")
    codes = read_township_codes(path, "500242", township_matcher(settings.campaign()))
    assert codes == {"宜居乡": "500242125", "龙潭镇": "500242101"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,name\n500243101,龙潭镇\n", "第 2 行 code 字段：'500243101' 不是区县 500242 的 9 位乡镇代码"),
        ("code,name\n500242101,龙潭镇\n50024210,麻旺镇\n", "第 3 行 code 字段：'50024210' 不是区县 500242"),
        ("code,name\n500242101,龙潭镇\n500242102,龙潭乡下\n", "第 3 行 name 字段：'龙潭乡下' 不是本活动任务表里的乡镇"),
        (
            "code,name\n500242212,宜居乡\n500242125,宜居镇\n",
            "第 3 行 name 字段：'宜居镇' 与前面的行是同一乡镇（宜居乡）",
        ),
        ("code,name\n500242101,龙潭镇\n500242101,麻旺镇\n", "第 3 行 code 字段：代码 500242101 在前面已用过"),
        ("name,township\n龙潭镇,x\n", "缺少列 ['code']"),
    ],
)
def test_a_list_half_understood_is_refused_by_row_and_field(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(CodeListError, match=r"township_codes\.csv") as raised:
        read_township_codes(path, "500242", township_matcher(settings.campaign()))
    assert message in str(raised.value)


REGISTRY = pd.DataFrame(
    {
        "township": ["龙潭镇", "龙潭镇", "麻旺镇", "麻旺镇", "大溪镇"],
        "village": ["龙潭村", "新华村", "麻旺村", "红庄村", "大溪村"],
        "village_code": ["500242101201", "500242101202", "500242102201", "500242199201", "5002421"],
    }
)


def test_the_registry_gives_township_codes_where_its_villages_agree_and_the_list_wins():
    codes = AreaCodes.of("500242", {"大溪镇": "500242104"}, REGISTRY)
    # 麻旺镇's villages disagree (102 and 199): no code rather than a guess; 大溪村's code is not a code
    assert codes.townships == {"龙潭镇": "500242101", "大溪镇": "500242104"}
    assert codes.villages[("龙潭镇", "新华村")] == "500242101202" and ("大溪镇", "大溪村") not in codes.villages
    listed_wins = AreaCodes.of("500242", {"龙潭镇": "500242150"}, REGISTRY)
    assert listed_wins.townships["龙潭镇"] == "500242150"
    # 大溪镇's villages filed under 龙潭镇's code: a code two townships would share is neither's
    shared = pd.concat(
        [REGISTRY, pd.DataFrame({"township": ["后坪乡"], "village": ["后坪村"], "village_code": ["500242101301"]})]
    )
    assert AreaCodes.of("500242", {}, shared).townships == {}
    assert AreaCodes.of("500242", {"龙潭镇": "500242101"}, shared).townships == {"龙潭镇": "500242101"}


def test_fill_puts_codes_on_named_rows_and_keeps_codes_already_written():
    frame = pd.DataFrame(
        {
            "township": ["龙潭镇", "龙潭镇", "合计", "未匹配", "麻旺镇"],
            "village": ["龙潭村", "龙潭村", None, "未匹配", "麻旺村"],
            "township_code": [None, None, None, None, None],
            "village_code": [None, "500242101299", None, None, None],
        }
    )
    filled = AreaCodes.of("500242", {}, REGISTRY).fill(frame)
    assert filled["township_code"].tolist() == ["500242101", "500242101", None, None, None]
    assert filled["village_code"].tolist() == ["500242101201", "500242101299", None, None, "500242102201"]


def test_registry_villages_whose_codes_contradict_the_list_are_reported_not_dropped():
    registry = REGISTRY.assign(_row=[2, 3, 4, 5, 6])
    issues = registry_code_issues(registry, "500242", {"麻旺镇": "500242102"})
    assert [(i["row_number"], i["village"], i["value_masked"]) for i in issues] == [
        (5, "红庄村", "500242199201"),
        (6, "大溪村", "5002421"),
    ]
    assert issues[0]["message"] == (
        "麻旺镇红庄村的社区编码 500242199201 前 9 位不是乡镇代码表中麻旺镇的代码 500242102：该村照常按名称匹配"
    )
    assert {i["severity"] for i in issues} == {"WARN"} and not any(i["quarantined"] for i in issues)
