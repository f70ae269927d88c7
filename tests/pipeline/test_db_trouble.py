"""Database trouble is one clear line on stderr and exit status 1, for every command: what failed (locked,
unreachable, read-only, full…), which database (URL without its password), how to fix it."""

import socket
import sqlite3
import subprocess
import sys
import time

import dagster as dg
import pytest
import sqlalchemy as sa

from yukuai_pipeline import db_connections
from yukuai_pipeline.cli import main
from yukuai_pipeline.db_trouble import Database, classify
from yukuai_pipeline.warehouse import Warehouse

COMMANDS = {
    "materialize": ["materialize", "--date", "2023-02-17"],
    "report": ["report", "--date", "2023-02-17"],
    "alerts": ["alerts"],
}


@pytest.fixture
def cli_env(tmp_path, landing, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("YUKUAI_LANDING_DIR", str(landing))
    monkeypatch.setenv("YUKUAI_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("YUKUAI_DATABASE_URL", f"sqlite:///{tmp_path}/warehouse.db")
    monkeypatch.setenv("YUKUAI_DB_LOCK_TIMEOUT", "1")
    return tmp_path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("数据库错误：") and "处理办法：" in lines[0]
    return lines[0]


@pytest.fixture
def locked_sqlite(cli_env):
    """Another process holds a write transaction (BEGIN EXCLUSIVE) on the warehouse until the test ends."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sqlite3, sys, time\n"
                "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                "c.execute('CREATE TABLE IF NOT EXISTS other_program (x)')\n"
                "c.execute('BEGIN EXCLUSIVE')\nprint('LOCKED', flush=True)\ntime.sleep(120)\n"
            ),
            str(cli_env / "warehouse.db"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "LOCKED"
    yield f"sqlite:///{cli_env}/warehouse.db"
    holder.kill()
    holder.wait()


@pytest.mark.parametrize("command", ["report", "materialize"])
def test_a_locked_sqlite_warehouse_is_waited_for_then_one_line(locked_sqlite, cli_env, command, capsys):
    started = time.monotonic()
    assert main(COMMANDS[command]) == 1
    assert time.monotonic() - started < 20
    line = _one_line(capsys)
    assert "锁定" in line and "等待 1 秒后放弃" in line and f"（{locked_sqlite}）" in line
    assert "YUKUAI_DB_LOCK_TIMEOUT" in line
    if command == "materialize":  # checked before any run: nothing in the instance
        with dg.DagsterInstance.from_config(str(cli_env / "dagster_home")) as instance:
            assert instance.get_runs() == []


def test_a_lock_met_in_the_middle_of_a_run_is_one_line_per_failed_step(locked_sqlite, monkeypatch, capsys):
    """Past the check before the run (skipped here), the failed steps are one line each, without tracebacks."""
    monkeypatch.setattr(Warehouse, "check_writable", lambda self: None)
    assert main(COMMANDS["materialize"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Stack Trace" not in err and "dagster - ERROR" not in err
    lines = err.splitlines()
    assert lines[0] == "✗ 2023-02-17 运行失败："
    assert len(lines) >= 2 and all(
        line.startswith("  - ")
        and "数据库错误：数据库被其他程序锁定，等待 1 秒后放弃" in line
        and f"（{locked_sqlite}）" in line
        for line in lines[1:]
    ), err


@pytest.mark.parametrize("command", ["materialize", "report", "alerts"])
def test_postgresql_that_does_not_answer_is_one_line_without_the_password(cli_env, monkeypatch, command, capsys):
    url = f"postgresql+psycopg://yukuai:s3cret-pw@127.0.0.1:{_closed_port()}/yukuai"
    monkeypatch.setenv("YUKUAI_DATABASE_URL", url)
    assert main(COMMANDS[command]) == 1
    line = _one_line(capsys)
    assert "无法连接" in line and "连接被拒绝" in line and "s3cret-pw" not in line
    assert url.replace("s3cret-pw", "***") in line and "YUKUAI_DATABASE_URL" in line


def test_a_read_only_sqlite_warehouse_is_refused_before_the_run(cli_env, monkeypatch, capsys):
    path = cli_env / "warehouse.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///file:{path}?mode=ro&uri=true"  # tests run as root: file modes would not stop the writes
    monkeypatch.setenv("YUKUAI_DATABASE_URL", url)
    assert main(COMMANDS["materialize"]) == 1
    line = _one_line(capsys)
    assert "只读" in line and f"（{url}）" in line and "mode=ro" in line
    assert not (cli_env / "file:").exists()  # the URI's path is the file, not a folder named "file:"


def _write_instance_yaml(home, url_env: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url:\n      env: {url_env}\n", encoding="utf-8"
    )


@pytest.mark.parametrize("command", ["instance", "alerts", "materialize"])
def test_the_instances_postgresql_that_does_not_answer_is_one_line(cli_env, monkeypatch, command, capsys):
    _write_instance_yaml(cli_env / "dagster_home", "YUKUAI_DAGSTER_POSTGRES_URL")
    monkeypatch.setenv(
        "YUKUAI_DAGSTER_POSTGRES_URL",
        f"postgresql+psycopg2://yukuai_dagster:pw-of-dagster@127.0.0.1:{_closed_port()}/yukuai_dagster",
    )
    assert main(["instance"] if command == "instance" else COMMANDS[command]) == 1
    line = _one_line(capsys)
    assert "无法连接" in line and "Dagster 实例存储 postgresql+psycopg2://yukuai_dagster:***@127.0.0.1:" in line
    assert "pw-of-dagster" not in line and "YUKUAI_DAGSTER_POSTGRES_URL" in line


def test_dagsters_own_storage_error_is_put_on_the_instance_and_its_retries_stay_quiet(cli_env, monkeypatch, capsys):
    """Without the check, Dagster opens its storage itself: dagster-postgres retries with warnings, then fails."""
    _write_instance_yaml(cli_env / "dagster_home", "YUKUAI_DAGSTER_POSTGRES_URL")
    monkeypatch.setenv("YUKUAI_DAGSTER_POSTGRES_URL", f"postgresql+psycopg2://u:pw@127.0.0.1:{_closed_port()}/d")
    monkeypatch.setattr(db_connections, "check_instance_storage", lambda home, lock_timeout: None)
    assert main(COMMANDS["alerts"]) == 1
    line = _one_line(capsys)
    assert "无法连接" in line and "Dagster 实例存储" in line


def test_every_command_still_works_on_a_healthy_database(cli_env, capsys):
    assert main(["instance"]) == 0
    assert main(COMMANDS["materialize"]) == 0
    assert main(COMMANDS["report"]) == 0
    assert main(COMMANDS["alerts"]) == 0
    assert capsys.readouterr().err == ""
    engine = sa.create_engine(f"sqlite:///{cli_env}/warehouse.db")
    assert "yukuai_write_check" not in sa.inspect(engine).get_table_names()  # the write check left nothing
    engine.dispose()


# --- the classifier ---------------------------------------------------------------------------------------------

SQLITE = Database("sqlite:////srv/yukuai/warehouse.db", lock_timeout=30)
POSTGRES = Database("postgresql+psycopg://yukuai:topsecret@db.example:5432/yukuai", lock_timeout=30)


@pytest.mark.parametrize(
    ("database", "message", "kind", "words"),
    [
        (SQLITE, "database is locked", "locked", "数据库被其他程序锁定，等待 30 秒后放弃"),
        (SQLITE, "database or disk is full", "disk_full", "磁盘已满"),
        (SQLITE, "attempt to write a readonly database", "read_only", "只读"),
        (SQLITE, "unable to open database file", "missing", "无法打开数据库文件"),
        (SQLITE, "database disk image is malformed", "corrupt", "已损坏"),
        (SQLITE, "disk I/O error", "io", "磁盘出错"),
        (
            POSTGRES,
            (
                'connection failed: connection to server at "10.0.0.5", port 5432 failed: Connection refused\n\t'
                "Is the server running on that host and accepting TCP/IP connections?"
            ),
            "unreachable",
            "连接被拒绝",
        ),
        (
            POSTGRES,
            "failed to resolve host 'db.example': [Errno -2] Name or service not known",
            "unreachable",
            "主机名无法解析",
        ),
        (
            POSTGRES,
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: timeout expired',
            "unreachable",
            "连接超时",
        ),
        (
            POSTGRES,
            (
                'connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  password '
                'authentication failed for user "yukuai"'
            ),
            "auth",
            "拒绝登录",
        ),
        (
            POSTGRES,
            (
                'connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  database "yukuai" '
                "does not exist"
            ),
            "missing",
            "数据库不存在",
        ),
        (POSTGRES, "cannot execute INSERT in a read-only transaction", "read_only", "只读"),
        (POSTGRES, 'could not extend file "base/16384/16385": No space left on device', "disk_full", "磁盘已满"),
        (POSTGRES, "canceling statement due to lock timeout", "locked", "等待 30 秒后放弃"),
        (POSTGRES, "permission denied for schema public", "permission", "没有所需的权限"),
        (POSTGRES, "SSL SYSCALL error: EOF detected", "unreachable", "连接中断"),
        (POSTGRES, "some new failure of the server", "other", "some new failure of the server"),
    ],
)
def test_driver_errors_are_classified_through_every_wrapper(database, message, kind, words):
    import psycopg

    driver = (sqlite3.OperationalError if database is SQLITE else psycopg.OperationalError)(message)
    wrapped = sa.exc.OperationalError("INSERT INTO t VALUES (?)", {}, driver)
    for error in (driver, wrapped, _raised_inside_a_step(wrapped)):
        trouble = classify(error, database)
        assert trouble is not None and trouble.kind == kind, (error, trouble)
        assert words in trouble.line and "处理办法：" in trouble.line and "\n" not in trouble.line
        assert "topsecret" not in trouble.line and database.shown in trouble.line


def _raised_inside_a_step(error):
    """The error as Dagster stores a step failure: serialized, with the op's wrapper around it."""
    from dagster._core.errors import DagsterExecutionStepExecutionError
    from dagster._utils.error import serializable_error_info_from_exc_info

    try:
        try:
            raise error
        except Exception as inner:
            raise DagsterExecutionStepExecutionError(
                "Error occurred while executing op",
                user_exception=inner,
                original_exc_info=sys.exc_info(),
                step_key="s",
                op_name="s",
                op_def_name="s",
            ) from inner
    except DagsterExecutionStepExecutionError:
        return serializable_error_info_from_exc_info(sys.exc_info())


def test_errors_that_are_not_the_databases_trouble_are_left_alone():
    assert classify(ValueError("日期格式应为 YYYY-MM-DD"), SQLITE) is None
    assert classify(OSError(28, "No space left on device"), SQLITE) is None  # a report file, not the database
    integrity = sa.exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed: t.id"))
    assert classify(integrity, SQLITE) is None
    programming = sa.exc.ProgrammingError("SELECT", {}, Exception('relation "t" does not exist'))
    assert classify(programming, POSTGRES) is None


def test_the_warehouse_engine_marks_its_errors_so_a_serialized_step_error_keeps_the_line(tmp_path):
    warehouse = Warehouse(f"sqlite:///file:{tmp_path}/absent/w.db?mode=ro&uri=true", lock_timeout=1)
    with pytest.raises(sa.exc.OperationalError) as caught:
        warehouse.read("township_progress")
    trouble = caught.value.yukuai_trouble
    assert trouble.kind == "missing" and str(caught.value.orig).endswith(trouble.line)
    assert classify(_raised_inside_a_step(caught.value), SQLITE).line == trouble.line  # not SQLITE: the warehouse's
    warehouse.dispose()


def test_disk_full_from_a_synthetic_sqlite_error_in_the_cli(cli_env, monkeypatch, capsys):
    def full(self):
        raise sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(Warehouse, "check_writable", full)
    assert main(COMMANDS["materialize"]) == 1
    line = _one_line(capsys)
    assert "磁盘已满" in line and f"sqlite:///{cli_env}/warehouse.db" in line


def test_lock_waits_are_bounded_in_both_drivers(monkeypatch):
    assert db_connections.connect_args("sqlite:////x/w.db", 7.5) == {"timeout": 7.5}
    args = db_connections.connect_args("postgresql+psycopg://u@h/db?options=-csearch_path%3Dyk", 30)
    assert args == {"connect_timeout": 30, "options": "-csearch_path=yk -c lock_timeout=30000"}
    assert db_connections.connect_args("postgresql+psycopg://u@h/db?connect_timeout=5", 0.5) == {
        "options": "-c lock_timeout=500"
    }
    monkeypatch.delenv("YUKUAI_DB_LOCK_TIMEOUT", raising=False)
    assert Warehouse("sqlite:///:memory:").lock_timeout == 30
    monkeypatch.setenv("YUKUAI_DB_LOCK_TIMEOUT", "2.5")
    assert Warehouse("sqlite:///:memory:").lock_timeout == 2.5
    monkeypatch.setenv("YUKUAI_DB_LOCK_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="YUKUAI_DB_LOCK_TIMEOUT='soon'"):
        Warehouse("sqlite:///:memory:")


def test_a_postgresql_lock_is_waited_for_lock_timeout_then_said(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's lock: test_a_locked_sqlite_warehouse_is_waited_for_then_one_line")
    warehouse = Warehouse(database_url, lock_timeout=1)
    warehouse.ensure_tables()
    holder = sa.create_engine(database_url)
    with holder.connect() as conn:
        conn.exec_driver_sql("LOCK TABLE township_targets IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError) as caught:
            warehouse.read("township_targets")
        assert time.monotonic() - started < 10
        conn.rollback()
    assert caught.value.yukuai_trouble.kind == "locked"
    assert "等待 1 秒后放弃" in caught.value.yukuai_trouble.line
    warehouse.dispose()
    holder.dispose()


def test_a_read_only_postgresql_is_refused_by_the_write_check(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's read-only database: test_a_read_only_sqlite_warehouse_is_refused_before_the_run")
    read_only = f"{database_url}%20-cdefault_transaction_read_only%3Don"  # appended to the search_path options
    warehouse = Warehouse(read_only, lock_timeout=1)
    with pytest.raises(sa.exc.SQLAlchemyError) as caught:
        warehouse.check_writable()
    assert caught.value.yukuai_trouble.kind == "read_only" and "只读" in caught.value.yukuai_trouble.line
    warehouse.dispose()
    Warehouse(database_url, lock_timeout=1).check_writable()  # the same database, writable
