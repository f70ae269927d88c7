"""The city's code location (workspace.yaml, location yukuai_city): the city rollup over the warehouse every
county writes. It has no county asset and reads only the counties' county rows, so the municipal bureau's UI shows
no township's, village's or person's data (deploy/README.md, "全市部署 / City deployment")."""

import dagster as dg

from yukuai_pipeline.defs.city import city_progress, city_refresh, city_schedule
from yukuai_pipeline.defs.resources import YukuaiResource
from yukuai_pipeline.file_modes import restrict_umask

restrict_umask()  # the city's workbook: 0640 in 0750 folders
defs = dg.Definitions(
    assets=[city_progress],
    jobs=[city_refresh],
    schedules=[city_schedule],
    resources={"yukuai": YukuaiResource.from_env()},
)
