"""The landing folder: which file is what kind and date, which files are still being written, and which one export
stands for a date.

Every file under the folder is read, sub-folders included (an `archive/` folder is just one of them), so an export
moved one level down is neither lost nor silently ignored. Identification is cached per (path, size, mtime), in a
bounded cache, so a range of partitions in one process reads each file's header once.
"""

import datetime as dt
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from yukuai_pipeline.intake.completeness import incomplete_reason
from yukuai_pipeline.intake.file_identity import (
    FileIdentity,
    display_name,
    file_sha256,
    identify,
    is_candidate,
    unreadable,
)
from yukuai_pipeline.intake.headers import date_from_text

_CACHE: OrderedDict[tuple[str, int, int], FileIdentity] = OrderedDict()
CACHE_SIZE = 4096


def candidates(directory: Path, also: tuple[Path, ...] = ()) -> list[Path]:
    """Every file under the folder (and the `also` folders, e.g. an archive kept elsewhere) that could be an export,
    sub-folders included; hidden folders and files, Office's lock files (~$…) and anything that is not a regular file
    are left out. A file is listed once even when the folders nest."""
    found: dict[str, Path] = {}
    for top in (directory, *also):
        for root, folders, files in os.walk(top):
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            for name in sorted(files):
                path = Path(root) / name
                if is_candidate(path):
                    found.setdefault(os.path.realpath(path), path)
    return list(found.values())


def scan(
    directory: str | Path,
    name_date_wanted: Callable[[dt.date], bool] | None = None,
    known: dict[tuple[str, str], FileIdentity] | None = None,
    settle_seconds: float = 0.0,
    wait: bool = True,
    also: tuple[str | Path, ...] = (),
) -> list[FileIdentity]:
    """Identify the folder's files. A date in the file name wins over any date inside the file, so a step that
    wants only some dates skips opening the files whose name says another date. `known` maps (name, sha256) to an
    identity found earlier (the ingest log), so a file is opened for identification once, not on every run.

    settle_seconds: a file written within that time is watched until it has stayed the same that long (at most that
    long in all); one that still changes, or whose end is cut off, is returned with `waiting` set, and no step
    counts it. wait=False (a sensor's tick): a file written within settle_seconds is returned waiting at once."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    paths = []
    for path in candidates(folder, tuple(Path(a) for a in also if Path(a).is_dir())):
        name_date = date_from_text(display_name(path.stem))
        if name_date_wanted and name_date and not name_date_wanted(name_date):
            continue
        paths.append(path)
    stats = _settled(paths, settle_seconds, wait)
    found = []
    for path in paths:
        stat = stats.get(path)
        if stat is None:  # gone, or unreadable: identify says which
            found.append(identify(path))
            continue
        if isinstance(stat, str):
            found.append(
                FileIdentity(
                    path,
                    "",
                    None,
                    date_from_text(display_name(path.stem)),
                    waiting=stat,
                    name_date=date_from_text(display_name(path.stem)),
                )
            )
            continue
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _CACHE:
            _CACHE[key] = _identified(path, known, stat.st_mtime)
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
        _CACHE.move_to_end(key)
        found.append(_CACHE[key])
    return found


def _identified(path: Path, known: dict[tuple[str, str], FileIdentity] | None, mtime: float) -> FileIdentity:
    try:
        sha = file_sha256(path)
    except OSError as err:
        return unreadable(path, err)
    reason = incomplete_reason(path)
    earlier = (known or {}).get((display_name(path.name), sha))
    identity = replace(earlier, path=path, mtime=mtime) if earlier else identify(path, sha256=sha)
    return replace(identity, waiting=reason) if reason else identity


def _settled(paths: list[Path], settle_seconds: float, wait: bool) -> dict[Path, os.stat_result | str]:
    """Each file's stat once it has stayed unchanged for settle_seconds, or why it is still waiting."""
    stats: dict[Path, os.stat_result | str] = {}
    for path in paths:
        try:
            stats[path] = path.stat()
        except OSError:
            continue
    if settle_seconds <= 0:
        return stats
    now = time.time()
    recent = {p: s for p, s in stats.items() if not isinstance(s, str) and now - s.st_mtime < settle_seconds}
    if not recent:
        return stats
    if not wait:
        stats.update(dict.fromkeys(recent, f"文件刚写入（{settle_seconds:g} 秒内有改动），稍后再读取"))
        return stats
    time.sleep(max(0.0, min(settle_seconds, max(s.st_mtime for s in recent.values()) + settle_seconds - now)))
    for path, before in recent.items():
        try:
            after = path.stat()
        except OSError:
            stats.pop(path, None)
            continue
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            stats[path] = f"文件仍在写入（{settle_seconds:g} 秒内大小或修改时间仍在变化），写完后再读取"
        else:
            stats[path] = after
    return stats


def for_date(files: list[FileIdentity], kinds: tuple[str, ...], day: dt.date) -> list[FileIdentity]:
    return [f for f in files if f.kind in kinds and f.snapshot_date == day and not f.waiting]


def waiting_for_date(files: list[FileIdentity], day: dt.date) -> list[FileIdentity]:
    return [f for f in files if f.waiting and _date_hint(f) == day]


def unusable_for_date(files: list[FileIdentity], day: dt.date) -> list[FileIdentity]:
    """Files of that date that could not be identified: their kind is unknown, so every consumer refuses them."""
    return [f for f in files if f.error is not None and not f.waiting and _date_hint(f) == day]


def _date_hint(identity: FileIdentity) -> dt.date | None:
    return identity.snapshot_date or identity.name_date or date_from_text(identity.name)


def _newest_key(identity: FileIdentity) -> tuple[dt.date, dt.datetime, str]:
    made = identity.made_at or dt.datetime.min
    return identity.snapshot_date or dt.date.min, made, identity.name


def newest_on_or_before(files: list[FileIdentity], kind: str, day: dt.date) -> FileIdentity | None:
    """Reference inputs hold from their date until a newer one lands (SPEC §4); of two with one date, the one made
    last (its title's 导出时间, else the file's modification time)."""
    usable = [f for f in files if f.kind == kind and f.snapshot_date and f.snapshot_date <= day and not f.waiting]
    return max(usable, key=_newest_key, default=None)


@dataclass(frozen=True)
class Choice:
    """The one export that stands for a date, and every other file of that kind and date with the reason it is not
    used (never merged: two exports of one day are two versions of the same full snapshot)."""

    chosen: FileIdentity | None
    superseded: list[tuple[FileIdentity, str]]


def one_per_date(
    files: list[FileIdentity], kind: str, day: dt.date, other_dates: dict[str, tuple[str, dt.date]] | None = None
) -> Choice:
    """other_dates: sha256 -> (name, date) of files dated another day: the very same bytes cannot be both days."""
    superseded: list[tuple[FileIdentity, str]] = []
    usable: list[FileIdentity] = []
    seen: dict[str, str] = {}  # sha256 -> name
    for f in sorted(for_date(files, (kind,), day), key=lambda f: f.name):
        copy_of = (other_dates or {}).get(f.sha256)
        if copy_of and copy_of[1] != day:
            superseded.append((f, f"与《{copy_of[0]}》（{copy_of[1]}）内容完全相同：同一份导出不能同时是两天的数据"))
        elif f.sha256 in seen:
            superseded.append((f, f"与《{seen[f.sha256]}》内容完全相同，未重复计数"))
        else:
            seen[f.sha256] = f.name
            usable.append(f)
    if not usable:
        return Choice(None, superseded)
    chosen = max(usable, key=_newest_key)
    for f in usable:
        if f is not chosen:
            superseded.append((f, f"同日有更新的导出《{chosen.name}》（{_made(chosen)}），本文件（{_made(f)}）未使用"))
    return Choice(chosen, superseded)


def _made(identity: FileIdentity) -> str:
    made = identity.made_at
    source = "导出时间" if identity.title is not None and identity.title.is_export_time else "文件修改时间"
    return f"{source} {made:%Y-%m-%d %H:%M}" if made else "时间不详"


def undated(files: list[FileIdentity]) -> list[FileIdentity]:
    return [f for f in files if f.error is None and f.snapshot_date is None and not f.waiting]
