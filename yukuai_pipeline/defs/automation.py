import hashlib
import json
from collections import defaultdict

import dagster as dg

from yukuai_pipeline.contracts import REFERENCE_KINDS, REGISTRATION_KINDS
from yukuai_pipeline.defs.assets import ALL_ASSETS, community_registry, roster_completeness, township_targets
from yukuai_pipeline.defs.executors import JOB_EXECUTOR
from yukuai_pipeline.defs.partitions import daily_partitions
from yukuai_pipeline.defs.resources import YukuaiResource, campaign_tags
from yukuai_pipeline.defs.todays_run import todays_run
from yukuai_pipeline.intake import landing
from yukuai_pipeline.intake.headers import date_from_text
from yukuai_pipeline.settings import Settings, archive_dir

# The day's assets form one chain, so the steps run one after another in the run's own process: no process per
# step (that overhead is most of a run's time on a 2-core machine); with YUKUAI_EXECUTOR=celery the workers run them.
# Every run carries its county (campaign_tags), so a worker serving several counties runs it for the right one.
daily_refresh = dg.define_asset_job(
    "daily_refresh",
    tags=campaign_tags(),
    selection=dg.AssetSelection.assets(*ALL_ASSETS),
    partitions_def=daily_partitions,
    executor_def=JOB_EXECUTOR,
    description="每日刷新：读取当天落地的导出文件，更新该日的全部表和检查。Refresh every table of one day.",
)
roster_refresh = dg.define_asset_job(
    "roster_refresh",
    tags=campaign_tags(),
    selection=dg.AssetSelection.assets(community_registry, roster_completeness),
    partitions_def=daily_partitions,
    executor_def=JOB_EXECUTOR,
    description="基层队伍刷新：只重新检查某天的基层队伍名单。Re-check the rosters of one day.",
)
targets_refresh = dg.define_asset_job(
    "targets_refresh",
    tags=campaign_tags(),
    selection=dg.AssetSelection.assets(township_targets),
    description="刷新乡镇任务数表（通知附件）。Reload the township target table.",
)


@dg.schedule(
    job=daily_refresh,
    cron_schedule="30 8 * * *",
    execution_timezone="Asia/Shanghai",
    name="daily_refresh_schedule",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="每天 08:30（北京时间）运行当天的分区；活动开始前和结束后不运行。"
    "Runs the day's partition at 08:30 Asia/Shanghai, only on the campaign's days.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext):
    """Today's partition (it exists from the morning on: end_offset=1), only on the campaign's days."""
    return todays_run(context, daily_partitions)


def _ingested_files(yukuai: YukuaiResource) -> dict[str, str]:
    """name -> sha256 of every file the warehouse already ingested: the cursor to start from, so that turning the
    sensor on over a folder the CLI already processed does not re-run every day."""
    log = yukuai.warehouse().read("ingest_log")
    log = log[log["status"] != "landed"]  # identified by a run, but not yet ingested
    return dict(zip(log["file_name"], log["sha256"]))


def plan_runs(files, cursor: dict[str, str]) -> tuple[dict[str, list], dict[str, str], list[str]]:
    """Which partitions to run for new or changed files: (partition -> files, new cursor, notes for the log)."""
    runs, notes = defaultdict(list), []
    new_cursor = dict(cursor)
    registration_days = sorted({f.snapshot_date for f in files if f.kind in REGISTRATION_KINDS and f.snapshot_date})
    for f in files:
        if f.waiting:  # still being written: looked at again next tick, when it has settled (cursor unchanged)
            notes.append(f"{f.name}: {f.waiting}")
            continue
        if cursor.get(f.name) == f.sha256:
            continue
        day = f.snapshot_date or date_from_text(f.name)
        if day is None:
            notes.append(f"{f.name}: {f.error or '无法确定日期'}")
            new_cursor[f.name] = f.sha256
            continue
        # A registry or roster holds until a newer one lands: every later day with an export is affected too.
        days = [day] + ([d for d in registration_days if d > day] if f.kind in REFERENCE_KINDS else [])
        keys = [d.isoformat() for d in days if daily_partitions.has_partition_key(d.isoformat())]
        if not keys:
            notes.append(f"{f.name}: 日期 {day} 不在分区范围内（早于活动开始或在未来），稍后再试")
            continue
        for key in keys:
            runs[key].append(f)
        new_cursor[f.name] = f.sha256
    return runs, new_cursor, notes


@dg.sensor(
    job=daily_refresh,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="落地文件夹中出现新文件或文件内容变化时，运行对应日期的每日刷新。",
)
def landing_sensor(context: dg.SensorEvaluationContext, yukuai: YukuaiResource):
    cursor = json.loads(context.cursor) if context.cursor else _ingested_files(yukuai)
    # never raises: a file it cannot read comes back with its error; one still being written comes back waiting
    folder = yukuai.landing()
    files = landing.scan(
        folder, settle_seconds=Settings.from_env().settle_seconds, wait=False, also=(archive_dir(folder),)
    )
    runs, new_cursor, notes = plan_runs(files, cursor)
    for note in notes:
        context.log.warning(note)
    for key, changed in sorted(runs.items()):
        digest = hashlib.sha256("".join(sorted(f.sha256 for f in changed)).encode()).hexdigest()[:16]
        yield dg.RunRequest(
            partition_key=key,
            run_key=f"{key}:{digest}",
            tags={"yukuai/trigger": "landing_sensor", "yukuai/files": ",".join(f.name for f in changed)[:200]},
        )
    context.update_cursor(json.dumps(new_cursor, ensure_ascii=False))
