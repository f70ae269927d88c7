"""PostgreSQL row-level security in a city deployment (warehouse/access.py): a county's role sees and writes only
its own county's rows, even through a handle that asks for every county; the city's role sees the counties'
county rows and campaigns and nothing of their townships' detail, villages or people."""

import datetime as dt
import uuid

import pandas as pd
import pytest
import sqlalchemy as sa
from psycopg import sql

from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.warehouse import Replacement, Warehouse
from yukuai_pipeline.warehouse.access import city_role_statements, county_role_statements

DAY = dt.date(2023, 2, 17)


@pytest.fixture
def roles(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("row-level security is PostgreSQL's")
    suffix = uuid.uuid4().hex[:8]
    names = {"500242": f"yk_{suffix}_500242", "509901": f"yk_{suffix}_509901", "city": f"yk_{suffix}_city"}
    owner = Warehouse(database_url, county_code=None)
    owner.ensure_tables()
    owner.create_months(DAY, DAY)  # county roles may not create partitions: the owner makes the month's ahead
    schema = owner.scalar(sa.select(sa.func.current_schema()))
    with owner.engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for role in names.values():
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
            cursor.execute(
                sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(role))
            )
        for statement in [
            *county_role_statements("500242", names["500242"]),
            *county_role_statements("509901", names["509901"]),
            *city_role_statements(names["city"]),
        ]:
            cursor.execute(statement)
    url = sa.make_url(database_url)
    yield {key: url.set(username=role).render_as_string(hide_password=False) for key, role in names.items()}
    with owner.engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for role in names.values():
            cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    owner.dispose()


def _progress(rows: list[tuple[str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {"snapshot_date": DAY, "township": t, "target": 100, "completed": c, "pending": 0, "rejected": 0}
            | {"gap": max(100 - c, 0), "surplus": max(c - 100, 0)}
            for t, c in rows
        ]
    )
    return conform_output(frame, load_contract("township_progress"))


def _campaign(code: str) -> pd.DataFrame:
    row = {"campaign_id": f"{code}-2023", "county_name": code, "short_name": code, "baseline_date": DAY}
    row |= {"deadline": DAY, "county_row_label": "合计", "resident_population": 1, "target": 100}
    return conform_output(pd.DataFrame([row]), load_contract("county_campaigns"))


def test_each_county_role_sees_and_writes_only_its_own_county(roles):
    for code in ("500242", "509901"):
        own = Warehouse(roles[code], county_code=code)
        own.replace(
            [
                Replacement(
                    "township_progress",
                    _progress([("龙潭镇", 7 if code == "500242" else 9), ("合计", 50)]),
                    {"snapshot_date": DAY},
                ),
                Replacement("county_campaigns", _campaign(code), {"campaign_id": f"{code}-2023"}),
            ]
        )
    sees_all = Warehouse(roles["509901"], county_code=None)  # a handle asking for every county
    assert set(sees_all.read("township_progress")["county_code"]) == {"509901"}
    with pytest.raises(sa.exc.DBAPIError, match="row-level security"):
        sees_all.replace([Replacement("township_progress", _progress([("龙潭镇", 1)]).assign(county_code="500242"))])
    assert Warehouse(roles["500242"], county_code="500242").read("township_progress", {"township": "龙潭镇"})[
        "completed"
    ].tolist() == [7]


def test_a_county_role_writing_a_month_the_owner_has_not_made_is_told_what_to_run(roles):
    may = dt.date(2023, 5, 4)
    own = Warehouse(roles["500242"], county_code="500242")
    with pytest.raises(RuntimeError, match=r"township_progress 没有 2023-05 月的分区.*yukuai warehouse-partitions"):
        own.replace([Replacement("township_progress", _progress([("龙潭镇", 7)]).assign(snapshot_date=may))])
    assert own.read("township_progress").empty


def test_a_stored_once_tables_view_shows_a_county_role_only_its_own_county(roles):
    """The view reads with the reader's rights (security_invoker): the policies on its contents table apply, even
    when two counties' days have the very same rows (one content id, two counties' copies)."""
    summary = pd.DataFrame(
        {
            "snapshot_date": DAY,
            "township": ["龙潭镇"],
            "villages_total": [12],
            "villages_complete": [10],
            "completeness": [10 / 12],
        }
    )
    for code in ("500242", "509901"):
        Warehouse(roles[code], county_code=code).replace(
            [Replacement("roster_township_summary", summary, {"snapshot_date": DAY})]
        )
    sees_all = Warehouse(roles["509901"], county_code=None)
    assert sees_all.read("roster_township_summary")["county_code"].tolist() == ["509901"]
    assert sees_all.read("snapshot_contents")["county_code"].tolist() == ["509901"]
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
        Warehouse(roles["city"], county_code=None).read("roster_township_summary")


def test_a_table_stored_as_ranges_shows_a_county_role_only_its_own_county(roles):
    """cadre_registration (warehouse/stored_as_ranges.py): policies on its ranges and on its days table."""
    person = {"township": "龙潭镇", "village": "龙潭村", "person_key": "p1", "name": "张三", "role_groups": "committee"}
    for code, registered in (("500242", True), ("509901", False)):
        row = dict(person, snapshot_date=DAY, has_token=True, registered=registered, approved=registered)
        frame = pd.DataFrame([dict(row, referred_users=0, referred_approved=0, export_date=DAY, roster_date=DAY)])
        Warehouse(roles[code], county_code=code).replace(
            [Replacement("cadre_registration", frame, {"snapshot_date": DAY})]
        )
    sees_all = Warehouse(roles["509901"], county_code=None)
    assert sees_all.read("cadre_registration")[["county_code", "registered"]].values.tolist() == [["509901", False]]
    with sees_all.engine.connect() as conn:  # the days table itself, asked directly, has only its own county's
        for physical in ("cadre_registration__days", "cadre_registration__ranges"):
            assert conn.execute(sa.text(f"SELECT county_code FROM {physical}")).scalars().all() == ["509901"]
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
        Warehouse(roles["city"], county_code=None).read("cadre_registration")


def test_the_city_role_sees_only_county_rows_and_campaigns(roles):
    for code in ("500242", "509901"):
        Warehouse(roles[code], county_code=code).replace(
            [
                Replacement("township_progress", _progress([("龙潭镇", 5), ("合计", 60)]), {"snapshot_date": DAY}),
                Replacement("county_campaigns", _campaign(code), {"campaign_id": f"{code}-2023"}),
            ]
        )
    city = Warehouse(roles["city"], county_code=None)
    rows = city.read("township_progress")
    assert sorted(rows["county_code"]) == ["500242", "509901"] and set(rows["township"]) == {"合计"}
    from yukuai_pipeline.steps.city import city_rollup

    rollup = city_rollup(city, DAY).set_index("county_code")
    assert rollup.loc["500000", "completed"] == 120
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
        city.read("village_progress")
