"""Counting registered users per township and village from landed exports (SPEC §4 counting rule).

completed = distinct user_id whose status is approved (or who have no status column) and registered_at ≤ the
snapshot date. Pending and rejected users are counted in their own columns. Users whose township or village cannot
be matched are counted under 未匹配 and reported, never dropped.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from yukuai_pipeline.intake.text_parsing import arrow_text
from yukuai_pipeline.places.names import TownshipMatcher, VillageMatcher, normalize_text, village_keys

COUNT_COLUMNS = ["township", "village", "completed", "pending", "rejected", "new_approved"]
ISSUE_FIELDS = [
    "township",
    "village",
    "row_number",
    "field",
    "value_masked",
    "message",
    "check",
    "severity",
    "source_file",
    "quarantined",
]


@dataclass(frozen=True)
class Labels:
    unmatched: str = "未匹配"
    township_only: str = "（未分村）"


def _issue(check: str, message: str, severity: str = "WARN", **fields: Any) -> dict[str, Any]:
    row = dict.fromkeys(ISSUE_FIELDS)
    row.update(check=check, message=message, severity=severity, quarantined=False, **fields)
    return row


def match_places(
    frame: pd.DataFrame, townships: TownshipMatcher, villages: VillageMatcher | None, labels: Labels
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Adds township_std and village_std; one issue per distinct unmatched name (with its row count)."""
    out = frame.copy(deep=False)  # copy-on-write: adding columns leaves the caller's frame alone
    town_codes, town_names = townships.match_codes(out["township"])
    unknown = pd.isna(town_names)
    bad_town = pd.Series(unknown[town_codes], index=out.index)
    issues = []
    if unknown.any():
        for raw, rows in out[bad_town].groupby(out.loc[bad_town, "township"].fillna(""), sort=True):
            issues.append(
                _issue(
                    "unknown_township",
                    f"乡镇（街道）“{raw}”无法识别，{len(rows)} 行计入“{labels.unmatched}”",
                    township=raw,
                    row_number=int(rows["_row"].min()),
                    field="township",
                    value_masked=raw,
                    source_file=_first(rows),
                )
            )
    town_names = np.where(unknown, labels.unmatched, town_names).astype("object")
    out["township_std"] = pd.Series(town_names[town_codes], index=out.index, dtype="object")  # not re-encoded
    if "village" not in out.columns:
        out["village_std"] = labels.township_only
        return out, issues
    if villages is None:
        names = {v: normalize_text(v) or labels.unmatched for v in out["village"].dropna().unique()}
        out["village_std"] = out["village"].map(names).fillna(labels.unmatched)  # once per distinct name
        return out, issues
    out["village_std"] = villages.match_coded(town_codes, town_names, out["village"])
    bad_village = out["village_std"].isna() & ~bad_town
    keys = [out.loc[bad_village, "township_std"], out.loc[bad_village, "village"].fillna("")]
    for (township, raw), rows in out[bad_village].groupby(keys, sort=True) if bad_village.any() else []:
        issues.append(
            _issue(
                "unknown_village",
                f"{township}的村（社区）“{raw}”在社区基本信息中找不到，{len(rows)} 行计入“{labels.unmatched}”",
                township=township,
                village=raw,
                row_number=int(rows["_row"].min()),
                field="village",
                value_masked=raw,
                source_file=_first(rows),
            )
        )
    out["village_std"] = out["village_std"].fillna(labels.unmatched)
    return out, issues


def _first(rows: pd.DataFrame) -> str | None:
    return rows["source_file"].iloc[0] if "source_file" in rows.columns else None


def count_users(users: pd.DataFrame, snapshot_date: dt.date) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Counts per (township_std, village_std) of a matched user-level snapshot."""
    issues = []
    day_end = pd.Timestamp(snapshot_date) + pd.Timedelta(days=1)
    future = users["registered_at"] >= day_end
    if future.any():
        issues.append(
            _issue(
                "registered_after_snapshot",
                f"{int(future.sum())} 个用户的注册时间晚于数据日期 {snapshot_date}，不计入",
                row_number=int(users.loc[future, "_row"].min()),
                field="registered_at",
                source_file=_first(users[future]),
            )
        )
        users = users[~future]
    if _has_repeats(users["user_id"]):  # which copy counts depends on the order; without copies it does not matter
        users = users.sort_values(["registered_at", "_row"], kind="stable")
        duplicated = users["user_id"].duplicated(keep="first")
        first = users[~duplicated].set_index("user_id")["village_std"]
        conflicting = users[duplicated]["village_std"].to_numpy() != first.loc[users[duplicated]["user_id"]].to_numpy()
        issues.append(
            _issue(
                "duplicate_user_id",
                f"{int(duplicated.sum())} 行用户ID重复（其中 {int(conflicting.sum())}"
                " 行所属村（社区）不一致），按最早注册的一条计数",
                row_number=int(users.loc[duplicated, "_row"].min()),
                field="user_id",
                source_file=_first(users[duplicated]),
            )
        )
        users = users[~duplicated]
    status = (
        users["status"].fillna("approved") if "status" in users.columns else pd.Series("approved", index=users.index)
    )
    registered = users["registered_at"].to_numpy()
    day = np.datetime64(pd.Timestamp(snapshot_date))
    snapshot_day = (registered >= day) & (registered < day + np.timedelta64(1, "D"))
    approved = status.eq("approved").to_numpy()
    flags = {
        "completed": approved,
        "pending": status.eq("pending").to_numpy(),
        "rejected": status.eq("rejected").to_numpy(),
        "new_approved": approved & snapshot_day,
    }
    return _sum_per_place(users["township_std"], users["village_std"], flags), issues


def _has_repeats(ids: pd.Series) -> bool:
    """Any user ID twice? For Arrow text, hashes of fixed-width IDs and a sort, else Arrow's own unique; for Python
    strings, a set answers it several times faster than a pandas hash table."""
    if ids.isna().any():
        return bool(ids.duplicated().any())
    if arrow_text(ids):
        chunks = ids.array.__arrow_array__().chunks
        hashes = [_fixed_width_hashes(chunk) for chunk in chunks]
        known = [h for h in hashes if h is not None]
        if hashes and len(known) == len(hashes):  # every chunk hashed
            ordered = np.sort(np.concatenate(known))
            if not (ordered[1:] == ordered[:-1]).any():
                return False  # no two hashes alike: no two IDs alike (alike hashes go on to the exact count)
        return len(pc.unique(ids.array.__arrow_array__())) < len(ids)
    cells = ids.to_numpy(dtype="object")
    return len(set(cells)) < len(cells)


_FNV_OFFSET, _FNV_PRIME = np.uint64(14695981039346656037), np.uint64(1099511628211)


def _fixed_width_hashes(chunk: pa.Array) -> np.ndarray | None:
    """A 64-bit FNV-1a hash of each cell of a text chunk whose cells all have the same length in bytes (a platform's
    user IDs do), computed one byte position at a time over all cells; None for any other chunk. Arrow's own hash
    table of 3.8 million IDs takes some 300 MB and a second; these hashes take 30 MB and a sort."""
    if chunk.null_count or not pa.types.is_large_string(chunk.type):  # the buffers below are large_string's
        return None
    if not len(chunk):
        return np.zeros(0, "uint64")
    lengths = pc.min_max(pc.binary_length(chunk)).as_py()
    width = lengths["min"]
    if width != lengths["max"] or not width:
        return None
    offsets = np.frombuffer(chunk.buffers()[1], dtype="int64")[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(chunk.buffers()[2], dtype="uint8")[offsets[0] : offsets[-1]].reshape(len(chunk), width)
    hashes = np.full(len(chunk), _FNV_OFFSET, dtype="uint64")
    for column in range(width):
        hashes ^= data[:, column]
        hashes *= _FNV_PRIME
    return hashes


def _sum_per_place(townships: pd.Series, villages: pd.Series, flags: dict[str, np.ndarray]) -> pd.DataFrame:
    """flags added up per (township, village), sorted by both, as a groupby on the two text columns gives it: each
    column factorized once, then integer pair codes and bincount instead of grouping on string pairs."""
    town_codes, towns = pd.factorize(townships)
    village_codes, villages_seen = pd.factorize(villages)
    width = max(len(villages_seen), 1)
    town_codes *= width  # in place: a city's rows make each of these arrays 30 MB
    town_codes += village_codes
    del village_codes
    place_codes, places = pd.factorize(town_codes)
    del town_codes
    counts = pd.DataFrame(
        {
            "township": np.asarray(towns, dtype="object")[places // width],
            "village": np.asarray(villages_seen, dtype="object")[places % width],
        }
    )
    for name, flag in flags.items():
        counts[name] = np.bincount(place_codes[flag], minlength=len(places)).astype("int64")
    counts = counts.sort_values(["township", "village"], kind="stable").reset_index(drop=True)
    return counts[COUNT_COLUMNS]


def count_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Counts from a summary export (already matched); several rows of one place are added up."""
    frame = pd.DataFrame(
        {
            "township": rows["township_std"],
            "village": rows["village_std"],
            "completed": rows["completed"].astype("int64"),
            "pending": rows["pending"].fillna(0).astype("int64") if "pending" in rows.columns else 0,
            "rejected": 0,
            "new_approved": 0,
        }
    )
    return frame.groupby(["township", "village"], sort=True).sum().astype("int64").reset_index()[COUNT_COLUMNS]


def misplaced_places(frame: pd.DataFrame, townships: TownshipMatcher, registry: pd.DataFrame | None) -> str | None:
    """Why the township and village columns cannot be what their headers say, or None: most "townships" are village
    names of the registry, or most "villages" are township names — the two columns are swapped (or one was read
    with another meaning). Such a file is refused, not counted: every township would show 0."""
    if frame.empty or "village" not in frame.columns:
        return None
    town_codes, town_names = townships.match_codes(frame["township"])
    unknown_rows = pd.isna(town_names)[town_codes]
    if unknown_rows.mean() <= 0.5:
        return None
    village_codes, village_values = pd.factorize(frame["village"], use_na_sentinel=False)
    as_township = np.array([townships.match(v) is not None for v in village_values], dtype=bool)
    villages_are_townships = as_township[village_codes].mean() > 0.5
    known_villages = set()
    if registry is not None and len(registry):
        known_villages = {key for name in registry["village"] for key in village_keys(name)}
    town_values = frame["township"].to_numpy(dtype="object")
    sample = pd.unique(town_values[unknown_rows])[:200]
    townships_are_villages = (
        bool(known_villages) and np.mean([any(k in known_villages for k in village_keys(v)) for v in sample]) > 0.5
    )
    if not (villages_are_townships or townships_are_villages):
        return None
    examples_t = "、".join(str(v) for v in sample[:3])
    examples_v = "、".join(str(v) for v in village_values[as_township][:3]) if villages_are_townships else ""
    what = f"“乡镇（街道）”列 {unknown_rows.mean():.0%} 的行不是本县的乡镇（如 {examples_t}）"
    if townships_are_villages:
        what += "，而是村（社区）名称"
    if villages_are_townships:
        what += f"；“村（社区）”列却是乡镇名称（如 {examples_v}）"
    return what + "：两列可能对调，或表头与内容不符"
