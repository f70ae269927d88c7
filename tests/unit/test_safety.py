"""SQL is built from SQLAlchemy constructs with validated names; outputs get private modes; config is checked."""

import ast
import stat
from pathlib import Path

import pytest

import yukuai_pipeline
from yukuai_pipeline.file_modes import create_private_file, private_dir
from yukuai_pipeline.settings import Settings
from yukuai_pipeline.warehouse import tables

PACKAGE = Path(yukuai_pipeline.__file__).resolve().parent


@pytest.mark.parametrize("name", ["township_progress", "a1_b"])
def test_plain_identifiers_pass(name):
    assert tables.sql_identifier(name, "test") == name


@pytest.mark.parametrize("name", ['x"; DROP TABLE alerts; --', "Township", "1table", "进度", "a b", "a" * 64])
def test_other_table_or_column_names_are_refused(name):
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        tables.sql_identifier(name, "schemas/tables/x.yaml")


def _raw_sql_calls(source: str) -> list[str]:
    """Calls of text()/exec_driver_sql() whose argument is built at run time (f-string, +, %, .format)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("text", "exec_driver_sql") and not isinstance(node.args[0], ast.Constant):
                found.append(ast.unparse(node))
    return found


def test_the_scanner_sees_string_built_sql():
    assert _raw_sql_calls('sa.text(f"DELETE FROM {t}")\nconn.exec_driver_sql("SELECT " + x)') == [
        "sa.text(f'DELETE FROM {t}')",
        "conn.exec_driver_sql('SELECT ' + x)",
    ]


def test_no_sql_is_built_from_strings_in_the_package():
    offenders = {
        str(p.relative_to(PACKAGE)): calls
        for p in PACKAGE.rglob("*.py")
        if (calls := _raw_sql_calls(p.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_modes_default_to_0640_and_0750_and_can_be_widened(monkeypatch):
    monkeypatch.delenv("YUKUAI_FILE_MODE", raising=False)
    assert (Settings.from_env().file_mode, Settings.from_env().dir_mode) == (0o640, 0o750)
    monkeypatch.setenv("YUKUAI_FILE_MODE", "0644")
    assert Settings.from_env().file_mode == 0o644
    monkeypatch.setenv("YUKUAI_FILE_MODE", "rw-r-----")
    with pytest.raises(ValueError, match="YUKUAI_FILE_MODE='rw-r-----'"):
        Settings.from_env()


def test_new_folders_are_private_and_existing_ones_are_left_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    private_dir(shared / "reports" / "2023")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "reports").stat().st_mode) == 0o750
    assert stat.S_IMODE((shared / "reports" / "2023").stat().st_mode) == 0o750
    database = create_private_file(shared / "reports" / "warehouse.db")
    assert stat.S_IMODE(database.stat().st_mode) == 0o640 and database.stat().st_size == 0
