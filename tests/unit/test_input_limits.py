"""Bounded reading (yukuai_pipeline/intake/limits/): files past the YUKUAI_MAX_* limits are refused with one
message before they are parsed, and nothing inside reading a file ends the process.

Every file that would kill an unguarded reader (calamine aborts on a failed allocation: SIGABRT, no message) is read
in a child process with a capped address space, so that a regression fails its test instead of pytest; the child's
peak RSS is the child's own VmHWM. Workbooks are written by hand (zipfile, BIFF records in an OLE container) so that
nothing but the bytes under test decides the outcome.
"""

import json
import os
import resource
import struct
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pyarrow.compute as pc
import pytest
from python_calamine import CalamineWorkbook

from support.bad_inputs import HEADER, ROWS, write_csv, write_xlsx
from yukuai_pipeline.intake import limits as il
from yukuai_pipeline.intake import readers
from yukuai_pipeline.intake.limits import xlsx_cells, xlsx_parts
from yukuai_pipeline.intake.readers import InputFileError, read_raw
from yukuai_pipeline.settings import INPUT_LIMIT_VARIABLES, InputLimits, input_limits

ROOT = Path(__file__).resolve().parents[2]
JUNK_ROWS = 1_048_575  # the header and 1,048,574 rows of junk: one row short of Excel's last
JUNK_RSS_MB = 3_000  # README: reading and loading that workbook stays under 3 GB
SMALL_RSS_MB = 400  # a refused file costs the interpreter and its imports (~130 MB) and little more
FAST_SECONDS = 30  # refusals take well under a second; generous for a busy CI machine


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch):
    for variable in INPUT_LIMIT_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)


# ---- hand-written workbooks ------------------------------------------------------------------------------------

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _package(path: Path, sheets: dict[str, bytes], extra: dict[str, bytes] | None = None, level: int = 6) -> Path:
    """A minimal .xlsx: the given sheet XML documents (already whole), named in workbook.xml, plus extra parts."""
    names = list(sheets)
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{OFFICE}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(names))
    )
    listed = "".join(f'<sheet name="{escape(n)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        package.writestr(
            "_rels/.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        package.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{RNS}"><sheets>{listed}</sheets></workbook>',
        )
        package.writestr(
            "xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="{PKG}">{rels}</Relationships>'
        )
        for i, name in enumerate(names):
            package.writestr(f"xl/worksheets/sheet{i + 1}.xml", sheets[name])
        for name, data in (extra or {}).items():
            package.writestr(name, data)
    return path


def _sheet(rows: str, dimension: str | None = None, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{NS}"' if prefix else f'xmlns="{NS}"'
    dim = f'<{p}dimension ref="{dimension}"/>' if dimension else ""
    body = f"{dim}<{p}sheetData>{rows}</{p}sheetData>"
    return f'<?xml version="1.0"?><{p}worksheet {xmlns}>{body}</{p}worksheet>'.encode()


def _cell(ref: str, value) -> str:
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def _row(number: int, cells: str) -> str:
    return f'<row r="{number}">{cells}</row>'


# ---- BIFF8 records in an OLE compound file ---------------------------------------------------------------------


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _number(row: int, column: int, value: float) -> bytes:
    return _record(0x0203, struct.pack("<HHHd", row, column, 0, value))


def _dimensions(first_row: int, last_row: int, first_column: int, last_column: int) -> bytes:
    return _record(0x0200, struct.pack("<IIHHH", first_row, last_row, first_column, last_column, 0))


def _biff8(sheets: dict[str, list[bytes]]) -> bytes:
    """A Workbook stream: globals (BOF, a BOUNDSHEET per sheet, EOF), then each sheet's BOF, records, EOF."""

    def bound(position: int, name: str) -> bytes:
        return _record(0x0085, struct.pack("<IBBBB", position, 0, 0, len(name), 1) + name.encode("utf-16-le"))

    bof = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    position = len(bof) + sum(len(bound(0, n)) for n in sheets) + 4
    globals_, bodies = [bof], []
    for name, records in sheets.items():
        body = _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 0, 0, 0)) + b"".join(records) + _record(0x0A)
        globals_.append(bound(position, name))
        bodies.append(body)
        position += len(body)
    return b"".join([*globals_, _record(0x0A), *bodies])


def _ole(stream: bytes) -> bytes:
    """A version-3 compound file (512-byte sectors) holding a "Workbook" stream; under 4,096 bytes it lies in the
    mini stream, as Excel stores a small workbook."""
    size, end, free = 512, 0xFFFFFFFE, 0xFFFFFFFF
    sectors, fat = [], {0: 0xFFFFFFFD}

    def chain(data: bytes) -> int:
        start, count = len(sectors) + 1, max(1, -(-len(data) // size))
        for i in range(count):
            sectors.append(data[i * size : (i + 1) * size].ljust(size, b"\0"))
            fat[start + i] = start + i + 1 if i + 1 < count else end
        return start

    mini = len(stream) < 4096
    if mini:
        data = stream.ljust(-(-len(stream) // 64) * 64, b"\0")
        count = len(data) // 64
        root_start, root_size = chain(data), len(data)
        minifat_start = chain(b"".join(struct.pack("<I", i + 1 if i + 1 < count else end) for i in range(count)))
        stream_start = 0
    else:
        root_start, root_size, minifat_start, stream_start = end, 0, end, chain(stream)

    def entry(name: str, kind: int, start: int, length: int, child: int = free) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBBIII", len(raw), kind, 1, free, free, child)
            + b"\0" * 36
            + struct.pack("<II", start, length)
        ).ljust(128, b"\0")

    directory = chain(
        (
            entry("Root Entry", 5, root_start, root_size, child=1) + entry("Workbook", 2, stream_start, len(stream))
        ).ljust(size, b"\0")
    )
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<9I", 0, 1, directory, 0, 4096, minifat_start, int(mini), end, 0)
        + struct.pack("<I", 0)
    ).ljust(512, b"\xff")
    fat_sector = b"".join(struct.pack("<I", fat.get(i, free)) for i in range(size // 4))
    return header + fat_sector + b"".join(sectors)


# ---- a child process per dangerous file ------------------------------------------------------------------------

_CHILD = r"""
import json, sys, time
from yukuai_pipeline.intake.file_identity import identify
from yukuai_pipeline.intake.loading import load
from yukuai_pipeline.intake.readers import InputFileError, read_raw
path, mode = sys.argv[1], sys.argv[2]
started = time.perf_counter()
out = {}
try:
    if mode == "load":
        loaded = load(path, identify(path))
        out.update(outcome="loaded", accepted=len(loaded.accepted), quarantined=loaded.quarantined, rows=loaded.rows)
    else:
        out.update(outcome="read", shapes=[list(s.cells.shape) for s in read_raw(path)])
except InputFileError as err:
    out.update(outcome="refused", message=str(err))
out["seconds"] = time.perf_counter() - started
# this process's own peak (VmHWM): the rusage of a forked child also counts the parent's pages it saw before exec
with open("/proc/self/status") as fh:
    out["rss_mb"] = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024
print("RESULT " + json.dumps(out, ensure_ascii=False), flush=True)
"""


def _isolated(
    path: Path, mode: str = "read", env: dict | None = None, timeout: float = 120, address_space_gb: int = 6
) -> dict:
    """Read (or identify and load) the file in a child whose address space is capped, so that a reader that
    allocates without bound fails there; the child's outcome, exit status and peak RSS (MB)."""
    limit = address_space_gb << 30

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    child_env = {k: v for k, v in os.environ.items() if k not in INPUT_LIMIT_VARIABLES.values()}
    child_env.update(env or {})
    child_env["PYTHONPATH"] = str(ROOT)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=child_env,
        preexec_fn=cap,
    )
    timer = threading.Timer(timeout, child.kill)
    timer.start()
    try:
        output = child.stdout.read().decode("utf-8", "replace")
        _, status, _ = os.wait4(child.pid, 0)
    finally:
        timer.cancel()
        child.stdout.close()
    child.returncode = os.waitstatus_to_exitcode(status)
    lines = [line[len("RESULT ") :] for line in output.splitlines() if line.startswith("RESULT ")]
    assert child.returncode == 0 and lines, f"child exited with {child.returncode}:\n{output[-3000:]}"
    return json.loads(lines[-1])


def _assert_refused(result: dict, *parts: str) -> None:
    assert result["outcome"] == "refused", result
    for part in parts:
        assert part in result["message"], (part, result["message"])
    assert "处理办法" in result["message"]
    assert result["seconds"] < FAST_SECONDS, result
    assert result["rss_mb"] < SMALL_RSS_MB, result


XFD = "工作表“Sheet1”的单元格范围达到 XFD1048576（16384 列 × 1048576 行），超过上限 500 列"


# ---- limits from the environment -------------------------------------------------------------------------------


def test_limits_default_and_from_environment():
    assert input_limits({}) == InputLimits()
    assert (InputLimits().rows, InputLimits().columns, InputLimits().cells) == (20_000_000, 500, 16_777_216)
    limits = input_limits({"YUKUAI_MAX_COLUMNS": "1_000", "YUKUAI_MAX_FILE_BYTES": "3,000,000"})
    assert (limits.columns, limits.file_bytes, limits.rows) == (1000, 3_000_000, 20_000_000)
    for bad in ("0", "-5", "lots"):
        with pytest.raises(ValueError, match="YUKUAI_MAX_SHEETS"):
            input_limits({"YUKUAI_MAX_SHEETS": bad})


def test_a_bad_limit_is_a_configuration_error_not_the_files(tmp_path, monkeypatch):
    path = tmp_path / "注册用户_20230217.csv"
    write_csv(path, ROWS)
    monkeypatch.setenv("YUKUAI_MAX_ROWS", "many")
    with pytest.raises(ValueError, match="YUKUAI_MAX_ROWS"):
        read_raw(path)


# ---- the scanner's building blocks -----------------------------------------------------------------------------


def test_column_letters():
    assert [il.column_letters(n) for n in (1, 26, 27, 52, 500, 702, 703, 16384)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "SF",
        "ZZ",
        "AAA",
        "XFD",
    ]


@pytest.mark.parametrize("known", [0, 1, 8, 26, 27, 500, 702, 703, 9000, 16383])
def test_column_patterns_find_exactly_the_columns_right_of_the_known_extent(known):
    pattern = f"^(?:{xlsx_cells._greater_letters(il.column_letters(known) if known else '')})[A-Z]*[0-9]"
    columns = sorted(
        {
            1,
            2,
            7,
            8,
            9,
            25,
            26,
            27,
            28,
            499,
            500,
            501,
            701,
            702,
            703,
            704,
            9000,
            16383,
            16384,
            known + 1,
            max(known, 1),
            max(known - 1, 1),
        }
    )
    refs = [f"{il.column_letters(c)}7" for c in columns]
    found = pc.match_substring_regex(refs, pattern).to_pylist()  # RE2, as the scan runs it
    assert [c for c, hit in zip(columns, found) if hit] == [c for c in columns if c > known]


@pytest.mark.parametrize("known", [0, 1, 9, 10, 99, 100005, 999999, 1048575, 1048576])
def test_row_patterns_find_exactly_the_rows_below_the_known_extent(known):
    pattern = f"^(?:{xlsx_cells._greater_number(known)})"
    rows = sorted(
        {
            1,
            9,
            10,
            11,
            99,
            100,
            101,
            100004,
            100005,
            100006,
            999999,
            1000000,
            1048575,
            1048576,
            1048577,
            9999999,
            known,
            known + 1,
            max(known - 1, 1),
        }
    )
    found = pc.match_substring_regex([f'{r}"' for r in rows], pattern).to_pylist()
    assert [r for r, hit in zip(rows, found) if hit] == [r for r in rows if r > known]


def _calamine_extents(path: Path) -> list[tuple[str, int, int]]:
    book = CalamineWorkbook.from_path(str(path))
    out = []
    for name in book.sheet_names:
        end = book.get_sheet_by_name(name).end
        if end is not None:
            out.append((name, end[0] + 1, end[1] + 1))
    return out


def _scanned(path: Path) -> list[tuple[str, int, int]]:
    return [(e.name, e.rows, e.columns) for e in il.check_workbook(path, path.read_bytes()[:8], InputLimits())]


@pytest.mark.parametrize("chunk", [xlsx_parts._CHUNK, 97])  # 97 bytes: every tag sooner or later cut by a chunk's end
def test_measured_extents_are_calamines_own(tmp_path, monkeypatch, chunk):
    """Small workbooks (calamine may read them in process): the scan's extent of each sheet is the one calamine
    builds, for regular and irregular XML, styled empty cells, rows out of order and Excel-written files."""
    monkeypatch.setattr(xlsx_parts, "_CHUNK", chunk)
    far_empty = _row(1, _cell("A1", 1) + _cell("B1", "x")) + _row(900, '<c r="ZZ900" s="1"/><c r="XFD900"></c>')
    cases = {
        "regular.xlsx": _sheet(_row(1, _cell("A1", "序号") + _cell("H1", "审核状态")) + _row(3, _cell("C3", 2.5))),
        "styled_empty_far.xlsx": _sheet(far_empty, dimension="A1:XFD900"),
        "rows_descending.xlsx": _sheet(_row(40, _cell("D40", 4)) + _row(2, _cell("B2", 1)) + _row(7, _cell("K7", 3))),
        "prefixed.xlsx": _sheet(
            '<x:row r="2"><x:c r="C2"><x:v>1</x:v></x:c></x:row>'
            '<x:row r="5"><x:c r="E5" t="inlineStr"><x:is><x:t>y</x:t></x:is></x:c></x:row>',
            prefix="x",
        ),
        "no_references.xlsx": _sheet(
            "<row><c><v>1</v></c><c><v>2</v></c><c/><c><v>3</v></c></row>"
            '<row r="6"><c><v>1</v></c><c s="2"><v>9</v></c></row><row><c><v>5</v></c></row>'
            '<row r="12"/><row><c/><c><v>6</v></c></row>'
        ),
        "lower_case_and_attribute_order.xlsx": _sheet(
            '<row r="3"><c s="1" r="b3"><v>1</v></c><c r=\'AB9\' t="n"><v>2</v></c></row>'
        ),
    }
    for name, xml in cases.items():
        path = _package(tmp_path / name, {"Sheet1": xml})
        assert _scanned(path) == _calamine_extents(path), name
    path = tmp_path / "openpyxl.xlsx"  # as Excel-like writers put it: shared strings, styles, merged title
    write_xlsx(
        path, {"封面": [["说明"]], "Sheet1": [["标题"], HEADER, *ROWS, ["合计", "共3人"]]}, {"Sheet1": ["A1:H1"]}
    )
    assert _scanned(path) == _calamine_extents(path) == [("封面", 1, 1), ("Sheet1", 6, 8)]


def test_hand_built_xls_extents_are_calamines_own(tmp_path):
    for name, padding in (("mini_stream.xls", 0), ("regular_sectors.xls", 700)):
        body = [_dimensions(0, 10, 0, 4), _number(0, 0, 1.5), _number(9, 3, 2.5)]
        body += [_record(0x0201, b"\0" * 6)] * padding  # BLANK records (no cell for calamine): a longer stream
        path = tmp_path / name
        path.write_bytes(_ole(_biff8({"表一": body, "Sheet2": [_number(2, 1, 7.0)]})))
        assert _scanned(path) == _calamine_extents(path) == [("表一", 10, 4), ("Sheet2", 3, 2)], name


# ---- workbooks that kill an unguarded reader -------------------------------------------------------------------


def test_one_cell_at_xfd1048576_is_refused_with_its_extent(tmp_path):
    path = _package(
        tmp_path / "最后一格_20230217.xlsx",
        {"Sheet1": _sheet(_row(1048576, _cell("XFD1048576", "x")), dimension="XFD1048576")},
    )
    assert path.stat().st_size < 2000
    _assert_refused(_isolated(path, "load"), XFD, path.name, "YUKUAI_MAX_COLUMNS")


def test_the_same_without_a_dimension_tag(tmp_path):
    path = _package(tmp_path / "无维度_20230217.xlsx", {"Sheet1": _sheet(_row(1048576, _cell("XFD1048576", "x")))})
    _assert_refused(_isolated(path), XFD)


def test_a_lying_dimension_tag_does_not_hide_a_far_cell(tmp_path):
    """A1:B2 declared, a value in A1 and one at XFD1048576: calamine itself would build the whole block."""
    rows = _row(1, _cell("A1", "序号") + _cell("B1", 1)) + _row(1048576, _cell("XFD1048576", 2))
    path = _package(tmp_path / "维度说谎_20230217.xlsx", {"Sheet1": _sheet(rows, dimension="A1:B2")})
    _assert_refused(_isolated(path), XFD + "（文件自己声明的范围是 A1:B2）")


def test_a_far_cell_in_prefixed_tags_is_found(tmp_path):
    rows = (
        '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
        '<x:row r="1048576"><x:c r="XFD1048576"><x:v>2</x:v></x:c></x:row>'
    )
    path = _package(tmp_path / "前缀_20230217.xlsx", {"Sheet1": _sheet(rows, prefix="x")})
    _assert_refused(_isolated(path), XFD)


def test_a_far_cell_placed_without_references_is_found(tmp_path):
    """No r attributes: calamine places a cell after the one before it, <c/> included; the scan follows it."""
    rows = "<row><c><v>1</v></c></row>" + '<row r="1048576">' + "<c/>" * 16383 + "<c><v>2</v></c></row>"
    path = _package(tmp_path / "无引用_20230217.xlsx", {"Sheet1": _sheet(rows)})
    _assert_refused(_isolated(path), XFD)


def test_a_far_row_written_before_the_others_is_found(tmp_path):
    rows = _row(1048576, _cell("A1048576", 1)) + "".join(
        _row(r, _cell(f"A{r}", r) + _cell(f"B{r}", "x")) for r in range(1, 2000)
    )
    path = _package(tmp_path / "行序颠倒_20230217.xlsx", {"Sheet1": _sheet(rows)})
    result = _isolated(path, env={"YUKUAI_MAX_CELLS": "1000000"})
    _assert_refused(result, "单元格范围达到 B1048576（2 列 × 1048576 行），共 2097152 个单元格，超过上限 1000000 个")


def test_a_shared_string_table_claiming_billions_of_strings_is_refused(tmp_path):
    strings = f'<?xml version="1.0"?><sst xmlns="{NS}" count="1" uniqueCount="100000000000"><si><t>x</t></si></sst>'
    path = _package(
        tmp_path / "共享字符串_20230217.xlsx",
        {"Sheet1": _sheet(_row(1, '<c r="A1" t="s"><v>0</v></c>'))},
        {"xl/sharedStrings.xml": strings},
    )
    _assert_refused(_isolated(path), "共享字符串表声明有 100000000000 个字符串")


def _blank_sheet(path: Path, megabytes: int) -> Path:
    """A workbook whose one sheet holds megabytes of blanks inside <sheetData> (deflate: ~1000:1), streamed."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        _package_parts(package)
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'<?xml version="1.0"?><worksheet xmlns="{NS}"><sheetData>'.encode())
            for _ in range(megabytes):
                sheet.write(b" " * (1 << 20))
            sheet.write(b"</sheetData></worksheet>")
    return path


def test_a_zip_bomb_is_refused_from_the_directory(tmp_path):
    """200 MB of blanks inside a sheet: refused on the zip directory's sizes, before inflating a byte."""
    path = _blank_sheet(tmp_path / "压缩炸弹_20230217.xlsx", 200)
    assert path.stat().st_size < 1 << 20
    _assert_refused(_isolated(path), "xl/worksheets/sheet1.xml 压缩比达", "超过上限 500:1")
    _assert_refused(
        _isolated(path, env={"YUKUAI_MAX_COMPRESSION_RATIO": "100000", "YUKUAI_MAX_UNCOMPRESSED_BYTES": "100000000"}),
        "xl/worksheets/sheet1.xml 解压后有 200.0 MB",
        "YUKUAI_MAX_UNCOMPRESSED_BYTES",
    )


def test_a_part_that_inflates_past_its_declared_size_is_refused(tmp_path):
    """The directory says 2 KB; the deflate stream holds 50 MB: what is inflated is counted, not what is declared."""
    path = _blank_sheet(tmp_path / "声明大小说谎_20230217.xlsx", 50)
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    patched = [at for at in _central_records(data) if data[at + 46 : at + 46 + len(name)] == name]
    assert len(patched) == 1
    struct.pack_into("<I", data, patched[0] + 24, 2048)  # the directory's uncompressed size
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as package:
        assert package.getinfo(name.decode()).file_size == 2048
    _assert_refused(_isolated(path), "Excel 文件已损坏或格式不对")


def _central_records(data: bytearray) -> list[int]:
    out, at = [], data.find(b"PK\x01\x02")
    while at >= 0:
        out.append(at)
        at = data.find(b"PK\x01\x02", at + 4)
    return out


def test_too_many_sheets_are_refused(tmp_path, monkeypatch):
    sheets = {f"S{i}": _sheet(_row(1, _cell("A1", i))) for i in range(101)}
    path = _package(tmp_path / "工作表太多_20230217.xlsx", sheets)
    with pytest.raises(InputFileError, match="工作簿有 101 个工作表，超过上限 100 个") as refused:
        read_raw(path)
    assert "YUKUAI_MAX_SHEETS（当前 100）" in str(refused.value)
    monkeypatch.setenv("YUKUAI_MAX_SHEETS", "200")
    assert len(read_raw(path)) == 101


def test_xls_with_a_cell_at_the_last_biff_position_is_refused(tmp_path):
    path = tmp_path / "远处单元格_20230217.xls"
    path.write_bytes(_ole(_biff8({"Sheet1": [_number(0, 0, 1.0), _number(65535, 65535, 2.0)]})))
    _assert_refused(_isolated(path), "工作表“Sheet1”的单元格范围达到 CRXP65536（65536 列 × 65536 行），超过上限 500 列")


def test_xls_with_a_lying_dimensions_record_is_refused(tmp_path):
    """calamine reserves DIMENSIONS' rows × columns before reading a cell: 4 billion rows is an abort."""
    path = tmp_path / "维度记录_20230217.xls"
    path.write_bytes(_ole(_biff8({"Sheet1": [_dimensions(0, 0xFFFFFFF0, 0, 255), _number(0, 0, 1.0)]})))
    _assert_refused(_isolated(path), "声明的范围 A1:IU4294967280（255 列 × 4294967280 行）", "YUKUAI_MAX_CELLS")


# ---- CSV -------------------------------------------------------------------------------------------------------


def test_a_100000_column_csv_is_refused_in_seconds_and_small_memory(tmp_path):
    path = tmp_path / "十万列_20230217.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(f"列{i}" for i in range(100_000)) + "\n")
        for r in range(3):
            fh.write(",".join(str(r * i % 97) for i in range(100_000)) + "\n")
    result = _isolated(path, "load")
    _assert_refused(result, "CSV 文件的前几行至少有", "列，超过上限 500 列", "YUKUAI_MAX_COLUMNS")


def test_a_wide_csv_whose_first_line_fits_the_sample_names_its_width(tmp_path):
    path = tmp_path / "五千列_20230217.csv"
    write_csv(path, [["1"] * 5000], header=[f"c{i}" for i in range(5000)])
    with pytest.raises(InputFileError, match="CSV 文件的前几行有 5000 列，超过上限 500 列"):
        read_raw(path)


def test_one_very_wide_record_after_the_sniffed_lines_is_refused_as_it_is_read(tmp_path):
    rows = [[i + 1, f"YK{i + 1:08d}", "x", "", "龙潭镇", "某村", "2023-02-01", "已通过"] for i in range(300)]
    rows[250] = rows[250] + ["多余"] * 10_000
    path = tmp_path / "一行极宽_20230217.csv"
    write_csv(path, rows)
    with pytest.raises(InputFileError, match="CSV 文件第 252 行有 10008 列，超过上限 500 列"):
        read_raw(path)


def test_rows_are_estimated_before_reading_and_the_file_size_is_checked(tmp_path, monkeypatch):
    path = tmp_path / "三千行_20230217.csv"
    write_csv(path, [[i, f"YK{i:08d}", "", "", "龙潭镇", "某村", "2023-02-01", "已通过"] for i in range(3000)])
    records = il.estimate_records(path, path.stat().st_size, path.read_bytes()[: 256 * 1024], "utf-8")
    assert records == 3002  # header, 3,000 rows, and the empty line after the last line break
    big = tmp_path / "大文件_20230217.csv"
    big.write_bytes(path.read_bytes() * 200)  # past the 256 KB sample: estimated from the lines' length
    estimate = il.estimate_records(big, big.stat().st_size, big.read_bytes()[: 256 * 1024], "utf-8")
    assert abs(estimate - 3001 * 200) < 3001 * 200 * 0.02
    monkeypatch.setenv("YUKUAI_MAX_ROWS", "1000")
    with pytest.raises(InputFileError, match="按文件大小估计 CSV 文件约有 3002 行，超过上限 1000 行"):
        read_raw(path)
    monkeypatch.setenv("YUKUAI_MAX_ROWS", "10000000")
    monkeypatch.setenv("YUKUAI_MAX_FILE_BYTES", "1000")
    with pytest.raises(InputFileError, match=r"文件大小 .*KB.*超过上限 1000 字节") as refused:
        read_raw(path)
    assert "YUKUAI_MAX_FILE_BYTES（当前 1000）" in str(refused.value)


# ---- nothing inside reading ends the process -------------------------------------------------------------------


def test_unexpected_failures_inside_reading_are_file_errors(tmp_path, monkeypatch):
    csv_path, xlsx_path = tmp_path / "注册用户_20230217.csv", tmp_path / "注册用户_20230217.xlsx"
    write_csv(csv_path, ROWS)
    write_xlsx(xlsx_path, {"Sheet1": [HEADER, *ROWS]})

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(readers, "read_csv_arrow", broken)
    with pytest.raises(InputFileError, match=r"读取时出错（KeyError）"):
        read_raw(csv_path)

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(readers, "read_csv_arrow", exhausted)
    with pytest.raises(InputFileError, match="读取时内存不足"):
        read_raw(csv_path)

    class PanicException(BaseException):  # what pyo3 raises for a Rust panic inside calamine
        pass

    def panics(*args, **kwargs):
        raise PanicException("index out of bounds")

    readers._SHEETS.clear()
    monkeypatch.setattr(readers, "CalamineWorkbook", type("Broken", (), {"from_filelike": staticmethod(panics)}))
    with pytest.raises(InputFileError, match=r"Excel 文件已损坏或格式不对（PanicException）"):
        read_raw(xlsx_path)


# ---- a million rows of junk ------------------------------------------------------------------------------------


def _write_junk_workbook(path: Path, rows: int) -> None:
    """A valid registrations header over rows of junk text in its eight columns, streamed into the zip as the
    platform's exporter writes (a row at a time, inline strings), never held whole in memory."""

    def cells(number: int, values: list[str]) -> str:
        return "".join(
            f'<c r="{letter}{number}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
            for letter, v in zip("ABCDEFGH", values)
        )

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        _package_parts(package)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0"?><worksheet xmlns="{NS}"><sheetData>'.encode())
            sheet.write(_row(1, cells(1, HEADER)).encode())
            batch = []
            for r in range(2, rows + 1):
                k = r * 2654435761 % 1000003
                batch.append(
                    _row(
                        r,
                        cells(
                            r,
                            [
                                f"乱{k % 977}",
                                f"ID?{k:x}",
                                "？？",
                                f"电话{k % 89}x",
                                f"※镇{k % 97}",
                                f"◇村{k % 389}",
                                f"不是日期{k % 13}",
                                f"状态{k % 7}",
                            ],
                        ),
                    )
                )
                if len(batch) == 20_000:
                    sheet.write("".join(batch).encode())
                    batch = []
            sheet.write(("".join(batch) + "</sheetData></worksheet>").encode())


def _package_parts(package: zipfile.ZipFile) -> None:
    package.writestr(
        "[Content_Types].xml",
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
    )
    package.writestr(
        "_rels/.rels",
        f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    )
    package.writestr(
        "xl/workbook.xml",
        f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{RNS}"><sheets>'
        '<sheet name="注册用户明细" sheetId="1" r:id="rId1"/></sheets></workbook>',
    )
    package.writestr(
        "xl/_rels/workbook.xml.rels",
        f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship '
        f'Id="rId1" Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    )


@pytest.fixture(scope="module")
def junk_workbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("junk") / "注册用户明细_20230217.xlsx"
    _write_junk_workbook(path, JUNK_ROWS)
    return path


def test_a_million_rows_of_junk_load_in_bounded_memory(junk_workbook):
    """Within the default limits (8 × 1,048,575 cells < 16,777,216): read, every row quarantined, none counted,
    and the process's peak RSS stays under the bound README states."""
    result = _isolated(junk_workbook, "load", timeout=600, address_space_gb=8)
    assert result["outcome"] == "loaded", result
    assert (result["rows"], result["accepted"], result["quarantined"]) == (JUNK_ROWS - 1, 0, JUNK_ROWS - 1)
    assert result["rss_mb"] < JUNK_RSS_MB, result


def test_a_million_rows_of_junk_past_a_lower_cell_limit_are_refused_before_parsing(junk_workbook):
    result = _isolated(junk_workbook, "load", env={"YUKUAI_MAX_CELLS": "4000000"}, timeout=300)
    _assert_refused(
        result,
        "工作表“注册用户明细”的单元格范围达到 H1048575（8 列 × 1048575 行），共 8388600 个单元格，超过上限 4000000 个",
        "YUKUAI_MAX_CELLS",
    )
