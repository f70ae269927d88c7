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

    yukuai, alerting = YukuaiResource.from_env(), AlertingResource.from_env(secrets_as_env_var=False)
    total = {"runs": 0, "recorded": 0, "sent": 0, "failed": 0, "deferred": 0}
    with dg.DagsterInstance.get() as instance:
        while True:  # every finished run, a chunk at a time (the sensor takes one chunk per tick)
            result = alert_tick(instance, yukuai, alerting)
            total = {k: total[k] + result[k] if k != "deferred" else result[k] for k in total}
            if not result["runs_left"]:
                break
    print(
        f"检查了 {total['runs']} 次运行，新告警 {total['recorded']} 条，送达 {total['sent']}，"
        f"失败 {total['failed']}，留待下次 {total['deferred']}（详见 alerts 表）"
    )
    return 0
