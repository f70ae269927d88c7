"""Who may read which rows, enforced by PostgreSQL itself (row-level security), for a city deployment where every
county writes the one warehouse:

- a county's role reads and writes only rows of its own county, in every table, whatever its handle asks for;
- the city's role reads the counties' campaigns and, of township_progress, only each county's own county row (合计),
  and writes city_progress; every other table (villages, rosters, users' rows, issues) is closed to it.

The warehouse's owner (the role that created the tables, e.g. for migrations and BI exports) is not subject to
these policies. Statements are composed by psycopg from quoted identifiers and a validated county code;
`yukuai warehouse-roles` prints them for the database administrator, tests apply them.
"""

from psycopg import sql

from yukuai_pipeline.contracts import TABLES, load_contract
from yukuai_pipeline.warehouse.county_scope import valid_county_code
from yukuai_pipeline.warehouse.stored_as_ranges import days_name, ranges_name
from yukuai_pipeline.warehouse.stored_once import contents_name

_WRITE = sql.SQL("SELECT, INSERT, UPDATE, DELETE")
# the city sees these tables, each through the row filter given
_CITY_READS = {
    "county_campaigns": sql.SQL("true"),
    # a county's own county row: its township column holds the county row label of its campaign
    "township_progress": sql.SQL(
        "EXISTS (SELECT 1 FROM county_campaigns c WHERE c.county_code = township_progress.county_code "
        "AND c.county_row_label = township_progress.township)"
    ),
}


def county_role_statements(county_code: str, role: str) -> list[sql.Composed]:
    """Row-level security on every table, and a policy letting `role` see and write county `county_code` only."""
    code = sql.Literal(valid_county_code(county_code))
    policy = sql.Identifier(f"county_{county_code}")
    who = sql.Identifier(role)
    statements = []
    physical = []
    for name in TABLES:
        contract = load_contract(name)
        if contract.stored_once:
            # the view reads with the reader's rights (security_invoker): the policies sit on the tables it joins
            statements.append(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(name), who))
            if contract.stored_as_ranges:
                physical += [ranges_name(name), days_name(name)]
            else:
                physical.append(contents_name(name))
        else:
            physical.append(name)
    for name in physical:
        table = sql.Identifier(name)
        statements += [
            sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table),
            sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(policy, table),
            sql.SQL("CREATE POLICY {} ON {} TO {} USING (county_code = {}) WITH CHECK (county_code = {})").format(
                policy, table, who, code, code
            ),
            sql.SQL("GRANT {} ON {} TO {}").format(_WRITE, table, who),
        ]
    return statements


def city_role_statements(role: str) -> list[sql.Composed]:
    """The city's role: the counties' campaigns and county rows to read, city_progress to write; nothing else."""
    who, policy = sql.Identifier(role), sql.Identifier("city")
    statements = []
    for name, rows in [*_CITY_READS.items(), ("city_progress", sql.SQL("true"))]:
        table = sql.Identifier(name)
        grant = _WRITE if name == "city_progress" else sql.SQL("SELECT")
        statements += [
            sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table),
            sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(policy, table),
            sql.SQL("CREATE POLICY {} ON {} TO {} USING ({})").format(policy, table, who, rows),
            sql.SQL("GRANT {} ON {} TO {}").format(grant, table, who),
        ]
    return statements


def as_text(statements: list[sql.Composed]) -> str:
    """The statements as a script for psql (identifiers quoted the way PostgreSQL quotes them)."""
    return "".join(s.as_string(None) + ";\n" for s in statements)
