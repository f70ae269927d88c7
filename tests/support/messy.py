"""Small messy export files for reader tests, written the way real platforms and hand edits leave them."""

from pathlib import Path

import openpyxl

HEADER = ["序号", "用户ID", "昵称", "手机号", "乡镇（街道）", "村（社区）", "注册时间", "审核状态"]
ROWS = [
    [1, "YK00000001", "张三", "13812345678", "桃花源街道", "天山堡村", "2023-02-01 10:00:00", "已通过"],
    [2, "YK00000002", "=SUM(A1)", "13812345679", "龙潭镇", "某村", "2023/2/3", "待审核"],
    [3, "YK00000003", "李四", "", "宜居乡", "某村", "2023年2月5日", "已驳回"],
]


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8-sig", title: list[str] = ()) -> Path:
    lines = [*title, ",".join(HEADER), *(",".join(str(v) for v in r) for r in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(
    path: Path,
    rows: list[list],
    header_rows: list[list] | None = None,
    title: list[list] = (),
    merges: list[str] = (),
    footer: list[list] = (),
) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for line in [*title, *(header_rows or [HEADER]), *rows, *footer]:
        sheet.append(line)
    for cells in merges:
        sheet.merge_cells(cells)
    book.save(path)
    return path
