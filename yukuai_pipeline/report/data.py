"""What the daily report is built from: `ReportData`, the day's tables read from the warehouse (townships, villages,
roster, issues, quotas, the county's history, platform activity) with the campaign they belong to, and the report's
title as the notice prints it.
"""

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from yukuai_pipeline.campaign import Campaign


@dataclass
class ReportData:
    snapshot_date: dt.date
    campaign: Campaign
    townships: pd.DataFrame
    villages: pd.DataFrame
    roster: pd.DataFrame
    roster_summary: pd.DataFrame
    issues: pd.DataFrame
    quotas: pd.DataFrame
    county_history: pd.DataFrame
    activity: pd.DataFrame = field(default_factory=pd.DataFrame)  # platform_activity_rollup rows of the day
    # each input's own date in force on the day, its age and 数据未更新 status (metrics/data_dates.py)
    data_dates: pd.DataFrame = field(default_factory=pd.DataFrame)
    community_orgs: pd.DataFrame = field(default_factory=pd.DataFrame)  # per village (steps/community_orgs.py)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)  # township_scores of the day (考核得分)
    registry_completeness: pd.DataFrame = field(default_factory=pd.DataFrame)  # per village (registry_scoring.py)
    registry_township_summary: pd.DataFrame = field(default_factory=pd.DataFrame)


def report_title(data: ReportData) -> str:
    """The campaign title with the notice's typographic quotes (campaign.yaml writes ASCII ones)."""
    first, *rest = data.campaign.title.split('"')
    return first + "".join(("“" if i % 2 == 0 else "”") + part for i, part in enumerate(rest))
