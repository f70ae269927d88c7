"""Alert delivery: a WeCom/DingTalk-style robot webhook and SMTP e-mail, with the `alerts` table as the outbox.

Every alert is recorded once per channel before it is sent; a channel that is down leaves the row undelivered
with its error, and a later tick retries it with exponential back-off up to MAX_ATTEMPTS. Delivery works to a
budget (short per-request timeouts, back-off per channel, a cap on sends and seconds per tick; see
Outbox.deliver_due), so a robot that never answers cannot hold a tick for minutes. Nothing here raises into the
pipeline run or the sensor.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

import pandas as pd

from yukuai_pipeline import settings
from yukuai_pipeline.alerts.texts import Alert
from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.warehouse import Replacement, Warehouse

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=1)
NO_CHANNEL = "none"
# defaults of the delivery budget, set in settings.py (YUKUAI_ALERT_TIMEOUT_SECONDS, YUKUAI_ALERT_MAX_PER_TICK,
# YUKUAI_ALERT_TICK_BUDGET_SECONDS)
DIGESTED = "已并入当天的汇总告警，不单独发送 / in the day's digest"
TIMEOUT_SECONDS = settings.ALERT_TIMEOUT_SECONDS
MAX_PER_TICK = settings.ALERT_MAX_PER_TICK
TICK_BUDGET_SECONDS = settings.ALERT_TICK_BUDGET_SECONDS
CHANNEL_BACKOFF_CAP = dt.timedelta(minutes=16)  # a channel that was down is tried again at least this often
CHANNEL_STATE = "channel_backoff/"  # alert_state rows "channel_backoff/<channel>": the channel's back-off

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    secret: str | None = None
    timeout: float = TIMEOUT_SECONDS  # seconds, for the connection and for each read of the answer
    name: str = "webhook"

    def _signed_url(self) -> str:
        """DingTalk signing: timestamp and HMAC-SHA256 of "timestamp\\nsecret" (WeCom ignores the extra query)."""
        if not self.secret:
            return self.url
        stamp = str(round(time.time() * 1000))
        digest = hmac.new(self.secret.encode(), f"{stamp}\n{self.secret}".encode(), hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        return f"{self.url}{'&' if '?' in self.url else '?'}timestamp={stamp}&sign={sign}"

    def send(self, alert: Alert) -> None:
        # DingTalk reads markdown.title/text, WeCom reads markdown.content: one body serves both robots.
        body = {
            "msgtype": "markdown",
            "markdown": {"title": alert.title, "text": alert.message, "content": alert.message},
        }
        request = urllib.request.Request(
            self._signed_url(),
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            answer = response.read().decode("utf-8", "replace")
        try:
            code = json.loads(answer).get("errcode", 0)
        except (ValueError, AttributeError):
            code = 0
        if code:
            raise RuntimeError(f"机器人返回错误 errcode={code}: {answer[:200]}")


@dataclass(frozen=True)
class EmailChannel:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = TIMEOUT_SECONDS  # seconds, for the connection and for each exchange with the server
    name: str = "email"

    def send(self, alert: Alert) -> None:
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = alert.title, self.sender, ", ".join(self.recipients)
        mail.set_content(alert.message.replace("### ", "").replace("**", ""))
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(mail)


@dataclass
class _ChannelBackoff:
    """A channel's own back-off, kept in `alert_state` between ticks: consecutive failed ticks and the retry time."""

    failures: int = 0
    retry_at: dt.datetime | None = None
    error: str | None = None

    def backing_off(self, now: dt.datetime) -> bool:
        return self.retry_at is not None and now < self.retry_at


class Outbox:
    def __init__(
        self,
        warehouse: Warehouse,
        channels: list,
        now=None,
        max_per_tick: int = MAX_PER_TICK,
        budget_seconds: float = TICK_BUDGET_SECONDS,
        clock=time.monotonic,
    ):
        """`now` is the wall clock stored in `alerts` (naive UTC); `clock` measures the tick's budget (seconds)."""
        self.warehouse = warehouse
        self.channels = channels
        self.now = now or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))
        self.max_per_tick = max_per_tick
        self.budget_seconds = budget_seconds
        self.clock = clock

    def last_kind(self, alert_key: str) -> str | None:
        """failure / recovery / … of the newest alert with this key (one channel row is enough)."""
        return self.warehouse.last_alert_kind(alert_key)

    def record(self, alert: Alert, send: bool = True) -> None:
        """One row per channel. send=False: kept as history only, never sent (digest mode: the day's digest says
        it)."""
        created = self.now()
        rows = []
        for channel in self.channels or [None]:
            rows.append(
                {
                    "alert_id": uuid.uuid4().hex,
                    "created_at": created,
                    "kind": alert.kind,
                    "channel": channel.name if channel else NO_CHANNEL,
                    "alert_key": alert.alert_key,
                    "check": alert.check,
                    "asset": alert.asset,
                    "partition_date": alert.partition_date,
                    "severity": alert.severity,
                    "summary": alert.summary,
                    "message": alert.message,
                    "run_id": alert.run_id,
                    "delivered": False,
                    "attempts": 0,
                    "next_attempt_at": created if channel and send else None,
                    "delivered_at": None,
                    "error": (None if send else DIGESTED)
                    if channel
                    else "未配置告警渠道（YUKUAI_ALERT_WEBHOOK_URL / YUKUAI_SMTP_HOST）",
                }
            )
        frame = conform_output(pd.DataFrame(rows), load_contract("alerts"))
        self.warehouse.replace([Replacement("alerts", frame, upsert=True)])

    def deliver_due(self) -> dict[str, int]:
        """Send the undelivered rows whose retry time has come, oldest first, within the tick's budget.

        Returns counts: `sent`, `failed` (attempts that failed) and `deferred` (due rows not attempted in this
        tick; they keep their attempts count and wait for a later tick).

        - Each request has a short timeout (the channel's `timeout`, YUKUAI_ALERT_TIMEOUT_SECONDS).
        - Back-off per channel, within the tick: once a send to a channel fails (timeout, refused, an error
          answer), no further row of that channel is attempted in this tick. Only the row that was tried is
          charged an attempt and gets its own exponential back-off (1, 2, 4 … minutes, MAX_ATTEMPTS tries).
        - Back-off per channel, between ticks: the failure is also kept in `alert_state`
          ("channel_backoff/<channel>"), and the channel is left alone until its retry time (1, 2, 4, 8, then
          every 16 minutes while it stays down). An operator expects a robot that is down to cost the sensor
          one short timeout now and then, not one every minute, and expects the queued alerts not to use up
          their tries during the outage. When the retry time comes, the oldest due row is sent first: if that
          works, the channel is cleared and the rest follow in the same tick; if not, the channel backs off
          again after that one attempt. A channel that works again is thus noticed within 16 minutes.
        - A cap per tick: at most `max_per_tick` sends (YUKUAI_ALERT_MAX_PER_TICK) and `budget_seconds` of
          sending (YUKUAI_ALERT_TICK_BUDGET_SECONDS). A send is started only when its timeout still fits in
          what is left of the budget (the first send of a tick always is), so a tick's sending ends within the
          budget, or within one timeout when the timeout exceeds the budget. The rest are sent by later ticks,
          oldest first.

        Rows of a channel that is no longer configured are left as they are and not counted. Nothing raises:
        a failure of a channel is recorded in its row; an unexpected error (e.g. the warehouse going away
        mid-tick) is logged and the rows not yet attempted are reported as deferred.
        """
        sent = failed = attempted = 0
        due: list[dict] = []
        try:
            now = self.now()
            due = self.warehouse.due_alerts(now, MAX_ATTEMPTS)
            by_name = {c.name: c for c in self.channels}
            due = [row for row in due if row["channel"] in by_name]
            backoff = {name: self._channel_backoff(name) for name in by_name}
            down = {name for name, state in backoff.items() if state.backing_off(now)}
            started = self.clock()
            for row in due:
                channel = by_name[row["channel"]]
                if channel.name in down or attempted >= self.max_per_tick:
                    continue
                if attempted and self.clock() - started + getattr(channel, "timeout", 0) > self.budget_seconds:
                    continue  # it might not finish within the budget: a later tick sends it
                attempted += 1
                ok, error = self._send(channel, row)
                update = {"attempts": row["attempts"] + 1}
                if ok:
                    update.update(delivered=True, delivered_at=self.now(), error=None, next_attempt_at=None)
                    sent += 1
                    if backoff[channel.name].failures:
                        backoff[channel.name] = _ChannelBackoff()
                        self._save_channel_backoff(channel.name, None)
                else:
                    # back-off counted from the tick's start, so "1 minute" is the next minutely tick
                    update.update(error=error, next_attempt_at=now + FIRST_RETRY * (2 ** row["attempts"]))
                    failed += 1
                    down.add(channel.name)
                    failures = backoff[channel.name].failures + 1
                    wait = min(FIRST_RETRY * (2 ** (failures - 1)), CHANNEL_BACKOFF_CAP)
                    backoff[channel.name] = _ChannelBackoff(failures, now + wait, error)
                    self._save_channel_backoff(channel.name, backoff[channel.name])
                self.warehouse.update_alert(row["alert_id"], row["channel"], **update)
        except Exception:  # the warehouse, not a channel: never raised into the sensor; the rows wait
            log.exception(
                "告警发送中断（其余告警留待下次）/ alert delivery interrupted, the rest wait for the next tick"
            )
        return {"sent": sent, "failed": failed, "deferred": len(due) - attempted}

    @staticmethod
    def _send(channel, row: dict) -> tuple[bool, str | None]:
        alert = Alert(row["kind"], row["alert_key"], row["severity"], _title(row), row["summary"], row["message"])
        try:
            channel.send(alert)
            return True, None
        except Exception as err:  # noqa: BLE001 - any failure of a channel is recorded, never raised into a run
            return False, f"{type(err).__name__}: {err}"[:500]

    def _channel_backoff(self, name: str) -> _ChannelBackoff:
        """The channel's stored back-off; none (or an unreadable one) means the channel is tried."""
        try:
            value = self.warehouse.alert_state(CHANNEL_STATE + name)
            if not value:
                return _ChannelBackoff()
            data = json.loads(value)
            return _ChannelBackoff(
                int(data["failures"]), dt.datetime.fromisoformat(data["retry_at"]), data.get("error")
            )
        except Exception:
            log.warning(
                "告警渠道 %s 的退避状态无法读取，照常发送 / unreadable back-off of channel %s",
                name,
                name,
                exc_info=True,
            )
            return _ChannelBackoff()

    def _save_channel_backoff(self, name: str, state: _ChannelBackoff | None) -> None:
        if state is None:
            self.warehouse.delete_alert_state(CHANNEL_STATE + name)
            return
        assert state.retry_at is not None, "a back-off is saved with its retry time"  # the failure branch sets it
        value = json.dumps(
            {"failures": state.failures, "retry_at": state.retry_at.isoformat(), "error": state.error},
            ensure_ascii=False,
        )
        self.warehouse.save_alert_state(CHANNEL_STATE + name, value)


def _title(row: dict) -> str:
    first = (row["message"] or "").splitlines()[0].lstrip("# ").strip()
    return first or row["summary"]
