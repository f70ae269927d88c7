"""The `yukuai` argument parser: every command with its options, the help texts in Chinese and English, the exit
statuses, and which function runs each command (`args.func`). Dates are parsed as YYYY-MM-DD here.
"""

import argparse
import datetime as dt

from yukuai_pipeline.cli.campaigns import cmd_campaign_import
from yukuai_pipeline.cli.city import cmd_city, cmd_demo_notice, cmd_warehouse_roles
from yukuai_pipeline.cli.files import cmd_archive, cmd_demo_data
from yukuai_pipeline.cli.instance import cmd_instance
from yukuai_pipeline.cli.outputs import cmd_alerts, cmd_report
from yukuai_pipeline.cli.runs import cmd_materialize
from yukuai_pipeline.cli.warehouse_admin import cmd_warehouse_partitions, cmd_warehouse_retention


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The parser of the `yukuai` command and its sub-commands."""
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
        "DAGSTER_HOME): docs/configuration.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo-data",
        help="生成演示用的落地文件 / write the demo's landing files",
        description="在落地目录写入演示用的平台导出：社区基本信息、基层队伍、平台应用、乡镇汇总，"
        "以及从 2023-02-17 起每天一份注册用户明细。/ Writes synthetic exports into the landing folder: registry, "
        "roster, platform activity, a township summary and one registration export a day from 2023-02-17.",
    )
    demo.add_argument(
        "--landing-dir",
        help="写入的文件夹（路径）；默认环境变量 YUKUAI_LANDING_DIR，未设置时 data/landing / folder to "
        "write to (a path); default YUKUAI_LANDING_DIR, else data/landing",
    )
    demo.add_argument(
        "--days",
        type=int,
        default=42,
        help="生成多少天的注册导出（正整数，从 2023-02-17 起），默认 %(default)s / days of registration "
        "exports, a whole number of at least 1 (default %(default)s)",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=20230217,
        help="随机数种子（整数）：同一种子生成完全相同的文件，默认 %(default)s / random seed, a whole "
        "number: the same seed writes the same files",
    )
    demo.set_defaults(func=cmd_demo_data)
    run = sub.add_parser(
        "materialize",
        help="物化某天或某段日期的全部资产 / materialize every asset of a day or range",
        description="对每一天在本进程内运行 daily_refresh（该日全部资产和检查），记录在 DAGSTER_HOME，"
        "make ui 里能看到；之后打印数据库和实例位置、全县合计行、每条存疑原因（⚠）和最后一天的报表路径。给出 --date D、"
        "--from D1 --to D2 或 --landed 之一（同时给出时 --date 优先，其次 --landed）。日期须在分区范围内："
        "活动的开始日到截止日（campaign.yaml 的 baseline_date 到 deadline 或 extended_to），且不晚于今天（北京时间）。"
        "/ Runs daily_refresh in this process for each day, recorded in "
        "DAGSTER_HOME (seen in make ui), then prints the county row, every doubt and the report's path. "
        "Give one of --date, --from/--to, --landed.",
    )
    run.add_argument(
        "--date", type=iso_date, help="只运行这一天，格式 YYYY-MM-DD，例如 2023-02-17 / one day, YYYY-MM-DD"
    )
    run.add_argument(
        "--from",
        dest="start",
        type=iso_date,
        help="一段日期的第一天（含），格式 YYYY-MM-DD，与 --to 一起用 / first day of a range "
        "(inclusive), YYYY-MM-DD, with --to",
    )
    run.add_argument(
        "--to",
        dest="end",
        type=iso_date,
        help="一段日期的最后一天（含），格式 YYYY-MM-DD，不早于 --from / last day of the range "
        "(inclusive), YYYY-MM-DD, not before --from",
    )
    run.add_argument(
        "--landed",
        action="store_true",
        help="落地目录和归档目录中每个能确定日期的文件的日期（不带值）；不在分区范围内的日期略过 / every "
        "date of a landed or archived file (a flag); dates outside the partitions are skipped",
    )
    run.set_defaults(func=cmd_materialize)
    report = sub.add_parser(
        "report",
        help="从数据库重新生成某天的 Excel 报表 / rebuild a day's workbook from the database",
        description="用数据库里该日已有的表重新写出 Excel 报表和进度图，放在 YUKUAI_REPORT_DIR（默认 data/reports）；"
        "不读落地文件，不运行 Dagster。该日尚未物化时说明并以退出码 1 结束。/ Writes the day's workbook "
        "and chart again from the warehouse tables (no landing file read, no run); exit 1 when the day "
        "was never materialized.",
    )
    report.add_argument(
        "--date",
        type=iso_date,
        required=True,
        help="报表日期（必填），格式 YYYY-MM-DD；该日须已物化 / the report's day (required), "
        "YYYY-MM-DD, already materialized",
    )
    report.set_defaults(func=cmd_report)
    alerts = sub.add_parser(
        "alerts",
        help="运行一次告警检查并发送 / one tick of the alert sensors (same cursor)",
        description="运行一次告警传感器的逻辑：读取上次之后结束的运行的检查结果，记录新告警和“已恢复”，检查今日注册导出是否已"
        "按时（YUKUAI_FRESHNESS_DEADLINE）上传，并在发送预算内发送。与 alert_sensor 共用游标，不会重复发送。"
        "供不运行 Dagster 守护进程的 cron 部署使用；没有选项。/ One tick of the alert sensors' logic, "
        "sharing their cursor (nothing is sent twice), for cron deployments without the daemon; no "
        "options.",
    )
    alerts.set_defaults(func=cmd_alerts)
    archive = sub.add_parser(
        "archive",
        help="把已入库的旧文件移到归档目录 / move ingested files dated before D to the archive",
        description="把日期早于 --before 的已入库文件从落地目录移到归档目录 YUKUAI_ARCHIVE_DIR（默认落地目录下的 "
        "archive/），按月放进 YYYY-MM 子目录；尚未入库（未运行、仍在写入、被拒收）的文件留在原处并列出。归档"
        "目录像落地目录一样被读取，归档后重跑任何一天结果不变。/ Moves ingested files dated before D to "
        "the archive, one YYYY-MM folder per month; files not ingested stay and are listed.",
    )
    archive.add_argument(
        "--before",
        type=iso_date,
        required=True,
        help="归档此日期（不含）之前的文件（必填），格式 YYYY-MM-DD / files dated before this day "
        "(exclusive; required), YYYY-MM-DD",
    )
    archive.add_argument(
        "--dry-run",
        action="store_true",
        help="只列出将移动的文件，不移动（不带值）/ list what would move, move nothing (a flag)",
    )
    archive.set_defaults(func=cmd_archive)
    campaign = sub.add_parser(
        "campaign",
        help="区县活动：导入通知及其附件 / a county's campaign: import its notice",
        description="区县活动文件夹 assets/campaigns/<区县代码>/ 的命令。/ Commands on a county's campaign folder.",
    )
    campaign_sub = campaign.add_subparsers(dest="campaign_command", required=True)
    imports = campaign_sub.add_parser(
        "import",
        help="把区县的通知（含附件任务表）导入为活动文件夹 / read a notice into a campaign folder",
        description="读取区县民政局的通知（.docx、.txt，或单独的附件 .xlsx/.xls/.csv），按表头找到目标任务安排表"
        "（序号、乡镇（街道）、常住人口数、任务数、完成数、尚差任务数），核对合计行、正文的全县任务数、"
        "完成数 + 尚差 = 任务数、每万人任务规则，然后写出 campaign.yaml 和任务表。有不符时不写入。"
        "/ Reads a county's notice (or its attachment alone), finds the target table by its header, checks it "
        "(total row, the text's county total, completed + gap = target, the per-10,000 rule) and writes the "
        "campaign folder; nothing is written when a check fails.",
    )
    imports.add_argument("notice", help="通知文件（路径）/ the notice file (.docx, .txt, .xlsx, .xls, .csv)")
    imports.add_argument(
        "--county-code",
        required=True,
        help="区县的 6 位统计用区划代码，例如 500242（酉阳）/ the county's 6-digit statistical code",
    )
    imports.add_argument(
        "--attachment",
        help="附件单独成文件时的路径（Excel、CSV、Word）；默认在通知里找 / the attachment, when a file of its own",
    )
    imports.add_argument("--county-name", help="区县全称，正文没写明发文单位时给出 / the county's full name")
    imports.add_argument(
        "--deadline", type=iso_date, help="截止日期 YYYY-MM-DD，正文没写明时给出 / the deadline, when the text has none"
    )
    imports.add_argument(
        "--baseline-date",
        type=iso_date,
        help="附件完成数的日期 YYYY-MM-DD，默认发文日期 / the day of the attachment's 完成数 (default: issue date)",
    )
    imports.add_argument(
        "--campaign-id",
        help="活动标识（英文、数字、连字符），默认 <区县代码>-<年份> / the campaign id, default <code>-<year>",
    )
    imports.add_argument("--out", help="写入的文件夹，默认 assets/campaigns/<区县代码> / the folder to write")
    imports.add_argument("--force", action="store_true", help="覆盖已有的 campaign.yaml / overwrite campaign.yaml")
    imports.add_argument(
        "--accept-mismatches",
        action="store_true",
        help="核对原件后确认以附件为准：有不符也写入 / write even when a check fails, the attachment standing as it is",
    )
    imports.set_defaults(func=cmd_campaign_import)
    city = sub.add_parser(
        "city",
        help="全市汇总：各区县合计排名和全市合计 / the city rollup of a day",
        description="从各区县共用的数据库读各区县该日（或之前最近一天）的全县合计行，按完成率排名，加全市合计，写入 "
        "city_progress 表和全市报表（YUKUAI_CITY_REPORT_DIR，默认 data/city/reports）。只含汇总数，不含乡镇、村和个人"
        "信息。/ Each county's county row of the day (or the newest before it), ranked, with the city's total, "
        "into city_progress and the city's workbook; aggregates only.",
    )
    city.add_argument(
        "--date",
        type=iso_date,
        help="汇总日期 YYYY-MM-DD；默认任一区县物化过的最近一天 / the day, default the newest any county has",
    )
    city.set_defaults(func=cmd_city)
    notice = sub.add_parser(
        "demo-notice",
        help="写出演示用第二个区县（演示县 509901，虚构）的通知 / the demo's second county's notice",
        description="写出演示县（509901，虚构；一半乡镇与酉阳县同名）的通知和附件任务表（文本，表格以制表符分隔），"
        "供 yukuai campaign import 导入。/ Writes the fictional second county's notice, whose townships share "
        "names with Youyang's on purpose, for `yukuai campaign import`.",
    )
    notice.add_argument("--out", required=True, help="写入的文件夹（路径）/ the folder to write to")
    notice.add_argument("--seed", type=int, default=20230217, help="随机数种子，默认 %(default)s / random seed")
    notice.set_defaults(func=cmd_demo_notice)
    roles = sub.add_parser(
        "warehouse-roles",
        help="打印全市部署的数据库权限 SQL（行级安全）/ print the row-level security SQL of a city deployment",
        description="打印 PostgreSQL 的行级安全语句：区县的数据库角色只能读写本区县的行；全市的角色只能读各区县的"
        "合计行和活动、写全市汇总。由数据库管理员以仓库表的属主执行。/ Prints the statements that let a county's "
        "role see and write only its county's rows, and the city's role only the county rows, campaigns and "
        "city_progress.",
    )
    scope = roles.add_mutually_exclusive_group(required=True)
    scope.add_argument("--county", help="区县代码（6 位）/ the county's code")
    scope.add_argument("--city", action="store_true", help="全市的角色（不带值）/ the city's role (a flag)")
    roles.add_argument("--role", required=True, help="数据库角色名 / the PostgreSQL role, e.g. yukuai_500242")
    roles.set_defaults(func=cmd_warehouse_roles)
    months = sub.add_parser(
        "warehouse-partitions",
        help="预先创建 PostgreSQL 按月分区 / make the daily tables' month partitions ahead (PostgreSQL)",
        description="PostgreSQL 上按日的表按月分区，某月的分区在写入该月第一行时创建；行级安全下区县的角色无权创建，"
        "须由仓库表的属主预先执行本命令。默认覆盖各活动的起止日期。SQLite 不分区。/ Creates every daily table's "
        "month partitions from --from through --through (default: the campaigns' first and last days), as the "
        "tables' owner.",
    )
    months.add_argument("--from", dest="start", type=iso_date, help="起始日期 YYYY-MM-DD / first day")
    months.add_argument("--through", type=iso_date, help="结束日期 YYYY-MM-DD / last day")
    months.set_defaults(func=cmd_warehouse_partitions)
    keep = sub.add_parser(
        "warehouse-retention",
        help="只保留最近几个月的按日数据 / keep the newest months of the daily tables",
        description="按日的表只保留最近 N 个月（按数据库里最新的数据日期算，整月）：PostgreSQL 删除更早月份的分区"
        "（--detach 则分离为独立的表供导出归档），SQLite 删除这些行；只存一次的表删除不再被任何一天用到的内容。"
        "作用于全库所有区县。接入日志、输入文件快照、活动和提醒不删。/ Keeps the newest N whole months of every "
        "daily table, for every county; older months' partitions are dropped (or detached), on SQLite their rows "
        "deleted. N from --keep-months or YUKUAI_RETENTION_MONTHS.",
    )
    keep.add_argument("--keep-months", type=int, help="保留月数（默认 YUKUAI_RETENTION_MONTHS）/ months to keep")
    keep.add_argument(
        "--detach", action="store_true", help="分离而不删除（仅 PostgreSQL）/ detach instead of drop (a flag)"
    )
    keep.set_defaults(func=cmd_warehouse_retention)
    home = sub.add_parser(
        "instance",
        help="创建并打印 DAGSTER_HOME / create and print the Dagster instance folder",
        description="创建 Dagster 实例目录 DAGSTER_HOME（默认 data/dagster_home）和它的 dagster.yaml"
        "（无遥测、无首次访问弹窗、每天同时只运行一次、运行监控），检查其存储可用，打印其绝对路径；make ui 先运行它。"
        "没有选项。/ Creates DAGSTER_HOME and its dagster.yaml if missing, checks its storage answers, prints its "
        "path; no options.",
    )
    home.set_defaults(func=cmd_instance)
    return parser
