"""Alert delivery: a WeCom/DingTalk-style robot webhook and SMTP e-mail, with the `alerts` table as the outbox.

Every alert is recorded once per channel before it is sent; a channel that is down leaves the row undelivered
with its error, and a later tick retries it with exponential back-off up to MAX_ATTEMPTS. Nothing here raises
into the pipeline run.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

import pandas as pd
import sqlalchemy as sa

from yukuai_pipeline.domain.alerts import Alert
from yukuai_pipeline.domain.contracts import conform_output, load_contract
from yukuai_pipeline.warehouse import Replacement, Warehouse

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=1)
NO_CHANNEL = "none"


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    secret: str | None = None
    timeout: float = 10.0
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
        body = {"msgtype": "markdown", "markdown": {"title": alert.title, "text": alert.message,
                                                    "content": alert.message}}
        request = urllib.request.Request(self._signed_url(), data=json.dumps(body, ensure_ascii=False).encode(),
                                         headers={"Content-Type": "application/json; charset=utf-8"})
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
    timeout: float = 15.0
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


class Outbox:
    def __init__(self, warehouse: Warehouse, channels: list, now=None):
        self.warehouse = warehouse
        self.channels = channels
        self.now = now or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0))

    def last_kind(self, alert_key: str) -> str | None:
        """failure / recovery / … of the newest alert with this key (one channel row is enough)."""
        table = self.warehouse.table("alerts")
        query = (sa.select(table.c.kind).where(table.c.alert_key == alert_key)
                 .order_by(table.c.created_at.desc(), table.c.alert_id.desc()).limit(1))
        return self.warehouse.scalar(query)

    def record(self, alert: Alert) -> None:
        created = self.now()
        rows = []
        for channel in self.channels or [None]:
            rows.append({"alert_id": uuid.uuid4().hex, "created_at": created, "kind": alert.kind,
                         "channel": channel.name if channel else NO_CHANNEL, "alert_key": alert.alert_key,
                         "check": alert.check, "asset": alert.asset, "partition_date": alert.partition_date,
                         "severity": alert.severity, "summary": alert.summary, "message": alert.message,
                         "run_id": alert.run_id, "delivered": False, "attempts": 0,
                         "next_attempt_at": created if channel else None, "delivered_at": None,
                         "error": None if channel else "未配置告警渠道（YUKUAI_ALERT_WEBHOOK_URL / YUKUAI_SMTP_HOST）"})
        frame = conform_output(pd.DataFrame(rows), load_contract("alerts"))
        self.warehouse.replace([Replacement("alerts", frame, upsert=True)])

    def deliver_due(self) -> dict[str, int]:
        """Send every undelivered row whose retry time has come; returns counts of sent and failed."""
        table = self.warehouse.table("alerts")
        now = self.now()
        query = sa.select(table).where(~table.c.delivered, table.c.next_attempt_at <= now,
                                       table.c.attempts < MAX_ATTEMPTS).order_by(table.c.created_at)
        with self.warehouse.engine.connect() as conn:
            due = [dict(r._mapping) for r in conn.execute(query)]
        by_name = {c.name: c for c in self.channels}
        sent = failed = 0
        for row in due:
            channel = by_name.get(row["channel"])
            if channel is None:
                continue
            alert = Alert(row["kind"], row["alert_key"], row["severity"], _title(row), row["summary"], row["message"])
            update = {"attempts": row["attempts"] + 1}
            try:
                channel.send(alert)
                update.update(delivered=True, delivered_at=self.now(), error=None, next_attempt_at=None)
                sent += 1
            except Exception as err:  # any failure of a channel is recorded, never raised into a run
                backoff = FIRST_RETRY * (2 ** row["attempts"])
                update.update(error=f"{type(err).__name__}: {err}"[:500], next_attempt_at=now + backoff)
                failed += 1
            with self.warehouse.engine.begin() as conn:
                conn.execute(table.update().where(table.c.alert_id == row["alert_id"],
                                                  table.c.channel == row["channel"]).values(**update))
        return {"sent": sent, "failed": failed}


def _title(row: dict) -> str:
    first = (row["message"] or "").splitlines()[0].lstrip("# ").strip()
    return first or row["summary"]
