"""A run whose process died does not block its day: `yukuai materialize` fails its own dead runs (run_hygiene), and
the instance's run monitoring (local dagster.yaml and deploy/dagster.yaml) fails what the daemon can see."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.test_utils import create_run_for_test

from yukuai_pipeline import run_hygiene
from yukuai_pipeline.cli import main
from yukuai_pipeline.cli.instance import DAGSTER_YAML, prepare_dagster_home

DEPLOY_YAML = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"
CHILD = Path(__file__).resolve().parents[1] / "support" / "interrupted_run.py"


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    prepare_dagster_home()
    with dg.DagsterInstance.get() as instance:
        yield instance


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _started_run(instance, tags: dict, day: str = "2023-02-17") -> dg.DagsterRun:
    """A run as execute_in_process leaves it when its process is killed: created, then RUN_START."""
    run = create_run_for_test(
        instance, job_name="daily_refresh", status=dg.DagsterRunStatus.STARTING, tags={"dagster/partition": day, **tags}
    )
    instance.report_dagster_event(
        DagsterEvent(DagsterEventType.RUN_START.value, job_name="daily_refresh"), run_id=run.run_id
    )
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    return run


def test_a_started_run_whose_process_is_gone_is_failed_and_the_others_are_left_alone(instance):
    host = socket.gethostname()
    dead = _started_run(instance, {"yukuai/pid": str(_dead_pid()), "yukuai/host": host})
    alive = _started_run(instance, {"yukuai/pid": str(os.getpid()), "yukuai/host": host}, day="2023-02-18")
    elsewhere = _started_run(instance, {"yukuai/pid": str(_dead_pid()), "yukuai/host": host + "-other"})
    untagged = _started_run(instance, {})  # launched by the daemon or the UI: the run monitoring's business

    failed = run_hygiene.fail_dead_runs(instance)

    assert [run.run_id for run in failed] == [dead.run_id]
    status = {run.run_id: instance.get_run_by_id(run.run_id).status for run in (dead, alive, elsewhere, untagged)}
    assert status == {
        dead.run_id: dg.DagsterRunStatus.FAILURE,
        alive.run_id: dg.DagsterRunStatus.STARTED,
        elsewhere.run_id: dg.DagsterRunStatus.STARTED,
        untagged.run_id: dg.DagsterRunStatus.STARTED,
    }
    failure = instance.all_logs(dead.run_id, of_type=DagsterEventType.RUN_FAILURE)
    assert "运行它的进程已不存在" in failure[0].dagster_event.message
    assert run_hygiene.fail_dead_runs(instance) == []  # nothing left to do the second time
    assert "1 个中断的运行" in run_hygiene.describe(failed) and "2023-02-17" in run_hygiene.describe(failed)


def test_a_process_id_reused_by_a_younger_process_is_not_the_runs_process():
    assert run_hygiene.process_alive(os.getpid(), created_at=time.time())
    if Path("/proc/self/stat").exists():  # this process started long after a run created in 2001
        assert not run_hygiene.process_alive(os.getpid(), created_at=1e9)
    assert not run_hygiene.process_alive(_dead_pid())


def test_cli_runs_carry_their_process_and_host_and_the_code_location():
    assert run_hygiene.cli_run_tags() == {
        "yukuai/pid": str(os.getpid()),
        "yukuai/host": socket.gethostname(),
        ".dagster/repository": "__repository__@yukuai_pipeline",
    }
    workspace = (Path(__file__).resolve().parents[2] / "workspace.yaml").read_text()
    assert f"location_name: {run_hygiene.CODE_LOCATION}" in workspace


def test_materialize_after_a_killed_materialize_fails_the_dead_run_and_the_day_runs_again(
    tmp_path, landing, monkeypatch, capsys
):
    """A real `yukuai materialize` SIGKILLed in the middle of a write leaves its run STARTED; the next one fails it."""
    env = {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "YUKUAI_LANDING_DIR": str(landing),
        "YUKUAI_DATABASE_URL": f"sqlite:///{tmp_path}/warehouse.db",
        "YUKUAI_REPORT_DIR": str(tmp_path / "reports"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "freeze", "registration_counts", "--", "materialize", "--date", "2023-02-17"],
        env=dict(
            os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(CHILD.parent), os.environ.get("PYTHONPATH")]))
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout.readline().strip() == "MID-WRITE", child.stderr.read()
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    with dg.DagsterInstance.get() as instance:
        [killed] = instance.get_runs()
        assert killed.status == dg.DagsterRunStatus.STARTED and killed.tags["yukuai/pid"] == str(child.pid)

    assert main(["materialize", "--date", "2023-02-17"]) == 0
    out = capsys.readouterr().out
    assert "已把 1 个中断的运行标记为失败" in out and "2023-02-17" in out and killed.run_id[:8] in out
    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        assert [r.status for r in instance.get_runs() if r.run_id != killed.run_id] == [dg.DagsterRunStatus.SUCCESS]


# --- the instance's run monitoring ----------------------------------------------------------------------------


def test_run_monitoring_is_on_in_the_local_instance_and_added_to_an_older_one(instance, tmp_path):
    assert instance.run_monitoring_enabled
    assert instance.run_monitoring_max_runtime_seconds == 3600
    assert instance.run_monitoring_start_timeout_seconds == 180
    assert instance.run_monitoring_poll_interval_seconds == 60
    assert instance.run_monitoring_max_resume_run_attempts == 0  # the default run launcher cannot resume a run
    home = tmp_path / "dagster_home"
    older = DAGSTER_YAML[: DAGSTER_YAML.index("# run monitoring")]
    (home / "dagster.yaml").write_text(older, encoding="utf-8")
    with dg.DagsterInstance.from_config(str(home)) as before:
        assert not before.run_monitoring_enabled
    assert main(["instance"]) == 0
    with dg.DagsterInstance.from_config(str(home)) as after:
        assert after.run_monitoring_enabled and after.run_monitoring_max_runtime_seconds == 3600
        assert after.nux_enabled is False and after.get_concurrency_config().run_queue_config.max_concurrent_runs == 2
    assert (home / "dagster.yaml").read_text(encoding="utf-8").count("run_monitoring:") == 1


def test_production_instance_has_the_same_run_monitoring(monkeypatch):
    monkeypatch.setenv("YUKUAI_DAGSTER_POSTGRES_URL", "postgresql+psycopg2://yukuai_dagster@127.0.0.1/yukuai_dagster")
    deploy = yaml.safe_load(DEPLOY_YAML.read_text(encoding="utf-8"))
    assert deploy["run_monitoring"] == yaml.safe_load(DAGSTER_YAML)["run_monitoring"]
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config_schema

    result = process_config(dagster_instance_config_schema(), deploy)
    assert result.success, result.errors


def test_the_monitoring_daemon_fails_a_stuck_run_only_after_its_maximum_runtime(instance):
    """What deploy/README.md says: with the default run launcher the daemon cannot see that a run's process died;
    a STARTED run is failed when it exceeds max_runtime_seconds (here the run's own tag, 1 s)."""
    import logging

    from dagster._daemon.monitoring.run_monitoring import execute_run_monitoring_iteration

    class Workspace:
        def __init__(self, instance):
            self.instance = instance

        def create_request_context(self):
            return None

    dead_worker = _started_run(instance, {"yukuai/pid": str(_dead_pid())})
    stuck = _started_run(instance, {"dagster/max_runtime": "1"}, day="2023-02-18")
    time.sleep(1.5)
    list(execute_run_monitoring_iteration(Workspace(instance), logging.getLogger("test")))
    assert instance.get_run_by_id(stuck.run_id).status == dg.DagsterRunStatus.FAILURE
    # within its 3600 s the dead worker's run is not noticed by the daemon: run_hygiene does that for CLI runs
    assert instance.get_run_by_id(dead_worker.run_id).status == dg.DagsterRunStatus.STARTED
