"""The city edition's Celery executor (deploy/celery/): two counties' demo day run through the same two dagster-celery
workers write exactly the warehouse that their in-process runs (`yukuai materialize`) write.

Real parts on loopback: RabbitMQ (the broker, YUKUAI_TEST_CELERY_BROKER, default the local guest account), two
worker processes started as deploy/celery/yukuai-celery-worker@.service starts them (`dagster-celery worker start`
with deploy/celery/celery.yaml), and a Dagster instance from deploy/celery/dagster.yaml on PostgreSQL in a fresh
database (YUKUAI_TEST_POSTGRES_URL, set by .ci/run). The steps go to a queue named for this test run, so a worker
left over from another run cannot take them. Skips, with the reason, when either service is missing.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from yukuai_pipeline.defs.assets import ALL_ASSETS

DAY = "2023-02-17"  # the demo's first day: every kind of file lands on it
ROOT = Path(__file__).resolve().parents[2]
CELERY_DEPLOY = ROOT / "deploy" / "celery"
BIN = Path(sys.executable).parent
BROKER = os.environ.get("YUKUAI_TEST_CELERY_BROKER", "pyamqp://guest:guest@127.0.0.1:5672//")
ASSETS = [key.to_user_string() for asset in ALL_ASSETS for key in asset.keys]  # daily_refresh's selection
WORKERS = 2
READY_SECONDS = 180  # a worker imports dagster and the pipeline before it answers a ping
RUN_SECONDS = 900  # one demo day takes ~20 s through the workers on a 2-core machine
# Written by the run at the moment it ingests, stores or records a step, so two runs of the same files differ there
# and only there (schemas/tables/ingest_log.yaml, input_snapshots.yaml, step_versions.yaml).
RUN_SPECIFIC = {"ingest_log": {"ingested_at"}, "input_snapshots": {"stored_at"}, "step_versions": {"recorded_at"}}


def _broker_or_skip() -> None:
    from kombu import Connection

    connection = Connection(BROKER, connect_timeout=5)
    try:
        with connection:
            connection.ensure_connection(max_retries=1)
    except Exception as error:  # noqa: BLE001 - any failure to connect means: no broker here
        pytest.skip(
            f"RabbitMQ is not reachable at {connection.as_uri()} ({error}); start rabbitmq-server or set "
            "YUKUAI_TEST_CELERY_BROKER"
        )


def _postgres_or_skip() -> str:
    url = os.environ.get("YUKUAI_TEST_POSTGRES_URL")
    if not url:
        pytest.skip(
            "YUKUAI_TEST_POSTGRES_URL is not set: the Celery workers need the PostgreSQL instance (.ci/run sets it)"
        )
    return url


@pytest.fixture(scope="session")
def services() -> str:
    """Both services or a skip, before the demo files are made: the PostgreSQL URL."""
    base = _postgres_or_skip()
    _broker_or_skip()
    return base


@pytest.fixture(scope="module")
def dagster_database(services):
    """A fresh PostgreSQL database for the Dagster instance, dropped afterwards (the URL for dagster-postgres)."""
    base = services
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"yk_celery_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.make_url(base).set(drivername="postgresql+psycopg2", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _start_worker(index: int, prefix: str, env: dict, root: Path) -> subprocess.Popen:
    """One worker as the systemd unit starts it, in a process group of its own (dagster-celery → celery → its pool
    process), so that the teardown reaches all three."""
    log = open(root / f"worker{index}.log", "wb")  # noqa: SIM115 - closed by the teardown
    command = [
        str(BIN / "dagster-celery"),
        "worker",
        "start",
        "-A",
        "dagster_celery.app",
        "-y",
        str(CELERY_DEPLOY / "celery.yaml"),
        "-q",
        env["YUKUAI_CELERY_QUEUE"],
        "-n",
        f"{prefix}-{index}",
        "-i",
        "yukuai_pipeline.definitions",
        "--",
        "--concurrency=1",
        "--without-mingle",
        "--without-gossip",
    ]
    process = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.log = log  # type: ignore[attr-defined]
    return process


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # warm shutdown of celery; dagster-celery exits with it
    deadline = time.monotonic() + 30
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):  # whatever is left of the group, the pool process included
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.log.close()  # type: ignore[attr-defined]


def _log_tails(root: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in sorted(root.glob("worker*.log"))
    )


def _wait_until_ready(app, prefix: str, workers: list[subprocess.Popen], root: Path) -> set[str]:
    """The node names (name@host) of this test's workers once each answers a ping over the broker."""
    deadline = time.monotonic() + READY_SECONDS
    answered: set[str] = set()
    while time.monotonic() < deadline:
        dead = [p.args for p in workers if p.poll() is not None]
        assert not dead, f"a worker exited before it was ready: {dead}\n{_log_tails(root)}"
        replies = app.control.ping(timeout=2.0)
        answered = {name for reply in replies for name in reply if name.startswith(f"{prefix}-")}
        if len(answered) == len(workers):
            return answered
        time.sleep(1)
    pytest.fail(f"workers not ready after {READY_SECONDS} s (answered: {answered})\n{_log_tails(root)}")


def _session(pid: int | None) -> int | None:
    """The session (here: the worker's process group) of a live process; None when it is gone or unknown."""
    try:
        return os.getsid(pid) if pid else None
    except ProcessLookupError:
        return None


def _tables(database_url: str) -> dict[str, pd.DataFrame]:
    """Every table of a warehouse, read as it is stored (no code of the pipeline in between)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {name: pd.read_sql_table(name, conn) for name in names}
    finally:
        engine.dispose()


def _steps(instance: dg.DagsterInstance, run_id: str) -> SimpleNamespace:
    """A run's step events: which process started each step, which Celery worker executed it, which checks ran."""
    start_pids, success, celery_workers, checks = {}, set(), {}, {}
    run_pid = None
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        if kind in ("PIPELINE_START", "RUN_START"):
            run_pid = event.pid
        elif kind == "STEP_START":
            start_pids[event.step_key] = event.pid
        elif kind == "STEP_SUCCESS":
            success.add(event.step_key)
        elif kind == "ENGINE_EVENT" and "in celery worker" in (event.message or ""):
            metadata = event.engine_event_data.metadata
            celery_workers[event.step_key] = metadata["Celery worker"].value
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            checks[(evaluation.asset_key.to_user_string(), evaluation.check_name)] = evaluation.passed
    return SimpleNamespace(
        run_pid=run_pid, start_pids=start_pids, success=success, celery_workers=celery_workers, checks=checks
    )


COUNTIES = ("500242", "509901")  # 酉阳县 and the demo's fictional 演示县, whose townships share 酉阳县's names


def _yukuai(env: dict, root: Path, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "yukuai"), *args], env=env, cwd=root, capture_output=True, text=True, timeout=RUN_SECONDS
    )
    assert done.returncode in (0, 3), f"yukuai {' '.join(args)}: {done.stdout}{done.stderr[-3000:]}"
    return done.stdout


def _second_county(root: Path, env: dict) -> tuple[Path, Path]:
    """演示县's campaign folder, imported from its notice, and its first day's landing files."""
    from yukuai_pipeline.demo.second_county import NOTICE_NAME

    _yukuai(env, root, "demo-notice", "--out", str(root / "notice"))
    campaign, landing = root / "campaign_509901", root / "landing_509901"
    _yukuai(
        env,
        root,
        "campaign",
        "import",
        str(root / "notice" / NOTICE_NAME),
        "--county-code",
        "509901",
        "--out",
        str(campaign),
    )
    _yukuai(
        dict(env, YUKUAI_ASSETS_DIR=str(campaign), YUKUAI_LANDING_DIR=str(landing)), root, "demo-data", "--days", "1"
    )
    return campaign, landing


@pytest.fixture(scope="module")
def runs(services, tmp_path_factory, demo_files, dagster_database):
    """Two counties' first day, each twice, into one PostgreSQL instance: `yukuai materialize --date` (in process,
    warehouse inprocess.db) and `dagster job execute -j daily_refresh` with YUKUAI_EXECUTOR=celery (warehouse
    celery.db), whose steps the same two workers execute for both counties. The workers' own environment is
    酉阳县's; each run carries its county (its campaign folder as a run tag), and the folder settings hold {county}."""
    root = tmp_path_factory.mktemp("celery")
    home = root / "dagster_home"
    home.mkdir(mode=0o750)
    shutil.copy(CELERY_DEPLOY / "dagster.yaml", home / "dagster.yaml")
    run_tag = uuid.uuid4().hex[:10]
    queue, prefix = f"yk_test_{run_tag}", f"yk-test-{run_tag}"
    base_env = dict(
        os.environ,
        DAGSTER_HOME=str(home),
        YUKUAI_DAGSTER_POSTGRES_URL=dagster_database,
        YUKUAI_EXECUTOR="celery",
        YUKUAI_CELERY_BROKER=BROKER,
        YUKUAI_CELERY_BACKEND="rpc://",
        YUKUAI_CELERY_QUEUE=queue,
        YUKUAI_SETTLE_SECONDS="0",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-celery starts `celery` from PATH
    )
    base_env.pop("YUKUAI_ASSETS_DIR", None)
    campaign, second_landing = _second_county(root, base_env)
    sources = {"500242": demo_files, "509901": second_landing}

    def env_for(kind: str, county: str = "500242") -> dict:
        for code, source in sources.items():
            if not (root / kind / code / "landing").exists():
                shutil.copytree(source, root / kind / code / "landing")  # copy2: the files keep their times
        env = dict(
            base_env,
            YUKUAI_LANDING_DIR=str(root / kind / "{county}" / "landing"),
            YUKUAI_DATABASE_URL=f"sqlite:///{root / f'{kind}.db'}",
            YUKUAI_REPORT_DIR=str(root / kind / "{county}" / "reports"),
        )
        return dict(env, YUKUAI_ASSETS_DIR=str(campaign)) if county == "509901" else env

    from celery import Celery

    app = Celery("yukuai-test", broker=BROKER)
    workers: list[subprocess.Popen] = []
    launchers: list[int] = []
    try:
        workers = [_start_worker(i, prefix, env_for("celery"), root) for i in range(1, WORKERS + 1)]
        for county in COUNTIES:  # the in-process runs while the workers start
            _yukuai(env_for("inprocess", county), root, "materialize", "--date", DAY)
        names = _wait_until_ready(app, prefix, workers, root)
        for county in COUNTIES:
            launcher = subprocess.Popen(
                [
                    str(BIN / "dagster"),
                    *("job", "execute", "-m", "yukuai_pipeline.definitions", "-j", "daily_refresh"),
                    *("--tags", json.dumps({"dagster/partition": DAY, "yukuai/trigger": "celery-test"})),
                ],
                env=env_for("celery", county),
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            launchers.append(launcher.pid)
            try:
                output, _ = launcher.communicate(timeout=RUN_SECONDS)
            except subprocess.TimeoutExpired:
                launcher.kill()
                output, _ = launcher.communicate()
                pytest.fail(f"the Celery run did not finish in {RUN_SECONDS} s\n{output[-3000:]}\n{_log_tails(root)}")
            assert launcher.returncode == 0, f"{output[-3000:]}\n{_log_tails(root)}"

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DAGSTER_HOME", str(home))
            patch.setenv("YUKUAI_DAGSTER_POSTGRES_URL", dagster_database)
            with dg.DagsterInstance.get() as instance:
                all_runs = instance.get_runs()
                kinds = {"cli": "inprocess", "celery-test": "celery"}
                by_kind = {(kinds[r.tags["yukuai/trigger"]], r.tags["yukuai/county"]): r for r in all_runs}
                assert len(by_kind) == len(all_runs) == 4, [r.tags for r in all_runs]
                steps = {key: _steps(instance, run.run_id) for key, run in by_kind.items()}
                statuses = {key: run.status for key, run in by_kind.items()}
                storage = type(instance.run_storage).__name__
        # while the workers live: the session each step's process belongs to (each worker's group is its own)
        step_sessions = {
            key: {step: _session(pid) for step, pid in steps[key].start_pids.items()}
            for key in steps
            if key[0] == "celery"
        }
    finally:
        _stop(workers)  # flushes the workers' logs
        try:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)  # the test's queue, not left behind in RabbitMQ
        except Exception:  # noqa: BLE001 - never declared (no worker started): nothing to delete
            pass
        app.close()

    yield SimpleNamespace(
        steps=steps,
        statuses=statuses,
        storage=storage,
        launcher_pids=launchers,
        worker_groups={p.pid for p in workers},
        worker_names=names,
        step_sessions=step_sessions,
        worker_logs="\n".join(path.read_text(errors="replace") for path in sorted(root.glob("worker*.log"))),
        tables={kind: _tables(f"sqlite:///{root / f'{kind}.db'}") for kind in ("inprocess", "celery")},
        reports={
            kind: sorted(p.relative_to(root / kind).as_posix() for p in (root / kind).glob("*/reports/*"))
            for kind in ("inprocess", "celery")
        },
    )


def test_both_counties_runs_succeed_on_the_postgresql_instance(runs):
    assert runs.storage == "PostgresRunStorage"
    assert set(runs.statuses.values()) == {dg.DagsterRunStatus.SUCCESS}
    for county in COUNTIES:
        in_process, celery = runs.steps[("inprocess", county)], runs.steps[("celery", county)]
        assert in_process.success == celery.success == set(ASSETS)
        # the same checks ran, with the same outcome
        assert celery.checks == in_process.checks and len(celery.checks) > 20


def test_steps_ran_on_the_workers_not_in_the_run_process(runs):
    for county in COUNTIES:
        in_process, celery = runs.steps[("inprocess", county)], runs.steps[("celery", county)]
        # in process: every step starts in the run's own process (the check below can tell the difference)
        assert set(in_process.start_pids.values()) == {in_process.run_pid}
        assert in_process.celery_workers == {}
        # Celery: the run's process (`dagster job execute`) only sends; each step starts in a process of one of
        # the two workers' groups, and each says which worker it was
        assert celery.run_pid in runs.launcher_pids
        pids = set(celery.start_pids.values())
        assert celery.run_pid not in pids and os.getpid() not in pids
        sessions = runs.step_sessions[("celery", county)]
        assert set(sessions) == set(ASSETS)
        assert set(sessions.values()) <= runs.worker_groups, (sessions, runs.worker_groups)
        assert set(celery.celery_workers) == set(ASSETS)
        assert set(celery.celery_workers.values()) <= runs.worker_names
    # and the workers' own logs say so: one task received and one succeeded per step of both runs
    received = re.findall(r"Task execute_plan\[([0-9a-f-]+)\] received", runs.worker_logs)
    succeeded = re.findall(r"Task execute_plan\[([0-9a-f-]+)\] succeeded in", runs.worker_logs)
    assert len(received) == 2 * len(ASSETS) and sorted(received) == sorted(succeeded)


def test_each_run_wrote_its_own_county(runs):
    from yukuai_pipeline.demo.second_county import attachment_rows

    progress = runs.tables["celery"]["township_progress"]
    totals = progress[progress["township"] == "合计"].set_index("county_code")["completed"].to_dict()
    assert totals == {"500242": 28_632, "509901": sum(row[4] for row in attachment_rows())}
    assert sorted(progress.loc[progress["township"] == "龙潭镇", "county_code"]) == list(COUNTIES)


def _canonical(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The rows in an order of their own values: equal tables compare equal whatever order the runs wrote."""
    return frame[columns].sort_values(columns, na_position="first", kind="stable").reset_index(drop=True)


def test_every_warehouse_table_is_equal_row_for_row(runs):
    in_process, celery = runs.tables["inprocess"], runs.tables["celery"]
    assert set(celery) == set(in_process)
    assert sum(len(frame) for frame in celery.values()) > 20_000  # the day really landed
    for name in sorted(in_process):
        ignored = RUN_SPECIFIC.get(name, set())
        columns = [c for c in in_process[name].columns if c not in ignored]
        assert list(celery[name].columns) == list(in_process[name].columns), name
        pd.testing.assert_frame_equal(
            _canonical(celery[name], columns), _canonical(in_process[name], columns), obj=f"table {name}"
        )
        for column in ignored:  # what is ignored is really filled in by both runs
            assert in_process[name][column].notna().all() and celery[name][column].notna().all(), (name, column)
    assert runs.reports["celery"] == runs.reports["inprocess"] != []


def test_executor_choice_is_read_from_the_environment_in_one_place():
    from yukuai_pipeline.defs.executors import build_executor, celery_config
    from yukuai_pipeline.settings import ExecutorSettings

    assert build_executor({}) is None  # in_process: Definitions keep Dagster's default, the jobs their own
    assert build_executor({"YUKUAI_EXECUTOR": " In-Process "}) is None
    with pytest.raises(ValueError, match="YUKUAI_EXECUTOR"):
        build_executor({"YUKUAI_EXECUTOR": "celey"})

    assert build_executor({"YUKUAI_EXECUTOR": "celery"}).name == "yukuai_celery"
    defaults = ExecutorSettings.from_env({"YUKUAI_EXECUTOR": "celery"})
    assert celery_config(defaults, {}) == {
        "broker": "pyamqp://guest@127.0.0.1:5672//",
        "backend": "rpc://",
        "config_source": {"task_default_queue": "dagster"},
    }
    # a broker URL set in the environment is handed over by name, never by value (it may hold a password)
    env = {"YUKUAI_CELERY_BROKER": "pyamqp://yukuai:secret@mq:5672/yukuai", "YUKUAI_CELERY_QUEUE": "city"}
    config = celery_config(ExecutorSettings.from_env(env), env)
    assert config["broker"] == {"env": "YUKUAI_CELERY_BROKER"} and "secret" not in repr(config)
    assert config["config_source"] == {"task_default_queue": "city"}
