"""`yukuai archive --before D`: the landing folder tidied without losing a day.

Ingested files dated before D are moved to the archive folder (YUKUAI_ARCHIVE_DIR, default <landing>/archive), one
sub-folder per month. The archive is read like the landing folder, and the reference inputs are kept by the
warehouse anyway (steps/references.py), so a day recomputed after archiving gives the same tables. Files the
warehouse has not taken in (still waiting, refused, or never run) stay where they are, and are listed.
"""

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from yukuai_pipeline.file_modes import private_dir
from yukuai_pipeline.intake.file_identity import display_name, file_sha256
from yukuai_pipeline.intake.landing import candidates
from yukuai_pipeline.warehouse import Warehouse

ARCHIVED_STATUSES = ("accepted", "partial", "superseded")


@dataclass
class Archived:
    moved: list[tuple[Path, Path]] = field(default_factory=list)  # (from, to)
    kept: list[tuple[Path, str]] = field(default_factory=list)  # (file, why it stays)


def archive_before(
    landing_dir: Path, archive_dir: Path, warehouse: Warehouse, before: dt.date, dry_run: bool = False
) -> Archived:
    log = warehouse.read("ingest_log")
    dates = {
        (r.file_name, r.sha256): r.snapshot_date
        for r in log.itertuples()
        if r.status in ARCHIVED_STATUSES and r.snapshot_date is not None
    }
    archive_dir = Path(archive_dir)
    result = Archived()
    for path in candidates(Path(landing_dir)):
        if _inside(path, archive_dir):
            continue
        name = display_name(path.name)
        try:
            day = dates.get((name, file_sha256(path)))
        except OSError as err:
            result.kept.append((path, f"无法读取（{err.strerror}）"))
            continue
        if day is None:
            result.kept.append((path, "尚未入库（未运行、仍在写入或无法使用），留在原处"))
            continue
        if day >= before:
            continue
        target = _free_name(archive_dir / f"{day:%Y-%m}" / path.name)
        if not dry_run:
            private_dir(target.parent)
            shutil.move(path, target)
        result.moved.append((path, target))
    return result


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
        return True
    except ValueError:
        return False


def _free_name(target: Path) -> Path:
    """The target, or target (2), (3)… when a file of that name is already archived (another export, same name)."""
    candidate, n = target, 2
    while candidate.exists():
        candidate = target.with_name(f"{target.stem} ({n}){target.suffix}")
        n += 1
    return candidate
