"""`yukuai`: the command line for the demo, cron deployments without the Dagster daemon, and scripting.

Runs are executed in process against the persistent Dagster instance in DAGSTER_HOME, so they show in the UI.
"""

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from yukuai_pipeline import db_trouble
from yukuai_pipeline.file_modes import private_dir, private_file, restrict_umask
from yukuai_pipeline.settings import Settings

# A run whose process died must not hold its day's slot for ever (deploy/README.md: what fails a dead run).
_RUN_MONITORING = """# run monitoring (daemon of `make ui`): a run that never started, or still STARTED after max_runtime_seconds
# (the default run launcher cannot tell whether a run's process is alive), is marked failed, freeing its day;
# `yukuai materialize` fails its own dead runs at once (run_hygiene.py)
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_runtime_seconds: 3600
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
"""

DAGSTER_YAML = """# Local instance of yukuai-pipeline (created by `yukuai` / `make ui`); see README for production settings.
telemetry:
  enabled: false
# no first-visit "join the community" pop-up in the UI of this local instance
nux:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 2
    # the sensor and the schedule may ask for the same day at once: one run per day at a time
    tag_concurrency_limits:
      - key: dagster/partition
        value:
          applyLimitPerUniqueValue: true
        limit: 1
""" + _RUN_MONITORING


# The full event log is in the Dagster instance (make ui); the terminal shows the CLI's summary only (a failed
# step's error, one line each): Dagster's console logger would print every failure's traceback.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def prepare_dagster_home() -> Path:
    """DAGSTER_HOME must be an absolute, existing folder; the default is data/dagster_home beside the data.

    Then its storage must answer: a folder that takes no new file, or the PostgreSQL of a production dagster.yaml
    that is down, refuses the login or is read-only, raises db_trouble.DatabaseTrouble (one line in the CLI)."""
    from yukuai_pipeline.db_trouble import check_instance_storage

    home = private_dir(Path(os.environ.get("DAGSTER_HOME") or Settings.from_env().dagster_home).expanduser().resolve())
    config = home / "dagster.yaml"
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    if not text:
        config.write_text(DAGSTER_YAML, encoding="utf-8")
        private_file(config)
    elif text.startswith(DAGSTER_YAML.splitlines()[0]):
        # written by an earlier version of this command: add what it lacked (the pop-up setting, run monitoring)
        added = "" if "\nnux:" in text else "nux:\n  enabled: false\n"
        added += "" if "\nrun_monitoring:" in text else _RUN_MONITORING
        if added:
            config.write_text(text.rstrip("\n") + "\n" + added, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    check_instance_storage(home, Settings.from_env().db_lock_timeout)
    return home


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text!r}") from None


def cmd_demo_data(args) -> int:
    from yukuai_pipeline.demo.data import generate_demo_data

    landing = private_dir(args.landing_dir or Settings.from_env().landing_dir)
    paths = generate_demo_data(landing, days=args.days, seed=args.seed)
    print(f"已生成 {len(paths)} 个演示文件 → {landing.resolve()}")
    return 0


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
    from yukuai_pipeline.run_hygiene import before_runs, cli_run_tags; before_runs()  # see run_hygiene
    home = prepare_dagster_home()
    import dagster as dg

    from yukuai_pipeline.definitions import build_definitions
    from yukuai_pipeline.defs.partitions import daily_partitions

    dates = _dates(args)
    invalid = [d for d in dates if not daily_partitions.has_partition_key(d.isoformat())]
    if invalid and args.landed:  # a reference file dated before the campaign still applies from its first day
        dates = [d for d in dates if d not in invalid] or [daily_partitions.start.date()]
    elif invalid:
        print(f"日期不在分区范围内（{daily_partitions.start.date()} 起，至今天）：{', '.join(map(str, invalid))}",
              file=sys.stderr)
        return 2
    job = build_definitions().resolve_job_def("daily_refresh")
    failures = []
    with dg.DagsterInstance.get() as instance:
        for i, day in enumerate(dates, 1):
            result = job.execute_in_process(partition_key=day.isoformat(), instance=instance, raise_on_error=False,
                                            tags={"yukuai/trigger": "cli", **cli_run_tags()}, run_config=QUIET)
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


# Exit status of `yukuai materialize` when every day ran but some day's figures are doubtful (README: cron alerts).
EXIT_DOUBTFUL = 3


def _print_doubts(days: list[dt.date]) -> list[dt.date]:
    """Every reason each day's figures are doubtful, after the county lines (metrics/doubts.py); the days concerned."""
    from yukuai_pipeline.metrics.doubts import reasons_of_day
    from yukuai_pipeline.warehouse import Warehouse

    warehouse = Warehouse(Settings.from_env().database_url)
    doubtful = []
    for day in days:
        reasons = reasons_of_day(warehouse.read("data_quality_issues", {"snapshot_date": day,
                                                                        "stage": "township_progress"}))
        if reasons:
            doubtful.append(day)
            print(f"⚠ {day} 数据存疑，发送前请核对：")
            for reason in reasons:
                print(f"  - {reason}")
    return doubtful


def _failure_messages(result) -> list[str]:
    from yukuai_pipeline.defs.outcomes import root_cause

    messages = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity.value == "ERROR":
                messages.append(f"{evaluation.check_name}: {evaluation.description}")
        elif event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            if error and "DagsterAssetCheckFailedError" in error.message:
                continue  # the failed blocking check above already says why, in the reader's words
            messages.append(f"{event.step_key}: {root_cause(error) if error else '未知错误'}")
    return messages or ["运行失败，详见 Dagster UI 中的运行日志"]


def _print_county_row(day: dt.date) -> None:
    from yukuai_pipeline.metrics.progress import county_summary
    from yukuai_pipeline.warehouse import Warehouse

    from yukuai_pipeline import settings as config

    settings = Settings.from_env()
    progress = Warehouse(settings.database_url).read("township_progress", {"snapshot_date": day})
    label = config.campaign().county_row_label
    county = progress[progress["township"] == label]
    if county.empty:
        return
    print(f"{day} 全县{label}：{county_summary(county.iloc[0])}")


def cmd_report(args) -> int:
    from yukuai_pipeline.steps.report import excel_report
    from yukuai_pipeline.steps.context import StepContext
    from yukuai_pipeline.warehouse import Warehouse

    settings = Settings.from_env()
    steps = StepContext(Warehouse(settings.database_url), settings.landing_dir)
    try:
        result = excel_report(steps, args.date, settings.report_dir)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"报表 / report: {result.metadata['path']}")
    print(f"进度图 / chart: {result.metadata['chart_path']}")
    return 0


def cmd_alerts(args) -> int:
    prepare_dagster_home()
    import dagster as dg

    from yukuai_pipeline.defs.alerting import AlertingResource, alert_tick
    from yukuai_pipeline.defs.resources import YukuaiResource

    with dg.DagsterInstance.get() as instance:
        result = alert_tick(instance, YukuaiResource.from_env(), AlertingResource.from_env(secrets_as_env_var=False))
    print(f"检查了 {result['runs']} 次运行，新告警 {result['recorded']} 条，送达 {result['sent']}，失败 {result['failed']}，"
          f"留待下次 {result['deferred']}（详见 alerts 表）")
    return 0


def cmd_archive(args) -> int:
    from yukuai_pipeline.archive import archive_before
    from yukuai_pipeline.settings import archive_dir
    from yukuai_pipeline.warehouse import Warehouse

    settings = Settings.from_env()
    target = archive_dir(settings.landing_dir)
    result = archive_before(settings.landing_dir, target, Warehouse(settings.database_url), args.before, args.dry_run)
    verb = "将归档" if args.dry_run else "已归档"
    print(f"{verb} {len(result.moved)} 个 {args.before} 之前已入库的文件 → {target.resolve()}")
    for path, why in result.kept:
        print(f"  留在原处：{path.name}（{why}）")
    return 0


def cmd_instance(args) -> int:
    print(prepare_dagster_home())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="yukuai",
        description="渝快社区注册推广数据管道（酉阳民政发〔2023〕9号）的命令行：演示数据、不用 Dagster 守护进程的运行、"
                    "报表、告警、归档。日期一律写作 YYYY-MM-DD（例如 2023-02-17）。"
                    "/ yukuai-pipeline's command line: demo data, runs without the Dagster daemon, reports, alerts, "
                    "archiving. Every date is written YYYY-MM-DD. 每个子命令的选项 / options of a command: "
                    "yukuai <命令> -h.",
        epilog="退出码 / exit status: 0 成功 / success; 1 某天运行失败、数据库故障、未给出日期或报表日期未物化 / a day "
               "failed, database trouble, no dates given, or the report's day not materialized; 2 参数格式错误或日期不在"
               "分区范围内 / malformed arguments or a date outside the partitions; 3 (materialize) 每天都运行了，但有数据"
               "存疑，发送前请核对 ⚠ 行 / every day ran but some figures are doubtful. 设置 / settings (YUKUAI_*, "
               "DAGSTER_HOME): docs/configuration.md.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo-data", help="生成演示用的落地文件 / write the demo's landing files",
        description="在落地目录写入演示用的平台导出：社区基本信息、基层队伍、平台应用、乡镇汇总，以及从 2023-02-17 起每天一份"
                    "注册用户明细。/ Writes synthetic exports into the landing folder: registry, roster, platform "
                    "activity, a township summary and one registration export a day from 2023-02-17.")
    demo.add_argument("--landing-dir",
                      help="写入的文件夹（路径）；默认环境变量 YUKUAI_LANDING_DIR，未设置时 data/landing / folder to "
                           "write to (a path); default YUKUAI_LANDING_DIR, else data/landing")
    demo.add_argument("--days", type=int, default=42,
                      help="生成多少天的注册导出（正整数，从 2023-02-17 起），默认 %(default)s / days of registration "
                           "exports, a whole number of at least 1 (default %(default)s)")
    demo.add_argument("--seed", type=int, default=20230217,
                      help="随机数种子（整数）：同一种子生成完全相同的文件，默认 %(default)s / random seed, a whole "
                           "number: the same seed writes the same files")
    demo.set_defaults(func=cmd_demo_data)
    run = sub.add_parser(
        "materialize", help="物化某天或某段日期的全部资产 / materialize every asset of a day or range",
        description="对每一天在本进程内运行 daily_refresh（该日全部资产和检查），记录在 DAGSTER_HOME，make ui 里能看到；"
                    "之后打印数据库和实例位置、全县合计行、每条存疑原因（⚠）和最后一天的报表路径。给出 --date D、"
                    "--from D1 --to D2 或 --landed 之一（同时给出时 --date 优先，其次 --landed）。日期须在分区范围内："
                    "2023-02-17 起至今天（北京时间）。/ Runs daily_refresh in this process for each day, recorded in "
                    "DAGSTER_HOME (seen in make ui), then prints the county row, every doubt and the report's path. "
                    "Give one of --date, --from/--to, --landed.")
    run.add_argument("--date", type=_date,
                     help="只运行这一天，格式 YYYY-MM-DD，例如 2023-02-17 / one day, YYYY-MM-DD")
    run.add_argument("--from", dest="start", type=_date,
                     help="一段日期的第一天（含），格式 YYYY-MM-DD，与 --to 一起用 / first day of a range "
                          "(inclusive), YYYY-MM-DD, with --to")
    run.add_argument("--to", dest="end", type=_date,
                     help="一段日期的最后一天（含），格式 YYYY-MM-DD，不早于 --from / last day of the range "
                          "(inclusive), YYYY-MM-DD, not before --from")
    run.add_argument("--landed", action="store_true",
                     help="落地目录和归档目录中每个能确定日期的文件的日期（不带值）；不在分区范围内的日期略过 / every "
                          "date of a landed or archived file (a flag); dates outside the partitions are skipped")
    run.set_defaults(func=cmd_materialize)
    report = sub.add_parser(
        "report", help="从数据库重新生成某天的 Excel 报表 / rebuild a day's workbook from the database",
        description="用数据库里该日已有的表重新写出 Excel 报表和进度图，放在 YUKUAI_REPORT_DIR（默认 data/reports）；"
                    "不读落地文件，不运行 Dagster。该日尚未物化时说明并以退出码 1 结束。/ Writes the day's workbook "
                    "and chart again from the warehouse tables (no landing file read, no run); exit 1 when the day "
                    "was never materialized.")
    report.add_argument("--date", type=_date, required=True,
                        help="报表日期（必填），格式 YYYY-MM-DD；该日须已物化 / the report's day (required), "
                             "YYYY-MM-DD, already materialized")
    report.set_defaults(func=cmd_report)
    alerts = sub.add_parser(
        "alerts", help="运行一次告警检查并发送 / one tick of the alert sensors (same cursor)",
        description="运行一次告警传感器的逻辑：读取上次之后结束的运行的检查结果，记录新告警和“已恢复”，检查今日注册导出是否已"
                    "按时（YUKUAI_FRESHNESS_DEADLINE）上传，并在发送预算内发送。与 alert_sensor 共用游标，不会重复发送。"
                    "供不运行 Dagster 守护进程的 cron 部署使用；没有选项。/ One tick of the alert sensors' logic, "
                    "sharing their cursor (nothing is sent twice), for cron deployments without the daemon; no "
                    "options.")
    alerts.set_defaults(func=cmd_alerts)
    archive = sub.add_parser(
        "archive", help="把已入库的旧文件移到归档目录 / move ingested files dated before D to the archive",
        description="把日期早于 --before 的已入库文件从落地目录移到归档目录 YUKUAI_ARCHIVE_DIR（默认落地目录下的 "
                    "archive/），按月放进 YYYY-MM 子目录；尚未入库（未运行、仍在写入、被拒收）的文件留在原处并列出。归档"
                    "目录像落地目录一样被读取，归档后重跑任何一天结果不变。/ Moves ingested files dated before D to "
                    "the archive, one YYYY-MM folder per month; files not ingested stay and are listed.")
    archive.add_argument("--before", type=_date, required=True,
                         help="归档此日期（不含）之前的文件（必填），格式 YYYY-MM-DD / files dated before this day "
                              "(exclusive; required), YYYY-MM-DD")
    archive.add_argument("--dry-run", action="store_true",
                         help="只列出将移动的文件，不移动（不带值）/ list what would move, move nothing (a flag)")
    archive.set_defaults(func=cmd_archive)
    home = sub.add_parser(
        "instance", help="创建并打印 DAGSTER_HOME / create and print the Dagster instance folder",
        description="创建 Dagster 实例目录 DAGSTER_HOME（默认 data/dagster_home）和它的 dagster.yaml（无遥测、无首次访问弹窗、"
                    "每天同时只运行一次、运行监控），检查其存储可用，打印其绝对路径；make ui 先运行它。没有选项。/ Creates "
                    "DAGSTER_HOME and its dagster.yaml if missing, checks its storage answers, prints its path; no "
                    "options.")
    home.set_defaults(func=cmd_instance)
    args = parser.parse_args(argv)
    restrict_umask()  # before anything is written: the database, reports, Dagster's storage and logs
    from yukuai_pipeline import db_trouble

    # Database trouble in any command (locked, unreachable, read-only, full…) is one line on stderr and exit
    # status 1; library logs stay off the terminal (a run's full log is in the Dagster instance).
    with db_trouble.quiet_python_logging():
        try:
            return args.func(args)
        except Exception as error:
            trouble = db_trouble.for_cli(error)
            if trouble is None:
                raise
            print(trouble.line, file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
