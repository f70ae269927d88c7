"""`yukuai city`: the city rollup of a day from the warehouse every county writes — each county's 合计 ranked,
the city's 合计, into `city_progress` and the city's workbook — and `yukuai demo-notice`, the demo's second
county's notice for `yukuai campaign import`."""

import sys
from pathlib import Path

from yukuai_pipeline.settings import Settings


def cmd_city(args) -> int:
    from yukuai_pipeline.steps.city import city_report, newest_day
    from yukuai_pipeline.warehouse import Warehouse

    settings = Settings.from_env()
    warehouse = Warehouse(settings.database_url, county_code=None)  # the city's handle: every county's county rows
    day = args.date or newest_day(warehouse)
    if day is None:
        print("数据库里还没有任何区县物化过的日期：先运行 yukuai materialize / no county day yet", file=sys.stderr)
        return 1
    try:
        progress, path = city_report(warehouse, day, settings.city_report_dir)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"{day} 全市区县进度 / city rollup（按完成率排名）：")
    for row in progress.itertuples():
        rank = "合计" if row.county_code == "500000" else (f"{row.rank:>2}" if row.rank is not None else " -")
        done = "—" if row.completed is None or row.completed != row.completed else f"{int(row.completed):,}"
        rate = "" if row.completion_rate != row.completion_rate else f"{row.completion_rate:.2%}"
        dated = "" if row.status == "当日" else f"（{row.status}{'：' + str(row.data_date) if row.data_date else ''}）"
        print(f"  {rank} {row.county_name}（{row.county_code}）任务 {row.target:,} 完成 {done} {rate}{dated}")
    print(f"全市报表 / city workbook: {path.resolve()}")
    return 0


def cmd_demo_notice(args) -> int:
    from yukuai_pipeline.demo.second_county import CODE, NAME, write_notice

    path = write_notice(Path(args.out), seed=args.seed)
    print(f"已写出{NAME}（{CODE}，虚构）的通知 → {path.resolve()}")
    return 0


def cmd_warehouse_roles(args) -> int:
    from yukuai_pipeline.warehouse.access import as_text, city_role_statements, county_role_statements

    try:
        statements = city_role_statements(args.role) if args.city else county_role_statements(args.county, args.role)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    print("-- 以仓库表的属主在仓库数据库里执行 / run as the warehouse tables' owner, e.g. psql -d yukuai -f roles.sql")
    print(as_text(statements), end="")
    return 0
