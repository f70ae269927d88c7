"""`yukuai materialize`: the chosen days (one, a range, or every landed date) run in this process against the
instance in DAGSTER_HOME after run_hygiene's checks, a progress bar, then per failed day its reasons in one line
each, the databases, the county row of the first and last day, every doubt, and the report's path; the exit status
says which (0, 1, 2, or EXIT_DOUBTFUL).
"""

import datetime as dt
import sys
from pathlib import Path

from yukuai_pipeline import db_trouble
from yukuai_pipeline.cli.instance import prepare_dagster_home
from yukuai_pipeline.settings import Settings

# The full event log is in the Dagster instance (make ui); the terminal shows the CLI's summary only (a failed
# step's error, one line each): Dagster's console logger would print every failure's traceback.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}

# Exit status of `yukuai materialize` when every day ran but some day's figures are doubtful (README: cron alerts).
EXIT_DOUBTFUL = 3


def _dates(args) -> list[dt.date]:
    if args.date:
        return [args.date]
    if args.landed:
        from yukuai_pipeline.intake import landing
        from yukuai_pipeline.settings import archive_dir

        folder = Settings.from_env().landing_dir
        days = sorted({f.snapshot_date for f in landing.scan(folder, also=(archive_dir(folder),)) if f.snapshot_date})
        if not days:
            raise SystemExit(f"落地目录 {Settings.from_env().landing_dir} 中没有可识别日期的文件")
        return days
    if not (args.start and args.end) or args.start > args.end:
        raise SystemExit("请给出 --date D、--from D1 --to D2（D1 ≤ D2）或 --landed")
    return [args.start + dt.timedelta(days=i) for i in range((args.end - args.start).days + 1)]


def _progress_bar(done: int, total: int, label: str) -> None:
    width = 30
    filled = width * done // total
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}", end="", flush=True)


def cmd_materialize(args) -> int:
    from yukuai_pipeline.run_hygiene import before_runs, cli_run_tags

    before_runs()  # see run_hygiene
    home = prepare_dagster_home()
    import dagster as dg

    from yukuai_pipeline.definitions import build_definitions
    from yukuai_pipeline.defs.partitions import daily_partitions

    dates = _dates(args)
    invalid = [d for d in dates if not daily_partitions.has_partition_key(d.isoformat())]
    if invalid and args.landed:  # a reference file dated before the campaign still applies from its first day
        dates = [d for d in dates if d not in invalid] or [daily_partitions.start.date()]
    elif invalid:
        print(
            f"日期不在分区范围内（活动的 {daily_partitions.get_first_partition_key()} 至 "
            f"{daily_partitions.get_last_partition_key()}，不晚于今天）：{', '.join(map(str, invalid))}",
            file=sys.stderr,
        )
        return 2
    job = build_definitions().resolve_job_def("daily_refresh")
    failures = []
    with dg.DagsterInstance.get() as instance:
        for i, day in enumerate(dates, 1):
            result = job.execute_in_process(
                partition_key=day.isoformat(),
                instance=instance,
                raise_on_error=False,
                tags={"yukuai/trigger": "cli", **cli_run_tags()},
                run_config=QUIET,
            )
            if not result.success:
                failures.append((day, _failure_messages(result)))
            if len(dates) > 1:
                _progress_bar(i, len(dates), str(day))
    if len(dates) > 1:
        print()
    for day, messages in failures:
        print(f"✗ {day} 运行失败：", file=sys.stderr)
        for message in messages:
            print(f"  - {message}", file=sys.stderr)
    settings = Settings.from_env()
    print(f"数据库 / database: {db_trouble.safe_url(settings.database_url)}")
    print(f"Dagster 实例 / instance: {home}（make ui 可查看这些运行）")
    failed = {d for d, _ in failures}
    for day in sorted({dates[0], dates[-1]} - failed):
        _print_county_row(day)
    doubtful = _print_doubts([d for d in dates if d not in failed])
    if dates[-1] not in failed:
        from yukuai_pipeline.report.workbook import report_file_name

        print(f"报表 / report: {(Path(settings.report_dir) / report_file_name(dates[-1])).resolve()}")
    return 1 if failures else (EXIT_DOUBTFUL if doubtful else 0)


def _print_doubts(days: list[dt.date]) -> list[dt.date]:
    """Every reason each day's figures are doubtful, after the county lines (metrics/doubts.py); the days concerned."""
    from yukuai_pipeline.metrics.doubts import reasons_of_day
    from yukuai_pipeline.warehouse import Warehouse

    warehouse = Warehouse(Settings.from_env().database_url)
    doubtful = []
    for day in days:
        reasons = reasons_of_day(
            warehouse.read("data_quality_issues", {"snapshot_date": day, "stage": "township_progress"})
        )
        if reasons:
            doubtful.append(day)
            print(f"⚠ {day} 数据存疑，发送前请核对：")
            for reason in reasons:
                print(f"  - {reason}")
    return doubtful


def _failure_messages(result) -> list[str]:
    from yukuai_pipeline.defs.outcomes import root_cause, undated

    messages = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity.value == "ERROR":
                messages.append(f"{evaluation.check_name}: {undated(evaluation.description or '')}")
        elif event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            if error and "DagsterAssetCheckFailedError" in error.message:
                continue  # the failed blocking check above already says why, in the reader's words
            messages.append(f"{event.step_key}: {root_cause(error) if error else '未知错误'}")
    return messages or ["运行失败，详见 Dagster UI 中的运行日志"]


def _print_county_row(day: dt.date) -> None:
    from yukuai_pipeline import settings as config
    from yukuai_pipeline.metrics.progress import county_summary
    from yukuai_pipeline.warehouse import Warehouse

    settings = Settings.from_env()
    progress = Warehouse(settings.database_url).read("township_progress", {"snapshot_date": day})
    label = config.campaign().county_row_label
    county = progress[progress["township"] == label]
    if county.empty:
        return
    print(f"{day} 全县{label}：{county_summary(county.iloc[0])}")
