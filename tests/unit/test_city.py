"""The city rollup from each county's own county row: ranked by rate, dated, the city's gap not offset by a county
past its target, and a county without data counted by its target only."""

import datetime as dt

import pandas as pd

from yukuai_pipeline.metrics.city import CITY_CODE, city_progress, newest_county_rows

DAY = dt.date(2023, 3, 30)
COUNTIES = pd.DataFrame(
    {
        "county_code": ["500242", "509901", "500243"],
        "short_name": ["酉阳县", "演示县", "彭水县"],
        "resident_population": [853_945, 287_235, 500_000],
        "target": [102_476, 34_466, 60_000],
        "county_row_label": ["合计", "合计", "全县"],
    }
)


def _rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "county_code": ["500242", "500242", "509901", "509901", "509901"],
            "snapshot_date": [dt.date(2023, 3, 29), DAY, dt.date(2023, 3, 1), dt.date(2023, 3, 2), DAY],
            "township": ["合计", "合计", "合计", "合计", "龙潭镇"],
            "completed": [40_000, 41_000, 30_000, 36_000, 999],
        }
    )


def test_each_county_gives_its_newest_county_row_by_its_own_label():
    rows = newest_county_rows(_rows(), COUNTIES, DAY)
    got = rows.set_index("county_code")[["snapshot_date", "completed"]].to_dict("index")
    assert got == {
        "500242": {"snapshot_date": DAY, "completed": 41_000},
        "509901": {"snapshot_date": dt.date(2023, 3, 2), "completed": 36_000},  # 龙潭镇 of the day is not its 合计
    }
    assert newest_county_rows(_rows(), COUNTIES, dt.date(2023, 3, 1))["completed"].tolist() == [30_000]


def test_counties_ranked_with_dates_and_the_city_row():
    frame = city_progress(COUNTIES, newest_county_rows(_rows(), COUNTIES, DAY), DAY)
    by = frame.set_index("county_code")
    assert frame["county_code"].tolist() == ["509901", "500242", "500243", CITY_CODE]
    assert by.loc["509901", "rank"] == 1 and by.loc["500242", "rank"] == 2 and pd.isna(by.loc["500243", "rank"])
    assert by.loc["509901", "status"] == "沿用旧数据" and by.loc["509901", "data_date"] == dt.date(2023, 3, 2)
    assert by.loc["500242", "status"] == "当日" and by.loc["500243", "status"] == "无数据"
    assert by.loc["509901", "surplus"] == 36_000 - 34_466 and by.loc["509901", "gap"] == 0
    assert round(by.loc["500242", "completion_rate"], 6) == round(41_000 / 102_476, 6)
    city = by.loc[CITY_CODE]
    assert city["county_name"] == "全市合计" and city["target"] == 102_476 + 34_466 + 60_000
    assert city["completed"] == 41_000 + 36_000
    assert city["gap"] == 102_476 - 41_000  # 演示县's surplus does not make up 酉阳县's gap; 彭水县 has no data
    assert city["surplus"] == 36_000 - 34_466 and city["status"] == "沿用旧数据"
    assert city["data_date"] == dt.date(2023, 3, 2)  # the oldest figure in the city's total


def test_no_county_data_yet_gives_targets_only():
    frame = city_progress(COUNTIES, newest_county_rows(_rows(), COUNTIES, dt.date(2023, 2, 1)), dt.date(2023, 2, 1))
    assert frame["status"].tolist() == ["无数据"] * 4 and frame["rank"].isna().all()
    assert frame.iloc[-1]["target"] == 196_942 and pd.isna(frame.iloc[-1]["completed"])


def test_the_city_line_names_the_oldest_data_date_when_a_county_is_behind():
    from yukuai_pipeline.steps.city import _city_line

    frame = city_progress(COUNTIES, newest_county_rows(_rows(), COUNTIES, DAY), DAY)
    assert _city_line(frame.iloc[-1]) == "任务数 196,942，完成数 77,000，完成率 39.10%（含旧数据，最早 2023-03-02）"
