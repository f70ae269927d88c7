"""The demo roster (基层队伍信息), read back with python-calamine / openpyxl / pandas, not the project's readers.

Every fault demo_roster says it planted is found again in the file, and nothing else is wrong: each check below
asserts that the villages or rows breaking a rule are exactly the planted ones.
"""

import re
import time
import unicodedata
from datetime import date
from math import ceil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from python_calamine import CalamineWorkbook

from yukuai_pipeline.demo import DEFAULT_SEED, demo_roster, demo_township_villages, generate_demo_data, write_roster

BASELINE = date(2023, 2, 17)
FILE_NAME = "基层队伍信息_2023-02-17.xlsx"
COLUMNS = [
    "序号",
    "乡镇（街道）",
    "村（社区）",
    "姓名",
    "性别",
    "民族",
    "出生年月",
    "身份证号",
    "手机号",
    "职务",
    "所在小组",
]
CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


# ---------------------------------------------------------------------------------------------------------------
# Fixtures and reading helpers
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    directory = tmp_path_factory.mktemp("landing")
    paths = generate_demo_data(directory, days=1)
    # What that call planted: the same seed gives the same roster (test_same_seed_same_file_other_seed_other_roster).
    faults = demo_roster(demo_township_villages(), BASELINE, DEFAULT_SEED).faults
    return directory, paths, faults


@pytest.fixture(scope="module")
def path(generated):
    return generated[0] / FILE_NAME


@pytest.fixture(scope="module")
def faults(generated):
    return generated[2]


@pytest.fixture(scope="module")
def sheet(path):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


@pytest.fixture(scope="module")
def registry():
    registry = demo_township_villages()
    registry["short"] = registry["village"].str.replace(r"(村民|居民)委员会$", "", regex=True)
    return registry


@pytest.fixture(scope="module")
def vocabulary():
    """Role part (NFKC, no spaces) -> role class of the input contract."""
    contract = yaml.safe_load((Path(__file__).parents[2] / "schemas/inputs/roster.yaml").read_text(encoding="utf-8"))
    return {norm(part): role for role, parts in contract["roles"].items() for part in parts}


@pytest.fixture(scope="module")
def roster(sheet, registry, vocabulary):
    """The data rows as text, with the village resolved against the registry and each row's role classes."""
    data = pd.DataFrame([[text(v) for v in row[:11]] for row in sheet[3:-1]], columns=COLUMNS)
    village_key = data["村（社区）"].map(lambda v: re.sub(r"(村民|居民)委员会$", "", re.sub(r"\s", "", norm(v))))
    known = dict(zip(registry["short"], registry["village"]))
    data["village"] = village_key.map(known)  # NaN: a village the registry does not know
    data["classes"] = data["职务"].map(lambda cell: [vocabulary.get(part) for part in role_parts(cell)])
    data["person"] = data["姓名"] + "|" + data["出生年月"]
    data["row"] = data["序号"].astype(int)
    return data


def text(value) -> str:
    """calamine: numbers come back as floats, blank cells as ""."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def norm(value: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", value))


def role_parts(cell: str) -> list[str]:
    return [norm(p) for p in re.split(r"[兼、，,;/]", cell) if norm(p)]


def check_char(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, CHECK_WEIGHTS)) % 11]


def group_number(value: str) -> int:
    match = re.fullmatch(r"第?([0-9]+|[一二三四五六七八九十]+)(?:村民|居民)?小?组", value)
    assert match, value
    token = match.group(1)
    if token.isdigit():
        return int(token)
    digits = "一二三四五六七八九"
    if "十" not in token:
        return digits.index(token) + 1
    tens, _, units = token.partition("十")
    return (digits.index(tens) + 1 if tens else 1) * 10 + (digits.index(units) + 1 if units else 0)


def members(roster: pd.DataFrame, role_class: str) -> pd.Series:
    """Village -> set of persons holding a post of that class (a person counts once, however many rows)."""
    has = roster[roster["classes"].map(lambda classes: role_class in classes) & roster["village"].notna()]
    return has.groupby("village")["person"].agg(set)


def women(roster: pd.DataFrame) -> pd.Series:
    """Village -> set of persons written as 女."""
    return members(roster.assign(classes=[["woman"] if g == "女" else [] for g in roster["性别"]]), "woman")


def violators(registry: pd.DataFrame, villages: pd.Series, ok) -> set[str]:
    """Registry villages with roster rows whose value fails `ok(value, registry row)`."""
    bad = set()
    for row in registry.itertuples(index=False):
        if row.village in villages.index and not ok(villages[row.village], row):
            bad.add(row.village)
    return bad


def size_within(sizes: dict[str, tuple[int, int]]):
    """A `violators` test: the number of persons is within the bounds of the village's committee type."""

    def ok(persons, village) -> bool:
        least, most = sizes[village.committee_type]
        return least <= len(persons) <= most

    return ok


def rostered(registry, roster, faults):
    return registry[~registry["village"].isin(faults["no_roster_villages"])]


# ---------------------------------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------------------------------


def test_written_by_generate_demo_data(generated):
    directory, paths, _ = generated
    assert directory / FILE_NAME in paths and paths == sorted(paths)


def test_layout(path, sheet, roster):
    assert sheet[0][0] == "酉阳县基层队伍信息表"
    assert sheet[1][0] == "统计截止：2023-02-17"
    assert sheet[2][:11] == COLUMNS
    assert sheet[-1][0] == "注：一人多职的按职务分行填写" and all(v == "" for v in sheet[-1][1:])
    assert 15_000 <= len(roster) <= 30_000
    assert roster["序号"].tolist() == [str(i) for i in range(1, len(roster) + 1)]

    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).merged_cell_ranges == [((0, 0), (0, 10))]
    wb = openpyxl.load_workbook(path, read_only=True)  # a full load of 26,000 rows takes openpyxl 10 s
    first = next(wb.active.iter_rows(min_row=4, max_row=4))
    assert [c.data_type for c in first[:3]] == ["n", "s", "s"]
    assert first[7].data_type == "s" and first[8].data_type == "s"  # 身份证号 and 手机号 are text, not numbers
    wb.close()


def test_read_with_pandas(path, roster):
    frame = pd.read_excel(path, header=2, dtype=str, engine="calamine").iloc[:-1]
    assert list(frame.columns) == COLUMNS and len(frame) == len(roster)
    assert frame["身份证号"].dropna().str.len().eq(18).all()


def test_same_seed_same_file_other_seed_other_roster(path, registry):
    registry = registry.drop(columns="short")
    started = time.perf_counter()
    first = demo_roster(registry, BASELINE, DEFAULT_SEED)
    assert time.perf_counter() - started < 10
    second = demo_roster(registry, BASELINE, DEFAULT_SEED)
    assert first.rows.equals(second.rows) and first.faults == second.faults
    assert list(first.rows.columns) == COLUMNS
    out = path.parent / "again.xlsx"
    write_roster(out, second.rows, BASELINE)
    assert out.read_bytes() == path.read_bytes()
    cells = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert cells == CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    other = demo_roster(registry, BASELINE, DEFAULT_SEED + 1)
    assert not other.rows["身份证号"].equals(first.rows["身份证号"])
    out.unlink()


def test_faults_are_listed(faults):
    assert len(faults["no_roster_villages"]) == 2
    assert len(faults["committee_without_women"]) == 3
    assert sorted(faults["committee_too_small"].values()) == [2, 2, 4]
    assert len(faults["committee_member_on_supervisors"]) == 2
    assert len(faults["no_supervisors"]) == 3
    assert len(faults["duplicate_group_leader"]) == 2
    assert len(faults["duplicate_rows"]) == 2
    assert len(faults["unknown_village_rows"]) == 2
    assert len(faults["empty_id_rows"]) == 5
    assert 3 <= len(faults["underage_rows"]) <= 8 and 3 <= len(faults["gender_mismatch_rows"]) <= 8


# ---------------------------------------------------------------------------------------------------------------
# Persons
# ---------------------------------------------------------------------------------------------------------------


def test_names_and_particulars(roster):
    assert roster["姓名"].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
    assert set(roster["性别"]) == {"男", "女"}
    ethnic = roster["民族"].value_counts(normalize=True)
    assert ethnic[["土家族", "苗族", "汉族"]].sum() > 0.95 and ethnic.index[0] == "土家族"
    assert roster["出生年月"].str.fullmatch(r"(19|20)\d\d-(0[1-9]|1[0-2])").all()


def test_ids(roster, faults):
    with_id = roster[roster["身份证号"] != ""]
    assert set(roster.loc[roster["身份证号"] == "", "row"]) == set(faults["empty_id_rows"])
    ids = with_id["身份证号"]
    assert ids.str.fullmatch(r"500242(19|20)\d{9}[0-9X]").all()
    assert ids.str.endswith("X").any()
    wrong_check = with_id[[check_char(i[:17]) != i[17] for i in ids]]
    assert set(wrong_check["row"]) == set(faults["bad_check_char_rows"])
    assert 0.003 <= len(wrong_check) / len(roster) <= 0.008
    born = pd.to_datetime(ids.str[6:14], format="%Y%m%d")  # raises on a date that does not exist
    assert (with_id["出生年月"] == born.dt.strftime("%Y-%m")).all()
    snapshot = pd.Timestamp(BASELINE)
    age = (
        snapshot.year
        - born.dt.year
        - ((born.dt.month > snapshot.month) | ((born.dt.month == snapshot.month) & (born.dt.day > snapshot.day)))
    )
    assert set(with_id.loc[age < 18, "row"]) == set(faults["underage_rows"])
    assert age[age < 18].between(16, 17).all()
    assert age[age >= 18].between(22, 70).all()
    by_id = ["男" if int(i[16]) % 2 else "女" for i in ids]
    assert set(with_id.loc[with_id["性别"] != by_id, "row"]) == set(faults["gender_mismatch_rows"])


def test_an_id_is_one_person(roster):
    with_id = roster[roster["身份证号"] != ""].assign(first17=lambda d: d["身份证号"].str[:17])
    per_id = with_id.groupby("first17").agg(persons=("person", "nunique"), villages=("village", "nunique"))
    assert (per_id["persons"] == 1).all() and (per_id["villages"] <= 1).all()
    assert with_id.groupby(["person", "village"])["first17"].nunique().max() == 1


def test_phones(roster, faults):
    bad = roster[~roster["手机号"].str.fullmatch(r"1[35789]\d{9}")]
    assert set(bad["row"]) == set(faults["bad_phone_rows"])
    assert bad["手机号"].str.fullmatch(r"\d{10}|2\d{10}").all()
    assert bad["手机号"].str.len().eq(10).any() and bad["手机号"].str.startswith("2").any()
    assert 0.003 <= len(bad) / len(roster) <= 0.008


# ---------------------------------------------------------------------------------------------------------------
# Villages as written
# ---------------------------------------------------------------------------------------------------------------


def test_village_texts(roster, registry, faults):
    assert set(roster.loc[roster["village"].isna(), "row"]) == set(faults["unknown_village_rows"])
    assert set(roster["乡镇（街道）"]) <= set(registry["township"])
    long_form = roster["村（社区）"].str.endswith("委员会")
    assert set(roster.loc[long_form, "row"]) == set(faults["long_village_name_rows"])
    assert long_form.mean() < 0.03
    spaced = roster["村（社区）"].str.contains(r"[ \u3000]")
    assert set(roster.loc[spaced, "row"]) == set(faults["stray_space_village_rows"])
    assert roster["村（社区）"].str.contains("\u3000").any() and roster["村（社区）"].str.contains(" ").any()
    # township of each row is the registry's township of its village
    township_of = dict(zip(registry["village"], registry["township"]))
    known = roster[roster["village"].notna()]
    assert (known["village"].map(township_of) == known["乡镇（街道）"]).all()


def test_villages_without_roster(roster, registry, faults):
    present = set(roster["village"].dropna())
    assert set(registry["village"]) - present == set(faults["no_roster_villages"])


def test_role_spellings(roster):
    assert roster["classes"].map(lambda classes: None not in classes).all(), "every role part is in roster.yaml"
    committee_member = roster.loc[roster["classes"].map(lambda c: c == ["village_committee"]), "职务"]
    assert committee_member[committee_member.str.endswith("委员")].nunique() >= 5
    assert roster["职务"].str.contains("（").any() and roster["职务"].str.contains(r"\(").any()
    for spelling in [
        "村委会委员",
        "村委委员",
        "村民委员会委员",
        "村务监督委员会委员",
        "监委会委员",
        "村民小组长",
        "组长",
        "村民代表",
        "代表",
        "党支部书记兼村委会主任",
    ]:
        assert (roster["职务"] == spelling).any(), spelling


def test_duplicate_row(roster, faults):
    duplicated = roster.duplicated(subset=COLUMNS[1:], keep=False)
    assert set(roster.loc[duplicated, "row"]) == set(faults["duplicate_rows"])


# ---------------------------------------------------------------------------------------------------------------
# Posts against the rules (roster_rules.csv)
# ---------------------------------------------------------------------------------------------------------------


def test_committee_size(roster, registry, faults):
    committee = members(roster, "village_committee")
    sizes = {"村委会": (3, 7), "居委会": (5, 9)}
    bad = violators(registry, committee, size_within(sizes))
    assert bad == set(faults["committee_too_small"])
    assert {v: len(committee[v]) for v in bad} == faults["committee_too_small"]
    assert set(rostered(registry, roster, faults)["village"]) <= set(committee.index)


def test_committee_has_women(roster, registry, faults):
    committee = members(roster, "village_committee")
    woman = women(roster)
    villages = registry[registry["committee_type"] == "村委会"]
    without_women = violators(villages, committee, lambda m, v: bool(m & woman.get(v.village, set())))
    assert without_women == set(faults["committee_without_women"])


def test_party_committee_and_one_shoulder(roster, registry, faults):
    party = members(roster, "party_committee")
    sizes = {"村委会": (3, 5), "居委会": (3, 7)}
    assert not violators(registry, party, size_within(sizes))
    known = roster[roster["village"].notna()]
    combined = known[known["classes"].map(lambda c: c == ["party_committee", "village_committee"])]
    assert combined["职务"].str.contains("书记兼").all()
    secretaries = known[known["职务"].map(lambda r: any("书记" in p and "副书记" not in p for p in role_parts(r)))]
    chairs = known[
        known["职务"].map(
            lambda r: any(p.endswith("主任") and "副主任" not in p and "监" not in p for p in role_parts(r))
        )
    ]
    n = known["village"].nunique()
    assert secretaries.groupby("village").size().eq(1).all() and secretaries["village"].nunique() == n
    one_cell = combined["village"].nunique() / n
    chair_rows = chairs.drop(index=combined.index)
    same_person = set(zip(secretaries["village"], secretaries["person"])) & set(
        zip(chair_rows["village"], chair_rows["person"])
    )
    two_rows = len(same_person) / n
    assert 0.45 <= one_cell <= 0.75 and 0.1 <= two_rows <= 0.32
    # 交叉任职: members of both committees in separate rows
    both = members(roster, "party_committee").combine(members(roster, "village_committee"), lambda a, b: a & b)
    assert both.map(len).sum() > n


def test_supervisors(roster, registry, faults):
    supervisors = (
        members(roster, "supervisor").reindex(registry["village"]).map(lambda s: s if isinstance(s, set) else set())
    )
    supervisors = supervisors[~supervisors.index.isin(faults["no_roster_villages"])]
    sizes = {"村委会": (3, 5), "居委会": (3, 3)}
    bad = violators(registry, supervisors, size_within(sizes))
    assert bad == set(faults["no_supervisors"]) and all(not supervisors[v] for v in bad)
    committee = members(roster, "village_committee")
    overlap = {v for v in supervisors.index if supervisors[v] & committee.get(v, set())}
    assert overlap == set(faults["committee_member_on_supervisors"])
    known = roster[roster["village"].isin(overlap)]
    for village in overlap:
        person = (supervisors[village] & committee[village]).pop()
        ids = set(known.loc[(known["village"] == village) & (known["person"] == person), "身份证号"])
        assert len(ids) == 1 and "" not in ids  # the same ID on both committees


def test_group_leaders(roster, registry, faults):
    leaders = roster[roster["classes"].map(lambda c: c == ["group_leader"]) & roster["village"].notna()]
    assert (leaders["所在小组"] != "").all()
    leaders = leaders.assign(group=leaders["所在小组"].map(group_number))
    group_count = dict(zip(registry["village"], registry["group_count"]))
    assert (leaders["group"] <= leaders["village"].map(group_count)).all() and (leaders["group"] >= 1).all()
    missing, doubled = {}, {}
    for village, rows in leaders.groupby("village"):
        counts = rows["group"].value_counts()
        for g in range(1, group_count[village] + 1):
            if g not in counts:
                missing[village] = g
            elif counts[g] > 1:
                doubled[village] = g
    assert missing == faults["missing_group_leader"]
    assert doubled == faults["duplicate_group_leader"]
    assert 0.03 <= len(missing) / len(registry) <= 0.07
    styles = {re.sub(r"[0-9]+", "N", re.sub(r"[一二三四五六七八九十]+", "C", g)) for g in leaders["所在小组"]}
    assert {"第C村民小组", "N组", "第N组", "C组", "第N村民小组", "第C居民小组"} <= styles


def test_representatives(roster, registry, faults):
    representatives = members(roster, "representative")
    villages = registry[registry["committee_type"] == "村委会"]
    too_few = violators(villages, representatives, lambda m, v: len(m) >= ceil(v.households / 15))
    assert too_few == set(faults["too_few_representatives"])
    assert 0.07 <= len(too_few) / len(villages) <= 0.13
    assert not violators(registry, representatives, lambda m, v: len(m) <= v.households / 5)
    communities = rostered(registry[registry["committee_type"] == "居委会"], roster, faults)
    assert not violators(communities, representatives, lambda m, v: len(m) >= ceil(v.households / 15))
    # some group leaders are representatives too, in a row of their own
    leaders = members(roster, "group_leader")
    assert sum(len(leaders[v] & representatives.get(v, set())) for v in leaders.index) > 100


def test_women_in_the_assembly(roster, registry, faults):
    committee = members(roster, "village_committee")
    representatives = members(roster, "representative")
    woman = women(roster)
    low = set()
    for village in rostered(registry, roster, faults)["village"]:
        assembly = committee.get(village, set()) | representatives.get(village, set())
        if len(assembly & woman.get(village, set())) < len(assembly) / 3:
            low.add(village)
    assert low == set(faults["few_women_in_assembly"])
    assert len(low) / len(registry) < 0.1


def test_workers(roster, registry, faults):
    workers = members(roster, "worker").reindex(registry["village"]).map(lambda s: s if isinstance(s, set) else set())
    workers = workers[~workers.index.isin(faults["no_roster_villages"])]
    sizes = {"村委会": (0, 2), "居委会": (2, 8)}
    assert not violators(registry, workers, size_within(sizes))
