"""Fixtures for every test group (unit/, pipeline/, browser/): the demo's landing files, a database (SQLite, and
PostgreSQL when YUKUAI_TEST_POSTGRES_URL is set) and a pipeline runner over them."""

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from support.runner import PipelineRunner
from yukuai_pipeline.demo import generate_demo_data

DEMO_DAYS = 8
# Landed files are read once they have stayed unchanged this long (YUKUAI_SETTLE_SECONDS, 10 s in production); the
# tests write their files and run at once, so they wait for nothing unless a test sets it
# (pipeline/test_hostile_files.py).
os.environ.setdefault("YUKUAI_SETTLE_SECONDS", "0")
# A declared check that a step neither evaluated nor skipped with a reason fails the run (quality/checks.py).
os.environ.setdefault("YUKUAI_STRICT_CHECKS", "1")


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory) -> Path:
    """The demo's landing folder for its first days, generated once per test session (read-only: copy it)."""
    folder = tmp_path_factory.mktemp("demo_landing")
    generate_demo_data(folder, days=DEMO_DAYS)
    return folder


@pytest.fixture
def landing(tmp_path, demo_files) -> Path:
    folder = tmp_path / "landing"
    shutil.copytree(demo_files, folder)
    return folder


def _postgres_url() -> str:
    url = os.environ.get("YUKUAI_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("YUKUAI_TEST_POSTGRES_URL is not set: the PostgreSQL variant runs in CI (.ci/run sets it)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Every pipeline test runs on SQLite, and on PostgreSQL in a schema of its own when the URL is given."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/warehouse.db"
        return
    base = _postgres_url()
    schema = f"yk_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
def runner(landing, database_url, tmp_path) -> PipelineRunner:
    return PipelineRunner(landing, database_url, tmp_path)
