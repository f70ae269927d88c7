"""The fast CSV path (pyarrow) must give exactly the cells, and the record numbers, of pandas' reader — or step
aside. Each case is read both ways and compared cell by cell."""

import numpy as np
import pandas as pd
import pytest

from yukuai_pipeline.intake import arrow_csv, readers

HEADER = "序号,用户ID,乡镇（街道）,村（社区）,注册时间,审核状态"
ROW = "{i},YK{i:06d},麻旺镇,天山堡村,2023-02-17 08:00:00,已通过"


def _body(n: int) -> list[str]:
    return [ROW.format(i=i) for i in range(1, n + 1)]


CASES = {
    "plain": [HEADER, *_body(5)],
    "title and footer padded": [
        "渝快社区注册用户明细,,,,,",
        "导出时间：2023-02-17,,,,,",
        HEADER,
        *_body(5),
        "合计,共5人,,,,",
        "制表人：系统导出,,,,,",
    ],
    "title and footer short": [
        "渝快社区注册用户明细",
        "导出时间：2023-02-17",
        HEADER,
        *_body(5),
        "合计,共5人",
        "制表人：系统导出",
    ],
    "short line between title and header": ["标题", "", "说明,见下", HEADER, *_body(3), "", "合计,3"],
    "blank lines in the body": [HEADER, *_body(2), "", ",,,,,", *_body(2)],
    "quoted commas and newlines": [
        HEADER,
        '1,"YK,1",麻旺镇,"天山\n堡村",2023-02-17 08:00:00,已通过',
        '2,"YK ""2""",麻旺镇,天山堡村,2023-02-17,待审核',
        "合计",
    ],
    "spaces and full-width spaces": [HEADER, "1, YK1 ,\u3000麻旺镇,天山堡村 ,2023-02-17 08:00:00, 已通过"],
    "short record in the middle": [HEADER, *_body(2), "note", *_body(2)],
    "wide record at the end": [HEADER, *_body(2), "合计,2,,,,,,,extra"],
    "no newline at the end": ["标题", HEADER, *_body(2), "合计,2"],
}


def _write(tmp_path, lines, encoding="utf-8-sig", end="\n", name="export.csv"):
    path = tmp_path / name
    path.write_bytes((("\n".join(lines)) + end).encode(encoding))
    return path


def _both(path, monkeypatch):
    fast = readers.read_raw(path)[0].cells
    with monkeypatch.context() as m:
        m.setattr(readers, "read_csv_arrow", lambda *a, **k: None)
        slow = readers.read_raw(path)[0].cells
    return fast, slow


def _plain(frame: pd.DataFrame) -> list[list]:
    values = frame.astype(object).to_numpy()
    return [[None if (v is None or (isinstance(v, float) and np.isnan(v))) else v for v in row] for row in values]


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_cells_and_record_numbers_as_pandas(tmp_path, monkeypatch, case):
    path = _write(tmp_path, CASES[case], end="" if case == "no newline at the end" else "\n")
    fast, slow = _both(path, monkeypatch)
    assert list(fast.index) == list(slow.index)
    assert list(fast.columns) == list(slow.columns)
    assert _plain(fast) == _plain(slow)


def test_arrow_path_taken_for_an_export_with_short_title_and_footer(tmp_path):
    path = _write(tmp_path, CASES["title and footer short"])
    cells = readers.read_raw(path)[0].cells
    assert all(dtype == arrow_csv.TEXT for dtype in cells.dtypes)
    assert cells.loc[0, 0] == "渝快社区注册用户明细" and cells.loc[0, 1] == ""
    assert cells.loc[len(cells) - 2, 1] == "共5人" and cells.loc[3, 1] == "YK000001"


def test_arrow_path_steps_aside(tmp_path, monkeypatch):
    """A record of another width far from both ends, or one wider than the header, is left to pandas' reader
    (whose result the cases above compare with)."""
    monkeypatch.setattr(arrow_csv, "_TAIL_BYTES", 4096)
    middle = _write(tmp_path, [HEADER, *_body(1500), "note", *_body(1500)], name="middle.csv")
    wide = _write(tmp_path, CASES["wide record at the end"], name="wide.csv")
    for path in (middle, wide):
        head = path.read_text("utf-8-sig")[:4096]
        assert arrow_csv.read_csv_arrow(path, "utf-8-sig", ",", 6, head) is None
    assert readers.read_raw(middle)[0].cells.loc[1501, 0] == "note"


def test_long_file_with_footer_beyond_the_first_bytes(tmp_path, monkeypatch):
    """The footer is found in the file's last bytes, far from its head."""
    monkeypatch.setattr(arrow_csv, "_TAIL_BYTES", 4096)
    lines = ["标题", HEADER, *_body(3000), "合计,共3000人", "制表人：系统导出"]
    path = _write(tmp_path, lines)
    fast, slow = _both(path, monkeypatch)
    assert fast.dtypes.iloc[0] == arrow_csv.TEXT
    assert list(fast.index) == list(slow.index) == list(range(3004))
    assert _plain(fast) == _plain(slow)


def test_gb18030_export(tmp_path, monkeypatch):
    path = _write(tmp_path, CASES["title and footer short"], encoding="gb18030")
    fast, slow = _both(path, monkeypatch)
    assert fast.dtypes.iloc[0] == arrow_csv.TEXT
    assert _plain(fast) == _plain(slow)


def test_invalid_bytes_left_to_pandas_replacement(tmp_path, monkeypatch):
    """Broken UTF-8 is read by pandas' reader with U+FFFD, as before."""
    path = tmp_path / "broken.csv"
    path.write_bytes(("\n".join([HEADER, *_body(2)]) + "\n").encode() + b"3,YK\xff,a,b,2023-02-17,x\n")
    assert arrow_csv.read_csv_arrow(path, "utf-8", ",", 6, HEADER) is None
    cells = readers.read_raw(path)[0].cells
    assert "\ufffd" in cells.loc[3, 1] and cells.loc[2, 1] == "YK000002"


def test_arrow_strip_takes_exactly_what_python_strip_takes():
    """parsing.stripped relies on pyarrow's utf8_trim_whitespace agreeing with str.strip() on every code point."""
    from yukuai_pipeline.intake.text_parsing import stripped

    chars = [chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF]
    cells = pd.Series([f"{c}x{c}" for c in chars], dtype=arrow_csv.TEXT)
    differs = [c for c, got in zip(chars, stripped(cells)) if got != f"{c}x{c}".strip()]
    assert differs == []
    assert stripped(pd.Series(["\u3000麻旺镇 ", "x"], dtype=arrow_csv.TEXT)).tolist() == ["麻旺镇", "x"]
