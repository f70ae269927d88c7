"""The RLS-writes benchmark's machinery at a tiny size, on PostgreSQL only (its timings are run by hand:
benchmarks/README.md): every path writes the day's rows, and the schema and the role it made are gone afterwards."""

import os

import pytest
import sqlalchemy as sa

from benchmarks.rls_writes import PATHS, measure, synthetic_quotas, table


def _postgres_url() -> str:
    url = os.environ.get("YUKUAI_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("YUKUAI_TEST_POSTGRES_URL is not set: the PostgreSQL variant runs in CI (.ci/run sets it)")
    return url


def test_synthetic_quotas_split_each_village_exactly():
    frame = synthetic_quotas(500)
    assert len(frame) == 500 and frame["person_key"].is_unique
    villages = frame.groupby(["township", "village"])
    assert (villages["quota"].sum() == villages["village_target"].first()).all()
    assert (villages["gap_quota"].sum() == villages["village_gap"].first()).all()


def test_both_paths_write_the_rows_and_leave_nothing_behind():
    url = _postgres_url()
    result = measure(rows=50, repeat=1, url=url)
    for path in PATHS:
        assert [run["rows_found"] for run in result[path]["runs"]] == [50]
        assert result[path]["seconds"] > 0
    assert result["ratio_rls_to_copy"] > 0 and "RLS / COPY" in table(result)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        schemas = conn.execute(sa.text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": result["schema"]})
        roles = conn.execute(sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": result["role"]})
        assert (schemas.scalar(), roles.scalar()) == (0, 0)
    engine.dispose()
