"""The age of every number (issue 19 item 4): each reference input's own snapshot date in force on a report day,
how many days old it is, and whether it is older than the campaign allows (campaign.yaml `freshness`), in which case
the report and the bulletin mark its figures 数据未更新 instead of showing them as the day's.
"""

import datetime as dt

import pandas as pd

# input kind -> (the officer's name of the input, the day's table and its column naming the input's own date)
INPUTS: dict[str, tuple[str, str, str]] = {
    "registrations": ("用户注册导出", "township_progress", "data_date"),
    "activity": ("平台应用明细", "platform_activity", "activity_date"),
    "roster": ("基层队伍名单", "roster_completeness", "roster_date"),
    "registry": ("社区基本信息", "community_registry", "registry_date"),
    "orgs": ("社区社会组织信息", "community_orgs", "orgs_date"),
}
# days an input may be older than the report day before its figures are marked 数据未更新; the notice asks for
# daily registration figures and a 30-day window of the other functions; a roster or registry changes rarely
DEFAULT_MAX_AGE_DAYS = {"registrations": 2, "activity": 7, "roster": 90, "registry": 90, "orgs": 90}

CURRENT, STALE, MISSING = "当日数据", "数据未更新", "无数据"
COLUMNS = ["input", "label", "data_date", "age_days", "max_age_days", "stale", "status"]


def newest_date(values: pd.Series) -> dt.date | None:
    """The input's date as a day's table carries it (one value per day; the newest if a table mixes them)."""
    dates = pd.to_datetime(pd.Series(values), errors="coerce").dropna()
    return None if dates.empty else dates.max().date()


def data_dates(day: dt.date, dates: dict[str, dt.date | None], max_age_days: dict[str, int]) -> pd.DataFrame:
    """One row per input kind of INPUTS: its date in force on `day`, its age in days, and its status."""
    rows = []
    for kind, (label, _, _) in INPUTS.items():
        when = dates.get(kind)
        limit = int(max_age_days.get(kind, DEFAULT_MAX_AGE_DAYS[kind]))
        age = None if when is None else (day - when).days
        stale = age is not None and age > limit
        status = MISSING if when is None else STALE if stale else CURRENT
        rows.append((kind, label, when, age, limit, stale, status))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"age_days": "Int64", "max_age_days": "Int64", "stale": "bool"})


def _row(dates: pd.DataFrame, kind: str) -> pd.Series | None:
    row = dates[dates["input"] == kind] if len(dates) else dates
    return None if row.empty else row.iloc[0]


def date_phrase(dates: pd.DataFrame, kind: str) -> str:
    """`2023-02-17（41 天前，数据未更新）`, `2023-02-17` or `无数据` for one input kind, without its name (for lines
    that name it their own way: the 考核得分's parts, the cadres' match); empty when the frame has no such row."""
    row = _row(dates, kind)
    if row is None:
        return ""
    if row["data_date"] is None or pd.isna(row["data_date"]):
        return MISSING
    when = pd.Timestamp(row["data_date"]).date().isoformat()
    return f"{when}（{int(row['age_days'])} 天前，{STALE}）" if bool(row["stale"]) else when


def date_note(dates: pd.DataFrame, kind: str) -> str:
    """`数据日期：2023-02-17（41 天前，数据未更新）` for one input kind; empty when the frame has no such row."""
    row = _row(dates, kind)
    if row is None:
        return ""
    phrase = date_phrase(dates, kind)
    return f"{row['label']}：{phrase}" if phrase == MISSING else f"{row['label']}数据日期：{phrase}"


def stale_inputs(dates: pd.DataFrame) -> pd.DataFrame:
    return dates[dates["stale"]] if len(dates) else dates
