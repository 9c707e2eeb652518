"""What PostgreSQL allows each role equals what the access rules say (issue 7), tried as the attacker of
DESIGN.md's threat model: someone running arbitrary SQL as an API role.

The expected set is never written by hand: ``emit/privileges.py`` derives it from the access rules (columns
per table), the operations' guards (who reaches a function or a source) and the auth functions' grants. Two
comparisons, both ways (nothing missing, nothing more):

- the catalog, for every example and golden case that can be applied: every function, relation and column
  in every non-system schema, for every API role and the authenticator;
- behaviour, on the blog: for each API role and each kind of claims (valid, revoked, incomplete, absent,
  another issuer's, and valid claims without a valid proof: none, another claims', another role's — issue
  13: SQL can set any claims, but cannot prove them), the statements themselves (SELECT/INSERT/UPDATE each
  column, DELETE each table, SELECT each view, call each function), and the rows each role may read, update
  and delete, compared with the policies' own predicates evaluated for the identity the claims carry (none,
  unless they are valid).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from fraiseql_compiler.api import Analysis, analyze
from fraiseql_compiler.emit.privileges import Privileges, privileges
from fraiseql_compiler.project import resolve_project
from tests.cases import Case, cases, sql_files
from tests.pg.sessions import ALICE, BOB, ROLES, install_claims_key, set_claims, user
from tests.pgserver import PgServer

CASES = [c for c in cases() if c.ddl is not None]
BLOG = next(c for c in CASES if c.name == "examples/blog")
USER_SCHEMAS = "left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema'"
NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "REFERENCES")


def analysis_of(case: Case) -> Analysis:
    return analyze(resolve_project(case.project, case.expected))


def apply(conn: psycopg.Connection[Any], case: Case) -> None:
    assert case.ddl is not None
    conn.execute(case.ddl.read_text(encoding="utf-8"))  # type: ignore[arg-type]
    for _, content in sql_files(case):
        conn.execute(content)  # type: ignore[arg-type]
    install_claims_key(conn)  # what `fraiseql migrate` does after the SQL
    conn.commit()


# --- the catalog -------------------------------------------------------------------------------------------


def actual_grants(conn: psycopg.Connection[Any], roles: list[str]) -> set[tuple[str, ...]]:
    """(kind, object, privilege, role) for everything the roles may do in the non-system schemas."""
    found: set[tuple[str, ...]] = set()
    for oid, role in conn.execute(
        f"SELECT p.oid, r.rolname FROM pg_proc p "
        f"JOIN pg_namespace n ON n.oid = p.pronamespace CROSS JOIN pg_roles r "
        f"WHERE {USER_SCHEMAS} AND {NOT_EXTENSION.format(oid='p.oid')} AND r.rolname = ANY(%s) "
        f"AND has_function_privilege(r.oid, p.oid, 'EXECUTE')",
        (roles,),
    ).fetchall():
        found.add(("function", str(oid), "EXECUTE", role))
    for relation, kind, privilege, role in conn.execute(
        f"SELECT format('%%I.%%I', n.nspname, c.relname), c.relkind, v.privilege, r.rolname FROM pg_class c "
        f"JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN unnest(%s::text[]) AS v(privilege) "
        f"CROSS JOIN pg_roles r WHERE {USER_SCHEMAS} AND {NOT_EXTENSION.format(oid='c.oid')} "
        f"AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND r.rolname = ANY(%s) "
        f"AND has_table_privilege(r.oid, c.oid, v.privilege)",
        (list(TABLE_PRIVILEGES), roles),
    ).fetchall():
        found.add(("table" if kind in "rp" else "view", relation, privilege, role))
    for relation, column, privilege, role in conn.execute(
        f"SELECT format('%%I.%%I', n.nspname, c.relname), a.attname, v.privilege, r.rolname FROM pg_class c "
        f"JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
        f"CROSS JOIN unnest(%s::text[]) AS v(privilege) CROSS JOIN pg_roles r "
        f"WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped "
        f"AND r.rolname = ANY(%s) AND NOT has_table_privilege(r.oid, c.oid, v.privilege) "
        f"AND has_column_privilege(r.oid, c.oid, a.attnum, v.privilege)",
        (list(COLUMN_PRIVILEGES), roles),
    ).fetchall():
        found.add(("column", f"{relation}.{column}", privilege, role))
    for relation, role in conn.execute(
        f"SELECT format('%%I.%%I', n.nspname, c.relname), r.rolname FROM pg_class c "
        f"JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN pg_roles r "
        f"WHERE {USER_SCHEMAS} AND c.relkind = 'S' AND r.rolname = ANY(%s) "
        f"AND has_sequence_privilege(r.oid, c.oid, 'USAGE,SELECT,UPDATE')",
        (roles,),
    ).fetchall():
        found.add(("sequence", relation, "ANY", role))
    return found


def expected_grants(conn: psycopg.Connection[Any], model: Privileges) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for signature, roles in model.functions.items():
        oid = conn.execute("SELECT to_regprocedure(%s)::oid", (signature,)).fetchone()
        assert oid is not None and oid[0] is not None, f"the model names {signature}, which was not created"
        found |= {("function", str(oid[0]), "EXECUTE", role) for role in roles}
    kinds = dict(
        conn.execute(
            f"SELECT format('%%I.%%I', n.nspname, c.relname), c.relkind FROM pg_class c "
            f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_SCHEMAS}"
        ).fetchall()
    )
    for relation, roles in model.relations.items():
        kind = "table" if kinds.get(relation, "v") in "rp" else "view"
        found |= {(kind, relation, "SELECT", role) for role in roles}
    for table in model.tables:
        for role in model.role_names.values():
            for column, privs in model.column_privileges(table, role).items():
                found |= {("column", f"{table}.{column}", p, role) for p in privs}
            if model.can_delete(table, role):
                found.add(("table", table, "DELETE", role))
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_what_postgresql_allows_each_role_is_exactly_what_the_rules_say(
    pg_conn: psycopg.Connection[Any], case: Case
) -> None:
    apply(pg_conn, case)
    model = privileges(analysis_of(case).schema, analysis_of(case).facts)
    roles = sorted(model.role_names.values())
    actual, expected = actual_grants(pg_conn, roles), expected_grants(pg_conn, model)
    names = dict(pg_conn.execute("SELECT oid::text, oid::regprocedure::text FROM pg_proc").fetchall())

    def readable(rows: set[tuple[str, ...]]) -> list[tuple[str, ...]]:
        return sorted((k, names.get(o, o) if k == "function" else o, p, r) for k, o, p, r in rows)

    assert readable(actual - expected) == [], "granted, but no rule allows it"
    assert readable(expected - actual) == [], "a rule allows it, but it is not granted"


def test_no_api_role_may_read_or_write_a_credential_column(pg_conn: psycopg.Connection[Any]) -> None:
    """The issue's first reproduction: Bob read every bcrypt hash and gave himself admin scopes."""
    apply(pg_conn, BLOG)
    for role in ROLES.values():
        for column in ("password_hash", "scopes"):
            for privilege in ("SELECT", "INSERT", "UPDATE"):
                allowed = pg_conn.execute(
                    "SELECT has_column_privilege(%s, 'public.tb_user', %s, %s)", (role, column, privilege)
                ).fetchone()
                assert allowed == (False,), (role, column, privilege)
        for privilege in ("INSERT", "UPDATE"):
            assert pg_conn.execute(
                "SELECT has_column_privilege(%s, 'public.tb_user', 'email', %s)", (role, privilege)
            ).fetchone() == (False,), (role, "email", privilege)
    with pg_conn.transaction(force_rollback=True):
        pg_conn.execute("SET LOCAL ROLE fraiseql_authenticated")
        _set_claims(pg_conn, "fraiseql_authenticated", user(BOB))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pg_conn.execute("SELECT email, password_hash FROM public.tb_user")
    with pg_conn.transaction(force_rollback=True):
        pg_conn.execute("SET LOCAL ROLE fraiseql_authenticated")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pg_conn.execute("UPDATE public.tb_user SET scopes = '{admin:posts,admin:revoke}' WHERE id = %s", (BOB,))


def test_a_mutation_function_is_executable_only_by_the_roles_that_can_pass_its_guards(
    pg_conn: psycopg.Connection[Any],
) -> None:
    """fn_delete_post was executable by PUBLIC: anyone could skip api.delete_post's checks."""
    apply(pg_conn, BLOG)
    rows = dict(
        pg_conn.execute(
            "SELECT p.proname, array(SELECT r.rolname FROM pg_roles r WHERE r.rolname LIKE 'fraiseql\\_%%' "
            "AND has_function_privilege(r.oid, p.oid, 'EXECUTE') ORDER BY 1)::text[] FROM pg_proc p "
            "WHERE p.proname IN ('fn_create_post', 'fn_delete_post', 'fn_ingest_data') "
            "AND p.pronamespace = 'public'::regnamespace"
        ).fetchall()
    )
    assert rows == {
        "fn_create_post": ["fraiseql_api_key", "fraiseql_authenticated"],
        "fn_delete_post": ["fraiseql_api_key", "fraiseql_authenticated"],
        "fn_ingest_data": ["fraiseql_api_key"],
    }
    public = pg_conn.execute(
        "SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
        "AND p.proname LIKE 'fn\\_%%' AND has_function_privilege('public', p.oid, 'EXECUTE')"
    ).fetchone()
    assert public == (0,)


def test_calling_a_mutation_function_directly_skips_no_check(pg_conn: psycopg.Connection[Any]) -> None:
    """The repro: the scope check in api.delete_post was skipped by calling public.fn_delete_post directly."""
    apply(pg_conn, BLOG)
    bob_draft = "00000000-0000-0000-0000-0000000000b1"
    delete = "SELECT public.fn_delete_post(%s, jsonb_build_object('id', %s::text))"
    with pg_conn.transaction(force_rollback=True):
        pg_conn.execute("SET LOCAL ROLE fraiseql_anonymous")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pg_conn.execute(delete, (None, bob_draft))
    with pg_conn.transaction(force_rollback=True):
        pg_conn.execute("SET LOCAL ROLE fraiseql_authenticated")
        _set_claims(pg_conn, "fraiseql_authenticated", user(BOB, "read:posts"))  # his own draft, not admin:posts
        with pytest.raises(psycopg.Error, match="admin:posts") as info:
            pg_conn.execute(delete, (BOB, bob_draft))
        assert info.value.sqlstate == "PT403"
    assert pg_conn.execute("SELECT count(*) FROM public.tb_post WHERE id = %s", (bob_draft,)).fetchone() == (1,)


SHADOWED_TYPES = ("text", "jsonb", "uuid", "bytea", "timestamptz", "bool", "int4", "int8", "numeric", "varchar")


@pytest.mark.parametrize("role", [*ROLES, "authenticator"])
def test_a_temporary_type_cannot_run_code_inside_our_functions(
    blog: psycopg.Connection[Any], blog_model: tuple[Analysis, Privileges], role: str
) -> None:
    """Every role may create temporary objects (PUBLIC holds TEMP on a database by default), and a path
    without pg_temp searches it first for types: a temporary domain named `text` whose CHECK calls the
    caller's own function then ran that function inside fn_login, as its owner. With pg_temp last in
    every generated function's search_path, the domain is never used."""
    _, model = blog_model
    name = model.role_names[role]
    ran_as: list[str] = []

    def record(diagnostic: psycopg.errors.Diagnostic) -> None:
        if "evil ran as" in (diagnostic.message_primary or ""):
            ran_as.append(diagnostic.message_primary or "")

    blog.add_notice_handler(record)
    try:
        with blog.transaction(force_rollback=True):
            blog.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(name)))
            _set_claims(blog, name, user(ALICE, *blog_scopes(), auth="api_key" if role == "api_key" else "jwt"))
            blog.execute(
                "CREATE FUNCTION pg_temp.evil(v pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE NOTICE 'evil ran as %', current_user; RETURN true; END $$"
            )
            for t in SHADOWED_TYPES:
                blog.execute(
                    f"CREATE DOMAIN pg_temp.{t} AS pg_catalog.{t} CHECK (pg_temp.evil(VALUE::pg_catalog.text))"  # type: ignore[arg-type]
                )
            blog.execute("SELECT NULL::text")  # the domain works where a path reaches it: evil runs as the caller
            assert ran_as == [f"evil ran as {name}"]
            ran_as.clear()
            called = 0
            for signature, roles in sorted(model.functions.items()):
                if name not in roles:
                    continue
                function, _, args = signature.partition("(")
                types = [a.strip() for a in args.rstrip(")").split(",") if a.strip()]
                values = ", ".join(f"(SELECT NULL::pg_catalog.{t})" if t.isidentifier() else "NULL" for t in types)
                try:
                    with blog.transaction():
                        blog.execute(f"SELECT * FROM {function}({values})")  # type: ignore[arg-type]
                except psycopg.Error:
                    pass  # a guard or a NULL argument refusing: what matters is who ran evil
                called += 1
            assert called, "the role may call something"
    finally:
        blog.remove_notice_handler(record)
    assert ran_as == [], f"a temporary type ran code inside our functions: {ran_as}"


# --- behaviour, as each role with each kind of claims --------------------------------------------------------

REVOKED_JTI = "jti-revoked-for-privileges"


def blog_scopes() -> list[str]:
    """Every scope the blog's rules and guards name: a valid identity carries them all, so every rule is
    exercised with the identity it needs."""
    text = (BLOG.project / "schema.py").read_text(encoding="utf-8")
    rules = re.findall(r"\{scope:([a-z_:*]+)\}", text)
    return sorted(set(rules) | set(re.findall(r'requires_scope\("([^"]+)"\)', text)))


# How the claims are proven (issue 13): as the runtime does, for the role the request runs as; not at all;
# by the proof the runtime made for other claims (Bob's, set under Alice's); for another API role.
PROVEN, UNPROVEN, OTHER_CLAIMS, OTHER_ROLE = "proven", "unproven", "other claims", "other role"


def claims_kinds(role: str) -> dict[str, tuple[dict[str, Any] | None, str, bool]]:
    """kind → (claims as set, how they are proven, whether they are an identity the configuration accepts)."""
    method = "api_key" if role == "api_key" else "jwt"
    valid = user(ALICE, *blog_scopes(), auth=method)
    identity = role != "anonymous"
    return {
        "valid": (valid, PROVEN, identity),
        "valid, no scope": (user(BOB, auth=method), PROVEN, identity),
        "revoked": (valid | {"jti": REVOKED_JTI, "auth": "jwt"}, PROVEN, False),
        "no auth method": ({k: v for k, v in valid.items() if k != "auth"}, PROVEN, False),
        "no jti": ({k: v for k, v in valid.items() if k != "jti"} | {"auth": "jwt"}, PROVEN, False),
        "absent": (None, PROVEN, False),
        "another issuer": (valid | {"provider": "not-configured"}, PROVEN, False),
        "valid, unproven": (valid, UNPROVEN, False),
        "valid, another's proof": (valid, OTHER_CLAIMS, False),
        "valid, proven for another role": (valid, OTHER_ROLE, False),
    }


KINDS = [(role, kind) for role in ROLES for kind in claims_kinds(role)]


@pytest.fixture(scope="module")
def blog_model() -> tuple[Analysis, Privileges]:
    analysis = analysis_of(BLOG)
    return analysis, privileges(analysis.schema, analysis.facts)


@pytest.fixture(scope="module")
def blog(pg_server: PgServer) -> Iterator[psycopg.Connection[Any]]:
    """One blog database for the module: every test below works in a transaction it rolls back."""
    url = pg_server.create_database()
    try:
        with psycopg.connect(url, autocommit=False) as conn:
            apply(conn, BLOG)
            conn.execute(
                "INSERT INTO fraiseql.tb_revoked_token (jti, subject, exp) VALUES (%s, %s, now() + interval '1 hour')",
                (REVOKED_JTI, ALICE),
            )
            conn.commit()
            yield conn
    finally:
        pg_server.drop_database(url)


def _set_claims(conn: psycopg.Connection[Any], role: str, claims: dict[str, Any] | None, proof: str = PROVEN) -> None:
    """``claims`` (None: '') for database role ``role``, proven as ``proof`` says."""
    set_claims(conn, role, "" if claims is None else claims)
    if proof == UNPROVEN:
        conn.execute("SELECT set_config('request.jwt.claims_proof', '', true)")
    elif proof == OTHER_CLAIMS:  # the proof the runtime set for Bob's own claims, kept under forged ones
        set_claims(conn, role, user(BOB))
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
    elif proof == OTHER_ROLE:
        set_claims(conn, next(r for r in ROLES.values() if r != role), "" if claims is None else claims)


def _login_role(conn: psycopg.Connection[Any]) -> str:
    """The role the owner's statements run as (no SET ROLE): the one its claims must be proven for."""
    row = conn.execute("SELECT session_user").fetchone()
    assert row is not None
    return str(row[0])


def _allowed(conn: psycopg.Connection[Any], statement: sql.Composable) -> bool:
    """Whether PostgreSQL lets the current role run ``statement`` (which touches no row). A guard that
    raises (PT401 …) ran, so the privilege check passed: only "permission denied" counts as refused."""
    try:
        with conn.transaction():
            conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return False
    except psycopg.Error as exc:
        assert exc.sqlstate and exc.sqlstate.startswith("PT"), exc  # a guard, nothing else
    return True


Objects = tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str]], list[tuple[str, str, str, str]]]


def _objects(conn: psycopg.Connection[Any]) -> Objects:
    columns = conn.execute(
        f"SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname), a.attname FROM pg_class c "
        f"JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"JOIN pg_attribute a ON a.attrelid = c.oid WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p') "
        f"AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2, 3"
    ).fetchall()
    views = conn.execute(
        f"SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n "
        f"ON n.oid = c.relnamespace WHERE {USER_SCHEMAS} AND c.relkind IN ('v', 'm') ORDER BY 1, 2"
    ).fetchall()
    functions = conn.execute(
        f"SELECT n.nspname, p.proname, format('%I.%I', n.nspname, p.proname), oidvectortypes(p.proargtypes) "
        f"FROM pg_proc p "
        f"JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER_SCHEMAS} "
        f"AND {NOT_EXTENSION.format(oid='p.oid')} AND p.prokind = 'f' ORDER BY 1, 2"
    ).fetchall()
    return columns, views, functions


@pytest.mark.parametrize(("role", "kind"), KINDS, ids=[f"{r}-{k}" for r, k in KINDS])
def test_each_statement_succeeds_exactly_when_the_rules_allow_it(
    blog: psycopg.Connection[Any], blog_model: tuple[Analysis, Privileges], role: str, kind: str
) -> None:
    _, model = blog_model
    name = ROLES[role]
    columns, views, functions = _objects(blog)
    claims, proof, _ = claims_kinds(role)[kind]
    actual: set[tuple[str, ...]] = set()
    expected: set[tuple[str, ...]] = set()
    with blog.transaction(force_rollback=True):
        blog.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(name)))
        _set_claims(blog, name, claims, proof)
        tables = sorted({(s, t, q) for s, t, q, _ in columns})
        for schema, table, qualified, column in columns:
            rel, col = sql.Identifier(schema, table), sql.Identifier(column)
            tries = {
                "SELECT": sql.SQL("SELECT {} FROM {} WHERE false").format(col, rel),
                "INSERT": sql.SQL("INSERT INTO {} ({}) SELECT NULL WHERE false").format(rel, col),
                "UPDATE": sql.SQL("UPDATE {} SET {} = DEFAULT WHERE false").format(rel, col),
            }
            granted = model.column_privileges(qualified, name) if qualified in model.tables else {}
            for privilege, statement in tries.items():
                if _allowed(blog, statement):
                    actual.add((qualified, column, privilege))
                if privilege in granted.get(column, ()):
                    expected.add((qualified, column, privilege))
        for schema, table, qualified in tables:
            if _allowed(blog, sql.SQL("DELETE FROM {} WHERE false").format(sql.Identifier(schema, table))):
                actual.add((qualified, "", "DELETE"))
            if qualified in model.tables and model.can_delete(qualified, name):
                expected.add((qualified, "", "DELETE"))
        for schema, relation, view in views:
            if _allowed(blog, sql.SQL("SELECT 1 FROM {} WHERE false").format(sql.Identifier(schema, relation))):
                actual.add((view, "", "SELECT"))
            source = model.sources.get(view)  # an API view reads its source as the caller: both must allow it
            if name in model.relations.get(view, ()) and (source is None or name in model.relations[source]):
                expected.add((view, "", "SELECT"))
        signatures = {f.replace(", ", ","): roles for f, roles in model.functions.items()}
        for schema, proname, function, args in functions:
            types = [t for t in args.split(", ") if t]
            call = sql.SQL("EXPLAIN SELECT {}({})").format(
                sql.Identifier(schema, proname),
                # (SELECT NULL): a constant NULL would let the planner fold a STRICT function unchecked
                sql.SQL(", ").join(sql.SQL(f"(SELECT NULL::{t})") for t in types),  # type: ignore[arg-type]
            )
            if _allowed(blog, call):
                actual.add((function, args, "EXECUTE"))
            if name in signatures.get(f"{function}({args.replace(', ', ',')})", ()):
                expected.add((function, args, "EXECUTE"))
    assert sorted(actual - expected) == [], f"{name} with {kind} claims may do more than the rules allow"
    assert sorted(expected - actual) == [], f"{name} with {kind} claims may do less than the rules allow"


def _policy_predicate(analysis: Analysis, table: str, role: str, action: str) -> str:
    """The OR of the role's policies for ``action`` on ``table``, as the compiler emitted them (FALSE: none)."""
    access = analysis.facts.tables[table]
    policies = access.rules.policies if access.rules is not None else ()
    exprs = [analysis.facts.policies[p.id] for p in policies if p.role == role and p.action == action]
    return " OR ".join(f"({e})" for e in exprs) or "FALSE"


@pytest.mark.parametrize(("role", "kind"), KINDS, ids=[f"{r}-{k}" for r, k in KINDS])
def test_each_role_reaches_exactly_the_rows_its_identity_is_allowed(
    blog: psycopg.Connection[Any], blog_model: tuple[Analysis, Privileges], role: str, kind: str
) -> None:
    """Rows read, updated and deleted as the role, against the policies' predicates evaluated (by the owner,
    past RLS) for the identity the claims carry: the claims themselves when valid, no identity otherwise."""
    analysis, model = blog_model
    claims, proof, valid = claims_kinds(role)[kind]
    name = ROLES[role]
    for table, access in model.tables.items():
        read = _policy_predicate(analysis, table, role, "read")
        update = _policy_predicate(analysis, table, role, "update")
        delete = _policy_predicate(analysis, table, role, "delete")
        with blog.transaction(force_rollback=True):
            _set_claims(blog, _login_role(blog), claims if valid else None)  # the identity, proven for the owner
            expected = blog.execute(
                f"SELECT count(*) FILTER (WHERE {read}), count(*) FILTER (WHERE ({update}) AND ({read})), "  # type: ignore[arg-type]
                f"count(*) FILTER (WHERE {delete}) FROM {table}"
            ).fetchone()
        column = next((c for c in access.updatable if c in access.readable), None)
        may_update = column is not None and role in access.roles_for("update")
        with blog.transaction(force_rollback=True):
            blog.execute("SET LOCAL session_replication_role = replica")  # no FK checks: count, do not cascade
            blog.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(name)))
            _set_claims(blog, name, claims, proof)
            seen = blog.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[arg-type]
            updated = deleted = 0
            if may_update:
                assert column is not None
                col = sql.Identifier(column)
                updated = blog.execute(
                    sql.SQL("UPDATE {} SET {} = {}").format(sql.SQL(table), col, col)  # type: ignore[arg-type]
                ).rowcount
            if model.can_delete(table, name):
                deleted = blog.execute(f"DELETE FROM {table}").rowcount  # type: ignore[arg-type]
        assert expected is not None and seen is not None
        assert (seen[0], updated, deleted) == (expected[0], expected[1] if may_update else 0, expected[2]), (
            table,
            role,
            kind,
        )
        if not valid:  # no identity: exactly what the role reaches with no claims at all
            assert (seen[0], updated, deleted) == _with_no_claims(blog, table, name, column, model), (table, kind)


def _with_no_claims(
    conn: psycopg.Connection[Any], table: str, role: str, column: str | None, model: Privileges
) -> tuple[int, int, int]:
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[arg-type]
        assert row is not None
        updated = deleted = 0
        key = next(k for k, n in model.role_names.items() if n == role)
        if column is not None and key in model.tables[table].roles_for("update"):
            col = sql.Identifier(column)
            updated = conn.execute(sql.SQL("UPDATE {} SET {} = {}").format(sql.SQL(table), col, col)).rowcount  # type: ignore[arg-type]
        if model.can_delete(table, role):
            deleted = conn.execute(f"DELETE FROM {table}").rowcount  # type: ignore[arg-type]
        return row[0], updated, deleted
