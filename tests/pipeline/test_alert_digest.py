"""Alerts people will not mute: by default one digest per day run and channel — what newly failed, what still
fails and since which day, what recovered — with the single check alerts kept as history; checks named in
YUKUAI_ALERT_IMMEDIATE_CHECKS still go out at once; the sensor looks at a bounded chunk of runs per tick."""

import dagster as dg
import pytest

from support.local_robot import Robot
from yukuai_pipeline.alerts.delivery import DIGESTED
from yukuai_pipeline.defs import alerting as alerting_module
from yukuai_pipeline.defs.alerting import AlertingResource, alert_tick
from yukuai_pipeline.defs.resources import YukuaiResource

DAYS = dg.DailyPartitionsDefinition(start_date="2023-02-17", end_date="2023-02-21", timezone="Asia/Shanghai")
FAILING: dict[str, bool] = {}


@dg.asset(
    partitions_def=DAYS,
    check_specs=[
        dg.AssetCheckSpec("places_matched", asset="digest_probe"),
        dg.AssetCheckSpec("completed_not_falling", asset="digest_probe"),
    ],
)
def digest_probe(context: dg.AssetExecutionContext):
    day = context.partition_key
    return dg.MaterializeResult(
        check_results=[
            dg.AssetCheckResult(
                check_name=name,
                passed=not FAILING.get(f"{name}/{day}", False),
                severity=dg.AssetCheckSeverity.WARN,
                description=f"{day}：{name} 的说明",
                metadata={"evaluated": True},
            )
            for name in ("places_matched", "completed_not_falling")
        ]
    )


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.server.shutdown()


def _setup(tmp_path, robot, **settings):
    yukuai = YukuaiResource(
        landing_dir=str(tmp_path / "landing"), database_url=f"sqlite:///{tmp_path}/w.db", report_dir=str(tmp_path)
    )
    return yukuai, AlertingResource(webhook_url=robot.url, ui_base_url="http://ui.example", **settings)


def _run(instance, day: str, failing: set[str]):
    FAILING.clear()
    FAILING.update({f"{name}/{day}": True for name in failing})
    assert dg.materialize([digest_probe], instance=instance, partition_key=day).success


def test_one_digest_per_day_run_new_still_failing_since_and_recovered(tmp_path, robot):
    instance = dg.DagsterInstance.ephemeral()
    yukuai, alerting = _setup(tmp_path, robot)
    _run(instance, "2023-02-17", {"places_matched"})
    alert_tick(instance, yukuai, alerting)
    (first,) = robot.texts()
    assert "数据检查日报（2023-02-17）" in first and "**新出现的问题（1）**" in first
    assert "乡镇村名称匹配：places_matched 的说明" in first and "仍未解决" not in first
    assert "http://ui.example/runs/" in first

    _run(instance, "2023-02-18", {"places_matched", "completed_not_falling"})
    alert_tick(instance, yukuai, alerting)
    second = robot.texts()[1]
    assert "**新出现的问题（1）**" in second and "完成数不下降" in second
    assert "- 乡镇村名称匹配（自 2023-02-17 起）" in second

    _run(instance, "2023-02-19", {"completed_not_falling"})
    alert_tick(instance, yukuai, alerting)
    third = robot.texts()[2]
    assert "**已恢复（1）**：乡镇村名称匹配" in third and "- 完成数不下降（自 2023-02-18 起）" in third
    assert len(robot.posts) == 3  # three day runs, three messages: never one per check

    alerts = yukuai.warehouse().read("alerts")
    single = alerts[alerts["kind"] != "digest"]
    assert len(single) == 4 and not single["delivered"].any() and (single["error"] == DIGESTED).all()
    assert alerts[alerts["kind"] == "digest"]["delivered"].all()
    alert_tick(instance, yukuai, alerting)  # nothing new: nothing sent again
    assert len(robot.posts) == 3


def test_immediate_checks_and_immediate_mode_send_at_once(tmp_path, robot):
    instance = dg.DagsterInstance.ephemeral()
    yukuai, alerting = _setup(tmp_path, robot, immediate_checks="completed_not_falling")
    _run(instance, "2023-02-17", {"places_matched", "completed_not_falling"})
    alert_tick(instance, yukuai, alerting)
    texts = robot.texts()
    assert len(texts) == 2 and sum("数据检查日报" in t for t in texts) == 1
    assert any("数据检查未通过" in t and "完成数不下降（completed_not_falling" in t for t in texts)

    other = Robot()
    try:
        yukuai2, immediate = _setup(tmp_path / "b", other, alert_mode="immediate")
        (tmp_path / "b").mkdir()
        alert_tick(instance, yukuai2, immediate)
        assert len(other.texts()) == 2 and not any("数据检查日报" in t for t in other.texts())
    finally:
        other.server.shutdown()


def test_the_sensor_takes_a_bounded_chunk_of_runs_per_tick(tmp_path, robot, monkeypatch):
    monkeypatch.setattr(alerting_module, "RUNS_PER_TICK", 2)
    instance = dg.DagsterInstance.ephemeral()
    yukuai, alerting = _setup(tmp_path, robot)
    for day in ("2023-02-17", "2023-02-18", "2023-02-19"):
        _run(instance, day, {"places_matched"})
    first = alert_tick(instance, yukuai, alerting)
    assert (first["runs"], first["runs_left"]) == (2, 1)
    second = alert_tick(instance, yukuai, alerting)
    assert (second["runs"], second["runs_left"]) == (1, 0)
    # the alerts of one second go out in no particular order
    assert sorted(t.split("（", 1)[1][:10] for t in robot.texts()) == ["2023-02-17", "2023-02-18", "2023-02-19"]


def test_the_alert_history_shows_what_was_sent_where_with_recipients_masked(tmp_path, robot):
    from yukuai_pipeline.defs.alerting import alert_history

    instance = dg.DagsterInstance.ephemeral()
    yukuai, alerting = _setup(tmp_path, robot)
    alerting = AlertingResource(
        webhook_url=robot.url + "&key=SECRET123",
        smtp_host="127.0.0.1",
        smtp_port=9,  # nothing listens: the mail fails and is retried later
        email_to="officer@example.org",
        ui_base_url="http://ui.example",
    )
    _run(instance, "2023-02-17", {"places_matched"})
    alert_tick(instance, yukuai, alerting)
    result = dg.materialize([alert_history], instance=instance, resources={"yukuai": yukuai, "alerting": alerting})
    metadata = result.asset_materializations_for_node("alert_history")[0].metadata
    recipients = metadata["收件方 / recipients"].value
    assert "SECRET123" not in recipients and "key=***" in recipients and "邮件 o***@example.org" in recipients
    table = metadata["最近的告警 / latest alerts"].value
    assert "检查日报" in table and "群机器人" in table and "已送达" in table and "并入日报" in table
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "alerts_delivered"
