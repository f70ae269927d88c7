import datetime as dt

import pandas as pd
import pytest

from support.messy import HEADER, ROWS, write_csv, write_xlsx
from yukuai_pipeline.intake.file_identity import identify
from yukuai_pipeline.intake.loading import load
from yukuai_pipeline.intake.readers import InputFileError

TITLE = ["渝快社区注册用户明细", "导出时间：2023-02-17 08:00"]


def _ids(loaded) -> list[str]:
    return loaded.accepted["user_id"].tolist()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_every_encoding_with_title_rows(tmp_path, encoding):
    path = write_csv(tmp_path / "注册用户_20230217.csv", ROWS, encoding, TITLE)
    loaded = load(path)
    assert loaded.identity.kind == "registrations"
    assert loaded.identity.snapshot_date == dt.date(2023, 2, 17)
    assert _ids(loaded) == ["YK00000001", "YK00000002", "YK00000003"]
    assert loaded.accepted["status"].tolist() == ["approved", "pending", "rejected"]
    assert loaded.accepted["_row"].tolist() == [4, 5, 6]  # the file's own line numbers, title included
    assert loaded.accepted["registered_at"].dt.date.tolist() == [
        dt.date(2023, 2, 1),
        dt.date(2023, 2, 3),
        dt.date(2023, 2, 5),
    ]


@pytest.mark.parametrize(
    "name, title, expected",
    [
        ("注册用户_20230217.csv", [], dt.date(2023, 2, 17)),
        ("注册用户_2023-02-18.csv", [], dt.date(2023, 2, 18)),
        ("注册用户2023年2月19日.csv", [], dt.date(2023, 2, 19)),
        ("注册用户.csv", ["统计截止：2023-02-20"], dt.date(2023, 2, 20)),
        ("注册用户.csv", ["渝快社区注册用户明细（导出时间：2023年2月21日 08:00）"], dt.date(2023, 2, 21)),
        ("注册用户.csv", [], None),
    ],
)
def test_snapshot_date_from_name_or_title(tmp_path, name, title, expected):
    assert identify(write_csv(tmp_path / name, ROWS, title=title)).snapshot_date == expected


def test_xlsx_with_merged_title_two_row_header_total_and_footnotes(tmp_path):
    header_top = ["序号", "用户信息", None, None, "所属区域", None, "注册时间", "审核状态"]
    header_bottom = [None, "用户ID", "昵称", "手机号", "乡镇(街道)", "村（社 区）", None, None]
    path = write_xlsx(
        tmp_path / "明细_2023-02-17.xlsx",
        ROWS,
        [header_top, header_bottom],
        title=[["渝快社区注册用户明细"]],
        merges=["A1:H1", "B2:D2", "E2:F2", "A2:A3", "G2:G3", "H2:H3"],
        footer=[["合计", "共3人"], [], ["注：数据来源于平台"], ["制表人：张三"]],
    )
    loaded = load(path)
    assert loaded.identity.kind == "registrations"
    assert _ids(loaded) == ["YK00000001", "YK00000002", "YK00000003"]
    assert loaded.accepted["village"].tolist() == ["天山堡村", "某村", "某村"]
    assert loaded.total_rows and loaded.total_rows[0]["_row"] == 7
    assert loaded.issues.empty


def test_summary_with_numbers_as_text_full_width_digits_and_total_row(tmp_path):
    rows = [
        [1, "桃花源街道", "50,226", "6,028", "711"],
        [2, "钟多街道", "５９２５６", "7110", " 825 "],
        ["合计", None, "109,482", "13,138", "1,536"],
    ]
    path = write_xlsx(
        tmp_path / "汇总_20230217.xlsx", rows, [["序号", "乡镇（街道）", "常住人口数（人）", "任务数（人）", "完成数"]]
    )
    loaded = load(path)
    assert loaded.identity.kind == "registration_summary"
    assert loaded.accepted["resident_population"].tolist() == [50226, 59256]
    assert loaded.accepted["completed"].tolist() == [711, 825]
    assert len(loaded.total_rows) == 1


def test_columns_in_another_order_extra_columns_and_empty_columns(tmp_path):
    header = ["审核状态", "", "备注", "注册时间", "村（社区）", "乡镇（街道）", "用户编号"]
    rows = [
        ["已通过", "", "x", "2023-02-01", "天山堡村", "桃花源街道", "U1"],
        [],
        ["待审核", "", "", "2023-02-02", "a", "b", "U2"],
    ]
    loaded = load(write_xlsx(tmp_path / "x_20230217.xlsx", rows, [header]))
    assert _ids(loaded) == ["U1", "U2"]
    assert loaded.accepted["_row"].tolist() == [2, 4]


def test_bad_rows_are_quarantined_with_row_and_field_and_the_rest_kept(tmp_path):
    rows = [
        *ROWS,
        [4, "", "x", "", "龙潭镇", "某村", "2023-02-01", "已通过"],
        [5, "YK5", "x", "13900001111", "龙潭镇", "某村", "不是日期", "已通过"],
        [6, "YK6", "x", "13900001111", "龙潭镇", "某村", "2023-02-01", "神秘状态"],
    ]
    loaded = load(write_csv(tmp_path / "注册用户_20230217.csv", rows))
    assert _ids(loaded) == ["YK00000001", "YK00000002", "YK00000003"]
    issues = loaded.issues.set_index("row_number")
    assert issues.loc[5, "field"] == "user_id" and "必填" in issues.loc[5, "message"]
    assert issues.loc[6, "field"] == "registered_at" and issues.loc[6, "value_masked"] == "不是日期"
    assert issues.loc[7, "field"] == "status" and "已通过" in issues.loc[7, "message"]
    assert loaded.quarantined == 3


def test_phone_numbers_in_issues_are_masked(tmp_path):
    rows = [[1, "", "x", "13812345678", "龙潭镇", "某村", "2023-02-01", "已通过"]]
    loaded = load(write_csv(tmp_path / "注册用户_20230217.csv", rows))
    assert "13812345678" not in loaded.issues.to_string()


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "为空"),
        ("序号,姓名,年龄\r\n1,张三,30\r\n".encode(), "无法识别文件类型"),
        ("序号,用户ID,乡镇（街道）\r\n1,U1,龙潭镇\r\n".encode(), "缺少必需的列"),
        (("\r\n".join([",".join(HEADER)]) + "\r\n").encode("utf-8"), "没有任何数据行"),
        (b"PK\x03\x04 this is not really a zip", "损坏"),
    ],
)
def test_unusable_files_get_one_clear_message(tmp_path, content, problem):
    path = tmp_path / "坏文件_20230217.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as err:
        load(path)
    assert problem in str(err.value) and "坏文件_20230217.csv" in str(err.value) and "处理办法" in str(err.value)


def test_missing_column_message_names_the_column(tmp_path):
    path = tmp_path / "注册用户_20230217.csv"
    path.write_text("序号,用户ID,乡镇（街道）,村（社区）\r\n1,U1,龙潭镇,某村\r\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="注册时间"):
        load(path)


def test_file_without_date_is_refused_with_how_to_fix(tmp_path):
    with pytest.raises(InputFileError, match="无法确定数据日期"):
        load(write_csv(tmp_path / "注册用户.csv", ROWS))


def test_registry_with_long_names_and_thousands(tmp_path):
    header = ["社区编码", "乡镇（街道）", "村（社区）名称", "类型", "常住人口（人）", "户数", "村（居）民小组数"]
    rows = [
        ["500242001200", "桃花源街道", "天山堡村村民委员会", "村委会", "3,258", 1000, 8],
        [500242001001, "桃花源街道", "桃花源社区居民委员会", "居委会", 12000, "3,500", 12],
    ]
    loaded = load(
        write_xlsx(tmp_path / "社区基本信息_2023-02-17.xlsx", rows, [header], title=[["统计截止：2023-02-17"]])
    )
    assert loaded.identity.kind == "community_registry"
    assert loaded.accepted["village_code"].tolist() == ["500242001200", "500242001001"]
    assert loaded.accepted["resident_population"].tolist() == [3258, 12000]
    assert pd.api.types.is_integer_dtype(loaded.accepted["households"])


def test_legacy_xls_workbook(tmp_path):
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    for r, row in enumerate([["渝快社区注册用户明细 统计截止：2023-02-17"], HEADER, *ROWS]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    path = tmp_path / "注册用户.xls"
    book.save(str(path))
    loaded = load(path)
    assert loaded.identity.snapshot_date == dt.date(2023, 2, 17)
    assert _ids(loaded) == ["YK00000001", "YK00000002", "YK00000003"]


def test_wrong_extension_and_cover_sheet_first(tmp_path):
    path = write_xlsx(tmp_path / "注册用户_20230217.xlsx", ROWS)
    import openpyxl

    book = openpyxl.load_workbook(path)
    cover = book.create_sheet("封面", 0)
    cover.append(["酉阳县民政局", "内部资料"])
    book.save(path)
    renamed = path.rename(tmp_path / "注册用户_20230217.csv")  # an xlsx that claims to be a csv
    assert _ids(load(renamed)) == ["YK00000001", "YK00000002", "YK00000003"]


def test_a_count_too_large_to_be_one_is_unreadable_not_wrapped():
    """99999999999999999999 or 1e400 in a 完成数 cell is no count: it used to wrap to -9223372036854775808."""
    from yukuai_pipeline.intake.text_parsing import parse_count

    values, bad = parse_count(
        pd.Series(["99999999999999999999", "1e400", "inf", "9223372036854775808", "1,258"], dtype="object")
    )
    assert bad.tolist() == [True, True, True, True, False]
    assert values.iloc[-1] == 1258 and values.iloc[:4].isna().all()
