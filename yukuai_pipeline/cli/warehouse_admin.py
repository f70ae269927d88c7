"""The administrator's warehouse commands for a PostgreSQL deployment: `yukuai warehouse-partitions` makes the
daily tables' month partitions ahead (county roles under row-level security may not create them), and
`yukuai warehouse-retention` keeps the newest months and drops or detaches the older ones (warehouse/retention.py)."""

import sys

from yukuai_pipeline.settings import Settings


def cmd_warehouse_partitions(args) -> int:
    from yukuai_pipeline.settings import city_days
    from yukuai_pipeline.warehouse import Warehouse

    campaign_first, campaign_last = city_days()
    first, last = args.start or campaign_first, args.through or campaign_last
    if last < first:
        print(f"结束日期 {last} 早于起始日期 {first} / the last day is before the first", file=sys.stderr)
        return 2
    warehouse = Warehouse(Settings.from_env().database_url, county_code=None)
    tables = warehouse.create_months(first, last)
    if not tables:
        print("SQLite 不分区，无需创建 / SQLite has no partitions: nothing to do")
        return 0
    print(f"{first:%Y-%m} 至 {last:%Y-%m} 每月的分区已就绪（{len(tables)} 张按日分区的表）：{'、'.join(tables)}")
    return 0


def cmd_warehouse_retention(args) -> int:
    from yukuai_pipeline.warehouse import Warehouse, retention

    settings = Settings.from_env()
    keep = args.keep_months or settings.retention_months
    if keep is None:
        print(
            "未设置保留月数：用 --keep-months N 或 YUKUAI_RETENTION_MONTHS=N / no retention configured",
            file=sys.stderr,
        )
        return 2
    warehouse = Warehouse(settings.database_url, county_code=None)
    newest = retention.newest_day(warehouse)
    if newest is None:
        print("数据库里还没有按日的数据 / no daily rows yet: nothing to do")
        return 0
    first_kept = retention.first_kept_month(newest, keep)
    try:
        removed = retention.drop_before(warehouse, first_kept, detach=args.detach)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    how = "分离（保留为独立的表，可导出归档）" if args.detach else "删除"
    print(f"最新数据日期 {newest}，保留 {first_kept:%Y-%m} 起的 {keep} 个月；更早的月份已{how}：")
    for table, months in removed.items():
        print(f"  {table}: {'、'.join(months)}")
    if not removed:
        print("  （没有更早的月份 / nothing older）")
    return 0
