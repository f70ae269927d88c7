"""Platform activity (平台应用情况): the input contract, the counting in metrics/activity.py and the demo export, whose
county totals on 2023-02-17 are those of 酉阳民政发〔2023〕9号 一（三）."""

import datetime as dt

import pandas as pd
import pytest

from yukuai_pipeline.contracts import header_key, input_contracts, load_contract
from yukuai_pipeline.demo import DEFAULT_SEED, demo_activity, demo_township_villages, generate_demo_data, write_activity
from yukuai_pipeline.demo.activity import ACTIVITY_COLUMNS, ACTIVITY_FOOTNOTE, ACTIVITY_TITLE, NOTICE_TOTALS
from yukuai_pipeline.intake.file_identity import identify
from yukuai_pipeline.intake.loading import load
from yukuai_pipeline.metrics import activity
from yukuai_pipeline.metrics.counting import Labels, match_places
from yukuai_pipeline.places.names import VillageMatcher, short_village_name
from yukuai_pipeline.steps.context import township_matcher

D = dt.date(2023, 2, 17)
FILE_NAME = "平台应用情况_2023-02-17.xlsx"
NOTICE = {"request": 480, "notice": 135, "disclosure": 321, "consultation": 27, "decision": 7, "review": 1}


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def events(*rows, **extra) -> pd.DataFrame:
    """Matched events from (township, village, kind, occurred_at[, status[, rating]]) tuples."""
    records = []
    for row in rows:
        township, village, kind, occurred = row[:4]
        record = {"township_std": township, "village_std": village, "kind": kind, "occurred_at": at(occurred)}
        if len(row) > 4:
            record["status"] = row[4]
        if len(row) > 5:
            record["rating"] = row[5]
        records.append(record)
    frame = pd.DataFrame(records)
    for column, value in extra.items():
        frame[column] = value
    return frame


REGISTRY = pd.DataFrame({"township": ["甲镇", "甲镇", "乙乡"], "village": ["一村", "二村", "三社区"]})


# ---------------------------------------------------------------------------------------------------------------
# The demo export, read through the project's own intake
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_registry() -> pd.DataFrame:
    registry = demo_township_villages()
    return registry.assign(village=registry["village"].map(short_village_name))[["township", "village"]]


@pytest.fixture(scope="module")
def demo_frame() -> pd.DataFrame:
    return demo_activity(demo_township_villages(), D, DEFAULT_SEED)


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory, demo_frame):
    path = tmp_path_factory.mktemp("activity") / FILE_NAME
    write_activity(path, demo_frame, D)
    return path


@pytest.fixture(scope="module")
def loaded(demo_path):
    return load(demo_path)


@pytest.fixture(scope="module")
def matched(loaded, demo_registry):
    frame, issues = match_places(loaded.accepted, township_matcher(), VillageMatcher(demo_registry), Labels())
    assert issues == []  # every demo event has a place the registry knows
    return frame


@pytest.fixture(scope="module")
def demo_villages(matched, demo_registry):
    return activity.village_activity(matched, demo_registry, D)


def test_contract_loads_and_is_an_input_kind():
    contract = load_contract("platform_activity", "input")
    assert contract.title == "平台应用情况明细"
    assert contract.required_columns == ("township", "village", "kind", "occurred_at")
    assert contract.quarantine_fields == ("kind",)
    assert "platform_activity" in [c.kind for c in input_contracts()]
    assert contract.vocabulary_labels["kind"] == {
        "request": "居民诉求",
        "notice": "社区信息发布",
        "disclosure": "村（居）务公开",
        "consultation": "社区事务在线协商",
        "decision": "民主决策",
        "review": "民主评议",
    }


def test_demo_file_is_identified_and_loads_without_issues(demo_path, loaded):
    identity = identify(demo_path)
    assert identity.kind == "platform_activity" and identity.snapshot_date == D and identity.error is None
    assert loaded.issues.empty and loaded.total_rows == []
    assert loaded.rows == len(loaded.accepted) == sum(NOTICE.values())
    assert loaded.accepted["_row"].iloc[0] == 4  # title, 统计截止, header
    assert loaded.accepted["occurred_at"].dt.date.between(dt.date(2022, 6, 1), D).all()


def test_demo_file_layout(demo_path):
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(demo_path)).get_sheet_by_index(0).to_python()
    assert rows[0][0] == ACTIVITY_TITLE == "平台应用情况明细"
    assert rows[1][0] == "统计截止：2023-02-17"
    assert rows[2] == ACTIVITY_COLUMNS
    assert rows[-1][0] == ACTIVITY_FOOTNOTE


def test_golden_county_totals_match_the_notice(demo_villages, demo_registry):
    assert NOTICE_TOTALS == NOTICE
    assert len(demo_villages) == len(demo_registry) * len(activity.KINDS)
    county = activity.rollup(demo_villages, "合计").set_index(["township", "kind"])
    for kind, total in NOTICE.items():
        assert county.loc[("合计", kind), "count_total"] == total, kind
    assert demo_villages.groupby("kind")["count_total"].sum().to_dict() == NOTICE


def test_golden_decisions_only_in_mawang(demo_villages):
    decisions = demo_villages[demo_villages["kind"] == "decision"].groupby("township")["count_total"].sum()
    assert decisions["麻旺镇"] == 7
    assert (decisions.drop("麻旺镇") == 0).all()
    assert len(decisions) == 39


def test_demo_use_is_uneven(demo_villages):
    zero = activity.zero_use(demo_villages)
    never = zero[zero["count_total"] == 0].groupby("kind").size()
    villages = demo_villages["village"].nunique()
    assert never["consultation"] > 0.8 * villages and never["review"] == villages - 1
    assert 0.1 * villages < never["request"] < 0.7 * villages
    assert (demo_villages.groupby(["township", "village"])["count_total"].sum() == 0).sum() >= 10


def test_demo_requests_have_statuses_channels_and_ratings(matched):
    requests = matched[matched["kind"] == "request"]
    status = requests["status"].value_counts()
    assert status["done"] > 0.8 * len(requests) and status["in_progress"] > 0 and status["pending"] > 0
    done = requests[requests["status"] == "done"]
    assert done["closed_at"].notna().all() and (done["closed_at"] >= done["occurred_at"]).all()
    assert (done["closed_at"] < pd.Timestamp(D) + pd.Timedelta(days=1)).all()
    assert requests.loc[requests["status"] != "pending", "channel"].notna().all()
    assert set(requests["channel"].dropna()) == {
        "community",
        "social_org",
        "social_worker",
        "volunteer",
        "charity",
        "township",
    }
    assert matched.loc[matched["kind"] != "request", "status"].isna().all()
    overdue = activity.overdue_requests(matched, D)
    assert overdue["overdue_count"].sum() >= 5 and (overdue["oldest_age_days"] >= 7).all()
    assert 0 < activity.unrated_closed(matched)["unrated"].sum() < 0.3 * len(done)


def test_demo_is_deterministic_and_keeps_totals_for_other_seeds(demo_frame, demo_path, tmp_path):
    again = tmp_path / "again.xlsx"
    write_activity(again, demo_activity(demo_township_villages(), D, DEFAULT_SEED), D)
    assert again.read_bytes() == demo_path.read_bytes()
    other = demo_activity(demo_township_villages(7), D, 7)
    assert other.attrs["totals"] == NOTICE
    assert not other["发生时间"].equals(demo_frame["发生时间"])


def test_generate_demo_data_writes_the_activity_file(tmp_path, demo_path):
    paths = generate_demo_data(tmp_path, days=1)
    assert tmp_path / FILE_NAME in paths
    assert (tmp_path / FILE_NAME).read_bytes() == demo_path.read_bytes()


# ---------------------------------------------------------------------------------------------------------------
# Contract: the kind labels and statuses as platforms spell them
# ---------------------------------------------------------------------------------------------------------------

SPELLINGS = {
    "request": ["居民诉求", "诉求", "诉求办理", "居民诉求办理"],
    "notice": ["社区信息发布", "信息发布", "发布信息", "通知公告", "社区动态"],
    "disclosure": [
        "村（居）务公开",
        "村(居)务公开",
        "村务公开",
        "居务公开",
        "网上村（居）务公开",
        "党务公开",
        "财务公开",
    ],
    "consultation": ["在线协商", "社区事务在线协商", "民主协商", "协商议事"],
    "decision": ["民主决策", "决策", "民主决策全过程公开"],
    "review": ["民主评议", "评议"],
}


@pytest.mark.parametrize("kind, spelling", [(k, s) for k, words in SPELLINGS.items() for s in words])
def test_every_spelling_of_a_kind_maps_onto_it(kind, spelling):
    vocabulary = load_contract("platform_activity", "input").vocabularies["kind"]
    assert vocabulary[header_key(spelling)] == kind
    assert vocabulary[header_key(f" {spelling} ")] == kind


def test_labels_read_from_a_csv_and_an_unknown_kind_is_quarantined(tmp_path):
    lines = [
        "平台应用情况明细",
        "统计截止：2023-02-17",
        "序号,所属乡镇,所属社区,应用模块,诉求编号,提交时间,处理状态,完成时间,三事分流,评价",
    ]
    rows = [
        ("诉求办理", "2023-02-01 09:00", "已处理", "2023-02-02 10:00", "社会工作者", "满意"),
        ("居民诉求", "2023/2/3 8:05", "待受理", "", "", ""),
        ("居民诉求办理", "2023年2月4日", "处理中", "", "乡镇（街道）", ""),
        ("通知公告", "2023-02-05 10:00", "", "", "", ""),
        ("网上村（居）务公开", "2023-02-06 10:00", "", "", "", ""),
        ("居务公开", "2023-02-06 11:00", "", "", "", ""),
        ("协商议事", "2023-02-07 10:00", "", "", "", ""),
        ("民主决策全过程公开", "2023-02-08 10:00", "", "", "", ""),
        ("评议", "2023-02-09 10:00", "", "", "", ""),
        ("其他", "2023-02-10 10:00", "", "", "", ""),
        ("信息发布", "2023-02-11 10:00", "已归档", "", "", ""),
    ]
    for i, (label, when, status, closed, channel, rating) in enumerate(rows, start=1):
        lines.append(f"{i},麻旺镇,柳堰社区,{label},E{i:03d},{when},{status},{closed},{channel},{rating}")
    lines.append("注：数据来源于平台")
    path = tmp_path / "平台应用情况_20230217.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")

    assert identify(path).kind == "platform_activity"
    loaded = load(path)
    accepted = loaded.accepted
    assert accepted["kind"].tolist() == [
        "request",
        "request",
        "request",
        "notice",
        "disclosure",
        "disclosure",
        "consultation",
        "decision",
        "review",
        "notice",
    ]
    assert accepted["status"].tolist()[:3] == ["done", "pending", "in_progress"]
    assert accepted["status"].iloc[-1] is None or pd.isna(accepted["status"].iloc[-1])  # unreadable: emptied
    assert accepted["channel"].iloc[0] == "social_worker" and accepted["channel"].iloc[2] == "township"
    assert accepted["occurred_at"].iloc[2] == pd.Timestamp("2023-02-04")
    assert accepted["closed_at"].iloc[0] == pd.Timestamp("2023-02-02 10:00")
    assert accepted["event_id"].iloc[0] == "E001"
    issues = loaded.issues.set_index("field")
    assert issues.loc["kind", "quarantined"] and bool(issues.loc["kind", "row_number"] == 13)
    assert not issues.loc["status", "quarantined"]
    assert loaded.quarantined == 1


# ---------------------------------------------------------------------------------------------------------------
# village_activity: every village × kind, the snapshot end and the 30-day window
# ---------------------------------------------------------------------------------------------------------------


def test_every_registry_village_and_kind_has_a_row():
    frame = activity.village_activity(events(("甲镇", "一村", "request", "2023-02-10 10:00")), REGISTRY, D)
    assert list(frame.columns) == ["township", "village", "kind", "count_total", "count_30d"]
    assert len(frame) == 3 * 6
    assert frame[["township", "village"]].drop_duplicates().values.tolist() == REGISTRY.values.tolist()
    assert frame["kind"].tolist()[:6] == list(activity.KINDS)
    assert frame["count_total"].sum() == 1 and frame["count_total"].dtype == "int64"


def test_count_30d_window_edges():
    rows = [
        ("甲镇", "一村", "notice", t)
        for t in [
            "2023-01-18 23:59:59",  # D-30, last second: before the window
            "2023-01-19 00:00:00",  # D-29, first second: inside
            "2023-02-17 00:00:00",  # D, first second
            "2023-02-17 23:59:59",  # D, last second
            "2023-02-18 00:00:00",  # D+1: after the snapshot, counted nowhere
            "2022-06-01 08:00:00",  # long ago
        ]
    ]
    frame = activity.village_activity(events(*rows), REGISTRY, D).set_index(["village", "kind"])
    assert frame.loc[("一村", "notice"), "count_total"] == 5
    assert frame.loc[("一村", "notice"), "count_30d"] == 3
    on_d_minus_29 = activity.village_activity(events(*rows[1:2]), REGISTRY, D).set_index(["village", "kind"])
    assert on_d_minus_29.loc[("一村", "notice"), "count_30d"] == 1


def test_timezone_aware_times_are_read_as_shanghai_wall_clock():
    frame = events(("甲镇", "一村", "review", "2023-01-18 16:30"))
    frame["occurred_at"] = frame["occurred_at"].dt.tz_localize("UTC")  # = 2023-01-19 00:30 in Shanghai
    counts = activity.village_activity(frame, REGISTRY, D).set_index(["village", "kind"])
    assert counts.loc[("一村", "review"), "count_30d"] == 1


def test_places_outside_the_registry_are_kept():
    frame = events(
        ("甲镇", "一村", "request", "2023-02-10 10:00"),
        ("未匹配", "未匹配", "request", "2023-02-11 10:00"),
        ("乙乡", "新村", "decision", "2023-01-01 10:00"),
    )
    counts = activity.village_activity(frame, REGISTRY, D)
    assert len(counts) == 3 * 6 + 2
    assert counts.tail(2)[["township", "village", "kind", "count_total"]].values.tolist() == [
        ["乙乡", "新村", "decision", 1],
        ["未匹配", "未匹配", "request", 1],
    ]
    assert counts["count_total"].sum() == 3
    zero = activity.zero_use(counts)
    assert "未匹配" not in set(zero["village"]) and ("新村", "decision") in set(zip(zero["village"], zero["kind"]))


def test_rollup_townships_and_county():
    frame = events(
        ("甲镇", "一村", "request", "2023-02-10 10:00"),
        ("甲镇", "二村", "request", "2022-12-01 10:00"),
        ("乙乡", "三社区", "notice", "2023-02-01 10:00"),
    )
    rolled = activity.rollup(activity.village_activity(frame, REGISTRY, D), "合计")
    assert list(rolled.columns) == ["township", "kind", "villages", "villages_used_30d", "count_total", "count_30d"]
    assert rolled["township"].unique().tolist() == ["甲镇", "乙乡", "合计"]
    assert len(rolled) == 3 * 6
    table = rolled.set_index(["township", "kind"])
    assert table.loc[("甲镇", "request")].tolist() == [2, 1, 2, 1]
    assert table.loc[("乙乡", "request")].tolist() == [1, 0, 0, 0]
    assert table.loc[("合计", "request")].tolist() == [3, 1, 2, 1]
    assert table.loc[("合计", "notice")].tolist() == [3, 1, 1, 1]
    assert table.loc[("合计", "review")].tolist() == [3, 0, 0, 0]


def test_zero_use_lists_villages_without_use_in_30_days():
    frame = events(("甲镇", "一村", "request", "2023-02-10 10:00"), ("甲镇", "二村", "request", "2022-12-01 10:00"))
    zero = activity.zero_use(activity.village_activity(frame, REGISTRY, D))
    assert list(zero.columns) == ["township", "village", "kind", "count_total"]
    requests = zero[zero["kind"] == "request"]
    assert requests[["village", "count_total"]].values.tolist() == [["二村", 1], ["三社区", 0]]
    assert len(zero) == 3 * 6 - 1


def test_village_activity_with_no_events():
    empty = pd.DataFrame(
        {"township_std": [], "village_std": [], "kind": [], "occurred_at": pd.Series([], dtype="datetime64[ns]")}
    )
    frame = activity.village_activity(empty, REGISTRY, D)
    assert len(frame) == 18 and frame["count_total"].sum() == 0
    assert len(activity.zero_use(frame)) == 18


# ---------------------------------------------------------------------------------------------------------------
# Requests: overdue across the day boundary, unrated when done
# ---------------------------------------------------------------------------------------------------------------


def test_overdue_ages_across_the_day_boundary():
    frame = events(
        ("甲镇", "一村", "request", "2023-02-10 23:59", "pending"),  # D-7, late: 7 days old, overdue
        ("甲镇", "二村", "request", "2023-02-10 00:01", "pending"),  # D-7, early: 7 days old too, overdue
        ("甲镇", "二村", "request", "2023-02-11 00:00", "pending"),  # D-6, first minute: exactly 7 days before the end
        ("乙乡", "三社区", "request", "2023-02-11 23:59", "pending"),  # D-6, late: 6 days old
        ("乙乡", "三社区", "request", "2023-02-09 00:00", "in_progress"),  # old but being handled
        ("乙乡", "三社区", "request", "2023-01-01 10:00", "done"),
        ("乙乡", "三社区", "notice", "2023-01-01 10:00", "pending"),  # not a request
        ("乙乡", "三社区", "request", "2023-02-18 09:00", "pending"),  # after the snapshot
    )
    overdue = activity.overdue_requests(frame, D)
    assert list(overdue.columns) == ["township", "village", "overdue_count", "oldest_age_days", "oldest_occurred_at"]
    assert overdue[["village", "overdue_count", "oldest_age_days"]].values.tolist() == [["一村", 1, 7], ["二村", 1, 7]]
    assert overdue["oldest_age_days"].dtype == "int64"
    assert overdue.set_index("village").loc["二村", "oldest_occurred_at"] == at("2023-02-10 00:01")
    assert activity.age_days(frame["occurred_at"], D).tolist()[:4] == [7, 7, 6, 6]

    # one day later both D-6 requests are 7 days old and overdue; a wider limit drops them all
    later = activity.overdue_requests(frame, D + dt.timedelta(days=1)).set_index("village")
    assert later["overdue_count"].to_dict() == {"一村": 1, "二村": 2, "三社区": 1}
    assert later["oldest_age_days"].to_dict() == {"一村": 8, "二村": 8, "三社区": 7}
    assert activity.overdue_requests(frame, D, days=8).empty


def test_overdue_sorted_oldest_first_and_empty_without_status():
    frame = events(
        ("甲镇", "一村", "request", "2023-02-01 10:00", "pending"),
        ("乙乡", "三社区", "request", "2022-12-01 10:00", "pending"),
        ("乙乡", "三社区", "request", "2023-02-05 10:00", "pending"),
    )
    overdue = activity.overdue_requests(frame, D)
    assert overdue[["village", "overdue_count", "oldest_age_days"]].values.tolist() == [
        ["三社区", 2, 78],
        ["一村", 1, 16],
    ]
    assert activity.overdue_requests(frame.drop(columns="status"), D).empty
    assert list(activity.overdue_requests(frame.drop(columns="status"), D).columns) == activity.OVERDUE_COLUMNS


def test_unrated_closed_requests():
    frame = events(
        ("甲镇", "一村", "request", "2023-02-01 10:00", "done", "满意"),
        ("甲镇", "一村", "request", "2023-02-02 10:00", "done", None),
        ("甲镇", "一村", "request", "2023-02-03 10:00", "done", "  "),
        ("甲镇", "二村", "request", "2023-02-03 10:00", "done", "5.0"),
        ("甲镇", "二村", "request", "2023-02-04 10:00", "in_progress", None),
        ("乙乡", "三社区", "notice", "2023-02-04 10:00", None, None),
        ("乙乡", "三社区", "request", "2023-02-04 10:00", "done", float("nan")),
    )
    unrated = activity.unrated_closed(frame)
    assert list(unrated.columns) == ["township", "village", "done", "unrated"]
    assert unrated.values.tolist() == [["乙乡", "三社区", 1, 1], ["甲镇", "一村", 3, 2]]


def test_unrated_closed_is_empty_without_a_rating_column():
    frame = events(("甲镇", "一村", "request", "2023-02-02 10:00", "done"))
    assert "rating" not in frame.columns
    unrated = activity.unrated_closed(frame)
    assert unrated.empty and list(unrated.columns) == activity.UNRATED_COLUMNS


def test_labels():
    assert activity.KINDS == ("request", "notice", "disclosure", "consultation", "decision", "review")
    assert set(activity.KIND_LABELS) == set(activity.KINDS)
    assert activity.KIND_LABELS["decision"] == "民主决策全过程公开"
