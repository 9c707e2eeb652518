"""Only sources that are ours to expose, at apply time (issue 7 §2): before anything is granted, every
relation of the user's own that a query reads must be a security_invoker view or a table with row-level
security enabled and forced. A view written the ordinary way runs as its owner, and served another user's
draft; a table without RLS served every row to a caller with no token."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fraiseql_compiler.api import analyze, emit
from fraiseql_compiler.project import resolve_project
from tests.pg.sessions import ALICE, acting_as, install_claims_key, user

SCHEMA = """
import fraiseql
from fraiseql.scalars import ID


@fraiseql.type
class Secret:
    id: ID
    value: str


@fraiseql.query(sql_source="{source}")  # fraiseql: ignore[FQL234]
def secrets() -> list[Secret]: ...
"""

BASE = """
CREATE TABLE public.tb_secret (id uuid PRIMARY KEY, owner_id uuid NOT NULL, value text NOT NULL);
INSERT INTO public.tb_secret VALUES
    ('00000000-0000-0000-0000-000000000051', '00000000-0000-0000-0000-00000000000a', 'alice-secret'),
    ('00000000-0000-0000-0000-000000000052', '00000000-0000-0000-0000-00000000000b', 'bob-secret');
CREATE TABLE public.tb_user (id uuid PRIMARY KEY, email text NOT NULL, password_hash text, scopes text[]);
"""

SETUPS = {
    "ordinary view": "CREATE VIEW public.v_secret AS SELECT id, value, jsonb_build_object('value', value) AS data "
    "FROM public.tb_secret",
    "table without RLS": "ALTER TABLE public.tb_secret ADD COLUMN data jsonb",
    "table with RLS not forced": "ALTER TABLE public.tb_secret ADD COLUMN data jsonb; "
    "ALTER TABLE public.tb_secret ENABLE ROW LEVEL SECURITY",
    "materialized view": "CREATE MATERIALIZED VIEW public.v_secret AS SELECT id, value, "
    "jsonb_build_object('value', value) AS data FROM public.tb_secret",
}
SOURCE = {"table without RLS": "tb_secret", "table with RLS not forced": "tb_secret"}

SAFE = """
ALTER TABLE public.tb_secret ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tb_secret FORCE ROW LEVEL SECURITY;
CREATE POLICY own ON public.tb_secret FOR SELECT USING (owner_id = (SELECT fraiseql.current_user_id()::uuid));
GRANT SELECT ON public.tb_secret TO fraiseql_authenticated;
CREATE VIEW public.v_secret WITH (security_invoker = true) AS
SELECT id, value, jsonb_build_object('value', value) AS data FROM public.tb_secret;
"""


def sql(tmp_path: Path, source: str) -> list[str]:
    (tmp_path / "schema.py").write_text(textwrap.dedent(SCHEMA.replace("{source}", source)), encoding="utf-8")
    artifacts = emit(analyze(resolve_project(tmp_path / "schema.py")))
    return [a.content for a in sorted(artifacts, key=lambda a: a.path) if a.path.endswith(".sql")]


def grantees(conn: psycopg.Connection[Any], relation: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT grantee FROM information_schema.role_table_grants WHERE table_schema = 'public' "
            "AND table_name = %s AND grantee LIKE 'fraiseql%%'",
            (relation,),
        ).fetchall()
    ]


@pytest.mark.parametrize("setup", list(SETUPS))
def test_an_unsafe_source_stops_the_file_before_anything_is_granted(
    tmp_path: Path, pg_conn: psycopg.Connection[Any], setup: str
) -> None:
    source = SOURCE.get(setup, "v_secret")
    files = sql(tmp_path, source)
    pg_conn.execute(BASE + SETUPS[setup])  # type: ignore[arg-type]
    for content in files[:-1]:
        pg_conn.execute(content)  # type: ignore[arg-type]
    pg_conn.commit()
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
        pg_conn.execute(files[-1])  # type: ignore[arg-type]
    pg_conn.rollback()
    message = str(info.value)
    assert "query secrets reads " in message and f"public.{source}" in message, message
    assert info.value.diag.message_hint, "the error says how to fix it"
    assert grantees(pg_conn, source) == []
    assert pg_conn.execute("SELECT to_regclass('api.secrets')").fetchone() == (None,)


def test_a_missing_source_is_named(tmp_path: Path, pg_conn: psycopg.Connection[Any]) -> None:
    files = sql(tmp_path, "v_secret")
    pg_conn.execute(BASE)  # type: ignore[arg-type]
    for content in files[:-1]:
        pg_conn.execute(content)  # type: ignore[arg-type]
    with pytest.raises(psycopg.errors.UndefinedTable, match=r"query secrets reads public\.v_secret, which does not"):
        pg_conn.execute(files[-1])  # type: ignore[arg-type]
    pg_conn.rollback()


def test_a_security_invoker_view_over_rls_is_granted_and_its_policies_hold(
    tmp_path: Path, pg_conn: psycopg.Connection[Any]
) -> None:
    files = sql(tmp_path, "v_secret")
    pg_conn.execute(BASE)  # type: ignore[arg-type]
    for content in files[:-1]:
        pg_conn.execute(content)  # type: ignore[arg-type]
    pg_conn.execute(SAFE)  # type: ignore[arg-type]
    pg_conn.execute(files[-1])  # type: ignore[arg-type]
    install_claims_key(pg_conn)
    pg_conn.commit()
    assert sorted(grantees(pg_conn, "v_secret")) == ["fraiseql_anonymous", "fraiseql_api_key", "fraiseql_authenticated"]
    with acting_as(pg_conn, "authenticated", user(ALICE)) as conn:
        assert conn.execute("SELECT data ->> 'value' FROM api.secrets").fetchall() == [("alice-secret",)]
    # v_secret reads tb_secret as its caller, and the schema granted tb_secret to the authenticated role only
    with acting_as(pg_conn, "anonymous") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM api.secrets").fetchall()
