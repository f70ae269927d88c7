"""Did the cadres register? The demo's roster cadres who took over a demo user's account, matched by keyed phone
tokens from a real run, with the numbers themselves kept nowhere (issue 20 item 3)."""

import datetime as dt
import re

import pandas as pd

from yukuai_pipeline.contracts import TABLES

FIRST, SECOND = dt.date(2023, 2, 17), dt.date(2023, 2, 18)
KEY = "demo-only-person-key-not-for-production"


def _check(result, name):
    (found,) = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == name
    ]
    return found


def test_without_a_key_the_feature_says_it_is_off(runner, monkeypatch):
    monkeypatch.delenv("YUKUAI_PERSON_KEY", raising=False)
    monkeypatch.delenv("YUKUAI_PERSON_KEY_FILE", raising=False)
    result = runner.run(FIRST.isoformat())
    assert result.success
    check = _check(result, "cadres_lead_by_example")
    assert "未配置人员比对密钥" in str(check.description)
    assert runner.table("cadre_registration").empty
    assert runner.table("roster_members", snapshot_date=FIRST)["phone_token"].isna().all()


def test_cadres_are_matched_and_no_number_is_kept(runner, landing, monkeypatch):
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
    check = _check(result, "cadres_lead_by_example")
    assert not check.passed and "尚未注册或未通过审核" in str(check.description)
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
