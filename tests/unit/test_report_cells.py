"""The report's cell writing (report/cells.py): a table written in one go holds exactly what writing it cell by cell
(put_value, then the border and the row's fill) holds, each cell with a style of its own; restyle copies what the
ordinary style setters give; the collector pause puts the collector back as it was."""

import datetime as dt
import gc

import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from yukuai_pipeline.gc_paused import gc_paused
from yukuai_pipeline.report.cells import (
    BORDER,
    DATE,
    FILLS,
    INT,
    ONE_DECIMAL,
    PCT,
    SERIAL,
    TEXT,
    YES_NO,
    put_text,
    put_value,
    restyle,
    write_table,
)

COLUMNS = [
    ("序号", "seq", SERIAL),
    ("乡镇", "township", TEXT),
    ("任务数", "target", INT),
    ("完成率", "rate", PCT),
    ("人均", "mean", ONE_DECIMAL),
    ("日期", "day", DATE),
    ("已激活", "active", YES_NO),
    ("备注", "note", TEXT),
    ("不在表中", "absent", INT),
    ("状态", "status", TEXT),
]
FRAME = pd.DataFrame(
    {
        "seq": [1, 2, 3, 4],
        "township": ["桃花源街道", '=HYPERLINK("x")', None, "钟多街道"],
        "target": pd.array([1200, None, 35, 7], dtype="Int64"),
        "rate": [0.5, float("nan"), 1.0, 0.123456],
        "mean": [2.25, 3.0, None, 0.0],
        "day": [dt.date(2023, 6, 30), None, pd.Timestamp("2023-07-01"), dt.date(2023, 2, 17)],
        "active": [True, False, None, True],
        "note": [["村委会", "居委会"], "a\x07b", "+86 电话", 42],
        "status": ["滞后", "正常", "严重滞后", None],
    }
)


def _cell_by_cell(ws, top: int) -> None:
    """What write_table wrote before it wrote whole columns: every cell through put_value, its border, the fill."""
    for col, (header, _, _) in enumerate(COLUMNS, start=1):
        put_text(ws.cell(top, col), header)
    for offset, record in enumerate(FRAME.to_dict("records"), start=1):
        fill = FILLS.get(record["status"]) if isinstance(record["status"], str) else None
        for col, (_, key, kind) in enumerate(COLUMNS, start=1):
            cell = ws.cell(top + offset, col)
            put_value(cell, record.get(key), kind)
            cell.border = BORDER
            if fill:
                cell.fill = fill


def _look(cell) -> tuple:
    return (
        cell.value,
        cell.data_type,
        cell.number_format,
        cell.border.left.style,
        cell.fill.fgColor.rgb if cell.fill.fill_type else None,
        cell.quotePrefix,
    )


def test_a_table_holds_what_writing_it_cell_by_cell_holds():
    table, reference = Workbook().active, Workbook().active
    assert write_table(table, 3, COLUMNS, FRAME) == 3 + len(FRAME)
    _cell_by_cell(reference, 3)
    for row in range(4, 4 + len(FRAME)):
        for col in range(1, len(COLUMNS) + 1):
            assert _look(table.cell(row, col)) == _look(reference.cell(row, col)), (row, col)
    # the values themselves, as the officer reads them
    first_row = [1, "桃花源街道", 1200, 0.5, 2.25, dt.date(2023, 6, 30), "是", "村委会、居委会", None, "滞后"]
    assert [c.value for c in table[4]] == first_row
    assert table.cell(5, 2).value == '=HYPERLINK("x")' and table.cell(5, 2).data_type == "s"
    assert table.cell(5, 2).quotePrefix and not table.cell(4, 2).quotePrefix
    assert table.cell(5, 8).value == "ab"  # a control character cannot be written to XML
    assert table.cell(6, 8).quotePrefix and table.cell(7, 8).value == "42"
    assert table.cell(5, 3).value is None and table.cell(5, 3).border.left.style == "thin"  # empty, still bordered
    assert table.cell(4, 1).fill.fgColor.rgb == "00FCE4D6" and table.cell(6, 9).fill.fgColor.rgb == "00FFC7CE"
    assert table.cell(5, 1).fill.fill_type is None and table.cell(7, 10).fill.fill_type is None
    assert table.cell(4, 3).number_format == "#,##0" and table.cell(4, 1).number_format == "General"
    assert table.cell(3, 1).font.bold and table.cell(3, 10).font.bold and table.cell(3, 10).value == "状态"


def test_each_table_cell_has_a_style_of_its_own():
    ws = Workbook().active
    write_table(ws, 1, COLUMNS, FRAME)
    assert ws.cell(3, 1).style_id == ws.cell(5, 1).style_id  # 正常 has no fill: the same style as no status
    ws.cell(3, 1).alignment = Alignment(wrap_text=True)
    ws.cell(1, 2).font = Font(italic=True)
    assert not ws.cell(5, 1).alignment.wrap_text and ws.cell(3, 1).alignment.wrap_text
    assert not ws.cell(1, 3).font.italic and ws.cell(1, 3).font.bold and ws.cell(1, 2).font.italic


def test_a_second_table_and_a_second_workbook_keep_their_own_styles():
    first, second = Workbook(), Workbook()
    second.active.cell(1, 1).font = Font(size=20)  # the second workbook numbers its fonts differently
    for wb in (first, second, first):
        write_table(wb.active, wb.active.max_row + 2, COLUMNS, FRAME)
    assert second.active.cell(3, 1).font.bold and not second.active.cell(4, 1).font.bold  # header at 3, rows below
    assert second.active.cell(4, 3).number_format == "#,##0" and second.active.cell(1, 1).font.sz == 20
    assert first.active.cell(9, 1).font.bold and not first.active.cell(10, 1).font.bold
    assert first.active.cell(10, 4).number_format == "0.0%" and first.active.cell(10, 1).fill.fgColor.rgb == "00FCE4D6"


def test_restyle_gives_what_the_setters_give_and_keeps_what_the_cell_had():
    ws = Workbook().active
    ws.cell(1, 1).number_format = "0.0%"

    def bold(cell):
        cell.font = Font(bold=True)

    for row in (1, 2, 3):
        restyle(ws.cell(row, 1), ("bold",), bold)
    assert all(ws.cell(row, 1).font.bold for row in (1, 2, 3))
    assert ws.cell(1, 1).number_format == "0.0%" and ws.cell(2, 1).number_format == "General"
    ws.cell(3, 1).font = Font(italic=True)  # a copy, not a shared style
    assert ws.cell(2, 1).font.bold and not ws.cell(2, 1).font.italic


def test_gc_paused_restores_the_collector_and_nests():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("the build failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left off, as it was
    finally:
        gc.enable()
