"""A campaign folder's places: the townships of its target table, their old names, and their statistical codes."""

import pandas as pd

from yukuai_pipeline.campaign import Campaign
from yukuai_pipeline.places.area_codes import read_township_codes
from yukuai_pipeline.places.names import TownshipMatcher

TOWNSHIP_CODES_FILE = "township_codes.csv"  # optional: code,name[,source] from the statistics bureau's list


def attachment(campaign: Campaign) -> pd.DataFrame:
    """The campaign's target table (the notice's attachment)."""
    return pd.read_csv(campaign.folder / campaign.target_table, dtype={"township": "str"})


def township_matcher(campaign: Campaign) -> TownshipMatcher:
    """Raw township names onto the target table's townships, through the folder's old names and the county's
    name prefixes."""
    aliases = pd.read_csv(campaign.folder / "township_aliases.csv", dtype="str")
    return TownshipMatcher(
        attachment(campaign)["township"].tolist(),
        dict(zip(aliases["alias"], aliases["township"])),
        list(campaign.county.name_prefixes),
    )


def township_codes(campaign: Campaign) -> dict[str, str]:
    """The folder's township_codes.csv as township -> 9-digit code; empty when the folder has none (the registry's
    village codes then give them, places/area_codes.py)."""
    path = campaign.folder / TOWNSHIP_CODES_FILE
    if not path.exists():
        return {}
    return read_township_codes(path, campaign.county.code, township_matcher(campaign))
