"""Keyed tokens of phone and ID numbers (issue 20 item 3) and the cadre match built on them, dated by its inputs."""

import datetime as dt
import re

import pandas as pd
import pytest

from yukuai_pipeline.intake import keyed_hash
from yukuai_pipeline.intake.body_rows import with_tokens
from yukuai_pipeline.metrics.cadre_registration import match_cadres, not_leading

KEY = b"a-test-key-of-enough-length-0001"


def test_tokens_are_keyed_normalised_and_never_look_like_a_number():
    same = keyed_hash.tokens(pd.Series(["13812345678", "+86 138-1234-5678", "138 1234 5678"]), "phone", KEY)
    assert same.nunique() == 1
    assert re.fullmatch(r"[a-p]{32}", same.iloc[0])  # letters only: no digit run for a scrubber to take for a phone
    other_key = keyed_hash.tokens(pd.Series(["13812345678"]), "phone", b"another-key-of-enough-length-02")
    assert other_key.iloc[0] != same.iloc[0]
    # the kind is part of the message: the same digits as a phone and as an ID give different tokens
    assert keyed_hash.token(KEY, "phone", "1") != keyed_hash.token(KEY, "id_number", "1")
    bad = keyed_hash.tokens(pd.Series(["23812345678", "1381234567", None, float("nan"), "张三"]), "phone", KEY)
    assert bad.isna().all()
    ids = keyed_hash.tokens(pd.Series(["50024219900101123x", "500242199001011234 "]), "id_number", KEY)
    assert ids.notna().all() and ids.iloc[0] != ids.iloc[1]


def test_the_key_comes_from_a_file_or_the_environment_and_must_be_long(tmp_path):
    assert keyed_hash.person_key({}) is None  # off
    (tmp_path / "key").write_text("k" * 40 + "\n", encoding="utf-8")
    assert keyed_hash.person_key({"YUKUAI_PERSON_KEY_FILE": str(tmp_path / "key")}) == b"k" * 40
    assert keyed_hash.person_key({"YUKUAI_PERSON_KEY": "x" * 16}) == b"x" * 16
    with pytest.raises(keyed_hash.PersonKeyError, match="太短"):
        keyed_hash.person_key({"YUKUAI_PERSON_KEY": "short"})
    with pytest.raises(keyed_hash.PersonKeyError, match="无法读取"):
        keyed_hash.person_key({"YUKUAI_PERSON_KEY_FILE": str(tmp_path / "missing")})


def test_ingest_adds_tokens_only_with_a_key(monkeypatch):
    body = pd.DataFrame({"phone": ["13812345678"], "referrer": ["13900001111"], "user_id": ["U1"]})
    monkeypatch.delenv("YUKUAI_PERSON_KEY", raising=False)
    monkeypatch.delenv("YUKUAI_PERSON_KEY_FILE", raising=False)
    assert list(with_tokens(body, {"phone": "phone", "referrer": "phone"}).columns) == list(body.columns)
    monkeypatch.setenv("YUKUAI_PERSON_KEY", KEY.decode())
    tokened = with_tokens(body, {"phone": "phone", "referrer": "phone"})
    assert tokened["phone_token"].iloc[0] == keyed_hash.token(KEY, "phone", "13812345678")
    assert tokened["referrer_token"].iloc[0] == keyed_hash.token(KEY, "phone", "13900001111")


def _t(phone: str) -> str:
    return keyed_hash.token(KEY, "phone", phone)


def test_cadres_are_matched_to_users_and_their_referrals_counted():
    members = pd.DataFrame(
        {
            "township": "钟多街道",
            "village": "峡杨村",
            "person_key": ["P1", "P1", "P2", "P3", "P4"],
            "name": ["甲", "甲", "乙", "丙", "丁"],
            "role_group": ["committee", "representative", "committee", "group_leader", "committee"],
            "phone_token": [_t("13800000001"), _t("13800000001"), _t("13800000002"), _t("13800000003"), None],
        }
    )
    users = pd.DataFrame(
        {
            "phone_token": [_t("13800000001"), _t("13800000002"), _t("13900000009"), _t("13900000008")],
            "status": ["approved", "pending", "approved", "pending"],
            "referrer_token": [None, None, _t("13800000001"), _t("13800000001")],
        }
    )
    people, summary = match_cadres(members, users)
    people = people.set_index("person_key")
    assert people.loc["P1", ["registered", "approved", "referred_users", "referred_approved"]].tolist() == [
        True,
        True,
        2,
        1,
    ]
    assert people.loc["P2", ["registered", "approved"]].tolist() == [True, False]  # 待审核: registered, not approved
    assert not people.loc["P3", "registered"] and not people.loc["P4", "has_token"]
    assert people.loc["P1", "role_groups"] == "committee、representative"
    committee = summary.set_index("role_group").loc["committee"]
    assert committee[["members", "with_token", "registered", "approved"]].tolist() == [3, 2, 2, 1]
    behind = not_leading(summary).set_index("role_group")
    assert sorted(behind.index) == ["committee", "group_leader"]  # P2 not approved; P3 not registered


def test_every_match_names_the_export_and_the_roster_it_came_from():
    members = pd.DataFrame(
        {
            "township": "钟多街道",
            "village": "峡杨村",
            "person_key": ["P1", "P2", "P2"],
            "name": ["甲", "乙", "乙"],
            "role_group": ["committee", "committee", "representative"],
            "phone_token": [_t("13800000001"), _t("13800000002"), _t("13800000002")],
            "roster_date": [dt.date(2023, 1, 5)] * 3,
        }
    )
    users = pd.DataFrame({"phone_token": [_t("13800000001")], "status": ["approved"]})
    people, summary = match_cadres(members, users, dt.date(2023, 2, 18))
    for table in (people, summary):
        assert table["export_date"].tolist() == [dt.date(2023, 2, 18)] * len(table)
        assert table["roster_date"].tolist() == [dt.date(2023, 1, 5)] * len(table)
    assert len(people) == 2 and len(summary) == 2
    undated, undated_summary = match_cadres(members.drop(columns="roster_date"), users)
    assert undated["export_date"].isna().all() and undated_summary["roster_date"].isna().all()
