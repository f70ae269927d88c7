"""Synthetic landing files for the demo, the tests and the benchmarks (imported by nothing else).

    seeds     one seed, a stream per generator
    places    the campaign's townships and a drawn village registry under them
    noise     the ways exports are messy: stray spaces, old names, the county prefix, misspelt villages
    people    names, sex, birth months, ID numbers and mobiles
    users     the platform's users: registration, approval and rejection days, what they typed
    exports   the daily registration exports, the registry and summary workbooks, the listing layout
    roles     how villages spell posts and groups
    posts     who holds which post in each village, with the planted village faults
    roster    the grassroots roster (基层队伍信息) and the faults planted in it
    activity  the platform activity export (平台应用情况明细)
    data      generate_demo_data: all of the above into one landing folder

Modules import each other only at their top and only downwards in this list; stable xlsx files are written by
yukuai_pipeline.report.xlsx_files.
"""

from yukuai_pipeline.demo.activity import demo_activity, write_activity
from yukuai_pipeline.demo.data import generate_demo_data
from yukuai_pipeline.demo.places import demo_township_villages
from yukuai_pipeline.demo.roster import DemoRoster, demo_roster, write_roster
from yukuai_pipeline.demo.seeds import DEFAULT_SEED

__all__ = [
    "DEFAULT_SEED",
    "DemoRoster",
    "demo_activity",
    "demo_roster",
    "demo_township_villages",
    "generate_demo_data",
    "write_activity",
    "write_roster",
]
