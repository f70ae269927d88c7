"""The age of every number: each input's own date, its age on the report day and the 数据未更新 mark."""

import datetime as dt

import pandas as pd

from yukuai_pipeline.metrics.data_dates import (
    CURRENT,
    MISSING,
    STALE,
    data_dates,
    date_note,
    date_phrase,
    newest_date,
)

DAY = dt.date(2023, 3, 30)


def test_an_old_activity_export_is_stale_and_a_fresh_roster_is_not():
    dates = data_dates(
        DAY,
        {"registrations": dt.date(2023, 3, 29), "activity": dt.date(2023, 2, 17), "roster": dt.date(2023, 2, 17)},
        {"activity": 7},
    ).set_index("input")
    assert dates.loc["activity", "age_days"] == 41
    assert dates.loc["activity", "status"] == STALE and bool(dates.loc["activity", "stale"])
    assert dates.loc["registrations", "status"] == CURRENT  # 1 day old: within the default 2
    assert dates.loc["roster", "status"] == CURRENT  # 41 days: within the default 90
    assert dates.loc["registry", "status"] == MISSING and pd.isna(dates.loc["registry", "age_days"])


def test_the_limit_is_inclusive_and_configurable():
    on_limit = data_dates(DAY, {"activity": DAY - dt.timedelta(days=7)}, {"activity": 7}).set_index("input")
    assert not bool(on_limit.loc["activity", "stale"])
    tighter = data_dates(DAY, {"activity": DAY - dt.timedelta(days=7)}, {"activity": 6}).set_index("input")
    assert bool(tighter.loc["activity", "stale"]) and tighter.loc["activity", "max_age_days"] == 6


def test_notes_name_the_date_and_the_mark():
    dates = data_dates(DAY, {"activity": dt.date(2023, 2, 17), "roster": dt.date(2023, 3, 1)}, {})
    assert date_note(dates, "activity") == "平台应用明细数据日期：2023-02-17（41 天前，数据未更新）"
    assert date_note(dates, "roster") == "基层队伍名单数据日期：2023-03-01"
    assert date_note(dates, "registry") == "社区基本信息：无数据"
    assert date_note(pd.DataFrame(), "activity") == ""
    # the same without the input's name, for lines that name it their own way
    assert date_phrase(dates, "activity") == "2023-02-17（41 天前，数据未更新）"
    assert date_phrase(dates, "roster") == "2023-03-01" and date_phrase(dates, "registry") == "无数据"
    assert date_phrase(pd.DataFrame(), "activity") == ""


def test_newest_date_of_a_column():
    assert newest_date(pd.Series(["2023-02-17", None, "2023-02-18"])) == dt.date(2023, 2, 18)
    assert newest_date(pd.Series([None, None], dtype="object")) is None
