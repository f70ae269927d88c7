"""The alert_history asset's work: what was sent, where and with what result (alerts/history.py), and whether a
channel has given up on some alert."""

from yukuai_pipeline.alerts.history import history, undeliverable
from yukuai_pipeline.quality.checks import WARN, Check, Checks
from yukuai_pipeline.steps.context import StepContext, StepResult

CHECKS = Checks(
    "alert_history",
    Check(
        "alerts_delivered",
        WARN,
        "告警都已送达（或在重试中）。",
        "Every alert was delivered, or is still being retried.",
    ),
)


def alert_history(ctx: StepContext, recipients: list[str]) -> StepResult:
    alerts = ctx.warehouse.read("alerts")
    table = history(alerts)
    failed = undeliverable(alerts)
    errors = "；".join(sorted(set(failed["error"].dropna())))[:300] if len(failed) else ""
    check = (
        CHECKS.passed("alerts_delivered", f"共 {len(alerts)} 条告警记录，没有放弃发送的")
        if failed.empty
        else CHECKS.failed(
            "alerts_delivered",
            f"{len(failed)} 条告警重试用完仍未送达：请检查渠道设置（{errors}）",
            numbers={"undeliverable": len(failed)},
        )
    )
    delivered = int(alerts["delivered"].astype(bool).sum()) if len(alerts) else 0
    return StepResult(
        rows=len(alerts),
        checks=[check],
        metadata={
            "收件方 / recipients": "；".join(recipients) or "未配置渠道（只记录）",
            "已送达 / delivered": delivered,
        },
        preview=table,
        preview_title="最近的告警 / latest alerts",
    )
