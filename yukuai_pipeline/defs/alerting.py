"""The alerts' Dagster side: the channels and the delivery budget as a resource (`AlertingResource`), one tick that
turns finished runs' check results and failures and a day's missing export into alerts in the outbox and sends what
is due (`alert_tick`, shared with `yukuai alerts`; its cursor kept in `alert_state`), and the two sensors.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from yukuai_pipeline import settings
from yukuai_pipeline.alerts import texts
from yukuai_pipeline.alerts.delivery import EmailChannel, Outbox, WebhookChannel
from yukuai_pipeline.defs.assets import GROUP_LABELS, OWNER, QUALITY, SQL_KIND
from yukuai_pipeline.defs.executors import JOB_EXECUTOR
from yukuai_pipeline.defs.outcomes import check_specs, materialize_result, root_cause, table_metadata, undated
from yukuai_pipeline.defs.resources import YukuaiResource, campaign_tags
from yukuai_pipeline.intake import landing
from yukuai_pipeline.steps import alert_history as alert_steps
from yukuai_pipeline.warehouse import Warehouse

SHANGHAI = ZoneInfo("Asia/Shanghai")
CURSOR = "runs_updated_after"
RUNS_PER_TICK = 20
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]


class AlertingResource(dg.ConfigurableResource):
    """Alert channels (YUKUAI_ALERT_* / YUKUAI_SMTP_*); none configured = alerts are only recorded in `alerts`.
    The delivery budget: timeout per request, sends and seconds per tick (see alerts.delivery.Outbox.deliver_due)."""

    ui_base_url: str = "http://127.0.0.1:3000"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    email_from: str | None = None
    email_to: str | None = None
    freshness_deadline: str = "10:00"
    alert_mode: str = "digest"  # or "immediate" (settings.AlertSettings)
    immediate_checks: str = ""  # comma-separated check names sent at once in digest mode
    alert_timeout_seconds: float = settings.ALERT_TIMEOUT_SECONDS
    alert_max_per_tick: int = settings.ALERT_MAX_PER_TICK
    alert_tick_budget_seconds: float = settings.ALERT_TICK_BUDGET_SECONDS

    @classmethod
    def from_env(cls, secrets_as_env_var: bool = True) -> "AlertingResource":
        """From settings.AlertSettings. Dagster definitions keep secrets as EnvVar (resolved at run time, never
        shown in the UI); the CLI, which runs outside Dagster's resource resolution, takes their values."""
        alert = settings.AlertSettings.from_env()
        secrets = {
            name: (dg.EnvVar(variable) if secrets_as_env_var else getattr(alert, name))
            for name, variable in settings.AlertSettings.SECRET_VARIABLES.items()
            if getattr(alert, name)
        }
        return cls(
            ui_base_url=alert.ui_base_url,
            webhook_url=alert.webhook_url,
            smtp_host=alert.smtp_host,
            smtp_port=alert.smtp_port,
            smtp_user=alert.smtp_user,
            smtp_starttls=alert.smtp_starttls,
            email_from=alert.email_from,
            email_to=alert.email_to,
            freshness_deadline=alert.freshness_deadline,
            alert_mode=alert.mode,
            immediate_checks=",".join(alert.immediate_checks),
            alert_timeout_seconds=alert.timeout_seconds,
            alert_max_per_tick=alert.max_per_tick,
            alert_tick_budget_seconds=alert.tick_budget_seconds,
            **secrets,
        )

    def recipients(self) -> list[str]:
        """Where alerts go, masked: the robot's URL without its key, each mail address as o***@domain."""
        from yukuai_pipeline.alerts.history import masked_recipient

        found = [f"群机器人 {masked_recipient(self.webhook_url)}"] if self.webhook_url else []
        if self.smtp_host and self.email_to:
            found += [f"邮件 {masked_recipient(a.strip())}" for a in self.email_to.split(",") if a.strip()]
        return found

    def channels(self) -> list[WebhookChannel | EmailChannel]:
        channels: list[WebhookChannel | EmailChannel] = []
        if self.webhook_url:
            channels.append(WebhookChannel(self.webhook_url, self.webhook_secret, timeout=self.alert_timeout_seconds))
        if self.smtp_host and self.email_to:
            recipients = tuple(a.strip() for a in self.email_to.split(",") if a.strip())
            channels.append(
                EmailChannel(
                    self.smtp_host,
                    self.smtp_port,
                    self.email_from or recipients[0],
                    recipients,
                    self.smtp_user,
                    self.smtp_password,
                    self.smtp_starttls,
                    timeout=self.alert_timeout_seconds,
                )
            )
        return channels

    def outbox(self, warehouse: Warehouse, now=None) -> Outbox:
        """The outbox of these channels, with this delivery budget."""
        return Outbox(
            warehouse,
            self.channels(),
            now=now,
            max_per_tick=self.alert_max_per_tick,
            budget_seconds=self.alert_tick_budget_seconds,
        )


def _evaluations(instance: dg.DagsterInstance, run_id: str) -> list[dg.AssetCheckEvaluation]:
    entries = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    # every entry of a type is a Dagster event (the filter is on the event's type)
    return [e.dagster_event.asset_check_evaluation_data for e in entries if e.dagster_event is not None]


def _meta(evaluation, key: str):
    value = evaluation.metadata.get(key)
    return getattr(value, "value", getattr(value, "text", None)) if value is not None else None


def _partition(evaluation, run: dg.DagsterRun) -> dt.date | None:
    """Checks evaluated inside a partitioned asset carry no partition of their own: the run's tag says which day."""
    key = evaluation.partition or run.tags.get("dagster/partition")
    try:
        return dt.date.fromisoformat(key) if key else None
    except ValueError:
        return None


def alert_on_checks(
    outbox: Outbox, instance: dg.DagsterInstance, run: dg.DagsterRun, base_url: str, alerting: "AlertingResource"
) -> int:
    """Every new failure of a (asset, check, day) and every 已恢复 is recorded in `alerts`. Immediate mode sends
    each; digest mode (the default) sends one message for the run's day — new failures, what still fails since
    which day, what recovered since the day before — and keeps the single alerts as history only, except the checks
    named in immediate_checks."""
    digest_mode = alerting.alert_mode != "immediate"
    immediate = {c.strip() for c in alerting.immediate_checks.split(",") if c.strip()}
    recorded = 0
    new: list[texts.DigestLine] = []
    still: list[texts.DigestLine] = []
    recovered: list[texts.DigestLine] = []
    run_day: dt.date | None = None
    evaluated = False
    for evaluation in _evaluations(instance, run.run_id):
        if _meta(evaluation, "evaluated") is False:
            continue
        asset, check, day = evaluation.asset_key.to_user_string(), evaluation.check_name, _partition(evaluation, run)
        run_day, evaluated = run_day or day, True
        key = f"{asset}/{check}/{day or '-'}"
        last = outbox.last_kind(key)
        send = not digest_mode or check in immediate
        severity = evaluation.severity.value
        failing_before = _failing_days(outbox, asset, check, day)
        if not evaluation.passed:
            summary = undated(evaluation.description or check)
            if last != "failure":
                townships, villages = (
                    _meta(evaluation, "乡镇（街道） / townships"),
                    _meta(evaluation, "村（社区） / villages"),
                )
                alert = texts.check_failed(
                    asset,
                    check,
                    day,
                    severity,
                    summary,
                    townships,
                    villages,
                    _meta(evaluation, "village_count"),
                    base_url,
                )
                outbox.record(alert, send=send)
                recorded += 1
            since = _streak_start(day, failing_before)
            line = texts.DigestLine(asset, check, severity, summary, since)
            (still if since is not None and since != day else new).append(line)
        else:
            if last == "failure":
                outbox.record(texts.check_recovered(asset, check, day, base_url), send=send)
                recorded += 1
            if last == "failure" or (day is not None and day - dt.timedelta(days=1) in failing_before):
                recovered.append(texts.DigestLine(asset, check, severity, ""))
    if digest_mode and evaluated and (new or still or recovered):
        digest = texts.digest(run_day, run.run_id, new, still, recovered, base_url)
        if outbox.last_kind(digest.alert_key) is None:  # a run looked at again (the cursor's overlap): sent once
            outbox.record(digest)
            recorded += 1
    return recorded


def _failing_days(outbox: Outbox, asset: str, check: str, day: dt.date | None) -> set[dt.date]:
    """The days before `day` on which (asset, check) still stands failed in `alerts`."""
    return {d for d in outbox.warehouse.failing_days(asset, check) if day is None or d < day}


def _streak_start(day: dt.date | None, failing_before: set[dt.date]) -> dt.date | None:
    """The first day of the unbroken run of failing days that ends with `day` (a failure today)."""
    if day is None:
        return None
    start = day
    while start - dt.timedelta(days=1) in failing_before:
        start -= dt.timedelta(days=1)
    return start


def alert_on_run_failure(outbox: Outbox, instance: dg.DagsterInstance, run: dg.DagsterRun, base_url: str) -> int:
    if outbox.last_kind(f"run/{run.run_id}") is not None:
        return 0
    steps: list[str] = []
    messages: list[str] = []
    for evaluation in _evaluations(instance, run.run_id):
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR and evaluation.blocking:
            messages.append(undated(evaluation.description or evaluation.check_name))
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        if event is None or entry.step_key is None:  # never so: a STEP_FAILURE entry is a step's Dagster event
            continue
        steps.append(entry.step_key)
        error = event.step_failure_data.error
        if error and "DagsterAssetCheckFailedError" not in error.message:
            messages.append(root_cause(error))
    outbox.record(
        texts.run_failed(run.run_id, run.job_name, run.tags.get("dagster/partition"), steps, messages, base_url)
    )
    return 1


def alert_on_missing_export(outbox: Outbox, landing_dir: str, deadline: str, now: dt.datetime) -> int:
    """今日注册数据未上传: after the deadline (Asia/Shanghai) of a campaign day, once per day."""
    local = now.astimezone(SHANGHAI)
    campaign = settings.campaign()
    today = local.date()
    hour, minute = (int(x) for x in deadline.split(":"))
    if local.time() < dt.time(hour, minute) or not campaign.baseline_date <= today <= campaign.last_day:
        return 0
    if outbox.last_kind(f"freshness/{today}") is not None:
        return 0
    files = landing.scan(landing_dir, lambda d: d == today)
    if landing.for_date(files, ("registrations", "registration_summary"), today):
        return 0
    outbox.record(texts.export_missing(today, deadline, landing_dir))
    return 1


def alert_tick(
    instance: dg.DagsterInstance, yukuai: YukuaiResource, alerting: AlertingResource, now: dt.datetime | None = None
) -> dict[str, int]:
    """One tick: checks and failures of the runs finished since the shared cursor, the freshness rule, and
    delivery of what is due, within the delivery budget (the rest is counted as `deferred` and sent by later
    ticks). The sensors and `yukuai alerts` both call this, so nothing is sent twice."""
    warehouse = yukuai.warehouse()
    now = now or dt.datetime.now(dt.UTC)
    outbox = alerting.outbox(warehouse, now=lambda: now.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0))
    since = warehouse.alert_state(CURSOR)
    filters = dg.RunsFilter(statuses=FINISHED, updated_after=dt.datetime.fromisoformat(since) if since else None)
    found = sorted(instance.get_run_records(filters=filters), key=lambda r: r.update_timestamp)
    # A bounded chunk per tick (a backfill of 250 days finishing at once would not fit the sensor's time budget);
    # the cursor stops after the last run looked at and the next ticks catch up.
    records = found[:RUNS_PER_TICK]
    recorded = 0
    for record in records:
        recorded += alert_on_checks(outbox, instance, record.dagster_run, alerting.ui_base_url, alerting)
        if record.dagster_run.status == dg.DagsterRunStatus.FAILURE:
            recorded += alert_on_run_failure(outbox, instance, record.dagster_run, alerting.ui_base_url)
    if records:
        # runs updated in the same instant as the newest are looked at again next time: the keys keep that
        # harmless; a cut chunk resumes exactly after its last run, so the next tick moves on
        newest = records[-1].update_timestamp
        resume = newest if len(found) > len(records) else newest - dt.timedelta(seconds=1)
        warehouse.save_alert_state(CURSOR, resume.isoformat())
    recorded += alert_on_missing_export(outbox, str(yukuai.landing()), alerting.freshness_deadline, now)
    return {"runs": len(records), "runs_left": len(found) - len(records), "recorded": recorded, **outbox.deliver_due()}


@dg.asset(
    name="alert_history",
    group_name=QUALITY,
    description="【数据质量】告警记录：最近发出的告警、发到哪个渠道（收件方已脱敏）、是否送达；告警传感器发出告警后自动刷新。"
    "\n\nAlert history: the latest alerts, their channel (recipients masked) and delivery status; refreshed by the "
    "alert sensor after it sends.",
    owners=[OWNER],
    kinds={"pandas", SQL_KIND},
    check_specs=check_specs(alert_steps.CHECKS),
    metadata={**table_metadata("alerts", SQL_KIND), "分组 / group": f"{GROUP_LABELS[QUALITY]}（{QUALITY}）"},
)
def alert_history(
    context: dg.AssetExecutionContext, yukuai: YukuaiResource, alerting: AlertingResource
) -> dg.MaterializeResult:
    with yukuai.step_context(context) as steps:
        return materialize_result(alert_steps.alert_history(steps, alerting.recipients()), alert_steps.CHECKS)


alert_history_job = dg.define_asset_job(
    "alert_history_refresh",
    tags=campaign_tags(),
    selection=dg.AssetSelection.assets(alert_history),
    executor_def=JOB_EXECUTOR,
    description="刷新告警记录（告警传感器发出告警后自动运行）。Refresh the alert history.",
)


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[alert_history_job],
    description="检查告警：读取已完成运行的资产检查结果，默认每天一条检查日报（新问题、仍未解决、已恢复）；并按时检查今日数据是否"
    "上传。发出告警后刷新 alert_history。",
)
def alert_sensor(context: dg.SensorEvaluationContext, yukuai: YukuaiResource, alerting: AlertingResource):
    result = alert_tick(context.instance, yukuai, alerting)
    message = (
        f"运行 {result['runs']} 个（待下次 {result['runs_left']} 个），记录告警 {result['recorded']} 条，"
        f"发出 {result['sent']} 条，发送失败 {result['failed']} 条，延后 {result['deferred']} 条 / "
        f"runs={result['runs']} runs_left={result['runs_left']} recorded={result['recorded']} sent={result['sent']} "
        f"failed={result['failed']} deferred={result['deferred']}"
    )
    if result["recorded"] or result["sent"] or result["failed"]:
        context.log.info(message)  # the tick's log in the UI
        # its own run has no checks, so the next tick records nothing and asks for no further refresh
        return dg.SensorResult(run_requests=[dg.RunRequest(job_name=alert_history_job.name)])
    return dg.SkipReason(message)


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
    description="运行失败告警：运行失败（含阻断检查、无法使用的文件）时立即告警，附读取器给出的原因。",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext, yukuai: YukuaiResource, alerting: AlertingResource):
    outbox = alerting.outbox(yukuai.warehouse())
    alert_on_run_failure(outbox, context.instance, context.dagster_run, alerting.ui_base_url)
    outbox.deliver_due()
