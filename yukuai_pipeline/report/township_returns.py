"""Per-township returns (乡镇回执): the county bureau sends each attachment township a workbook of its own — its
figures and rank, its villages, roster gaps, cadre quotas and data-quality issues — and keeps a zip of them all.

Files land in `<directory>/乡镇回执_YYYY-MM-DD/<township>_回执_YYYY-MM-DD.xlsx` with the zip
`<county>乡镇回执_YYYY-MM-DD.zip` beside the folder. Everything is dated from the snapshot, not the clock, so the same
data gives the same bytes; every file is written by a rename and given the pipeline's private modes. The sheets
themselves are in report/return_sheets.py.
"""

import datetime as dt
import gc
import multiprocessing
import re
import unicodedata
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from yukuai_pipeline import settings
from yukuai_pipeline.file_modes import private_dir, private_file
from yukuai_pipeline.gc_paused import gc_paused
from yukuai_pipeline.report import return_sheets
from yukuai_pipeline.report.charts import official_townships
from yukuai_pipeline.report.data import ReportData
from yukuai_pipeline.report.xlsx_files import stable_workbook_bytes, stable_zip_bytes, write_atomically

__all__ = [
    "ReturnsUnderWay",
    "returns_folder_name",
    "safe_file_stem",
    "start_township_returns",
    "township_workbook",
    "write_township_returns",
]

RETURN_SUFFIX = "_回执_{day}.xlsx"
# path separators and what Windows forbids in a name (the townships open these files on Windows)
UNSAFE_FILE_CHARACTERS = re.compile(r'[/\\:*?"<>|]')
MAX_STEM_CHARACTERS = 60  # 3 bytes each in UTF-8: the name stays well under the usual 255-byte limit


def returns_folder_name(day: dt.date) -> str:
    return f"乡镇回执_{day.isoformat()}"


def safe_file_stem(name: str) -> str:
    """The name without path separators, characters Windows forbids, or control and invisible format characters
    (a right-to-left override would disguise the extension); no leading dots (hidden files, `..`) and no trailing
    dots or spaces (Windows drops them). Empty when nothing usable is left."""
    text = unicodedata.normalize("NFC", str(name))
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = UNSAFE_FILE_CHARACTERS.sub("", text).strip().lstrip(".").rstrip(". ")
    return text[:MAX_STEM_CHARACTERS]


def township_workbook(data: ReportData, township: str) -> Workbook:
    """The return of one attachment township (a ValueError for any other name, such as 合计 or 未匹配)."""
    official = official_townships(data.townships)
    rows = official[official["township"] == township]
    if rows.empty:
        raise ValueError(f"“{township}”不是附件中的乡镇（街道），不生成回执")
    wb = Workbook()
    wb.remove(wb.active)
    return_sheets.overview_sheet(wb.create_sheet("本乡镇概况"), data, rows.iloc[0], len(official))
    return_sheets.village_sheet(wb.create_sheet("村（社区）进度"), data, township)
    return_sheets.roster_gap_sheet(wb.create_sheet("基层队伍缺口"), data, township)
    return_sheets.quota_sheet(wb.create_sheet("干部分配任务"), data, township)
    return_sheets.issue_sheet(wb.create_sheet("数据问题"), data, township)
    stamp = dt.datetime.combine(data.snapshot_date, dt.time())
    wb.properties.created = wb.properties.modified = stamp  # from the data, not the clock: same input, same file
    wb.properties.creator = wb.properties.lastModifiedBy = "yukuai-pipeline"
    wb.properties.title = f"{township} 渝快社区注册进度回执（{data.snapshot_date.isoformat()}）"
    return wb


def _file_names(official: pd.DataFrame, day: dt.date) -> list[str]:
    """One file name per township in attachment order; a name left empty or shared by two townships after
    cleaning gets the township's 序号, so no return overwrites another."""
    stems = [safe_file_stem(name) or f"乡镇{seq}" for name, seq in zip(official["township"], official["seq"])]
    names = []
    for stem, seq in zip(stems, official["seq"]):
        if stems.count(stem) > 1:
            stem = f"{stem}（序号{seq}）"
        names.append(stem + RETURN_SUFFIX.format(day=day.isoformat()))
    return names


def write_township_returns(data: ReportData, directory: Path) -> tuple[list[Path], Path]:
    """Write every attachment township's return and the zip of them all; returns the files (attachment order)
    and the zip. A re-run of the same day replaces the day's files and removes the return of a township that is
    no longer in the data, so the folder and the zip always hold the same set."""
    return start_township_returns(data, directory, workers=1).finish()


def start_township_returns(data: ReportData, directory: Path, workers: int | None = None) -> "ReturnsUnderWay":
    """write_township_returns begun: with PARALLEL_FROM townships or more and more than one worker
    (settings.report_workers), the workbooks are built in worker processes while the caller goes on (the county
    workbook); `finish()` waits for them and writes the files, `cancel()` stops them when the caller failed. The
    bytes are the same either way."""
    day = data.snapshot_date
    official = official_townships(data.townships)
    named = list(zip(official["township"], _file_names(official, day)))
    workers = settings.report_workers() if workers is None else workers
    pending = _in_workers(data, named, workers) if len(named) >= PARALLEL_FROM and workers > 1 else None
    return ReturnsUnderWay(data, Path(directory), named, pending)


class ReturnsUnderWay:
    def __init__(self, data: ReportData, directory: Path, named: list[tuple[str, str]], pending: "_Pending | None"):
        self.data, self.directory, self.named, self.pending = data, directory, named, pending

    def finish(self) -> tuple[list[Path], Path]:
        """The returns and their zip written (built here when no workers were started)."""
        payloads = dict(self.pending.result()) if self.pending else dict(_payloads(self.data, self.named))
        return _write_returns(self.data, self.directory, payloads)

    def cancel(self) -> None:
        """Nothing written; the workers stopped once their chunk at hand is done, the chunks not begun dropped."""
        if self.pending:
            self.pending.pool.shutdown(wait=False, cancel_futures=True)


# below this many townships (a county has 20–40) starting the workers costs more than it saves
PARALLEL_FROM = 100


def _payloads(data: ReportData, named: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    return [(name, _return_bytes(data, township)) for township, name in named]


def _return_bytes(data: ReportData, township: str) -> bytes:
    with gc_paused():
        return stable_workbook_bytes(township_workbook(data, township), data.snapshot_date)


class _Pending:
    """Chunks of returns being built by a process pool; result() gives (file name, bytes) in attachment order."""

    def __init__(self, pool: ProcessPoolExecutor, futures: "list[Future[list[tuple[str, bytes]]]]"):
        self.pool, self.futures = pool, futures

    def result(self) -> list[tuple[str, bytes]]:
        try:
            return [item for future in self.futures for item in future.result()]
        finally:
            self.pool.shutdown()


def _in_workers(data: ReportData, named: list[tuple[str, str]], workers: int) -> _Pending | None:
    """The returns submitted to `workers` forked processes; None where processes cannot be started here (a
    daemonic process, e.g. a Celery prefork worker, may have no children)."""
    if multiprocessing.current_process().daemon:
        return None
    # forked: the workers start with the modules and the data already in memory, and never re-run the program's
    # main module (forkserver and spawn would, and a main module without a __main__ guard would run again)
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_receive, initargs=(data,))
    size = -(-len(named) // (workers * 4))  # four chunks a worker: a slow chunk does not leave a core idle
    chunks = [named[i : i + size] for i in range(0, len(named), size)]
    return _Pending(pool, [pool.submit(_build_chunk, chunk) for chunk in chunks])


_WORKER_DATA: list[ReportData] = []  # the day's report data in a worker process (set by its initializer)


def _receive(data: ReportData) -> None:
    # what the worker was forked with stays as it is: the collector would walk it all, touching (and so copying)
    # every page of the parent's objects
    gc.freeze()
    _WORKER_DATA[:] = [data]


def _build_chunk(named: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    return _payloads(_WORKER_DATA[0], named)


def _write_returns(data: ReportData, directory: Path, payloads: dict[str, bytes]) -> tuple[list[Path], Path]:
    day = data.snapshot_date
    directory = private_dir(directory)
    folder = private_dir(directory / returns_folder_name(day))
    paths = [private_file(write_atomically(payload, folder / name)) for name, payload in payloads.items()]
    for stale in folder.glob("*" + RETURN_SUFFIX.format(day=day.isoformat())):
        if stale.name not in payloads:
            stale.unlink()
    members = {name: payloads[name] for name in sorted(payloads)}  # sorted: the zip does not depend on seq order
    zip_name = f"{data.campaign.county.short_name}乡镇回执_{day.isoformat()}.zip"
    archive = private_file(write_atomically(stable_zip_bytes(members, day), directory / zip_name))
    return paths, archive
