"""The peer: the day's job as a competent analyst would write it in bare pandas, with no framework.

Read the export, keep approved users (each user once), count per village, join the targets, compute the gap and
write the township and village progress tables to the database. No header hunting, no name normalisation, no
quarantine, no checks: the file is assumed to look exactly like the synthetic export.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa


def run_peer(data: Path, database_url: str, engine: str | None = None) -> dict:
    """engine="pyarrow": the same script reading the export with pandas' pyarrow engine (the stronger peer)."""
    landing = data / "landing"
    export = next(p for p in landing.iterdir() if "注册用户" in p.name)
    registry_file = next(p for p in landing.iterdir() if "社区基本信息" in p.name)
    users = pd.read_csv(export, skiprows=2, dtype=str, **({"engine": engine} if engine else {}))
    users = users[users["审核状态"] == "已通过"].drop_duplicates("用户ID")
    counts = users.groupby(["乡镇（街道）", "村（社区）"]).size().rename("completed").reset_index()
    counts.columns = ["township", "village", "completed"]

    targets = pd.read_csv(data / "assets" / "attachment.csv")[["township", "resident_population", "target"]]
    registry = pd.read_csv(registry_file, skiprows=1)
    villages = pd.DataFrame(
        {
            "township": registry["乡镇（街道）"],
            "village": registry["村（社区）名称"].str.replace(r"(村民|居民)委员会$", "", regex=True),
            "resident_population": registry["常住人口（人）"].astype("int64"),
        }
    )
    villages["target"] = _split(villages, targets.set_index("township")["target"])

    township = targets.merge(counts.groupby("township")["completed"].sum().reset_index(), how="left")
    township = pd.concat([township, pd.DataFrame([{"township": "合计", **township.drop(columns="township").sum()}])])
    village = villages.merge(counts, how="left")
    tables = {"township_progress": _progress(township), "village_progress": _progress(village)}
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        for name, frame in tables.items():
            frame.to_sql(name, conn, if_exists="replace", index=False)
    engine.dispose()
    return {"approved": len(users), "completed": int(tables["township_progress"]["completed"].iloc[-1])}


def _split(villages: pd.DataFrame, township_target: pd.Series) -> np.ndarray:
    """Each township's target over its villages by population, largest remainder (ties to the earlier village)."""
    by = villages.groupby("township", sort=False)
    target = villages["township"].map(township_target).to_numpy()
    weight = villages["resident_population"].to_numpy()
    total = by["resident_population"].transform("sum").to_numpy()
    base, remainder = np.divmod(weight * target, total)
    short = target - pd.Series(base).groupby(villages["township"].to_numpy()).transform("sum").to_numpy()
    order = pd.DataFrame({"t": villages["township"].to_numpy(), "r": -remainder, "i": np.arange(len(villages))})
    rank = order.sort_values(["t", "r", "i"]).groupby("t").cumcount().reindex(order.index).to_numpy()
    return base + (rank < short)


def _progress(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["completed"] = out["completed"].fillna(0).astype("int64")
    out["gap"] = (out["target"] - out["completed"]).clip(lower=0)
    out["completion_rate"] = (out["completed"] / out["target"]).round(4)
    return out
