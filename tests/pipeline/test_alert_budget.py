"""Alert delivery to a budget: short timeouts, back-off per channel, a cap of sends and seconds per tick.

A webhook that never answers is a local socket that accepts connections and never reads or writes.
"""

import datetime as dt
import json
import socket
import threading
import time

import dagster as dg
import pytest
import sqlalchemy as sa

from support.local_robot import Robot
from test_alerts import mailbox  # noqa: F401  (the aiosmtpd fixture)
from yukuai_pipeline.alerts.delivery import CHANNEL_STATE, Outbox, WebhookChannel
from yukuai_pipeline.alerts.texts import Alert
from yukuai_pipeline.defs.alerting import AlertingResource, alert_sensor, alert_tick
from yukuai_pipeline.defs.resources import YukuaiResource
from yukuai_pipeline.warehouse import Warehouse

T0 = dt.datetime(2023, 3, 1, 2, 0)  # naive UTC, as stored in `alerts`
TICK = T0 + dt.timedelta(minutes=1)
MINUTE = dt.timedelta(minutes=1)


class Clock:
    """A settable clock: the wall clock of Outbox(now=...) or, in seconds, the budget's clock."""

    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value


class Hanging:
    """Accepts connections and never reads or writes: a robot that never answers."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.05)
        self.connections, self.stopping = [], threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/robot/send?access_token=t"

    def _accept(self):
        while not self.stopping.is_set():
            try:
                self.connections.append(self.listener.accept()[0])
            except (TimeoutError, OSError):
                continue

    def accepted(self, expected: int) -> int:
        """The number of connections, once `expected` have arrived (or after 3 s)."""
        deadline = time.monotonic() + 3
        while len(self.connections) < expected and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # one too many would show up here
        return len(self.connections)

    def close(self):
        self.stopping.set()
        self.thread.join()
        for conn in self.connections:
            conn.close()
        self.listener.close()


class Recorder:
    """A channel that works; `cost` seconds of the fake budget clock per send, `hook` runs before each send."""

    def __init__(self, budget_clock=None, cost=0.0, timeout=5.0, name="webhook", hook=None):
        self.sent, self.budget_clock, self.cost, self.timeout, self.name, self.hook = (
            [],
            budget_clock,
            cost,
            timeout,
            name,
            hook,
        )

    def send(self, alert):
        if self.hook:
            self.hook(len(self.sent))
        if self.budget_clock:
            self.budget_clock.value += self.cost
        self.sent.append(alert.alert_key)


@pytest.fixture
def hanging():
    server = Hanging()
    yield server
    server.close()


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.server.shutdown()


@pytest.fixture
def warehouse(database_url):
    w = Warehouse(database_url)
    yield w
    w.dispose()


def _record(warehouse, channels, count=23) -> None:
    """`count` alerts, one a second from T0: alert 00 is the oldest."""
    clock = Clock(T0)
    outbox = Outbox(warehouse, channels, now=clock)
    for i in range(count):
        clock.value = T0 + dt.timedelta(seconds=i)
        outbox.record(
            Alert(
                "failure",
                f"probe/check_{i:02d}/-",
                "WARN",
                f"告警 {i:02d}",
                f"告警 {i:02d}",
                f"### 告警 {i:02d}\n检查未通过",
            )
        )


def _rows(warehouse, channel="webhook"):
    rows = warehouse.read("alerts", {"channel": channel}, order_by=["created_at"])
    return rows.set_index("alert_key")


def _channel_state(warehouse, channel="webhook"):
    table = warehouse.table("alert_state")
    value = warehouse.scalar(sa.select(table.c.value).where(table.c.name == CHANNEL_STATE + channel))
    return json.loads(value) if value else None


def test_a_robot_that_never_answers_costs_one_short_timeout_per_tick(warehouse, hanging, robot):
    _record(warehouse, [WebhookChannel(hanging.url)])
    clock = Clock(TICK)
    outbox = Outbox(warehouse, [WebhookChannel(hanging.url, timeout=0.5)], now=clock)
    started = time.monotonic()
    assert outbox.deliver_due() == {"sent": 0, "failed": 1, "deferred": 22}
    assert time.monotonic() - started < 5  # one 0.5 s timeout (it took 236 s for 23 alerts before)
    assert hanging.accepted(1) == 1

    rows = _rows(warehouse)
    first = rows.loc["probe/check_00/-"]  # the oldest is the one tried
    assert first["attempts"] == 1 and not first["delivered"] and "timed out" in first["error"]
    assert first["next_attempt_at"] == TICK + MINUTE
    others = rows.drop(index="probe/check_00/-")
    assert len(others) == 22 and (others["attempts"] == 0).all() and others["error"].isna().all()
    assert (others["next_attempt_at"] == others["created_at"]).all()  # due, not charged, waiting
    assert _channel_state(warehouse)["failures"] == 1
    assert _channel_state(warehouse)["retry_at"] == (TICK + MINUTE).isoformat()

    # the next minute's tick, 30 s later: the channel is backing off, nothing is attempted
    clock.value = TICK + dt.timedelta(seconds=30)
    started = time.monotonic()
    assert outbox.deliver_due() == {"sent": 0, "failed": 0, "deferred": 22}
    assert time.monotonic() - started < 2 and hanging.accepted(1) == 1

    # its retry time: one row (the oldest due, the same one) is tried, fails, the channel backs off 2 minutes
    clock.value = TICK + MINUTE
    assert outbox.deliver_due() == {"sent": 0, "failed": 1, "deferred": 22}
    assert hanging.accepted(2) == 2
    rows = _rows(warehouse)
    assert rows.loc["probe/check_00/-", "attempts"] == 2 and rows["attempts"].sum() == 2
    assert rows.loc["probe/check_00/-", "next_attempt_at"] == TICK + 3 * MINUTE
    assert _channel_state(warehouse)["failures"] == 2
    clock.value = TICK + 2 * MINUTE
    assert outbox.deliver_due() == {"sent": 0, "failed": 0, "deferred": 22}

    # the robot answers again: at the retry time the first send works, the channel is cleared, 20 go out
    clock.value = TICK + 3 * MINUTE
    working = Outbox(warehouse, [WebhookChannel(robot.url, timeout=0.5)], now=clock)
    assert working.deliver_due() == {"sent": 20, "failed": 0, "deferred": 3}
    assert _channel_state(warehouse) is None
    assert working.deliver_due() == {"sent": 3, "failed": 0, "deferred": 0}
    assert robot.texts() == [f"### 告警 {i:02d}\n检查未通过" for i in range(23)]  # oldest first
    rows = _rows(warehouse)
    assert rows["delivered"].all() and rows.loc["probe/check_00/-", "attempts"] == 3
    assert (rows.drop(index="probe/check_00/-")["attempts"] == 1).all()
    assert hanging.accepted(2) == 2


def test_the_cap_sends_ten_per_tick_oldest_first(warehouse, robot):
    _record(warehouse, [WebhookChannel(robot.url)])
    clock = Clock(TICK)
    outbox = Outbox(warehouse, [WebhookChannel(robot.url, timeout=0.5)], now=clock, max_per_tick=10)
    assert outbox.deliver_due() == {"sent": 10, "failed": 0, "deferred": 13}
    assert robot.texts() == [f"### 告警 {i:02d}\n检查未通过" for i in range(10)]
    rows = _rows(warehouse)
    assert rows["delivered"].sum() == 10 and (rows[~rows["delivered"]]["attempts"] == 0).all()
    clock.value = TICK + MINUTE
    assert outbox.deliver_due() == {"sent": 10, "failed": 0, "deferred": 3}
    clock.value = TICK + 2 * MINUTE
    assert outbox.deliver_due() == {"sent": 3, "failed": 0, "deferred": 0}
    assert outbox.deliver_due() == {"sent": 0, "failed": 0, "deferred": 0}
    assert robot.texts() == [f"### 告警 {i:02d}\n检查未通过" for i in range(23)]
    rows = _rows(warehouse)
    assert rows["delivered"].all() and (rows["attempts"] == 1).all()
    assert rows.loc["probe/check_22/-", "delivered_at"] == TICK + 2 * MINUTE


def test_a_hanging_robot_does_not_hold_up_the_mail(warehouse, hanging, mailbox):  # noqa: F811
    alerting = AlertingResource(
        webhook_url=hanging.url,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_starttls=False,
        email_from="yukuai@example.org",
        email_to="officer@example.org",
        alert_timeout_seconds=0.5,
    )
    _record(warehouse, alerting.channels())
    outbox = alerting.outbox(warehouse, now=Clock(TICK))
    started = time.monotonic()
    # 46 rows due; the cap of 20: the robot's oldest row (fails after 0.5 s) and 19 mails
    assert outbox.deliver_due() == {"sent": 19, "failed": 1, "deferred": 26}
    assert time.monotonic() - started < 10
    assert len(mailbox.messages) == 19 and hanging.accepted(1) == 1
    mails, webhook = _rows(warehouse, "email"), _rows(warehouse, "webhook")
    assert mails["delivered"].sum() == 19 and not mails.loc["probe/check_19/-", "delivered"]
    assert webhook["attempts"].sum() == 1 and webhook.loc["probe/check_00/-", "attempts"] == 1
    assert _channel_state(warehouse, "email") is None and _channel_state(warehouse, "webhook")["failures"] == 1

    # a minute later the robot's back-off is over: one row is tried (and fails again); the last 4 mails go out
    outbox = alerting.outbox(warehouse, now=Clock(TICK + MINUTE))
    assert outbox.deliver_due() == {"sent": 4, "failed": 1, "deferred": 22}
    assert len(mailbox.messages) == 23 and hanging.accepted(2) == 2


def test_the_budget_in_seconds_stops_the_tick(warehouse):
    seconds = Clock(1000.0)
    channel = Recorder(budget_clock=seconds, cost=4.0, timeout=5.0)
    _record(warehouse, [channel])
    outbox = Outbox(warehouse, [channel], now=Clock(TICK), budget_seconds=30, clock=seconds)
    # sends start at 0, 4, … 24 s; at 28 s a 5 s timeout would end past 30 s: the rest wait
    assert outbox.deliver_due() == {"sent": 7, "failed": 0, "deferred": 16}
    assert channel.sent == [f"probe/check_{i:02d}/-" for i in range(7)]
    assert outbox.deliver_due() == {"sent": 7, "failed": 0, "deferred": 9}

    # a timeout longer than the whole budget: one send per tick still goes out
    short = Outbox(
        warehouse, [Recorder(seconds, cost=4.0, timeout=60.0)], now=Clock(TICK), budget_seconds=30, clock=seconds
    )
    assert short.deliver_due() == {"sent": 1, "failed": 0, "deferred": 8}


def test_an_unreadable_channel_state_is_ignored_and_nothing_raises(warehouse):
    channel = Recorder()
    _record(warehouse, [channel], count=5)
    table = warehouse.table("alert_state")
    with warehouse.engine.begin() as conn:
        conn.execute(
            table.insert().values(county_code=warehouse.county_code, name=CHANNEL_STATE + "webhook", value="{not json")
        )
    broken = sa.create_engine("sqlite:////nonexistent-folder/w.db")
    outbox = Outbox(warehouse, [channel], now=Clock(TICK))

    def break_the_warehouse(sends_so_far):
        if sends_so_far == 2:
            warehouse.engine = broken  # the warehouse goes away in the middle of the tick

    channel.hook = break_the_warehouse
    saved = warehouse.engine
    try:
        result = outbox.deliver_due()
    finally:
        warehouse.engine = saved
    assert result == {"sent": 3, "failed": 0, "deferred": 2}  # the third was sent, its row could not be updated
    assert _rows(warehouse)["delivered"].sum() == 2  # so it is sent again by the next tick


def test_the_budget_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("YUKUAI_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/robot")
    monkeypatch.setenv("YUKUAI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("YUKUAI_ALERT_EMAIL_TO", "officer@example.org")
    monkeypatch.setenv("YUKUAI_ALERT_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("YUKUAI_ALERT_MAX_PER_TICK", "7")
    monkeypatch.setenv("YUKUAI_ALERT_TICK_BUDGET_SECONDS", "12")
    alerting = AlertingResource.from_env()
    assert [c.timeout for c in alerting.channels()] == [0.5, 0.5]
    outbox = alerting.outbox(Warehouse("sqlite:///:memory:"))
    assert (outbox.max_per_tick, outbox.budget_seconds) == (7, 12.0)

    for name, value in (
        ("YUKUAI_ALERT_TIMEOUT_SECONDS", "soon"),
        ("YUKUAI_ALERT_MAX_PER_TICK", "0"),
        ("YUKUAI_ALERT_TICK_BUDGET_SECONDS", "-3"),
    ):
        monkeypatch.setenv(name, value)
    alerting = AlertingResource.from_env()  # a typo does not stop the definitions from loading: the defaults
    assert (alerting.alert_timeout_seconds, alerting.alert_max_per_tick, alerting.alert_tick_budget_seconds) == (
        5.0,
        20,
        30.0,
    )
    for name in ("YUKUAI_ALERT_TIMEOUT_SECONDS", "YUKUAI_ALERT_MAX_PER_TICK", "YUKUAI_ALERT_TICK_BUDGET_SECONDS"):
        monkeypatch.delenv(name)
    assert AlertingResource.from_env().channels()[0].timeout == 5.0


def test_the_tick_and_the_sensor_report_what_was_deferred(tmp_path, robot):
    yukuai = YukuaiResource(
        landing_dir=str(tmp_path / "landing"), database_url=f"sqlite:///{tmp_path}/w.db", report_dir=str(tmp_path)
    )
    alerting = AlertingResource(webhook_url=robot.url, alert_max_per_tick=10, alert_timeout_seconds=0.5)
    _record(yukuai.warehouse(), alerting.channels())
    instance = dg.DagsterInstance.ephemeral()
    now = dt.datetime.now(dt.UTC)
    assert alert_tick(instance, yukuai, alerting, now=now) == {
        "runs": 0,
        "runs_left": 0,
        "recorded": 0,
        "sent": 10,
        "failed": 0,
        "deferred": 13,
    }
    context = dg.build_sensor_context(instance=instance, resources={"yukuai": yukuai, "alerting": alerting})
    result = alert_sensor.evaluate_tick(context)
    assert [r.job_name for r in result.run_requests] == ["alert_history_refresh"]  # it sent the next 10
    assert len(robot.posts) == 20
    assert alert_sensor.evaluate_tick(context).run_requests  # the last 3
    assert len(robot.posts) == 23
    idle = alert_sensor.evaluate_tick(context)  # nothing left: no refresh, the counts in the tick's message
    assert not idle.run_requests and idle.skip_message.endswith("recorded=0 sent=0 failed=0 deferred=0")
