"""Did the cadres register? The demo's roster cadres who took over a demo user's account, matched by keyed phone
tokens from a real run, with the numbers themselves kept nowhere (issue 20 item 3), each match dated by the export
and the roster it came from."""

import datetime as dt
import re

import pandas as pd
from openpyxl import load_workbook

from support.runner import check_evaluation
from yukuai_pipeline.contracts import TABLES

FIRST, SECOND = dt.date(2023, 2, 17), dt.date(2023, 2, 18)
KEY = "demo-only-person-key-not-for-production"


def _quota_sheet_rows(tmp_path, day: dt.date) -> list[tuple]:
    book = load_workbook(tmp_path / "reports" / f"酉阳县渝快社区注册进度报表_{day}.xlsx", read_only=True)
    return list(book["干部分配任务"].iter_rows(max_row=2, values_only=True))


def test_without_a_key_the_feature_says_it_is_off(runner, monkeypatch, tmp_path):
    monkeypatch.delenv("YUKUAI_PERSON_KEY", raising=False)
    monkeypatch.delenv("YUKUAI_PERSON_KEY_FILE", raising=False)
    result = runner.run(FIRST.isoformat())
    assert result.success
    check = check_evaluation(result, "cadres_lead_by_example")
    assert "未配置人员比对密钥" in str(check.description)
    assert runner.table("cadre_registration").empty
    assert runner.table("roster_members", snapshot_date=FIRST)["phone_token"].isna().all()
    dates, header = _quota_sheet_rows(tmp_path, FIRST)
    assert dates[0] == "基层队伍名单数据日期：2023-02-17"  # the quotas' roster; no match to date
    assert header[:3] == ("乡镇（街道）", "村（社区）", "姓名") and header[8] == "本人已注册"


def test_cadres_are_matched_and_no_number_is_kept(runner, landing, monkeypatch, tmp_path):
    monkeypatch.setenv("YUKUAI_PERSON_KEY", KEY)
    assert runner.run(FIRST.isoformat()).success
    result = runner.run(SECOND.isoformat())
    assert result.success
    people = runner.table("cadre_registration", snapshot_date=SECOND)
    members = runner.table("roster_members", snapshot_date=SECOND)
    assert set(people["person_key"]) == set(members["person_key"])  # everyone on the roster has a row
    # the demo gives some 两委 members of its first villages a user account, and later users name them as 推荐人
    assert people["registered"].sum() > 50 and people["referred_users"].sum() > 0
    assert people["approved"].sum() <= people["registered"].sum()
    summary = runner.table("cadre_registration_summary", snapshot_date=SECOND)
    committee = summary[summary["role_group"] == "committee"]
    assert int(committee["registered"].sum()) == int(
        people[people["registered"] & people["role_groups"].str.contains("committee")].shape[0]
    )
    check = check_evaluation(result, "cadres_lead_by_example")
    assert not check.passed and "尚未注册或未通过审核" in str(check.description)
    # matched from the day's own registration export and the roster landed on the first day, on every row
    for table in (people, summary):
        assert set(table["export_date"]) == {SECOND} and set(table["roster_date"]) == {FIRST}
    assert set(members["roster_date"]) == {FIRST}
    # stored as ranges (warehouse/stored_as_ranges.py): a person whose answers did not change is one row for both days
    first = runner.table("cadre_registration", snapshot_date=FIRST)
    changed = len(pd.concat([first, people]).drop(columns=["snapshot_date", "export_date"]).drop_duplicates())
    with runner.warehouse.engine.connect() as conn:
        stored = pd.read_sql("SELECT count(*) AS n FROM cadre_registration__ranges", conn)["n"].iloc[0]
        entries = pd.read_sql("SELECT count(*) AS n FROM cadre_registration__days", conn)["n"].iloc[0]
    assert entries == 2 and stored == changed < len(people) + len(first)
    first_summary = runner.table("cadre_registration_summary", snapshot_date=FIRST)
    distinct = pd.concat([first_summary, summary]).drop(columns=["snapshot_date", "export_date"]).drop_duplicates()
    with runner.warehouse.engine.connect() as conn:  # the per-village counts are kept the same way
        counts = pd.read_sql("SELECT count(*) AS n FROM cadre_registration_summary__ranges", conn)["n"].iloc[0]
    assert counts == len(distinct) < len(summary) + len(first_summary)
    dates, header = _quota_sheet_rows(tmp_path, SECOND)
    assert dates[0] == (
        "基层队伍名单数据日期：2023-02-17；本人已注册、本人已通过审核、推荐注册人数按用户注册导出（2023-02-18）"
        "与基层队伍名单（2023-02-17）逐人比对"
    )
    assert header[8:11] == ("本人已注册", "本人已通过审核", "推荐注册人数")
    # the tokens are letters only, and no table holds an 11-digit phone number of the export
    tokens = members["phone_token"].dropna()
    assert len(tokens) and tokens.str.fullmatch(r"[a-p]{32}").all()
    engine = runner.warehouse.engine
    phone = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
    with engine.connect() as conn:
        for table in TABLES:
            frame = pd.read_sql_table(table, conn)
            text = frame.astype(str).to_numpy().ravel()
            assert not any(phone.search(str(cell)) for cell in text), table
