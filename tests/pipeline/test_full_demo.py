"""The demo end to end through the real CLI, as deployed: every table, report file, log line, event and alert is
scanned for unmasked ID and phone numbers, and every output is private (0640/0750).

With YUKUAI_TEST_POSTGRES_URL (CI) the Dagster instance uses deploy/dagster.yaml (dagster-postgres) and the
warehouse PostgreSQL, each in a fresh database; elsewhere both are SQLite. YUKUAI_FULL_DEMO_DAYS (default 3: the
day with every kind of file and two CSV days) sets how many demo days run; 42 is the whole demo.
"""

import os
import stat
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest
import sqlalchemy as sa

from support.leaks import leaks
from support.local_robot import Robot
from yukuai_pipeline.warehouse import Warehouse

DAYS = int(os.environ.get("YUKUAI_FULL_DEMO_DAYS", "3"))
DEPLOY_YAML = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"


def _leaks(text: str) -> list[str]:
    return leaks(text, not_touching="0-9A-Za-z")  # letters around a digit run: a hash or an id, not a person's


def _decode(data: bytes) -> str:
    """The demo writes some days' exports in GBK, as county platforms do."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    root = tmp_path_factory.mktemp("full_demo")
    base = os.environ.get("YUKUAI_TEST_POSTGRES_URL")
    if not base:
        yield SimpleNamespace(root=root, kind="sqlite", env={"YUKUAI_DATABASE_URL": f"sqlite:///{root}/warehouse.db"})
        return
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    names = {part: f"yk_demo_{uuid.uuid4().hex[:8]}_{part}" for part in ("dagster", "warehouse")}
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(base)
    home = root / "dagster_home"
    home.mkdir(mode=0o750)
    (home / "dagster.yaml").write_text(DEPLOY_YAML.read_text(encoding="utf-8"), encoding="utf-8")
    (home / "dagster.yaml").chmod(0o640)  # as deploy/README.md installs it
    yield SimpleNamespace(
        root=root,
        kind="postgresql",
        env={
            "YUKUAI_DATABASE_URL": url.set(database=names["warehouse"]).render_as_string(hide_password=False),
            "YUKUAI_DAGSTER_POSTGRES_URL": url.set(
                drivername="postgresql+psycopg2", database=names["dagster"]
            ).render_as_string(hide_password=False),
        },
    )
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def demo(storage):
    robot = Robot()
    env = dict(
        os.environ,
        **storage.env,
        YUKUAI_LANDING_DIR=str(storage.root / "landing"),
        YUKUAI_REPORT_DIR=str(storage.root / "reports"),
        DAGSTER_HOME=str(storage.root / "dagster_home"),
        YUKUAI_ALERT_WEBHOOK_URL=robot.url,
    )
    console = []
    for args in (["demo-data", "--days", str(DAYS)], ["materialize", "--landed"], ["alerts"]):
        done = subprocess.run(
            [sys.executable, "-m", "yukuai_pipeline.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            preexec_fn=lambda: os.umask(0o022),
        )  # a usual shell's umask
        assert done.returncode == 0, f"yukuai {' '.join(args)}: {done.stderr[-3000:]}"
        console.append(done.stdout + done.stderr)
    robot.server.shutdown()
    env_for_tests = {k: v for k, v in env.items() if k.startswith(("YUKUAI_", "DAGSTER_HOME"))}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env_for_tests.items():
            patch.setenv(key, value)
        with dg.DagsterInstance.get() as instance:
            runs = instance.get_runs()
            events = [str(entry) for run in runs for entry in instance.all_logs(run.run_id)]
            storage_class = type(instance.run_storage).__name__
    warehouse = Warehouse(storage.env["YUKUAI_DATABASE_URL"])
    # every table and view (a stored-once table is a view over its __contents table: both are scanned)
    tables = {name: warehouse.read(name) for name in [*warehouse.metadata.tables, *warehouse.stored_once]}
    warehouse.dispose()
    yield SimpleNamespace(
        root=storage.root,
        kind=storage.kind,
        runs=runs,
        events=events,
        tables=tables,
        storage_class=storage_class,
        console="\n".join(console),
        alerts=robot.texts(),
    )


def test_every_demo_day_runs_on_the_configured_storage(demo):
    assert len(demo.runs) == DAYS
    assert {run.status for run in demo.runs} == {dg.DagsterRunStatus.SUCCESS}
    expected_storage = "PostgresRunStorage" if demo.kind == "postgresql" else "SqliteRunStorage"
    assert demo.storage_class == expected_storage
    progress = demo.tables["township_progress"]
    county = progress[(progress["township"] == "合计") & (progress["snapshot_date"].astype(str) == "2023-02-17")]
    assert county[["resident_population", "target", "completed", "gap"]].astype(int).values.tolist() == [
        [853_945, 102_476, 28_632, 73_844]
    ]
    assert progress["snapshot_date"].nunique() == DAYS
    assert len(demo.tables["roster_members"]) > 20_000
    delivered = demo.tables["alerts"]
    assert len(demo.alerts) == int(delivered["delivered"].sum()) > 0


def test_no_unmasked_id_or_phone_number_leaves_the_reader(demo):
    raw = "".join(_decode(p.read_bytes()) for p in (demo.root / "landing").glob("*.csv"))
    assert len(_leaks(raw)) > 1000  # the inputs are full of them: the scan below has something to find

    for name, frame in demo.tables.items():
        assert _leaks(frame.to_csv(index=False)) == [], f"table {name}"
    for path in sorted(p for p in (demo.root / "reports").rglob("*") if p.is_file()):  # with the townships' returns
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as book:
                text = "".join(book.read(member).decode("utf-8", "ignore") for member in book.namelist())
        else:
            text = path.read_bytes().decode("utf-8", "ignore")
        assert _leaks(text) == [], f"report {path.name}"
    for path in sorted((demo.root / "dagster_home").rglob("*")):  # run and event storage, compute logs
        if path.is_file():
            assert _leaks(path.read_bytes().decode("utf-8", "ignore")) == [], f"Dagster file {path}"
    assert _leaks("\n".join(demo.events)) == []  # every event, with its asset and check metadata
    assert any("places_matched" in event for event in demo.events)
    assert _leaks(demo.console) == []
    assert _leaks("\n".join(demo.alerts)) == []


def test_outputs_are_private_even_under_a_permissive_umask(demo):
    checked = 0
    for path in [
        demo.root / "landing",
        demo.root / "reports",
        demo.root / "dagster_home",
        *(demo.root / "landing").iterdir(),
        *(demo.root / "reports").rglob("*"),
        *(demo.root / "dagster_home").rglob("*"),
        *demo.root.glob("warehouse.db*"),
    ]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o007 == 0, f"{path} is open to everyone ({oct(mode)})"
        if path.is_dir() and path.parent == demo.root:
            assert mode == 0o750, path
        elif path.is_file() and {"landing", "reports"} & {path.parent.name, path.parent.parent.name}:
            assert mode == 0o640, path  # the townships' returns, in their folder under reports, too
        checked += 1
    assert checked > 10
    if demo.kind == "sqlite":
        assert stat.S_IMODE((demo.root / "warehouse.db").stat().st_mode) == 0o640
