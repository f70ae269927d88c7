"""The demo's landing folder: the village registry and the township summary of the baseline day, one registration
export per day, the grassroots roster, the platform activity export and the community social organisation list.

Everything is drawn from the caller's seed (seeds.py), so a seed always gives the same files, byte for byte.
"""

from datetime import timedelta
from pathlib import Path

import numpy as np

from yukuai_pipeline.demo import exports
from yukuai_pipeline.demo.activity import demo_activity, write_activity
from yukuai_pipeline.demo.cadre_users import link_cadres
from yukuai_pipeline.demo.orgs import demo_orgs, write_orgs
from yukuai_pipeline.demo.places import attachment, baseline_date, build_registry
from yukuai_pipeline.demo.roster import demo_roster, write_roster
from yukuai_pipeline.demo.seeds import DEFAULT_SEED
from yukuai_pipeline.demo.users import build_users


def generate_demo_data(landing_dir: Path, days: int = 42, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the demo's landing files for `days` days from the baseline day; return the paths written (sorted)."""
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    baseline = baseline_date()
    targets = attachment()
    rng = np.random.default_rng(seed)
    registry = build_registry(rng, targets)

    paths = [
        exports.write_registry_xlsx(landing_dir / f"社区基本信息_{baseline:%Y-%m-%d}.xlsx", registry, baseline, rng),
        exports.write_summary_xlsx(landing_dir / f"乡镇注册汇总_{baseline:%Y-%m-%d}.xlsx", targets, baseline),
    ]
    roster = demo_roster(registry, baseline, seed).rows
    users = link_cadres(build_users(rng, targets, registry, days), roster, registry, seed)
    for day in range(days):
        paths.append(exports.write_daily_export(landing_dir, users, day, baseline + timedelta(days=day)))
    roster_path = landing_dir / f"基层队伍信息_{baseline:%Y-%m-%d}.xlsx"
    write_roster(roster_path, roster, baseline)
    paths.append(roster_path)
    activity_path = landing_dir / f"平台应用情况_{baseline:%Y-%m-%d}.xlsx"
    write_activity(activity_path, demo_activity(registry, baseline, seed), baseline)
    paths.append(activity_path)
    orgs_path = landing_dir / f"社区社会组织信息_{baseline:%Y-%m-%d}.xlsx"
    write_orgs(orgs_path, demo_orgs(registry, baseline, seed), baseline)
    paths.append(orgs_path)
    return sorted(paths)
