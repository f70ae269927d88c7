"""The landing folder: which file is what kind and date. Identification is cached per (path, size, mtime) so a
range of partitions in one process reads each file's header once."""

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from yukuai_pipeline.domain.headers import date_from_text
from yukuai_pipeline.domain.intake import FileIdentity, file_sha256, identify, is_candidate

_CACHE: dict[tuple, FileIdentity] = {}


def scan(directory: Path, name_date_wanted: Callable[[dt.date], bool] | None = None,
         known: dict[tuple[str, str], FileIdentity] | None = None) -> list[FileIdentity]:
    """Identify the folder's files. A date in the file name wins over any date inside the file, so a step that
    wants only some dates skips opening the files whose name says another date. `known` maps (name, sha256) to
    an identity found earlier (the ingest log), so a file is opened for identification once, not on every run."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(p for p in directory.iterdir() if is_candidate(p)):
        name_date = date_from_text(path.stem)
        if name_date_wanted and name_date and not name_date_wanted(name_date):
            continue
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _CACHE:
            sha = file_sha256(path)
            earlier = (known or {}).get((path.name, sha))
            _CACHE[key] = replace(earlier, path=path) if earlier else identify(path, sha256=sha)
        found.append(_CACHE[key])
    return found


def for_date(files: list[FileIdentity], kinds: tuple[str, ...], day: dt.date) -> list[FileIdentity]:
    return [f for f in files if f.kind in kinds and f.snapshot_date == day]


def unusable_for_date(files: list[FileIdentity], day: dt.date) -> list[FileIdentity]:
    """Files of that date that could not be identified: their kind is unknown, so every consumer refuses them."""
    return [f for f in files if f.error is not None and _date_hint(f) == day]


def _date_hint(identity: FileIdentity) -> dt.date | None:
    return identity.snapshot_date or date_from_text(identity.path.stem)


def newest_on_or_before(files: list[FileIdentity], kind: str, day: dt.date) -> FileIdentity | None:
    """Reference inputs hold from their date until a newer one lands (SPEC §4)."""
    candidates = [f for f in files if f.kind == kind and f.snapshot_date and f.snapshot_date <= day]
    return max(candidates, key=lambda f: (f.snapshot_date, f.path.name), default=None)


def undated(files: list[FileIdentity]) -> list[FileIdentity]:
    return [f for f in files if f.error is None and f.snapshot_date is None]
