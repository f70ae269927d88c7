"""Date and time cells that used to stop a day with a traceback (issue: "Half-written, contradictory and hostile
files…"): times with a zone, dates outside datetime64[ns]'s range, time-only and duration cells. The rules are
in yukuai_pipeline/intake/datetime_parsing.py's docstring: a zoned time is converted to Asia/Shanghai wall-clock
time and its zone dropped; anything that names no real day inside 1677-09-21 .. 2262-04-11 is unreadable
(无法识别为日期/时间), which quarantines the row when the field is required. Checked through parse_datetime
(Arrow text, a workbook's object column) and through intake.load on small CSV and xlsx files."""

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.bad_inputs import HEADER, write_csv, write_xlsx
from yukuai_pipeline.intake.arrow_csv import TEXT
from yukuai_pipeline.intake.datetime_parsing import parse_datetime
from yukuai_pipeline.intake.file_identity import identify
from yukuai_pipeline.intake.loading import load

T = pd.Timestamp
UNREADABLE = "unreadable"
USUAL = "2023-02-17 08:00:00"  # a neighbour in the export's usual format: the column takes the fast path first

TEXT_CELLS = [
    # zoned: the instant, in Asia/Shanghai
    ("2023-02-19T08:00:00Z", T("2023-02-19 16:00")),
    ("2023-02-19T08:00:00+08:00", T("2023-02-19 08:00")),
    ("2023-02-19 08:00:00+0800", T("2023-02-19 08:00")),
    ("2023-02-19T08:00:00+08", T("2023-02-19 08:00")),
    ("2023-02-19 08:00:00+0000", T("2023-02-19 16:00")),
    ("2023-02-19T08:00:00.000Z", T("2023-02-19 16:00")),
    ("2023-02-19T08:00:00.5+08:00", T("2023-02-19 08:00:00.5")),
    ("2023-02-19 08:00 UTC", T("2023-02-19 16:00")),
    ("2023-02-19 08:00:00 UTC+8", T("2023-02-19 08:00")),
    ("2023-02-19 08:00 gmt-5", T("2023-02-19 21:00")),
    ("Sun Feb 19 2023 08:00:00 GMT+0800", T("2023-02-19 08:00")),  # dateutil alone reads GMT+0800 as UTC-8
    ("2023-02-18T20:00:00Z", T("2023-02-19 04:00")),  # the next day in Shanghai: the reason to convert
    ("2023-02-19T00:30:00-05:00", T("2023-02-19 13:30")),
    ("1988-06-01T00:00:00Z", T("1988-06-01 09:00")),  # the tz database, not a fixed +8: China had summer time then
    ("２０２３－０２－１９Ｔ０８：００：００Ｚ", T("2023-02-19 16:00")),
    ("2262-04-11T23:00:00+08:00", T("2262-04-11 23:00")),
    ("2023-02-19T08:00:00+15:00", UNREADABLE),  # no such offset
    ("2023-02-19 08:00 EST", UNREADABLE),  # a zone name: not guessed
    ("2023-02-19 08:00 CST", UNREADABLE),  # China or US Central? not guessed
    ("2262-04-11T20:00:00Z", UNREADABLE),  # in range as written, out of it in Shanghai
    # out of datetime64[ns]'s range, or absurd
    ("9999-12-31", UNREADABLE),
    ("9999-12-31 23:59:59", UNREADABLE),
    ("9999/12/31", UNREADABLE),
    ("0001-01-01", UNREADABLE),
    ("0001-01-01 00:00:00", UNREADABLE),
    ("3000-01-01", UNREADABLE),
    ("2262-04-12", UNREADABLE),
    ("1677-09-20", UNREADABLE),
    ("99999999-01-01", UNREADABLE),
    ("2023-02-30", UNREADABLE),
    ("2023-13-45", UNREADABLE),
    ("08:30", UNREADABLE),  # a time of day names no day (the free-form parser would take today's)
    ("2月19日", UNREADABLE),  # nor does a day without its year
    ("昨天", UNREADABLE),
    ("1e400", UNREADABLE),
    ("99999", UNREADABLE),  # an Excel serial, but not of a plausible date
    # what was read before is read the same
    ("2023-02-19T08:00:00", T("2023-02-19 08:00")),
    ("2023/02/19 08:00:00.5", T("2023-02-19 08:00:00.5")),
    ("2023.2.19", T("2023-02-19")),
    ("2023/2/19", T("2023-02-19")),
    ("2023年2月19日 8时30分", T("2023-02-19 08:30")),
    ("20230219", T("2023-02-19")),
    ("44976.5", T("2023-02-19 12:00")),
    ("2262-04-11", T("2262-04-11")),  # in range: plausibility is the contract's business
]

EMPTY_TEXT = ["", "  ", "无", "-", "NULL"]


def _one(column: pd.Series):
    out, bad = parse_datetime(column)
    assert out.dtype == "datetime64[ns]" and bad.dtype == bool
    return out, bad


def _expect(out: pd.Series, bad: pd.Series, position: int, expected) -> None:
    if expected == UNREADABLE:
        assert pd.isna(out.iloc[position]) and bool(bad.iloc[position])
    else:
        assert out.iloc[position] == expected and not bool(bad.iloc[position])


@pytest.mark.parametrize("text, expected", TEXT_CELLS, ids=[c[0] for c in TEXT_CELLS])
def test_text_cell_in_an_arrow_column(text, expected):
    out, bad = _one(pd.Series([USUAL, text, None], dtype=TEXT))
    _expect(out, bad, 1, expected)
    assert out.iloc[0] == T(USUAL) and not bad.iloc[0] and pd.isna(out.iloc[2]) and not bad.iloc[2]


@pytest.mark.parametrize("text, expected", TEXT_CELLS, ids=[c[0] for c in TEXT_CELLS])
def test_text_cell_in_a_workbook_column(text, expected):
    """calamine's column of mixed cells: Python datetimes, numbers and text."""
    out, bad = _one(pd.Series([dt.datetime(2023, 2, 17, 8), text, 44976.5, None], dtype=object))
    _expect(out, bad, 1, expected)
    assert (
        out.iloc[0] == T("2023-02-17 08:00") and out.iloc[2] == T("2023-02-19 12:00") and not bad.iloc[[0, 2, 3]].any()
    )


def test_a_whole_column_of_each_form_reads_as_its_single_cell():
    """The vectorised passes over many cells give what each cell gives alone."""
    texts = [t for t, _ in TEXT_CELLS] * 50 + EMPTY_TEXT
    out, bad = _one(pd.Series(texts, dtype=TEXT))
    for position, (_text, expected) in enumerate(TEXT_CELLS):
        _expect(out, bad, position, expected)
    assert out.iloc[-len(EMPTY_TEXT) :].isna().all() and not bad.iloc[-len(EMPTY_TEXT) :].any()
    assert out.iloc[: len(TEXT_CELLS)].tolist() * 50 == out.iloc[: -len(EMPTY_TEXT)].tolist()


UTC = dt.UTC
WORKBOOK_CELLS = [
    (dt.datetime(2023, 2, 19, 8), T("2023-02-19 08:00")),
    (dt.date(2023, 2, 19), T("2023-02-19")),
    (dt.datetime(2023, 2, 19, 8, tzinfo=UTC), T("2023-02-19 16:00")),
    (dt.datetime(2023, 2, 19, 8, tzinfo=ZoneInfo("Asia/Shanghai")), T("2023-02-19 08:00")),
    (T("2023-02-19 08:00", tz="America/New_York"), T("2023-02-19 21:00")),
    (np.datetime64("2023-02-19T08:00"), T("2023-02-19 08:00")),
    (44976.5, T("2023-02-19 12:00")),
    (44976, T("2023-02-19")),
    (dt.datetime(9999, 12, 31), UNREADABLE),
    (dt.date(9999, 12, 31), UNREADABLE),  # what calamine gives for Excel's last day
    (dt.date(3000, 1, 1), UNREADABLE),
    (dt.datetime(1, 1, 1), UNREADABLE),
    (dt.datetime(9999, 12, 31, 23, tzinfo=UTC), UNREADABLE),
    (dt.time(0, 0), UNREADABLE),  # what calamine gives for a date before 1900: never today's midnight
    (dt.time(8, 30), UNREADABLE),
    (dt.timedelta(hours=5), UNREADABLE),
    (2958466.0, UNREADABLE),
    (-1.0, UNREADABLE),
    (1e308, UNREADABLE),
    (float("inf"), UNREADABLE),
    (10**400, UNREADABLE),  # too large for a float
    (True, UNREADABLE),
]


@pytest.mark.parametrize("cell, expected", WORKBOOK_CELLS, ids=[repr(c[0]) for c in WORKBOOK_CELLS])
def test_workbook_cell(cell, expected):
    out, bad = _one(
        pd.Series([dt.datetime(2023, 2, 17, 8), cell, "2023-02-19T08:00:00Z", float("nan"), None], dtype=object)
    )
    _expect(out, bad, 1, expected)
    assert out.iloc[0] == T("2023-02-17 08:00") and out.iloc[2] == T("2023-02-19 16:00")
    assert not bad.iloc[[0, 2, 3, 4]].any() and out.iloc[[3, 4]].isna().all()


# ---- no cell raises -----------------------------------------------------------------------------------------------

_PIECES = [
    "2023",
    "9999",
    "0001",
    "3000",
    "2262",
    "1677",
    "02",
    "2",
    "19",
    "31",
    "12",
    "08",
    "00",
    "5",
    "44976",
    "-",
    "/",
    ".",
    ":",
    " ",
    "T",
    "Z",
    "z",
    "+",
    "-05",
    "+08:00",
    "+0800",
    "+14",
    "+15:00",
    "UTC",
    "GMT",
    "EST",
    "CST",
    "年",
    "月",
    "日",
    "时",
    "分",
    "秒",
    "２",
    "－",
    "Feb",
    "Sun",
    "(",
    ")",
    ",",
    "e",
    "\x00",
    "=1+1",
]
TEXTS = st.one_of(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join), st.text(max_size=40))
CELLS = st.one_of(
    TEXTS,
    st.none(),
    st.floats(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1, 1, 1), timezones=st.none() | st.timezones()),
    st.dates(),
    st.times(),
    st.timedeltas(),
)
BOUNDED = settings(
    max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b


@BOUNDED
@given(st.lists(TEXTS, min_size=1, max_size=10))
def test_no_text_raises_and_a_column_reads_as_its_cells(texts):
    out, bad = _one(pd.Series(texts, dtype=TEXT))
    for position, text in enumerate(texts):
        alone, alone_bad = _one(pd.Series([text], dtype=TEXT))
        assert _same(alone.iloc[0], out.iloc[position]) and alone_bad.iloc[0] == bad.iloc[position], text
        if bad.iloc[position]:
            assert pd.isna(out.iloc[position])


@BOUNDED
@given(st.lists(CELLS, min_size=1, max_size=10))
def test_no_workbook_cell_raises(cells):
    out, bad = _one(pd.Series(cells, dtype=object))
    assert (out.isna() | ~bad).all()
    for position, cell in enumerate(cells):
        if isinstance(cell, str):  # a text cell among others reads as it does in an all-text column
            alone, _ = _one(pd.Series([cell], dtype=TEXT))
            assert _same(alone.iloc[0], out.iloc[position]), cell


# ---- through intake.load -----------------------------------------------------------------------------------------

DAY = "20230220"
_FILE_CELLS = [  # (注册时间 as written, expected registered_at or None when the row is quarantined)
    ("2023-02-19T08:00:00Z", dt.datetime(2023, 2, 19, 16)),
    ("2023-02-19T08:00:00+08:00", dt.datetime(2023, 2, 19, 8)),
    ("2023-02-18T20:00:00Z", dt.datetime(2023, 2, 19, 4)),
    ("9999-12-31", None),
    ("0001-01-01", None),
    ("3000-01-01 00:00:00", None),
    ("2023-02-19 08:00 EST", None),
    ("2023-02-19 08:00:00", dt.datetime(2023, 2, 19, 8)),
]


def _rows(times: list) -> list[list]:
    return [[i + 1, f"YK{i + 1:08d}", "x", "", "龙潭镇", "某村", t, "已通过"] for i, t in enumerate(times)]


def _check_loaded(loaded, expected: list, first_row: int) -> None:
    """Rows whose expected time is None are quarantined on registered_at with 无法识别为日期/时间; the others kept
    with exactly their times."""
    quarantined = loaded.issues[loaded.issues["quarantined"].astype(bool)]
    bad_rows = [first_row + i for i, e in enumerate(expected) if e is None]
    assert sorted(zip(quarantined["row_number"].astype(int), quarantined["field"])) == [
        (r, "registered_at") for r in bad_rows
    ]
    assert quarantined["message"].str.contains("无法识别为日期/时间").all()
    assert loaded.accepted["registered_at"].tolist() == [T(e) for e in expected if e is not None]
    assert len(loaded.accepted) + loaded.quarantined == loaded.rows == len(expected)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_csv_file(tmp_path, encoding):
    path = tmp_path / f"注册用户_{DAY}.csv"
    write_csv(path, _rows([t for t, _ in _FILE_CELLS]), encoding=encoding)
    loaded = load(path, identify(path))
    _check_loaded(loaded, [e for _, e in _FILE_CELLS], first_row=2)
    values = loaded.issues.set_index("row_number")["value_masked"]
    assert values[5] == "9999-12-31" and values[6] == "0001-01-01"


def test_one_bad_time_in_a_million_row_style_csv_is_one_quarantined_row(tmp_path):
    """The fast path (every other cell in the usual format) with one zoned and one out-of-range cell among them."""
    times = ["2023-02-01 08:00:00"] * 2000
    times[700], times[1500] = "2023-02-19T08:00:00Z", "9999-12-31 23:59:59"
    path = tmp_path / f"注册用户_{DAY}.csv"
    write_csv(path, _rows(times))
    loaded = load(path, identify(path))
    assert loaded.rows == 2000 and len(loaded.accepted) == 1999 and loaded.quarantined == 1
    assert loaded.issues["row_number"].tolist() == [1502]
    assert loaded.accepted.set_index("_row").loc[702, "registered_at"] == T("2023-02-19 16:00")


def test_xlsx_file(tmp_path):
    cells = [  # (cell as written with openpyxl, expected)
        ("2023-02-19T08:00:00Z", dt.datetime(2023, 2, 19, 16)),
        (dt.datetime(2023, 2, 19, 8), dt.datetime(2023, 2, 19, 8)),
        (dt.datetime(9999, 12, 31), None),  # calamine: date(9999, 12, 31)
        (dt.datetime(3000, 1, 1), None),
        (dt.datetime(1, 1, 1), None),  # a negative serial: calamine gives time(0, 0)
        (dt.time(8, 30), None),
        (dt.timedelta(hours=5), None),
        (44976.5, dt.datetime(2023, 2, 19, 12)),
        (2958466, None),
        ("2023-02-19 08:00:00+0000", dt.datetime(2023, 2, 19, 16)),
        ("9999-12-31", None),
    ]
    path = tmp_path / f"注册用户_{DAY}.xlsx"
    write_xlsx(path, {"Sheet1": [HEADER, *_rows([c for c, _ in cells])]})
    _check_loaded(load(path, identify(path)), [e for _, e in cells], first_row=2)


def test_optional_time_is_emptied_and_the_required_one_quarantines(tmp_path):
    """platform_activity: 发生时间 (required) unreadable quarantines the row; 办结时间 (optional) unreadable is
    reported and emptied, the row kept."""
    header = ["乡镇（街道）", "村（社区）", "类型", "发生时间", "办理状态", "办结时间"]
    rows = [
        ["龙潭镇", "某村", "居民诉求", "2023-02-18T20:00:00Z", "已办结", "9999-12-31"],
        ["龙潭镇", "某村", "居民诉求", "0001-01-01", "已办结", "2023-02-19T01:00:00Z"],
        ["龙潭镇", "某村", "居民诉求", "2023-02-19 08:00:00", "已办结", "2023-02-19T01:00:00Z"],
    ]
    path = tmp_path / f"平台应用_{DAY}.csv"
    write_csv(path, rows, header=header)
    loaded = load(path, identify(path))
    assert loaded.identity.kind == "platform_activity"
    issues = loaded.issues.set_index(["row_number", "field"])
    assert bool(issues.loc[(3, "occurred_at"), "quarantined"]) and not bool(issues.loc[(2, "closed_at"), "quarantined"])
    assert loaded.accepted["_row"].tolist() == [2, 4]
    assert loaded.accepted["occurred_at"].tolist() == [T("2023-02-19 04:00"), T("2023-02-19 08:00")]
    assert pd.isna(loaded.accepted["closed_at"].iloc[0]) and loaded.accepted["closed_at"].iloc[1] == T(
        "2023-02-19 09:00"
    )
