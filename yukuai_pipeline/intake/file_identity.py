"""What a landed file is, from its first rows and its name: FileIdentity (kind, snapshot date, sheet, the dates in
its name and title, when it was made), identify (errors returned, not raised, so a scan goes on), the file's
display name and SHA-256, which files are candidates, the sheet whose header fits a contract, and the message for
a file no contract fits or that cannot be opened.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from yukuai_pipeline.contracts import Contract, input_contracts
from yukuai_pipeline.intake.column_mapping import AMBIGUOUS, UNRECOGNISED, column_letter
from yukuai_pipeline.intake.headers import (
    HeaderMatch,
    TitleDate,
    best_partial_header,
    date_from_text,
    date_from_title,
    find_header,
)
from yukuai_pipeline.intake.readers import SUPPORTED_SUFFIXES, InputFileError, RawSheet, read_raw

CLASSIFY_ROWS = 60


@dataclass
class FileIdentity:
    """What a file is, from its header and name/title; cheap (reads only the first rows)."""

    path: Path
    sha256: str
    kind: str | None
    snapshot_date: dt.date | None
    sheet: str | None = None
    error: InputFileError | None = None
    name_date: dt.date | None = None  # the date in the file name
    title: TitleDate | None = None  # the date above the header (统计截止 / 导出时间 …)
    mtime: float | None = None  # seconds since the epoch, when the file was last written
    waiting: str | None = None  # why the file is not read yet (still being written, cut off); None when whole
    made: dt.datetime | None = None  # when it was made, as recorded when the warehouse took it in (else: made_at)

    @property
    def name(self) -> str:
        """The file name as it may be shown and stored (a GBK name unpacked on Linux is decoded, never raw bytes)."""
        return display_name(self.path.name)

    @property
    def made_at(self) -> dt.datetime | None:
        """When the export was made: its title's 导出时间 if it has one, else the file's modification time (Beijing
        time); for a snapshot the warehouse keeps, what was recorded when it was taken in."""
        if self.made is not None:
            return self.made
        if self.title is not None and self.title.is_export_time:
            return self.title.at or dt.datetime.combine(self.title.day, dt.time())
        if self.mtime is not None:
            return dt.datetime.fromtimestamp(self.mtime, dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=8)
        return None


def display_name(name: str) -> str:
    """A name whose bytes are not UTF-8 (Python keeps them as surrogates) decoded as GB18030, as a Windows zip
    unpacked on Linux leaves it; failing that, the undecodable bytes shown as \\xNN."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "backslashreplace")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_candidate(path: Path) -> bool:
    return path.is_file() and not path.name.startswith((".", "~$")) and path.suffix.lower() in SUPPORTED_SUFFIXES


def pick_sheet(sheets: list[RawSheet], contracts: list[Contract]) -> tuple[RawSheet, HeaderMatch] | None:
    """The first sheet whose header fits a contract ("wrong sheet first" exports put a cover sheet before it)."""
    for sheet in sheets:
        match = find_header(sheet.cells, contracts)
        if match:
            return sheet, match
    return None


def unrecognised(path: Path, sheets: list[RawSheet], contracts: list[Contract]) -> InputFileError:
    if all(sheet.cells.dropna(how="all").empty for sheet in sheets) or all(
        (sheet.cells.astype(str).apply(lambda c: c.str.strip()) == "").all(axis=None) for sheet in sheets
    ):
        return InputFileError(display_name(path.name), "文件中没有任何内容", "从平台重新导出该文件")
    partial = [p for p in (best_partial_header(s.cells, contracts) for s in sheets) if p]
    if partial:
        match = partial[0]
        contract = match.contract
        missing = [c for c in contract.required_columns if c not in match.columns]
        titles = "、".join(contract.column_title(c) for c in missing)
        doubtful = [
            f"第 {column_letter(c.position)} 列“{c.text}”" + (f"（{c.note}）" if c.note else "")
            for c in match.cells
            if c.outcome in (UNRECOGNISED, AMBIGUOUS)
        ]
        seen = f"；未能识别的表头：{'、'.join(doubtful[:8])}" if doubtful else ""
        error = InputFileError(
            display_name(path.name),
            f"看起来是「{contract.title}」，但缺少必需的列：{titles}{seen}",
            f"导出时勾选这些列，或把表头写法加入 schemas/inputs/{contract.kind}.yaml 的 header_aliases",
        )
        error.likely_kind = contract.kind  # a broken export of that kind, not a stray file: its day cannot go on
        return error
    return InputFileError(
        display_name(path.name),
        "无法识别文件类型（表头不是任何已知导出格式）",
        "确认这是平台导出的注册明细、注册汇总、社区基本信息、基层队伍信息或平台应用明细表，表头在前 40 行内",
    )


def unreadable(path: Path, err: OSError) -> FileIdentity:
    """A file the pipeline may not or cannot open: a file issue naming it, dated by its name where it has one."""
    name = display_name(path.name)
    return FileIdentity(
        path,
        "",
        None,
        None,
        name_date=date_from_text(name),
        error=InputFileError(
            name,
            f"无法读取（{err.strerror or type(err).__name__}）",
            "确认文件存在、已复制完整，且运行本程序的用户有读取权限",
        ),
    )


def identify(path: Path, contracts: list[Contract] | None = None, sha256: str | None = None) -> FileIdentity:
    """Kind and snapshot date, from the first rows only. Errors are returned, not raised, so a scan goes on."""
    path = Path(path)
    contracts = contracts or input_contracts()
    try:
        mtime = path.stat().st_mtime
        sha = sha256 or file_sha256(path)
    except OSError as err:
        return unreadable(path, err)
    try:
        sheets = read_raw(path, nrows=CLASSIFY_ROWS)
        picked = pick_sheet(sheets, contracts)
        if picked is None:
            raise unrecognised(path, sheets, contracts)
        sheet, match = picked
        title = date_from_title(sheet.cells, match.first_row)
        name_date = date_from_text(display_name(path.stem))
        day = name_date or (title.day if title else None)
        return FileIdentity(
            path, sha, match.contract.kind, day, sheet.name, name_date=name_date, title=title, mtime=mtime
        )
    except InputFileError as err:
        return FileIdentity(
            path, sha, None, None, error=err, name_date=date_from_text(display_name(path.stem)), mtime=mtime
        )
    except Exception as err:  # noqa: BLE001 - a scan must go on past any one file, whatever breaks in it
        problem = f"读取时出现意外错误（{type(err).__name__}）"
        return FileIdentity(
            path,
            sha,
            None,
            None,
            error=InputFileError(display_name(path.name), problem, "从平台重新导出该文件；如仍出错请联系技术支持"),
            name_date=date_from_text(display_name(path.stem)),
            mtime=mtime,
        )
