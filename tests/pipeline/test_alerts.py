import datetime as dt
import socket
import time
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from support.local_robot import Robot
from support.messy import ROWS, write_csv
from yukuai_pipeline.alerts.delivery import Outbox
from yukuai_pipeline.defs.alerting import AlertingResource, alert_on_missing_export, alert_tick
from yukuai_pipeline.defs.resources import YukuaiResource

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.server.shutdown()


@pytest.fixture
def mailbox():
    box = Mailbox()
    with socket.socket() as probe_socket:  # aiosmtpd cannot start on port 0: take a free port first
        probe_socket.bind(("127.0.0.1", 0))
        box.port = probe_socket.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


FLAG = {"ok": False}


@dg.asset(check_specs=[dg.AssetCheckSpec("villages_known", asset="probe")])
def probe():
    villages = "甲村、乙村、丙村、丁村、戊村、己村、庚村"
    return dg.MaterializeResult(
        check_results=[
            dg.AssetCheckResult(
                check_name="villages_known",
                passed=FLAG["ok"],
                severity=dg.AssetCheckSeverity.WARN,
                description="7 个村（社区）名称无法匹配，联系人 13812345678",
                metadata={"evaluated": True, "村（社区） / villages": villages, "village_count": 7},
            )
        ]
    )


def _resources(tmp_path, robot=None, mailbox=None):
    yukuai = YukuaiResource(
        landing_dir=str(tmp_path / "landing"), database_url=f"sqlite:///{tmp_path}/w.db", report_dir=str(tmp_path)
    )
    alerting = AlertingResource(
        webhook_url=robot.url if robot else None,
        smtp_host="127.0.0.1" if mailbox else None,
        smtp_port=mailbox.port if mailbox else 25,
        smtp_starttls=False,
        email_from="yukuai@example.org",
        email_to="officer@example.org",
        ui_base_url="http://127.0.0.1:3000",
        alert_mode="immediate",  # one message per failure: what these tests are about (digest: test_alert_digest.py)
    )
    return yukuai, alerting


def _run(instance, ok: bool):
    FLAG["ok"] = ok
    assert dg.materialize([probe], instance=instance).success
    time.sleep(0.01)


def test_a_failure_alerts_once_per_channel_and_recovery_once(tmp_path, robot, mailbox):
    instance = dg.DagsterInstance.ephemeral()
    yukuai, alerting = _resources(tmp_path, robot, mailbox)
    _run(instance, ok=False)
    assert alert_tick(instance, yukuai, alerting)["sent"] == 2
    assert len(robot.posts) == 1 and len(mailbox.messages) == 1
    text = robot.texts()[0]
    assert "数据检查未通过" in text and "villages_known" in text
    assert "甲村、乙村、丙村、丁村、戊村 等 7 个" in text and "己村" not in text
    assert "13812345678" not in text and "138****5678" in text
    assert "http://127.0.0.1:3000/assets/probe?view=checks" in text
    assert "villages_known" in mailbox.messages[0]

    _run(instance, ok=False)  # the same failure evaluated again: nothing new
    alert_tick(instance, yukuai, alerting)
    assert len(robot.posts) == 1 and len(mailbox.messages) == 1

    _run(instance, ok=True)
    alert_tick(instance, yukuai, alerting)
    assert len(robot.posts) == 2 and "已恢复" in robot.texts()[1] and len(mailbox.messages) == 2
    alerts = yukuai.warehouse().read("alerts")
    assert sorted(alerts["kind"]) == ["failure", "failure", "recovery", "recovery"] and alerts["delivered"].all()


def test_a_channel_that_is_down_is_retried_with_back_off(tmp_path, robot):
    instance = dg.DagsterInstance.ephemeral()
    yukuai, alerting = _resources(tmp_path, robot)
    robot.status = 500
    _run(instance, ok=False)
    now = dt.datetime.now(dt.UTC)
    assert alert_tick(instance, yukuai, alerting, now=now)["failed"] == 1
    row = yukuai.warehouse().read("alerts").iloc[0]
    assert not row["delivered"] and "500" in row["error"] and row["attempts"] == 1
    robot.status = 200
    assert alert_tick(instance, yukuai, alerting, now=now + dt.timedelta(seconds=10))["sent"] == 0  # backing off
    assert alert_tick(instance, yukuai, alerting, now=now + dt.timedelta(minutes=2))["sent"] == 1
    row = yukuai.warehouse().read("alerts").iloc[0]
    assert row["delivered"] and row["attempts"] == 2 and len(robot.posts) == 2  # the 500 one and the good one


def test_connection_refused_is_recorded_not_raised(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    yukuai, alerting = _resources(tmp_path)
    alerting = AlertingResource(webhook_url="http://127.0.0.1:9/nothing-listens-here", alert_mode="immediate")
    _run(instance, ok=False)
    assert alert_tick(instance, yukuai, alerting)["failed"] == 1
    assert (
        "ConnectionRefused" in yukuai.warehouse().read("alerts")["error"].iloc[0]
        or "URLError" in yukuai.warehouse().read("alerts")["error"].iloc[0]
    )


def test_run_failure_alerts_with_the_readers_message(tmp_path, robot):
    from support.runner import PipelineRunner

    folder = tmp_path / "landing"
    folder.mkdir()
    (folder / "注册用户_20230217.csv").write_text(
        "序号,用户ID,乡镇（街道）,村（社区）\r\n1,U1,龙潭镇,某村\r\n", encoding="utf-8"
    )
    runner = PipelineRunner(folder, f"sqlite:///{tmp_path}/w.db", tmp_path)
    assert not runner.run("2023-02-17").success
    _yukuai, alerting = _resources(tmp_path, robot)
    alert_tick(runner.instance, runner.resource, alerting)
    failures = [t for t in robot.texts() if "运行失败" in t]
    assert len(failures) == 1 and "注册用户_20230217.csv" in failures[0] and "注册时间" in failures[0]
    alert_tick(runner.instance, runner.resource, alerting)
    assert len([t for t in robot.texts() if "运行失败" in t]) == 1
    alerts = runner.resource.warehouse().read("alerts")
    checks = alerts[alerts["kind"] == "failure"]
    assert len(checks) and (checks["partition_date"] == dt.date(2023, 2, 17)).all()  # keyed by the run's day
    assert checks["alert_key"].str.endswith("/2023-02-17").all()


def test_missing_export_alerts_once_after_the_deadline(tmp_path, robot):
    yukuai, alerting = _resources(tmp_path, robot)
    (tmp_path / "landing").mkdir()
    outbox = Outbox(yukuai.warehouse(), alerting.channels())
    morning = dt.datetime(2023, 3, 1, 9, 0, tzinfo=SHANGHAI)
    assert alert_on_missing_export(outbox, str(tmp_path / "landing"), "10:00", morning) == 0
    late = dt.datetime(2023, 3, 1, 10, 5, tzinfo=SHANGHAI)
    assert alert_on_missing_export(outbox, str(tmp_path / "landing"), "10:00", late) == 1
    assert alert_on_missing_export(outbox, str(tmp_path / "landing"), "10:00", late) == 0
    write_csv(tmp_path / "landing" / "注册用户_20230302.csv", ROWS)
    next_day = dt.datetime(2023, 3, 2, 11, 0, tzinfo=SHANGHAI)
    assert alert_on_missing_export(outbox, str(tmp_path / "landing"), "10:00", next_day) == 0
    outbox.deliver_due()
    assert len(robot.posts) == 1 and "今日注册数据未上传" in robot.texts()[0]


def test_alert_sensors_load_in_definitions():
    from yukuai_pipeline.definitions import defs

    assert defs.resolve_sensor_def("alert_sensor") is not None
    assert defs.resolve_sensor_def("run_failure_alert_sensor") is not None


def test_the_alert_sensors_evaluate_through_dagster(tmp_path, robot):
    from yukuai_pipeline.defs.alerting import alert_sensor, run_failure_alert_sensor

    instance = dg.DagsterInstance.ephemeral()
    yukuai, alerting = _resources(tmp_path, robot)
    _run(instance, ok=False)
    context = dg.build_sensor_context(instance=instance, resources={"yukuai": yukuai, "alerting": alerting})
    result = alert_sensor.evaluate_tick(context)
    # it sent: the alert history is refreshed by a run of its own job
    assert [r.job_name for r in result.run_requests] == ["alert_history_refresh"] and len(robot.posts) == 1
    assert alert_sensor.evaluate_tick(context).skip_message.endswith("recorded=0 sent=0 failed=0 deferred=0")

    @dg.asset
    def broken():
        raise ValueError("文件《坏.csv》无法使用")

    failed = dg.materialize([broken], instance=instance, raise_on_error=False)
    run = instance.get_run_by_id(failed.run_id)
    failure_event = next(e for e in failed.all_events if e.event_type_value == "PIPELINE_FAILURE")
    status_context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure_event,
        resources={"yukuai": yukuai, "alerting": alerting},
    ).for_run_failure()
    run_failure_alert_sensor(status_context)
    assert len(robot.posts) == 2 and "运行失败" in robot.texts()[1] and "坏.csv" in robot.texts()[1]
