"""The commands that give the officer something without a run: `yukuai report` writes a day's workbook and chart
again from the warehouse, `yukuai alerts` runs one tick of the alert sensors (same cursor, same delivery budget).
"""

import sys

from yukuai_pipeline.cli.instance import prepare_dagster_home
from yukuai_pipeline.settings import Settings


def cmd_report(args) -> int:
    from yukuai_pipeline.steps.context import StepContext
    from yukuai_pipeline.steps.report import excel_report
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
    print(
        f"检查了 {result['runs']} 次运行，新告警 {result['recorded']} 条，送达 {result['sent']}，"
        f"失败 {result['failed']}，留待下次 {result['deferred']}（详见 alerts 表）"
    )
    return 0
