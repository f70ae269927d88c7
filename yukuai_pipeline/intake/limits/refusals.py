"""What every format's limit checks share: the two exceptions (TooLarge: past a limit, with a problem and a fix in
Chinese; Unreadable: too broken to measure), a sheet's used range from A1 (SheetExtent) and its checks against the
column, row and cell limits (one sheet, calamine's loaded sheet, a workbook's sheets together and their count), the
file-size check, column letters, and the wording of a refusal's fix (which environment variable raises the limit).
"""

from dataclasses import dataclass

from yukuai_pipeline.settings import INPUT_LIMIT_VARIABLES, InputLimits

EXCEL_ROWS = 1_048_576


class TooLarge(Exception):
    """The file is past a limit: problem and fix in Chinese, for InputFileError."""

    def __init__(self, problem: str, fix: str):
        self.problem, self.fix = problem, fix
        super().__init__(problem)


class Unreadable(Exception):
    """The container is too broken to measure; the parser would trip over it too."""


@dataclass(frozen=True)
class SheetExtent:
    """A sheet's used range from A1: what calamine pads it to."""

    name: str
    rows: int
    columns: int
    declared: str | None = None  # the sheet's own claim (<dimension ref>, DIMENSIONS), when it differs

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    @property
    def corner(self) -> str:
        return f"{column_letters(self.columns)}{self.rows}"


def column_letters(number: int) -> str:
    """1 -> A, 16384 -> XFD."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: bytes) -> int:
    number = 0
    for byte in letters.upper():
        number = number * 26 + byte - 64
    return number


def limit_fix(field_name: str, limits: InputLimits, how: str) -> str:
    variable = INPUT_LIMIT_VARIABLES[field_name]
    return f"{how}；如果文件确属正常数据，调高环境变量 {variable}（当前 {getattr(limits, field_name)}）"


RESAVE_FIX = "在 Excel 中删掉数据区域右侧和下方多余的行和列（或只把数据区域复制到新工作簿），另存为 .xlsx 后再放入"
SPLIT_FIX = "从平台按乡镇或日期分批导出后再放入"


def size_text(size: int, exact: bool = True) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" + (f"（{size} 字节）" if exact else "")
    return f"{size} 字节"


# ---- any file ------------------------------------------------------------------------------------------------


def check_file_size(size: int, limits: InputLimits) -> None:
    if size > limits.file_bytes:
        raise TooLarge(
            f"文件大小 {size_text(size)}，超过上限 {size_text(limits.file_bytes)}",
            limit_fix("file_bytes", limits, SPLIT_FIX),
        )


def check_extent(sheet: SheetExtent, limits: InputLimits) -> None:
    """One sheet's used range against the column, row and cell limits."""
    where = f"工作表“{sheet.name}”的单元格范围达到 {sheet.corner}（{sheet.columns} 列 × {sheet.rows} 行）"
    claim = ""
    if sheet.declared and sheet.declared.split(":")[-1] != sheet.corner:
        claim = f"（文件自己声明的范围是 {sheet.declared}）"
    if sheet.columns > limits.columns:
        raise TooLarge(f"{where}，超过上限 {limits.columns} 列{claim}", limit_fix("columns", limits, RESAVE_FIX))
    row_limit = min(limits.rows, EXCEL_ROWS)
    if sheet.rows > row_limit:
        excel = "（Excel 工作表的最大行数）" if row_limit == EXCEL_ROWS else ""
        raise TooLarge(f"{where}，超过上限 {row_limit} 行{excel}{claim}", limit_fix("rows", limits, RESAVE_FIX))
    if sheet.cells > limits.cells:
        raise TooLarge(
            f"{where}，共 {sheet.cells} 个单元格，超过上限 {limits.cells} 个{claim}",
            limit_fix("cells", limits, RESAVE_FIX),
        )


def check_loaded_sheet(name: str, end: tuple[int, int] | None, limits: InputLimits) -> None:
    """calamine's own extent of a loaded sheet (0-based end cell), before its cells are padded and copied out."""
    if end is not None:
        check_extent(SheetExtent(name, end[0] + 1, end[1] + 1), limits)


def check_sheet_count(count: int, limits: InputLimits) -> None:
    if count > limits.sheets:
        raise TooLarge(
            f"工作簿有 {count} 个工作表，超过上限 {limits.sheets} 个",
            limit_fix("sheets", limits, "只保留数据所在的工作表，另存后再放入"),
        )


def check_sheets(extents: list[SheetExtent], limits: InputLimits) -> None:
    for extent in extents:
        check_extent(extent, limits)
    total = sum(e.cells for e in extents)
    if total > limits.cells:
        raise TooLarge(
            f"工作簿 {len(extents)} 个工作表的单元格范围合计 {total} 个单元格，超过上限 {limits.cells} 个",
            limit_fix("cells", limits, "只保留数据所在的工作表，删掉多余的行和列，另存后再放入"),
        )
