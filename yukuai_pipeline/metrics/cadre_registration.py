"""Did the cadres register? (the notice asks 两委成员、村（居）民小组长、村（居）民代表等带头使用). A roster member
and a platform user are the same person when their phone numbers' keyed tokens are equal (intake/keyed_hash.py); neither
side keeps the number. A user counts as registered unless the platform rejected them, and as approved when 已通过.
A user whose 推荐人/邀请人 token is a cadre's phone token was brought in by that cadre. Every row names the date of the
registration export and of the roster it was matched from: a match is only as current as the older of the two.
Pure pandas, no I/O.
"""

import datetime as dt

import pandas as pd

from yukuai_pipeline.metrics.data_dates import newest_date

# the roster's role groups the notice names as those who lead by example (roster_rules.yaml role_group_labels)
LEADING_GROUPS = ("committee", "group_leader", "representative")
PERSON_COLUMNS = [
    "township",
    "village",
    "person_key",
    "name",
    "role_groups",
    "has_token",
    "registered",
    "approved",
    "referred_users",
    "referred_approved",
    "export_date",
    "roster_date",
]
SUMMARY_COLUMNS = [
    "township",
    "village",
    "role_group",
    "members",
    "with_token",
    "registered",
    "approved",
    "export_date",
    "roster_date",
]


def _status_by_token(users: pd.DataFrame) -> pd.DataFrame:
    """One row per phone token: registered (any status but rejected) and approved (已通过), over all its accounts."""
    known = users[users["phone_token"].notna()]
    status = known["status"].fillna("approved") if "status" in known else pd.Series("approved", index=known.index)
    flags = pd.DataFrame(
        {"token": known["phone_token"], "registered": status != "rejected", "approved": status == "approved"}
    )
    return flags.groupby("token")[["registered", "approved"]].any()


def _referrals(users: pd.DataFrame) -> pd.DataFrame:
    if "referrer_token" not in users:
        return pd.DataFrame(columns=["referred_users", "referred_approved"], dtype="int64")
    referred = users[users["referrer_token"].notna()]
    approved = (referred["status"] == "approved") if "status" in referred else pd.Series(True, index=referred.index)
    return (
        pd.DataFrame({"token": referred["referrer_token"], "user": 1, "approved": approved.astype("int64")})
        .groupby("token")
        .agg(referred_users=("user", "sum"), referred_approved=("approved", "sum"))
    )


def match_cadres(
    members: pd.DataFrame, users: pd.DataFrame, export_date: dt.date | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per roster person, one row per village and role group). members: roster_members rows (one per
    person and role: township, village, person_key, name, role_group, phone_token, and roster_date, the roster's
    own date); users: the day's export rows (phone_token, status, and referrer_token when the export names a
    referrer); export_date: the date of that export. Both dates are copied onto every row (None when unknown)."""
    keys = ["township", "village", "person_key"]
    people = members.groupby(keys, sort=True).agg(name=("name", "first"), token=("phone_token", "first"))
    people.insert(1, "role_groups", _role_groups(members, keys).reindex(people.index))
    people = people.reset_index()
    status = _status_by_token(users)
    referrals = _referrals(users)
    people = people.join(status, on="token").join(referrals, on="token")
    people["has_token"] = people["token"].notna()
    for flag in ("registered", "approved"):
        people[flag] = people[flag].astype("boolean").fillna(False).astype(bool)
    for count in ("referred_users", "referred_approved"):
        people[count] = people[count].fillna(0).astype("int64")
    per_role = members[["township", "village", "person_key", "role_group"]].drop_duplicates()
    per_role = per_role.merge(people, on=["township", "village", "person_key"])
    summary = (
        per_role.groupby(["township", "village", "role_group"], sort=True)
        .agg(
            members=("person_key", "nunique"),
            with_token=("has_token", "sum"),
            registered=("registered", "sum"),
            approved=("approved", "sum"),
        )
        .reset_index()
    )
    roster_date = newest_date(members["roster_date"]) if "roster_date" in members else None
    dates = {"export_date": export_date, "roster_date": roster_date}
    return people.assign(**dates)[PERSON_COLUMNS], summary.assign(**dates)[SUMMARY_COLUMNS].astype(
        dict.fromkeys(("members", "with_token", "registered", "approved"), "int64")
    )


def _role_groups(members: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Each person's role groups in the order the roster lists them, joined by 、 — most people have one, so only
    the few with several are joined in Python (a join per person took seconds for a county)."""
    pairs = members[[*keys, "role_group"]].drop_duplicates()
    several = pairs.duplicated(keys, keep=False)
    one = pairs[~several].set_index(keys)["role_group"]
    joined = pairs[several].groupby(keys, sort=False)["role_group"].agg("、".join)
    return pd.concat([one, joined])


def not_leading(summary: pd.DataFrame) -> pd.DataFrame:
    """Villages whose 两委, 小组长 or 代表 (with a phone on the roster) are not all registered and approved."""
    leading = summary[summary["role_group"].isin(LEADING_GROUPS)]
    return leading[leading["approved"] < leading["with_token"]].reset_index(drop=True)
