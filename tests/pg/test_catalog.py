"""Catalog checks on everything the compiler generates, for every example and golden case that can be
applied: the security defaults hold as PostgreSQL sees them, not only as the SQL text says."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.cases import Case, cases, sql_files
from tests.pg.test_row_security import without_subselects

CASES = [c for c in cases() if c.ddl is not None]
GENERATED_SCHEMAS = ("fraiseql", "api")


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def applied(request: pytest.FixtureRequest, pg_conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    case: Case = request.param
    assert case.ddl is not None
    pg_conn.execute(case.ddl.read_text(encoding="utf-8"))  # type: ignore[arg-type]
    for _, sql in sql_files(case):
        pg_conn.execute(sql)  # type: ignore[arg-type]
    return pg_conn


def test_every_generated_function_pins_search_path(applied: psycopg.Connection[Any]) -> None:
    rows = applied.execute(
        "SELECT n.nspname || '.' || p.proname, p.proconfig "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY(%s)",
        (list(GENERATED_SCHEMAS),),
    ).fetchall()
    assert rows
    for name, config in rows:
        assert config and "search_path=pg_catalog, pg_temp" in config, (name, config)


def test_no_generated_function_is_executable_by_public(applied: psycopg.Connection[Any]) -> None:
    rows = applied.execute(
        "SELECT n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = ANY(%s) AND has_function_privilege('public', p.oid, 'EXECUTE')",
        (list(GENERATED_SCHEMAS),),
    ).fetchall()
    assert rows == []


def test_security_definer_only_where_needed(applied: psycopg.Connection[Any]) -> None:
    rows = applied.execute(
        "SELECT n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'api' AND p.prosecdef"
    ).fetchall()
    assert rows == []  # API objects always run as the caller


def test_every_policed_table_has_rls_enabled_and_forced(applied: psycopg.Connection[Any]) -> None:
    rows = applied.execute(
        "SELECT DISTINCT c.oid::regclass::text, c.relrowsecurity, c.relforcerowsecurity "
        "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
    ).fetchall()
    for name, enabled, forced in rows:
        assert enabled and forced, name


def test_every_generated_view_is_security_invoker(applied: psycopg.Connection[Any]) -> None:
    rows = applied.execute(
        "SELECT c.oid::regclass::text, c.reloptions, n.nspname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'v' AND (n.nspname = 'api' OR c.relname LIKE 'v\\_%') AND c.relname <> 'v_report'"
    ).fetchall()
    assert rows
    for name, options, schema in rows:
        assert options and "security_invoker=true" in options, name
        if schema == "api":  # the barrier would protect nothing and cost parallel plans (docs/decisions.md)
            assert not any(o.startswith("security_barrier") for o in options), name


def test_no_policy_calls_a_helper_outside_a_subselect(applied: psycopg.Connection[Any]) -> None:
    for name, text in applied.execute(
        "SELECT policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') FROM pg_policies"
    ).fetchall():
        assert "fraiseql." not in without_subselects(text), (name, text)


def test_api_roles_have_no_write_privilege_without_a_policy(applied: psycopg.Connection[Any]) -> None:
    rows = applied.execute(
        """
        SELECT c.oid::regclass::text, r.rolname, priv
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN (VALUES ('INSERT'), ('UPDATE'), ('DELETE')) AS v(priv)
        JOIN pg_roles r ON r.rolname IN ('fraiseql_anonymous', 'fraiseql_authenticated', 'fraiseql_api_key')
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND has_table_privilege(r.oid, c.oid, priv)
          AND NOT EXISTS (
              SELECT 1 FROM pg_policy p
              WHERE p.polrelid = c.oid AND r.oid = ANY(p.polroles)
                AND p.polcmd = CASE priv WHEN 'INSERT' THEN 'a' WHEN 'UPDATE' THEN 'w' ELSE 'd' END
          )
        """
    ).fetchall()
    assert rows == []


def test_every_helper_a_policy_or_view_calls_is_stable_and_parallel_safe(applied: psycopg.Connection[Any]) -> None:
    """Issue 7 §7: a helper without PARALLEL SAFE costs every query through api.* its parallel plan. The
    claim helpers read a setting and a table (STABLE, the strictest correct label); scope_covers reads
    only its arguments (IMMUTABLE)."""
    from fraiseql_compiler.emit.sql import HELPER_FUNCTIONS

    expected = {f"fraiseql.{sig}": ("i" if sig.startswith("scope_covers") else "s") for sig in HELPER_FUNCTIONS}
    for signature, volatility in expected.items():
        row = applied.execute(
            "SELECT provolatile, proparallel FROM pg_proc WHERE oid = to_regprocedure(%s)", (signature,)
        ).fetchone()
        assert row == (volatility, "s"), (signature, row)
    revoked = applied.execute(
        "SELECT provolatile, proparallel FROM pg_proc WHERE oid = to_regprocedure('fraiseql.token_revoked()')"
    ).fetchone()
    assert revoked in (None, ("s", "s"))  # 0002 is emitted only when something needs the auth functions
