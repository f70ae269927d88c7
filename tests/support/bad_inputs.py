"""A corpus of malformed and hostile landing files (issue 6), generated from code: no binary is edited by hand.

`build_corpus(folder)` writes every file and returns its `Case`s; `cases()` gives the same list without writing
(for pytest's parametrize ids). Each case says what `yukuai_pipeline.intake.loading.load` must do with the file:

* ``accepted``    every data row is accepted (``accepted`` rows), nothing quarantined;
* ``quarantined`` ``accepted`` rows are kept and exactly the (row number, field) pairs of ``quarantined`` are
  quarantined (row numbers are the file's own 1-based line/row numbers);
* ``refused``     the file raises InputFileError whose message names the file, contains ``message`` and says
  处理办法.

Some cases also say what the later steps make of the accepted rows (place matching, counting), because that is
where the rule lives: an unknown or old township name and a duplicated user ID are the reader's business only in
that it must keep the rows.

Documented decisions:

* Registration times before 2000-01-01 (a broken export's 1900-01-01, 1970-01-01 or 1999) cannot be real: the row
  is quarantined (``plausible_dates`` in schemas/inputs/registrations.yaml). A time after the file's own date is
  a real value the reader keeps; the counting step leaves it out with a ``registered_after_snapshot`` issue.
* A formula cell without a cached value (openpyxl writes none) reads as empty, never as a number: a required count
  is then quarantined as empty. When the workbook holds a cached value (Excel saved it), that value is used.
* A column whose header appears twice: the copy that holds data is used (the first one when both do).
* An OLE compound file that is not a readable .xls (an encrypted .xlsx is one) is refused; an .xls or .xlsx with
  the other's extension, and a workbook or CSV with any extension, is read by its content.
* An HTML or XML "xls" (what some web systems export) is refused with a message saying to re-save it as .xlsx.
"""

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

DAY = dt.date(2023, 2, 17)
HEADER = ["序号", "用户ID", "昵称", "手机号", "乡镇（街道）", "村（社区）", "注册时间", "审核状态"]
ROWS = [
    [1, "YK00000001", "张三", "13812345678", "桃花源街道", "天山堡村", "2023-02-01 10:00:00", "已通过"],
    [2, "YK00000002", "李四", "13812345679", "龙潭镇", "某村", "2023-02-03 09:30:00", "待审核"],
    [3, "YK00000003", "王五", "", "宜居乡", "某村", "2023-02-05 18:00:00", "已驳回"],
]
IDS = [r[1] for r in ROWS]
SUMMARY_HEADER = ["序号", "乡镇（街道）", "常住人口数（人）", "任务数（人）", "完成数"]
TITLE = ["渝快社区注册用户明细", "导出时间：2023-02-17 08:00"]
MILLION_ROWS = 1_000_000

ACCEPTED, QUARANTINED, REFUSED = "accepted", "quarantined", "refused"


@dataclass(frozen=True)
class Case:
    name: str
    file_name: str
    expected: str  # accepted | quarantined | refused
    accepted: int | None = None  # rows accepted
    quarantined: tuple[tuple[int, str], ...] = ()  # (row number, field) quarantined
    message: str | None = None  # refused: part of the Chinese problem text
    kind: str = "registrations"
    snapshot_date: dt.date | None = DAY
    values: dict[str, list] = field(default_factory=dict)  # accepted column -> its values, in file order
    # the later steps, through registrations.match_places / count_users
    townships: dict[str, str] = field(default_factory=dict)  # raw township -> matched (or 未匹配)
    villages: dict[str, str] = field(default_factory=dict)  # raw village -> matched (or 未匹配), tiny registry
    count_issues: tuple[str, ...] = ()  # checks count_users must report
    completed: int | None = None  # count_users' completed total
    note: str = ""


_REGISTERED: list[tuple[Case, Callable[[Path], None]]] = []


def _case(**kwargs):
    def register(writer: Callable[[Path], None]):
        _REGISTERED.append((Case(**kwargs), writer))
        return writer

    return register


def cases() -> list[Case]:
    return [case for case, _ in _REGISTERED]


def build_corpus(folder: Path, only: list[str] | None = None) -> list[Case]:
    """Write every case's file (or only the named cases') into folder; return those cases."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for case, writer in _REGISTERED:
        if only is None or case.name in only:
            writer(folder / case.file_name)
            written.append(case)
    return written


# ---- writers -------------------------------------------------------------------------------------------------


def csv_text(
    rows: list[list], header: list[str] = HEADER, title: list[str] = (), sep: str = ",", newline: str = "\r\n"
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator=newline)
    for line in title:
        writer.writerow([line])
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8", **kwargs) -> None:
    path.write_bytes(csv_text(rows, **kwargs).encode(encoding))


def _workbook(sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cells in (merges or {}).get(name, []):
            sheet.merge_cells(cells)
    return book


def write_xlsx(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> None:
    _workbook(sheets, merges).save(path)


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    buffer = io.BytesIO()
    _workbook(sheets).save(buffer)
    return buffer.getvalue()


def write_xls(path: Path, rows: list[list]) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write(r, c, value, date_style)
            elif value is not None:
                sheet.write(r, c, value)
    book.save(str(path))


def _with_dates(rows: list[list]) -> list[list]:
    """ROWS with real datetime cells, as Excel holds them."""
    return [[*r[:6], dt.datetime.fromisoformat(r[6]), *r[7:]] for r in rows]


def registry() -> pd.DataFrame:
    """A tiny community registry for the village-matching cases."""
    return pd.DataFrame(
        {
            "township": ["宜居乡", "宜居乡", "龙潭镇"],
            "village": ["大河口村村民委员会", "宜居社区居民委员会", "天山堡村村民委员会"],
        }
    )


# ---- empty and headerless --------------------------------------------------------------------------------------


@_case(name="empty_file", file_name="空文件_20230217.csv", expected=REFUSED, message="文件为空", snapshot_date=None)
def _(path):
    path.write_bytes(b"")


@_case(
    name="blank_lines_only",
    file_name="空白行_20230217.csv",
    expected=REFUSED,
    message="没有任何内容",
    snapshot_date=None,
)
def _(path):
    path.write_bytes(b"\r\n , ,\r\n\t\r\n\r\n")


@_case(name="header_only_csv", file_name="只有表头_20230217.csv", expected=REFUSED, message="没有任何数据行")
def _(path):
    write_csv(path, [], title=TITLE)


@_case(
    name="header_only_xlsx_with_total_and_footnote",
    file_name="只有表头合计_20230217.xlsx",
    expected=REFUSED,
    message="没有任何数据行",
)
def _(path):
    write_xlsx(path, {"Sheet1": [[TITLE[0]], HEADER, ["合计", "0人"], [], ["注：数据来源于平台"]]})


@_case(
    name="unknown_header",
    file_name="人员名单_20230217.csv",
    expected=REFUSED,
    message="无法识别文件类型",
    snapshot_date=None,
)
def _(path):
    write_csv(path, [[1, "张三", 30]], header=["序号", "姓名", "年龄"])


@_case(
    name="required_column_missing",
    file_name="缺注册时间_20230217.csv",
    expected=REFUSED,
    message="缺少必需的列：注册时间",
    snapshot_date=None,
)
def _(path):
    write_csv(path, [r[:6] + r[7:] for r in ROWS], header=HEADER[:6] + HEADER[7:])


@_case(
    name="no_date_anywhere",
    file_name="注册用户明细.csv",
    expected=REFUSED,
    message="无法确定数据日期",
    snapshot_date=None,
)
def _(path):
    write_csv(path, ROWS, title=["渝快社区注册用户明细"])


# ---- layout ----------------------------------------------------------------------------------------------------


@_case(
    name="cover_sheet_first", file_name="封面在前_20230217.xlsx", expected=ACCEPTED, accepted=3, values={"user_id": IDS}
)
def _(path):
    cover = [["酉阳县民政局"], ["渝快社区注册用户明细"], ["内部资料 注意保密"], ["序号", "说明"], [1, "本表由平台导出"]]
    write_xlsx(
        path, {"封面": cover, "说明": [["字段说明"], ["用户ID：平台编号"]], "明细": [HEADER, *_with_dates(ROWS)]}
    )


@_case(
    name="header_on_row5_under_merged_title",
    file_name="注册用户明细（县民政局）.xlsx",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS, "village": ["天山堡村", "某村", "某村"]},
    note="no date in the name: the date comes from the merged title line",
)
def _(path):
    title = [
        ["渝快社区注册用户明细"] + [None] * 7,
        ["统计截止：2023年2月17日"] + [None] * 7,
        [None] * 8,
        [None] * 6 + ["单位：人", None],
    ]
    write_xlsx(path, {"Sheet1": [*title, HEADER, *_with_dates(ROWS)]}, {"Sheet1": ["A1:H1", "A2:H2", "G4:H4"]})


@_case(
    name="two_row_merged_header",
    file_name="两行表头_20230217.xlsx",
    expected=ACCEPTED,
    accepted=3,
    values={
        "user_id": IDS,
        "township": ["桃花源街道", "龙潭镇", "宜居乡"],
        "status": ["approved", "pending", "rejected"],
    },
)
def _(path):
    top = ["序号", "用户信息", None, None, "所属区域", None, "注册时间", "审核状态"]
    bottom = [None, "用户ID", "昵称", "手机号", "乡镇(街道)", "村（社 区）", None, None]
    write_xlsx(
        path,
        {"Sheet1": [["渝快社区注册用户明细"], top, bottom, *_with_dates(ROWS)]},
        {"Sheet1": ["A1:H1", "B2:D2", "E2:F2", "A2:A3", "G2:G3", "H2:H3"]},
    )


_ORDER = [7, 5, 4, 6, 1, 3, 2, 0]


@_case(
    name="columns_in_another_order",
    file_name="列顺序不同_20230217.csv",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS, "village": ["天山堡村", "某村", "某村"], "status": ["approved", "pending", "rejected"]},
)
def _(path):
    write_csv(path, [[r[i] for i in _ORDER] for r in ROWS], header=[HEADER[i] for i in _ORDER])


@_case(
    name="extra_unknown_columns_and_empty_columns",
    file_name="多余列_20230217.csv",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS},
)
def _(path):
    header = ["", *HEADER[:4], "备注", "", *HEADER[4:], "邀请人", "来源渠道"]
    rows = [["", *r[:4], "x", "", *r[4:], "王老师", "扫码"] for r in ROWS]
    write_csv(path, rows, header=header)


@_case(
    name="duplicated_column_names",
    file_name="重复列名_20230217.csv",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS, "village": ["天山堡村", "某村", "某村"]},
    note="用户ID twice with the same values, 村（社区） twice with the first copy empty: the copy with data is used",
)
def _(path):
    header = ["序号", "用户ID", "用户ID", "村（社区）", "乡镇（街道）", "村（社区）", "注册时间", "审核状态"]
    rows = [[r[0], r[1], r[1], "", r[4], r[5], r[6], r[7]] for r in ROWS]
    write_csv(path, rows, header=header)


@_case(
    name="total_row_in_the_middle",
    file_name="中间合计行_20230217.xlsx",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS},
)
def _(path):
    rows = _with_dates(ROWS)
    write_xlsx(path, {"Sheet1": [HEADER, rows[0], rows[1], ["小计", None, "2人"], rows[2], ["合计", "共3人"]]})


@_case(
    name="footnotes_and_blank_rows",
    file_name="脚注_20230217.csv",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS},
)
def _(path):
    text = csv_text([ROWS[0], [], ROWS[1], ["", "", ""], ROWS[2]], title=TITLE)
    text += (
        "\r\n注：1. 数据来源于渝快社区平台；2. 手机号已脱敏\r\n制表人：张三,审核人：李四\r\n"
        "打印时间：2023-02-17 09:00\r\n"
    )
    path.write_text(text, encoding="utf-8")


# ---- numbers ---------------------------------------------------------------------------------------------------


@_case(
    name="summary_numbers_as_text_and_full_width",
    file_name="乡镇汇总_20230217.csv",
    expected=ACCEPTED,
    accepted=4,
    kind="registration_summary",
    values={
        "township": ["桃花源街道", "钟多街道", "龙潭镇", "麻旺镇"],
        "completed": [711, 825, 1258, 1020],
        "resident_population": [50226, 59256, 45000, 30000],
    },
)
def _(path):
    rows = [
        [1, "桃花源街道", "50,226", "6,028", "711"],
        [2, "钟多街道", "５９２５６", "7110", " 825 "],
        [3, "龙潭镇", "45 000", "5,400", "１，２５８"],
        [4, "麻旺镇", "30000人", "3600", "1,020人"],
        ["合计", "", "184,482", "22,138", "3,814"],
    ]
    write_csv(path, rows, header=SUMMARY_HEADER, encoding="gbk")


@_case(
    name="summary_negative_fractional_and_unreadable_counts",
    file_name="汇总坏数字_20230217.xlsx",
    expected=QUARANTINED,
    accepted=2,
    kind="registration_summary",
    quarantined=((3, "completed"), (4, "completed"), (5, "completed"), (6, "completed"), (7, "completed")),
    values={"township": ["桃花源街道", "花田乡"], "completed": [711, 12]},
    note="-5 (negative), 3.5 and 2.5 (not whole), 约300 (not a number), 3,5 (a decimal comma, not 35)",
)
def _(path):
    rows = [
        [1, "桃花源街道", 50226, 6028, 711],
        [2, "钟多街道", 59256, 7110, -5],
        [3, "龙潭镇", 45000, 5400, "3.5"],
        [4, "麻旺镇", 30000, 3600, 2.5],
        [5, "大溪镇", 20000, 2400, "约300"],
        [6, "龚滩镇", 10000, 1200, "3,5"],
        [7, "花田乡", 5000, 600, 12.0],
    ]
    write_xlsx(path, {"Sheet1": [SUMMARY_HEADER, *rows]})


# ---- dates -----------------------------------------------------------------------------------------------------


@_case(
    name="dates_as_excel_serials",
    file_name="日期序列号_20230217.xlsx",
    expected=ACCEPTED,
    accepted=3,
    values={"registered_at": [dt.datetime(2023, 2, 17, 12), dt.datetime(2023, 2, 1), dt.datetime(2022, 12, 31, 6)]},
)
def _(path):
    serials = [44974.5, 44958, 44926.25]
    write_xlsx(path, {"Sheet1": [HEADER, *[[*r[:6], s, *r[7:]] for r, s in zip(ROWS, serials)]]})


@_case(
    name="dates_as_excel_serials_in_csv_text",
    file_name="日期序列号文本_20230217.csv",
    expected=ACCEPTED,
    accepted=3,
    values={"registered_at": [dt.datetime(2023, 2, 17, 12), dt.datetime(2023, 2, 1), dt.datetime(2022, 12, 31, 6)]},
    note="a CSV saved from Excel with General-formatted date cells holds the serial number as text",
)
def _(path):
    serials = ["44974.5", "44958", "44926.25"]
    write_csv(path, [[*r[:6], s, *r[7:]] for r, s in zip(ROWS, serials)])


@_case(
    name="dates_as_chinese_and_slashed_text",
    file_name="日期文本_20230217.csv",
    expected=ACCEPTED,
    accepted=6,
    values={
        "registered_at": [
            dt.datetime(2023, 2, 17),
            dt.datetime(2023, 2, 17),
            dt.datetime(2023, 2, 17, 8, 30),
            dt.datetime(2023, 2, 16, 8, 5, 9),
            dt.datetime(2023, 2, 15),
            dt.datetime(2023, 2, 14),
        ]
    },
)
def _(path):
    dates = [
        "2023年2月17日",
        "2023/2/17",
        "2023年2月17日 8时30分",
        "2023/02/16 8:05:09",
        "２０２３－０２－１５",
        "2023.2.14",
    ]
    rows = [[i + 1, f"YK{i + 1:08d}", "x", "", "龙潭镇", "某村", d, "已通过"] for i, d in enumerate(dates)]
    write_csv(path, rows)


@_case(
    name="dates_out_of_range",
    file_name="日期越界_20230217.xlsx",
    expected=QUARANTINED,
    accepted=3,
    quarantined=((3, "registered_at"), (4, "registered_at"), (5, "registered_at"), (6, "registered_at")),
    count_issues=("registered_after_snapshot",),
    completed=1,
    note="before 2000 (1999 text, a 1900-01-01 datetime, 1970-01-01) and 2023-02-30 are quarantined; "
    "2023-03-01 and 2024-01-01 (after the file's date) are kept by the reader and left out of the count",
)
def _(path):
    dates = [
        dt.datetime(2023, 2, 17, 23, 59),
        "1999-12-31",
        dt.datetime(1900, 1, 1),
        "1970-01-01 08:00:00",
        "2023-02-30",
        dt.datetime(2023, 3, 1),
        "2024-01-01",
    ]
    rows = [[i + 1, f"YK{i + 1:08d}", "x", "", "龙潭镇", "某村", d, "已通过"] for i, d in enumerate(dates)]
    write_xlsx(path, {"Sheet1": [HEADER, *rows]})


# ---- encodings -------------------------------------------------------------------------------------------------


def _encoded(encoding: str, sep: str = ",", title: list[str] = TITLE, village: str = "某村"):
    def write(path):
        rows = [[*r[:5], village if i == 2 else r[5], *r[6:]] for i, r in enumerate(ROWS)]
        path.write_bytes(csv_text(rows, title=title, sep=sep).encode(encoding))

    return write


for _enc, _label in [("gbk", "GBK"), ("gb18030", "GB18030"), ("utf-8-sig", "UTF8BOM"), ("utf-16", "UTF16")]:
    _case(
        name=f"csv_{_label.lower()}",
        file_name=f"注册用户_{_label}_20230217.csv",
        expected=ACCEPTED,
        accepted=3,
        values={"user_id": IDS, "village": ["天山堡村", "某村", "𠮷娃村" if _enc == "gb18030" else "某村"]},
    )(_encoded(_enc, village="𠮷娃村" if _enc == "gb18030" else "某村"))

_case(
    name="txt_utf16le_tab_no_bom",
    file_name="注册用户_UTF16LE_20230217.txt",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS, "village": ["天山堡村", "某村", "某村"]},
    note="Unicode text without its BOM, tab-separated, Chinese title lines",
)(_encoded("utf-16-le", sep="\t"))


_LONG_TITLE = [
    "酉阳土家族苗族自治县民政局渝快社区智慧社区智慧养老云平台注册用户明细表（全县各乡镇街道村社区汇总导出）",
    "填报单位：酉阳县民政局基层政权建设和社区治理科",
    "统计截止：2023年2月17日",
]
_case(
    name="txt_utf16le_no_bom_long_chinese_title",
    file_name="注册用户_UTF16LE长标题_20230217.txt",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS},
    note="the first 200 bytes are all Chinese: no zero byte to go by there",
)(_encoded("utf-16-le", sep="\t", title=_LONG_TITLE))


@_case(
    name="csv_nul_bytes",
    file_name="空字符_20230217.csv",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS, "village": ["天山堡村", "某村", "某村"]},
)
def _(path):
    data = csv_text(ROWS, title=TITLE).encode("utf-8")
    data = data.replace(b"YK0000", b"YK\x000000").replace("某村".encode(), "某\x00村".encode()) + b"\x00\x00\r\n"
    path.write_bytes(data)


@_case(
    name="csv_old_mac_line_ends_and_semicolons",
    file_name="分号分隔_20230217.csv",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS},
)
def _(path):
    path.write_bytes(csv_text(ROWS, title=TITLE, sep=";", newline="\r").encode("gb18030"))


@_case(
    name="csv_ragged_rows_after_line_200",
    file_name="行宽不一_20230217.csv",
    expected=ACCEPTED,
    accepted=300,
    note="row 250 has two extra cells: the C reader fails and the tolerant reader must keep every row",
)
def _(path):
    rows = [[i + 1, f"YK{i + 1:08d}", "x", "", "龙潭镇", "某村", "2023-02-01", "已通过"] for i in range(300)]
    rows[249] += ["多余", "多余"]
    write_csv(path, rows)


@_case(
    name="csv_quoted_newlines_and_formula_text",
    file_name="引号换行_20230217.csv",
    expected=ACCEPTED,
    accepted=3,
    values={"village": ["天山\n堡村", '=HYPERLINK("http://x","点我")', "某村"]},
)
def _(path):
    rows = [list(r) for r in ROWS]
    rows[0][5], rows[1][5] = "天山\n堡村", '=HYPERLINK("http://x","点我")'
    write_csv(path, rows)


# ---- broken containers -----------------------------------------------------------------------------------------


@_case(name="truncated_xlsx", file_name="截断_20230217.xlsx", expected=REFUSED, message="损坏", snapshot_date=None)
def _(path):
    data = xlsx_bytes({"Sheet1": [HEADER, *ROWS]})
    path.write_bytes(data[: len(data) // 2])


@_case(
    name="corrupt_xlsx_garbage_after_zip_magic",
    file_name="损坏_20230217.xlsx",
    expected=REFUSED,
    message="损坏",
    snapshot_date=None,
)
def _(path):
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 64)


@_case(
    name="encrypted_xlsx",
    file_name="加密_20230217.xlsx",
    expected=REFUSED,
    message="加密",
    snapshot_date=None,
    note="an OLE compound file that is no .xls, as Excel writes a password-protected .xlsx",
)
def _(path):
    rng = np.random.default_rng(6)
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + rng.integers(0, 256, 8192, dtype=np.uint8).tobytes())


@_case(
    name="encrypted_xlsx_with_xls_name",
    file_name="加密_20230217.xls",
    expected=REFUSED,
    message="加密",
    snapshot_date=None,
    note="the same, named .xls: it carries the EncryptedPackage stream name",
)
def _(path):
    rng = np.random.default_rng(7)
    names = "EncryptionInfo".encode("utf-16-le") + b"\x00" * 8 + "EncryptedPackage".encode("utf-16-le")
    path.write_bytes(
        bytes.fromhex("D0CF11E0A1B11AE1")
        + rng.integers(0, 256, 1024, dtype=np.uint8).tobytes()
        + names
        + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    )


@_case(
    name="html_table_named_xls",
    file_name="网页导出_20230217.xls",
    expected=REFUSED,
    message="网页",
    snapshot_date=None,
    note="what many web systems call an .xls export",
)
def _(path):
    cells = "".join(f"<td>{h}</td>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in ROWS)
    path.write_text(
        f'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8"></head>'
        f"<body><table><tr>{cells}</tr>{body}</table></body></html>",
        encoding="utf-8",
    )


@_case(
    name="legacy_xls",
    file_name="老版本_20230217.xls",
    expected=ACCEPTED,
    accepted=3,
    values={
        "user_id": IDS,
        "registered_at": [dt.datetime(2023, 2, 1, 10), dt.datetime(2023, 2, 3, 9, 30), dt.datetime(2023, 2, 5, 18)],
    },
)
def _(path):
    write_xls(path, [[TITLE[0]], HEADER, *_with_dates(ROWS)])


@_case(
    name="xls_named_xlsx", file_name="扩展名错xls_20230217.xlsx", expected=ACCEPTED, accepted=3, values={"user_id": IDS}
)
def _(path):
    write_xls(path, [HEADER, *_with_dates(ROWS)])


@_case(
    name="xlsx_named_xls", file_name="扩展名错xlsx_20230217.xls", expected=ACCEPTED, accepted=3, values={"user_id": IDS}
)
def _(path):
    write_xlsx(path, {"Sheet1": [HEADER, *_with_dates(ROWS)]})


@_case(name="xlsx_named_csv", file_name="扩展名错_20230217.csv", expected=ACCEPTED, accepted=3, values={"user_id": IDS})
def _(path):
    write_xlsx(path, {"Sheet1": [HEADER, *_with_dates(ROWS)]})


@_case(
    name="csv_named_xlsx", file_name="其实是CSV_20230217.xlsx", expected=ACCEPTED, accepted=3, values={"user_id": IDS}
)
def _(path):
    write_csv(path, ROWS, encoding="gbk", title=TITLE)


# ---- formulas --------------------------------------------------------------------------------------------------

_FORMULA_ROWS = [
    [1, "桃花源街道", 50226, 6028, 711],
    [2, "钟多街道", 59256, 7110, "=800+25"],
    [3, "龙潭镇", 45000, 5400, "=SUM(C4:D4)"],
    [4, "麻旺镇", 30000, 3600, 1020],
]


@_case(
    name="formulas_without_cached_values",
    file_name="公式无缓存_20230217.xlsx",
    expected=QUARANTINED,
    accepted=2,
    kind="registration_summary",
    quarantined=((3, "completed"), (4, "completed")),
    values={"township": ["桃花源街道", "麻旺镇"], "completed": [711, 1020]},
    note="openpyxl writes no cached value: the cell reads as empty, so the row is quarantined, never a 0",
)
def _(path):
    write_xlsx(path, {"Sheet1": [SUMMARY_HEADER, *_FORMULA_ROWS]})


@_case(
    name="formulas_with_cached_values",
    file_name="公式有缓存_20230217.xlsx",
    expected=ACCEPTED,
    accepted=4,
    kind="registration_summary",
    values={"completed": [711, 825, 50400, 1020]},
    note="the cached value Excel stores beside the formula is used",
)
def _(path):
    data = xlsx_bytes({"Sheet1": [SUMMARY_HEADER, *_FORMULA_ROWS]})
    cached = {"800+25": "825", "SUM(C4:D4)": "50400"}
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                content = re.sub(
                    rb"<f>([^<]*)</f>(?:<v\s*/>|<v></v>)",  # openpyxl writes <v/>, or <v></v> with lxml
                    lambda m: b"<f>" + m.group(1) + b"</f><v>" + cached[m.group(1).decode()].encode() + b"</v>",
                    content,
                )
            out.writestr(item, content)
    path.write_bytes(target.getvalue())


# ---- size ------------------------------------------------------------------------------------------------------


@_case(
    name="one_megabyte_in_one_cell",
    file_name="超长单元格_20230217.csv",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS},
)
def _(path):
    rows = [list(r) for r in ROWS]
    rows[1][2] = "长" * (1 << 20)
    write_csv(path, rows, title=TITLE)


@_case(
    name="one_megabyte_title_line",
    file_name="超长标题_20230217.csv",
    expected=ACCEPTED,
    accepted=3,
    values={"user_id": IDS},
)
def _(path):
    write_csv(path, ROWS, title=["说明" * (1 << 19), TITLE[1]])


_TOWNS = ["桃花源街道", "钟多街道", "龙潭镇", "麻旺镇", "宜居镇"]
_STATUS = np.array(["已通过", "待审核", "已驳回", "已通过"])


@_case(
    name="csv_one_million_rows",
    file_name="百万行_20230217.csv",
    expected=ACCEPTED,
    accepted=MILLION_ROWS,
    completed=MILLION_ROWS // 2,
    townships={"宜居镇": "宜居乡", "钟多街道": "钟多街道"},
)
def _(path):
    n = np.arange(1, MILLION_ROWS + 1)
    ids = np.char.add("YK", np.char.zfill(n.astype(str), 8))
    towns = np.array(_TOWNS)[n % len(_TOWNS)]
    villages = np.char.add(np.char.add(towns, "村"), (n % 7).astype(str))
    days = np.char.zfill((n % 28 + 1).astype(str), 2)
    times = np.char.add(np.char.add("2023-01-", days), " 08:00:00")
    columns = [
        n.astype(str),
        ids,
        np.full(n.shape, "用户"),
        np.full(n.shape, ""),
        towns,
        villages,
        times,
        _STATUS[n % 4],
    ]
    lines = ",".join(HEADER) + "\n" + "\n".join(",".join(row) for row in zip(*columns)) + "\n"
    path.write_bytes(lines.encode("utf-8"))


# ---- rows the later steps must see -----------------------------------------------------------------------------


@_case(
    name="unknown_misspelled_and_old_place_names",
    file_name="地名_20230217.csv",
    expected=ACCEPTED,
    accepted=6,
    townships={
        "宜居镇": "宜居乡",
        "宜居乡": "宜居乡",
        "宜居相": "未匹配",
        "火星乡": "未匹配",
        "酉阳县龙潭镇人民政府": "龙潭镇",
    },
    villages={
        "大河口村": "大河口村村民委员会",
        "大河囗村": "未匹配",
        "小河村": "未匹配",
        "某村": "未匹配",
        "宜居社区": "宜居社区居民委员会",
        "天山堡村": "天山堡村村民委员会",
    },
    note="the reader keeps every row; matching (old name 宜居镇 -> 宜居乡, unknown -> 未匹配) happens later",
)
def _(path):
    places = [
        ("宜居镇", "大河口村"),
        ("宜居乡", "大河囗村"),
        ("宜居相", "小河村"),
        ("火星乡", "某村"),
        ("宜居镇", "宜居社区"),
        ("酉阳县龙潭镇人民政府", "天山堡村"),
    ]
    rows = [[i + 1, f"YK{i + 1:08d}", "x", "", t, v, "2023-02-01", "已通过"] for i, (t, v) in enumerate(places)]
    write_csv(path, rows)


@_case(
    name="duplicated_user_ids_with_conflicting_villages",
    file_name="重复用户_20230217.csv",
    expected=ACCEPTED,
    accepted=5,
    count_issues=("duplicate_user_id",),
    completed=2,
    note="the reader keeps both rows of a user; count_users counts the earliest one and reports the conflict",
)
def _(path):
    rows = [list(r) for r in ROWS] + [
        [4, "YK00000001", "张三", "13812345678", "桃花源街道", "另一个村", "2023-02-10 10:00:00", "已通过"],
        [5, "YK00000004", "赵六", "", "龙潭镇", "某村", "2023-02-11", "已通过"],
    ]
    write_csv(path, rows)


@_case(
    name="bad_rows_quarantined_rest_kept",
    file_name="坏行_20230217.csv",
    expected=QUARANTINED,
    accepted=3,
    quarantined=((5, "user_id"), (6, "status"), (7, "township"), (8, "registered_at")),
)
def _(path):
    rows = [
        *ROWS,
        [4, "", "x", "", "龙潭镇", "某村", "2023-02-01", "已通过"],
        [5, "YK5", "x", "", "龙潭镇", "某村", "2023-02-01", "神秘状态"],
        [6, "YK6", "x", "", "  ", "某村", "2023-02-01", "已通过"],
        [7, "YK7", "x", "", "龙潭镇", "某村", "昨天", "已通过"],
    ]
    write_csv(path, rows)
