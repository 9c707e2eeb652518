"""``sql/0002_auth.sql`` against a real PostgreSQL: login, refresh rotation, API keys, revocation, OAuth users,
and the boundaries (grants, forced RLS, search_path) that keep the API roles away from credentials.

Each request is played as the runtime plays it: a transaction, ``SET LOCAL ROLE <api role>``, the
normalized claims in ``request.jwt.claims`` (transaction-local), then the call.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from psycopg import sql

from fraiseql_compiler.config import ConfigError, parse_config
from fraiseql_compiler.emit.auth_sql import GRANTS, TABLES, emit_auth_sql
from fraiseql_compiler.emit.sql import HELPER_FUNCTIONS, emit_fraiseql_schema
from fraiseql_compiler.ir import Schema
from fraiseql_compiler.settings import Settings
from tests.pg.sessions import install_claims_key, set_claims

Conn = psycopg.Connection[Any]

ROOT = Path(__file__).resolve().parents[2]
BLOG_DDL = (ROOT / "examples/blog/db/migrations/0001_base.sql").read_text(encoding="utf-8")
SUB_A = "00000000-0000-0000-0000-00000000000a"  # alice@example.com, scopes read:posts write:posts
SUB_B = "00000000-0000-0000-0000-00000000000b"  # bob@example.com, scopes read:posts
PASSWORD = "correct horse battery staple"
MAX_ATTEMPTS = 3
TEST_COST = 8  # bcrypt cost of the test users' hashes, and so (bcrypt_cost) of the dummy hash

ACCOUNT_DDL = """
CREATE SCHEMA IF NOT EXISTS app;
CREATE TABLE IF NOT EXISTS app.tb_account (
    account_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "user" text NOT NULL UNIQUE,
    pw text,
    perms jsonb NOT NULL DEFAULT '[]'
);
INSERT INTO app.tb_account ("user", perms) VALUES ('carol', '["write:x", "read:x"]');
"""
ACCOUNT_LOGIN = {
    "table": "app.tb_account",
    "id_column": "account_id",
    "identifier_column": "user",  # a reserved word: quoted in the SQL
    "password_hash_column": "pw",
    "scopes_column": "perms",  # jsonb
}


def make_ctx(*, revocation: bool = True, schema: str = "public", login: tuple[tuple[str, str], ...] = ()) -> Settings:
    """Settings from a real fraiseql.toml, through the config parser."""
    import tomli_w

    document = {
        "database": {"schema": schema},
        "auth": {"login": {"bcrypt_cost": TEST_COST, **dict(login)}, "jwt": {"refresh_token_ttl_seconds": 3600}},
        "security": {
            "token_revocation": {"enabled": revocation, "require_jti": True},
            "rate_limiting": {"login_max_attempts": MAX_ATTEMPTS, "login_window_seconds": 900, "lockout_seconds": 900},
        },
    }
    return Settings.from_config(parse_config(tomli_w.dumps(document)))


@cache
def _sql(revocation: bool = True, schema: str = "public", login: tuple[tuple[str, str], ...] = ()) -> tuple[str, str]:
    ctx = make_ctx(revocation=revocation, schema=schema, login=login)
    return emit_fraiseql_schema(Schema(), ctx), emit_auth_sql(ctx)


def apply(conn: Conn, *, ddl: str = BLOG_DDL, revocation: bool = True, login: tuple[tuple[str, str], ...] = ()) -> None:
    """Base tables, 0001, 0002 (as the superuser), and a password for every user."""
    conn.autocommit = True
    schema_0001, auth_0002 = _sql(revocation, "public", login)
    conn.execute(ddl)
    conn.execute(schema_0001)
    conn.execute(auth_0002)
    install_claims_key(conn)  # what `fraiseql migrate` does after the SQL
    if not login:
        conn.execute("UPDATE public.tb_user SET password_hash = fraiseql.bcrypt_hash(%s)", (PASSWORD,))


CTX = make_ctx()
ANON = CTX.roles.anonymous.name
AUTHED = CTX.roles.authenticated.name
API_KEY = CTX.roles.api_key.name
AUTHENTICATOR = CTX.roles.authenticator.name
API_ROLES = (ANON, AUTHED, API_KEY)


def jwt(sub: str = SUB_A, scopes: tuple[str, ...] = ("read:posts", "write:posts"), **extra: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": sub, "auth": "jwt", "scopes": list(scopes), "iat": int(time.time()) - 60}
    claims["jti"] = f"jti-{sub[-1]}"
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


def call(conn: Conn, role: str, claims: dict[str, Any] | None, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """One request: SET LOCAL ROLE, claims, the query; committed unless it raises."""
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        set_claims(conn, role, "" if claims is None else claims)  # proven for the role, as the runtime does
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def as_authenticator(conn: Conn, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(AUTHENTICATOR)))
        return conn.execute(query, params).fetchall()


def fails(expected: str, fn: Callable[[], object]) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as info:
        fn()
    assert info.value.sqlstate == expected, f"{info.value.sqlstate}: {info.value}"
    return info.value


def login(conn: Conn, identifier: str = "alice@example.com", password: str = PASSWORD) -> list[Any]:
    return call(conn, ANON, None, "SELECT * FROM fraiseql.fn_login(%s, %s)", (identifier, password))


def refresh(conn: Conn, token: str) -> list[Any]:
    return call(conn, ANON, None, "SELECT * FROM fraiseql.fn_refresh_token(%s)", (token,))


def create_key(conn: Conn, claims: dict[str, Any], scopes: list[str] | None, expires: str | None = None) -> list[Any]:
    return call(
        conn, AUTHED, claims, "SELECT * FROM fraiseql.fn_create_api_key('ci', %s, %s::timestamptz)", (scopes, expires)
    )


def verify(conn: Conn, key: str) -> list[Any]:
    return as_authenticator(conn, "SELECT * FROM fraiseql.fn_verify_api_key(%s)", (key,))


def require_auth(conn: Conn, claims: dict[str, Any], role: str = AUTHED) -> list[Any]:
    return call(conn, role, claims, "SELECT fraiseql.require_authenticated()")


def sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


# --- the file itself ---------------------------------------------------------------------------------


def test_every_statement_parses_with_pglast_and_plpgsql_bodies_too() -> None:
    for revocation in (True, False):
        text = _sql(revocation)[1]
        statements = pglast.parse_sql(text)
        assert len(statements) > 80
        for raw in pglast.split(text):
            if re.search(r"LANGUAGE plpgsql", raw) and raw.lstrip().startswith("CREATE"):
                pglast.parse_plpgsql(raw)
    default = emit_auth_sql(Settings.from_config(parse_config("")))
    pglast.parse_sql(default)
    assert "'$2a$12$" in default  # the dummy hash has the configured cost (default 12) ...
    assert "'$2a$08$" in _sql()[1]  # ... here the test users' cost
    # every policy is named fqlauth_* (the type policies own, and drop, fql\_%)
    assert set(re.findall(r"CREATE POLICY (\w+)", default)) == {"fqlauth_owner"}


def test_the_settings_compiled_into_0002_are_the_configs_validated_values() -> None:
    """One source for every default and bound: the config models (the SQL layer restates none)."""
    settings = Settings.from_config(parse_config('[auth.login]\ntable = "app.tb_account"\n'))
    assert settings.login.table == "app.tb_account"
    assert (settings.rate_limiting.login_window_seconds, settings.login.bcrypt_cost) == (900, 12)
    for bad in (
        "[security.api_keys]\nprefix = \"x'; DROP TABLE t; --\"",
        "[security.rate_limiting]\nlogin_max_attempts = 0",
        "[security.rate_limiting]\nlogin_window_seconds = 30",
        "[auth.login]\nbcrypt_cost = 3",
    ):
        with pytest.raises(ConfigError):
            parse_config(bad)


def _snapshot(conn: Conn) -> list[Any]:
    return conn.execute(
        """
        SELECT 'fn', p.oid::regprocedure::text, pg_get_functiondef(p.oid), p.proacl::text
        FROM pg_proc p WHERE p.pronamespace = 'fraiseql'::regnamespace
        UNION ALL
        SELECT 'rel', c.oid::regclass::text, c.relrowsecurity::text || c.relforcerowsecurity::text, c.relacl::text
        FROM pg_class c WHERE c.relnamespace = 'fraiseql'::regnamespace
        UNION ALL
        SELECT 'pol', p.polrelid::regclass::text || '.' || p.polname, pg_get_expr(p.polqual, p.polrelid),
               p.polroles::text
        FROM pg_policy p
        ORDER BY 1, 2
        """
    ).fetchall()


def test_applying_twice_is_idempotent(pg_conn: Conn) -> None:
    apply(pg_conn)
    [(_, _, token)] = login(pg_conn)
    before = _snapshot(pg_conn)
    pg_conn.execute(_sql()[1])
    assert _snapshot(pg_conn) == before
    assert refresh(pg_conn, token)  # data survives


def test_missing_login_table_fails_the_migration_with_a_message(pg_conn: Conn) -> None:
    pg_conn.autocommit = True
    pg_conn.execute(_sql()[0])
    error = fails("42P01", lambda: pg_conn.execute(_sql()[1]))
    assert "[auth.login] table public.tb_user does not exist" in str(error)


# --- the boundary ------------------------------------------------------------------------------------


def test_catalog_search_path_forced_rls_and_owner_only_policies(pg_conn: Conn) -> None:
    apply(pg_conn)
    unpinned = pg_conn.execute(
        """SELECT p.oid::regprocedure::text FROM pg_proc p
           WHERE p.pronamespace = 'fraiseql'::regnamespace
             AND NOT ('search_path=pg_catalog, pg_temp' = ANY (COALESCE(p.proconfig, '{}')))"""
    ).fetchall()
    assert unpinned == []
    tables = pg_conn.execute(
        """SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
           WHERE c.relnamespace = 'fraiseql'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1"""
    ).fetchall()
    # the credential tables, and the claims key (0001): no policy, so only its owner reads it, through the
    # SECURITY DEFINER fraiseql.claims_proven
    assert sorted(t[0] for t in tables) == sorted((*TABLES, "tb_claims_key"))
    assert all(t[1] and t[2] for t in tables if t[0] != "tb_claims_key"), tables
    assert ("tb_claims_key", True, False) in tables
    policies = pg_conn.execute(
        """SELECT p.polname, ARRAY(SELECT pg_get_userbyid(r) FROM unnest(p.polroles) r)
           FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
           WHERE c.relnamespace = 'fraiseql'::regnamespace"""
    ).fetchall()
    assert len(policies) == len(TABLES)
    (me,) = pg_conn.execute("SELECT current_user").fetchone() or ("",)
    assert {(name, tuple(roles)) for name, roles in policies} == {("fqlauth_owner", (me,))}
    definers = {
        r[0]
        for r in pg_conn.execute(
            "SELECT proname FROM pg_proc WHERE pronamespace = 'fraiseql'::regnamespace AND prosecdef"
        ).fetchall()
    }
    assert definers == {
        "fn_login", "fn_refresh_token", "fn_upsert_oauth_user", "fn_create_api_key",
        "fn_verify_api_key", "fn_revoke_api_key", "fn_revoke_token", "fn_revoke_all", "fn_purge_revoked",
        "fn_link_provider_identity", "claims_proven",
    }  # fmt: skip
    # the one view that runs as its owner: whether the request's own claims are revoked
    owner_views = pg_conn.execute(
        """SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'fraiseql'::regnamespace AND c.relkind = 'v'
           AND NOT COALESCE('security_invoker=true' = ANY (c.reloptions), false)"""
    ).fetchall()
    assert owner_views == [("request_identity",)]


def test_execute_is_granted_by_name_to_exactly_the_listed_roles(pg_conn: Conn) -> None:
    apply(pg_conn)
    keys = {ANON: "anonymous", AUTHED: "authenticated", API_KEY: "api_key", AUTHENTICATOR: "authenticator"}
    expected: dict[str, set[str]] = {f: {ANON, AUTHED, API_KEY} for f in HELPER_FUNCTIONS}
    # every helper calls it as its caller, the authenticator's auth flows included (it answers yes or no)
    expected["claims_proven(text, text, text)"] = {ANON, AUTHED, API_KEY, AUTHENTICATOR}
    for signature, grantees in GRANTS:
        expected[signature] = {
            role
            for role, key in keys.items()
            if key in grantees
            or ("api" in grantees and role != AUTHENTICATOR)
            or ("identified" in grantees and role not in (AUTHENTICATOR, ANON))
        }
    rows = pg_conn.execute(
        """SELECT regexp_replace(p.oid::regprocedure::text, '^fraiseql\\.', ''), p.proacl IS NOT NULL,
                  EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0),
                  ARRAY(SELECT r FROM unnest(%s::text[]) r WHERE has_function_privilege(r, p.oid, 'EXECUTE'))
           FROM pg_proc p WHERE p.pronamespace = 'fraiseql'::regnamespace""",
        (list(keys),),
    ).fetchall()
    actual = {sig: set(roles) for sig, _, _, roles in rows}
    assert all(has_acl and not public for _, has_acl, public, _ in rows), "EXECUTE left to PUBLIC"
    assert actual == {sig.replace(", ", ","): roles for sig, roles in expected.items()}


def test_api_roles_cannot_touch_the_credential_tables(pg_conn: Conn) -> None:
    apply(pg_conn)
    login(pg_conn)  # rows exist
    for role in (*API_ROLES, AUTHENTICATOR):
        for table in TABLES:
            query = f"SELECT * FROM fraiseql.{table}"
            fails("42501", partial(call, pg_conn, role, jwt(), query))
            (allowed,) = pg_conn.execute(
                "SELECT has_table_privilege(%s, %s, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')",
                (role, f"fraiseql.{table}"),
            ).fetchone() or (None,)
            assert allowed is False, (role, table)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM fraiseql.fn_verify_api_key('fql_x')",
        "SELECT * FROM fraiseql.fn_upsert_oauth_user('github', '1', 'alice@example.com', true, 'Alice')",
        "SELECT fraiseql.fn_purge_revoked()",
        "SELECT fraiseql.bcrypt_check('x', NULL)",
        "SELECT fraiseql.bcrypt_hash('x')",
        "SELECT fraiseql.random_bytes(8)",
        "SELECT * FROM fraiseql.upsert_oauth_user_impl('github', '1', 'alice@example.com', true, 'Alice')",
        "SELECT * FROM fraiseql.create_api_key_impl('k', '{read:posts}', NULL)",
        "SELECT fraiseql.issue_refresh_token('x', '{}', NULL)",
    ],
)
def test_api_roles_cannot_execute_privileged_functions(pg_conn: Conn, query: str) -> None:
    apply(pg_conn)
    admin = jwt(scopes=("admin:revoke", "admin:api_keys", "read:posts"))
    for role in API_ROLES:
        fails("42501", partial(call, pg_conn, role, admin, query))
    # the account-takeover hole stays shut: nothing was linked
    assert pg_conn.execute("SELECT count(*) FROM fraiseql.tb_oauth_identity").fetchone() == (0,)


# --- login -------------------------------------------------------------------------------------------


def test_login_ok_returns_subject_scopes_and_a_refresh_token_stored_hashed(pg_conn: Conn) -> None:
    apply(pg_conn)
    [(subject, scopes, token)] = login(pg_conn)
    assert (subject, scopes) == (SUB_A, ["read:posts", "write:posts"])
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    rows = pg_conn.execute(
        "SELECT t.token_hash, t.subject, t.scopes, t::text FROM fraiseql.tb_refresh_token t"
    ).fetchall()
    assert [(bytes(r[0]), r[1], r[2]) for r in rows] == [(sha256(token), SUB_A, ["read:posts", "write:posts"])]
    assert token not in rows[0][3]
    # the authenticated role may log in too
    assert call(pg_conn, AUTHED, jwt(sub=SUB_B), "SELECT subject FROM fraiseql.fn_login(%s, %s)",
                ("bob@example.com", PASSWORD)) == [(SUB_B,)]  # fmt: skip


def test_wrong_password_and_unknown_user_fail_the_same_way(pg_conn: Conn) -> None:
    apply(pg_conn)
    assert login(pg_conn, password="wrong") == []
    assert login(pg_conn, identifier="nobody@example.com") == []
    assert login(pg_conn, identifier="") == []
    # a user without a password (e.g. OAuth only) cannot log in with any password
    pg_conn.execute("UPDATE public.tb_user SET password_hash = NULL WHERE id = %s", (SUB_B,))
    assert login(pg_conn, identifier="bob@example.com", password="") == []
    # both failures were counted, under the SHA-256 of the identifier, never the identifier itself
    rows = pg_conn.execute(
        "SELECT identifier_hash, failed_count, t::text FROM fraiseql.tb_login_attempt t ORDER BY 1"
    ).fetchall()
    hashes = {bytes(r[0]): r[1] for r in rows}
    assert hashes[sha256("fraiseql-login:alice@example.com")] == 1
    assert hashes[sha256("fraiseql-login:nobody@example.com")] == 1
    assert not any("example.com" in r[2] for r in rows)


def test_every_login_path_computes_bcrypt_exactly_once(pg_conn: Conn) -> None:
    """Constant work: an unknown user, a user without a password and a wrong password cost one crypt() each."""
    apply(pg_conn)
    pg_conn.execute("UPDATE public.tb_user SET password_hash = NULL WHERE id = %s", (SUB_B,))
    cases = [
        ("alice@example.com", PASSWORD, 1),
        ("alice@example.com", "wrong", 0),
        ("nobody@example.com", "wrong", 0),
        ("bob@example.com", "", 0),
    ]
    # counts not yet flushed to the stats system add up across transactions: measure a difference
    count = "SELECT COALESCE(pg_stat_get_xact_function_calls('public.crypt(text, text)'::regprocedure), 0)"
    for identifier, password, rows in cases:
        with pg_conn.transaction():
            pg_conn.execute("SET LOCAL track_functions = 'all'")  # counts C functions too
            (before,) = pg_conn.execute(count).fetchone() or (0,)
            pg_conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(ANON)))
            result = pg_conn.execute("SELECT * FROM fraiseql.fn_login(%s, %s)", (identifier, password)).fetchall()
            pg_conn.execute("RESET ROLE")
            (after,) = pg_conn.execute(count).fetchone() or (0,)
        assert (len(result), after - before) == (rows, 1), identifier


def _crypt_calls(conn: Conn, identifier: str, password: str) -> tuple[int, int]:
    """(rows fn_login returned, crypt() calls it made)."""
    count = "SELECT COALESCE(pg_stat_get_xact_function_calls('public.crypt(text, text)'::regprocedure), 0)"
    with conn.transaction():
        conn.execute("SET LOCAL track_functions = 'all'")
        (before,) = conn.execute(count).fetchone() or (0,)
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(ANON)))
        rows = conn.execute("SELECT * FROM fraiseql.fn_login(%s, %s)", (identifier, password)).fetchall()
        conn.execute("RESET ROLE")
        (after,) = conn.execute(count).fetchone() or (0,)
    return len(rows), after - before


def test_a_hash_of_another_cost_is_padded_then_replaced_at_the_configured_cost(pg_conn: Conn) -> None:
    """Issue 7: a stored hash of another bcrypt cost (204 ms against 15 ms) told callers which emails exist."""
    apply(pg_conn)
    pg_conn.execute(
        "UPDATE public.tb_user SET password_hash = public.crypt(%s, public.gen_salt('bf', 4)) WHERE id = %s",
        (PASSWORD, SUB_B),
    )
    # a wrong password: the cost-4 check is padded with one at bcrypt_cost, as an unknown user gets
    assert _crypt_calls(pg_conn, "bob@example.com", "wrong") == (0, 2)
    assert _crypt_calls(pg_conn, "nobody@example.com", "wrong") == (0, 1)
    # the right password: the hash is stored again at bcrypt_cost, and from then on costs what others do
    assert login(pg_conn, identifier="bob@example.com")
    [(stored,)] = pg_conn.execute("SELECT password_hash FROM public.tb_user WHERE id = %s", (SUB_B,)).fetchall()
    assert stored.startswith(f"$2a${TEST_COST:02d}$")
    assert _crypt_calls(pg_conn, "bob@example.com", "wrong") == (0, 1)
    assert login(pg_conn, identifier="bob@example.com")
    # a hash of the configured cost is left alone (no write on every login)
    assert pg_conn.execute("SELECT password_hash FROM public.tb_user WHERE id = %s", (SUB_B,)).fetchone() == (stored,)


def test_lockout_after_max_failures_even_with_the_right_password(pg_conn: Conn) -> None:
    apply(pg_conn)
    for identifier in ("alice@example.com", "nobody@example.com"):  # unknown identifiers lock out the same way
        for _ in range(MAX_ATTEMPTS):
            assert login(pg_conn, identifier=identifier, password="wrong") == []
        error = fails("PT429", partial(login, pg_conn, identifier=identifier))
        assert "retry after" in (error.diag.message_detail or "")
    # the lockout ends: the right password works again and clears the count
    pg_conn.execute("UPDATE fraiseql.tb_login_attempt SET locked_until = now() - interval '1 second'")
    assert [r[0] for r in login(pg_conn)] == [SUB_A]
    assert pg_conn.execute(
        "SELECT count(*) FROM fraiseql.tb_login_attempt WHERE identifier_hash = %s",
        (sha256("fraiseql-login:alice@example.com"),),
    ).fetchone() == (0,)
    # after a lockout the count starts over
    assert login(pg_conn, identifier="nobody@example.com", password="wrong") == []
    assert pg_conn.execute("SELECT failed_count, locked_until FROM fraiseql.tb_login_attempt").fetchall() == [(1, None)]


def test_success_resets_the_counter_and_old_failures_leave_the_window(pg_conn: Conn) -> None:
    apply(pg_conn)
    for _ in range(MAX_ATTEMPTS - 1):
        assert login(pg_conn, password="wrong") == []
    assert login(pg_conn)
    for _ in range(MAX_ATTEMPTS - 1):
        assert login(pg_conn, password="wrong") == []
    assert login(pg_conn)  # not locked: the success reset the count
    for _ in range(MAX_ATTEMPTS - 1):
        assert login(pg_conn, password="wrong") == []
    pg_conn.execute("UPDATE fraiseql.tb_login_attempt SET window_start = now() - interval '901 seconds'")
    assert login(pg_conn, password="wrong") == []  # a new window: count 1, not MAX_ATTEMPTS
    assert login(pg_conn)


def test_bcrypt_hashes_from_other_libraries_verify(pg_conn: Conn) -> None:
    apply(pg_conn)
    # $2b$ (Python bcrypt, OpenBSD) and $2y$ (PHP) are the algorithm pgcrypto writes as $2a$
    for variant in ("$2b$", "$2y$"):
        pg_conn.execute("UPDATE public.tb_user SET password_hash = %s || substr(password_hash, 5)", (variant,))
        assert [r[0] for r in login(pg_conn)] == [SUB_A]
        pg_conn.execute("UPDATE public.tb_user SET password_hash = '$2a$' || substr(password_hash, 5)")
    # a non-bcrypt hash (here MD5-crypt) never matches
    pg_conn.execute("UPDATE public.tb_user SET password_hash = public.crypt(%s, public.gen_salt('md5'))", (PASSWORD,))
    assert login(pg_conn) == []


# --- refresh tokens ----------------------------------------------------------------------------------


def test_refresh_rotates_within_the_family(pg_conn: Conn) -> None:
    apply(pg_conn)
    [(_, _, t1)] = login(pg_conn)
    [(subject, scopes, t2)] = refresh(pg_conn, t1)
    assert (subject, scopes) == (SUB_A, ["read:posts", "write:posts"]) and t2 != t1
    # scopes are re-read from the login table at each refresh
    pg_conn.execute("UPDATE public.tb_user SET scopes = '{read:posts}' WHERE id = %s", (SUB_A,))
    [(_, scopes, t3)] = refresh(pg_conn, t2)
    assert scopes == ["read:posts"]
    rows = pg_conn.execute(
        "SELECT count(DISTINCT family_id), count(*) FILTER (WHERE used_at IS NOT NULL) FROM fraiseql.tb_refresh_token"
    ).fetchone()
    assert rows == (1, 2)
    assert refresh(pg_conn, t3)


def test_reusing_a_rotated_token_revokes_the_family(pg_conn: Conn) -> None:
    apply(pg_conn)
    [(_, _, t1)] = login(pg_conn)
    [(_, _, other_family)] = login(pg_conn)
    [(_, _, t2)] = refresh(pg_conn, t1)
    assert refresh(pg_conn, t1) == []  # reuse: refused ...
    assert refresh(pg_conn, t2) == []  # ... and the newest token of that family is dead too
    assert refresh(pg_conn, other_family)  # another login's family is untouched


def test_invalid_refresh_tokens_return_no_row(pg_conn: Conn) -> None:
    apply(pg_conn)
    [(_, _, t_expired)] = login(pg_conn)
    [(_, _, t_revoked)] = login(pg_conn)
    [(_, _, t_deleted_user)] = login(pg_conn, identifier="bob@example.com")
    pg_conn.execute(
        "UPDATE fraiseql.tb_refresh_token SET expires_at = now() WHERE token_hash = %s", (sha256(t_expired),)
    )
    pg_conn.execute(
        "UPDATE fraiseql.tb_refresh_token SET revoked_at = now() WHERE token_hash = %s", (sha256(t_revoked),)
    )
    pg_conn.execute("DELETE FROM public.tb_comment; DELETE FROM public.tb_post")
    pg_conn.execute("DELETE FROM public.tb_user WHERE id = %s", (SUB_B,))
    for token in (t_expired, t_revoked, t_deleted_user, "0" * 64, "not a token", t_expired.upper(), ""):
        assert refresh(pg_conn, token) == [], token


# --- API keys ----------------------------------------------------------------------------------------


def test_api_key_create_verify_and_stored_hash(pg_conn: Conn) -> None:
    apply(pg_conn)
    [(key_id, key, selector, scopes, expires_at)] = create_key(pg_conn, jwt(), ["read:posts", "read:posts"])
    assert re.fullmatch(r"fql_[0-9a-f]{16}_[0-9a-f]{64}", key) and key.startswith(f"fql_{selector}_")
    assert scopes == ["read:posts"]
    days = pg_conn.execute("SELECT extract(day FROM %s - now())::int", (expires_at,)).fetchone()
    assert days in ((89,), (90,))
    [(stored, subject)] = pg_conn.execute("SELECT key_hash, subject FROM fraiseql.tb_api_key").fetchall()
    assert (bytes(stored), subject) == (sha256(key), SUB_A)
    assert verify(pg_conn, key) == [(key_id, SUB_A, ["read:posts"])]
    tampered = key[:-1] + ("0" if key[-1] != "0" else "1")
    for bad in (tampered, key.replace("fql_", "xyz_"), key[:-2], key + "0", key.upper(), "", f"fql_{selector}_"):
        assert verify(pg_conn, bad) == [], bad
    # a wildcard scope the caller holds covers its concrete scopes
    assert create_key(pg_conn, jwt(scopes=("write:*",)), ["write:posts"])


def test_api_key_scopes_must_be_held_and_arguments_valid(pg_conn: Conn) -> None:
    apply(pg_conn)
    fails("PT403", lambda: create_key(pg_conn, jwt(), ["read:posts", "admin:posts"]))
    fails("PT403", lambda: create_key(pg_conn, jwt(), ["write:*"]))  # holding write:posts is not write:*
    fails("PT422", lambda: create_key(pg_conn, jwt(), []))
    fails("PT422", lambda: create_key(pg_conn, jwt(), None))
    fails("PT422", lambda: create_key(pg_conn, jwt(), ["read:posts", ""]))
    fails("PT422", lambda: create_key(pg_conn, jwt(), ["read:posts"], "2000-01-01"))
    fails("PT422", lambda: create_key(pg_conn, jwt(), ["read:posts"], "9999-01-01"))
    assert pg_conn.execute("SELECT count(*) FROM fraiseql.tb_api_key").fetchone() == (0,)


def test_api_keys_never_outlive_their_owners_scopes_or_account(pg_conn: Conn) -> None:
    """Issue 7's carol: scopes taken away after her token was issued still minted keys, and her key kept
    running after her account was deleted."""
    apply(pg_conn)
    carol = "00000000-0000-0000-0000-0000000000c0"
    pg_conn.execute(
        "INSERT INTO public.tb_user (id, email, name, scopes) VALUES (%s, 'carol@example.com', 'Carol', "
        "'{write:data,read:posts}')",
        (carol,),
    )
    token = jwt(sub=carol, scopes=("write:data", "read:posts"))
    [(_, key, *_)] = create_key(pg_conn, token, ["write:data", "read:posts"])
    assert verify(pg_conn, key)[0][1:] == (carol, ["read:posts", "write:data"])
    # an admin takes write:data away: her token still says she holds it, her account does not
    pg_conn.execute("UPDATE public.tb_user SET scopes = '{read:posts}' WHERE id = %s", (carol,))
    error = fails("PT403", lambda: create_key(pg_conn, token, ["write:data"]))
    assert "no longer holds" in str(error)
    assert create_key(pg_conn, token, ["read:posts"])  # what she still holds
    assert verify(pg_conn, key)[0][1:] == (carol, ["read:posts"])  # the key shrinks with her account
    # a wildcard in the account covers the key's concrete scopes
    pg_conn.execute("UPDATE public.tb_user SET scopes = '{write:*,read:posts}' WHERE id = %s", (carol,))
    assert verify(pg_conn, key)[0][1:] == (carol, ["read:posts", "write:data"])
    # the admin deletes her: the key verifies no more, and her token mints nothing
    pg_conn.execute("DELETE FROM public.tb_user WHERE id = %s", (carol,))
    assert verify(pg_conn, key) == []
    fails("PT401", lambda: create_key(pg_conn, token, ["read:posts"]))
    # a subject that is no id of the login table (a provider's) is no account either
    fails("PT401", lambda: create_key(pg_conn, jwt(sub="user_2abc", scopes=("read:posts",)), ["read:posts"]))


def test_only_a_jwt_caller_can_mint_api_keys(pg_conn: Conn) -> None:
    apply(pg_conn)
    query = "SELECT * FROM fraiseql.fn_create_api_key('k', '{read:posts}')"
    api_claims = {"sub": SUB_A, "auth": "api_key", "scopes": ["read:posts", "write:posts"]}
    fails("42501", lambda: call(pg_conn, API_KEY, api_claims, query))  # the api-key role: not granted
    fails("PT407", lambda: call(pg_conn, AUTHED, api_claims, query))  # API-key claims under the JWT role
    fails("42501", lambda: call(pg_conn, ANON, None, query))
    fails("PT401", lambda: call(pg_conn, AUTHED, None, query))  # the JWT role without claims


def test_api_key_revoke_and_expiry(pg_conn: Conn) -> None:
    apply(pg_conn)
    [(a_id, a_key, *_)] = create_key(pg_conn, jwt(), ["read:posts"])
    [(b_id, b_key, *_)] = create_key(pg_conn, jwt(sub=SUB_B, scopes=("read:posts",)), ["read:posts"])
    revoke = "SELECT fraiseql.fn_revoke_api_key(%s)"
    assert call(pg_conn, AUTHED, jwt(), revoke, (b_id,)) == [(False,)]  # someone else's key
    assert verify(pg_conn, b_key)
    assert call(pg_conn, AUTHED, jwt(), revoke, (a_id,)) == [(True,)]
    assert call(pg_conn, AUTHED, jwt(), revoke, (a_id,)) == [(False,)]  # already revoked
    assert verify(pg_conn, a_key) == []
    pg_conn.execute("UPDATE fraiseql.tb_api_key SET expires_at = now() - interval '1 second' WHERE id = %s", (b_id,))
    assert verify(pg_conn, b_key) == []  # expired
    [(c_id, c_key, *_)] = create_key(pg_conn, jwt(sub=SUB_B, scopes=("read:posts",)), ["read:posts"])
    admin = jwt(scopes=("admin:api_keys",))
    assert call(pg_conn, AUTHED, admin, revoke, (c_id,)) == [(True,)]
    assert verify(pg_conn, c_key) == []


# --- revocation --------------------------------------------------------------------------------------


def test_revoked_token_fails_the_guard(pg_conn: Conn) -> None:
    apply(pg_conn)
    exp = int(time.time()) + 3600
    mine = jwt(jti="j1", exp=exp)
    assert require_auth(pg_conn, mine) == [(True,)]
    revoke = "SELECT r.revoked FROM fraiseql.fn_revoke_token(%s, to_timestamp(%s)) AS r"
    # someone else's token: not without admin:revoke
    fails("PT403", lambda: call(pg_conn, AUTHED, mine, revoke, ("j-other", exp)))
    fails("PT403", lambda: call(pg_conn, API_KEY, {"sub": SUB_A, "auth": "api_key", "scopes": []}, revoke, ("j1", exp)))
    # its own, with an exp earlier than its claim: kept until the claim's exp anyway
    assert call(pg_conn, AUTHED, mine, revoke, ("j1", exp - 3000)) == [(True,)]
    assert pg_conn.execute(
        "SELECT subject, extract(epoch FROM exp)::bigint FROM fraiseql.tb_revoked_token"
    ).fetchall() == [(SUB_A, exp)]
    fails("PT402", lambda: require_auth(pg_conn, mine))
    fails("PT402", lambda: call(pg_conn, AUTHED, mine, "SELECT fraiseql.require_scope('read:posts')"))
    assert require_auth(pg_conn, jwt(jti="j2")) == [(True,)]  # another token of the same subject
    # an admin (here with an API key) revokes another token
    admin_key = {"sub": SUB_B, "auth": "api_key", "scopes": ["admin:revoke"]}
    assert call(pg_conn, API_KEY, admin_key, revoke, ("j2", exp)) == [(True,)]
    fails("PT402", lambda: require_auth(pg_conn, jwt(jti="j2")))
    assert call(pg_conn, API_KEY, admin_key, revoke, ("j3", int(time.time()) - 10)) == [(False,)]  # expired already


def test_purge_deletes_only_what_is_expired(pg_conn: Conn) -> None:
    apply(pg_conn)
    [(_, _, live)] = login(pg_conn)
    login(pg_conn)
    pg_conn.execute(
        "INSERT INTO fraiseql.tb_revoked_token (jti, exp)"
        " VALUES ('old', now() - interval '1 second'), ('new', now() + interval '1 hour')"
    )
    pg_conn.execute(
        "UPDATE fraiseql.tb_refresh_token SET expires_at = now() - interval '1 second' WHERE token_hash <> %s",
        (sha256(live),),
    )
    login(pg_conn, identifier="nobody@example.com", password="x")
    pg_conn.execute("UPDATE fraiseql.tb_login_attempt SET window_start = now() - interval '1 day'")
    assert as_authenticator(pg_conn, "SELECT fraiseql.fn_purge_revoked()") == [(3,)]
    assert pg_conn.execute("SELECT jti FROM fraiseql.tb_revoked_token").fetchall() == [("new",)]
    assert refresh(pg_conn, live)


def test_revoke_all_revokes_older_tokens_refresh_tokens_and_keys(pg_conn: Conn) -> None:
    apply(pg_conn)
    [(_, _, refresh_token)] = login(pg_conn)
    [(_, key, *_)] = create_key(pg_conn, jwt(), ["read:posts"])
    revoke_all = "SELECT fraiseql.fn_revoke_all(%s)"
    fails("PT403", lambda: call(pg_conn, AUTHED, jwt(sub=SUB_B, scopes=("read:posts",)), revoke_all, (SUB_A,)))
    assert call(pg_conn, AUTHED, jwt(), revoke_all, (SUB_A,)) == [(2,)]  # one refresh token, one key
    now = int(time.time())
    fails("PT402", lambda: require_auth(pg_conn, jwt(iat=now - 5)))  # issued before
    fails("PT402", lambda: require_auth(pg_conn, jwt(iat=None)))  # no iat: fail closed
    assert require_auth(pg_conn, jwt(iat=now + 5)) == [(True,)]  # issued after
    assert require_auth(pg_conn, jwt(sub=SUB_B, iat=now - 5)) == [(True,)]  # another subject
    assert refresh(pg_conn, refresh_token) == []
    assert verify(pg_conn, key) == []
    assert refresh(pg_conn, login(pg_conn)[0][2])  # a new login after the revocation works
    # an admin revokes another subject
    admin = jwt(scopes=("admin:revoke",), iat=now + 5)  # (alice's older tokens are revoked)
    assert call(pg_conn, AUTHED, admin, revoke_all, (SUB_B,)) == [(0,)]
    fails("PT402", lambda: require_auth(pg_conn, jwt(sub=SUB_B, iat=now - 5)))


def test_revoke_token_refuses_when_revocation_is_disabled(pg_conn: Conn) -> None:
    apply(pg_conn, revocation=False)
    fails("PT501", lambda: call(pg_conn, AUTHED, jwt(), "SELECT fraiseql.fn_revoke_token('jti-a', now() + '1h')"))
    [(_, _, token)] = login(pg_conn)
    assert call(pg_conn, AUTHED, jwt(), "SELECT fraiseql.fn_revoke_all(%s)", (SUB_A,)) == [(1,)]
    assert refresh(pg_conn, token) == []


# --- OAuth users -------------------------------------------------------------------------------------


UPSERT = "SELECT * FROM fraiseql.fn_upsert_oauth_user(%s, %s, %s, %s, %s)"


def test_oauth_links_by_identity_then_by_verified_email(pg_conn: Conn) -> None:
    apply(pg_conn)
    [(subject, scopes, token)] = as_authenticator(pg_conn, UPSERT, ("github", "gh-1", "alice@example.com", True, "A"))
    assert (subject, scopes) == (SUB_A, ["read:posts", "write:posts"])
    assert refresh(pg_conn, token)
    # the link holds whatever the provider reports later, verified or not
    [(subject, *_)] = as_authenticator(pg_conn, UPSERT, ("github", "gh-1", "alice@new.example", True, "Alice A."))
    assert subject == SUB_A
    [(subject, *_)] = as_authenticator(pg_conn, UPSERT, ("github", "gh-1", "bob@example.com", False, "Alice"))
    assert subject == SUB_A
    assert pg_conn.execute("SELECT subject, email, name FROM fraiseql.tb_oauth_identity").fetchall() == [
        (SUB_A, None, "Alice")  # an unverified email is not recorded
    ]
    # a new identity without a verified email cannot link or create an account
    for email, verified in (("bob@example.com", False), ("bob@example.com", None), (None, True), ("", True)):
        fails("PT422", lambda e=email, v=verified: as_authenticator(pg_conn, UPSERT, ("google", "g-2", e, v, "X")))
    fails("PT422", lambda: as_authenticator(pg_conn, UPSERT, ("", "gh-2", "x@example.com", True, "X")))
    # blog's tb_user has a NOT NULL name without a default: a new user cannot be inserted (documented)
    fails("23502", lambda: as_authenticator(pg_conn, UPSERT, ("github", "gh-3", "new@example.com", True, "New")))


def test_oauth_never_lands_in_an_account_someone_else_holds_the_email_for(pg_conn: Conn) -> None:
    """Issue 7: OAuth linked by email alone, and users could change their email: a victim's Google login
    landed in the attacker's account. The identifier is no longer writable by API roles
    (tests/pg/test_privileges.py); these are the linking rules."""
    apply(pg_conn)
    # Alice's account is linked to one GitHub identity; another GitHub identity reporting her verified email
    # does not take it over
    as_authenticator(pg_conn, UPSERT, ("github", "gh-alice", "alice@example.com", True, "Alice"))
    evil = ("github", "gh-evil", "alice@example.com", True, "E")
    error = fails("PT409", lambda: as_authenticator(pg_conn, UPSERT, evil))
    assert "another identity of this provider" in str(error)
    # another provider with the verified email links to the same account (one person, two providers)
    [(subject, *_)] = as_authenticator(pg_conn, UPSERT, ("google", "g-alice", "alice@example.com", True, "Alice"))
    assert subject == SUB_A
    # Bob's account linked through a provider that reported carol@example.com (verified): that email is
    # held, so a new identity with it neither creates an account nor links elsewhere
    as_authenticator(pg_conn, UPSERT, ("gitlab", "gl-bob", "bob@example.com", True, "Bob"))
    as_authenticator(pg_conn, UPSERT, ("gitlab", "gl-bob", "carol@example.com", True, "Bob"))
    carol = ("google", "g-carol", "carol@example.com", True, "C")
    error = fails("PT409", lambda: as_authenticator(pg_conn, UPSERT, carol))
    assert "another account holds this email" in str(error)
    assert pg_conn.execute("SELECT count(*) FROM fraiseql.tb_oauth_identity").fetchone() == (3,)


def test_custom_login_table_bigint_id_reserved_column_and_jsonb_scopes(pg_conn: Conn) -> None:
    custom = tuple(ACCOUNT_LOGIN.items())
    apply(pg_conn, ddl=BLOG_DDL + ACCOUNT_DDL, login=custom)
    assert 'app.tb_account AS u WHERE u."user"' in " ".join(_sql(True, "public", custom)[1].split())
    pg_conn.execute("UPDATE app.tb_account SET pw = fraiseql.bcrypt_hash(%s)", (PASSWORD,))
    [(subject, scopes, token)] = login(pg_conn, identifier="carol")
    assert (subject, scopes) == ("1", ["read:x", "write:x"])
    assert refresh(pg_conn, token)[0][:2] == ("1", ["read:x", "write:x"])
    assert login(pg_conn, identifier="alice@example.com") == []  # not the login table any more
    # OAuth: a new identity inserts a user with only the identifier column set
    upsert = "SELECT * FROM fraiseql.fn_upsert_oauth_user('google', 'g-1', 'dave', true, 'Dave')"
    [(subject, scopes, _)] = as_authenticator(pg_conn, upsert)
    assert (subject, scopes) == ("2", [])
    assert pg_conn.execute("SELECT account_id, pw FROM app.tb_account WHERE \"user\" = 'dave'").fetchall() == [
        (2, None)
    ]
    assert login(pg_conn, identifier="dave", password="") == []  # an OAuth-only user has no password
    # scopes stored as a space-separated string (OAuth's "scope") are read too
    assert pg_conn.execute("SELECT fraiseql.scopes_from_json(to_jsonb('b a  b'::text))").fetchone() == (["a", "b"],)


def test_non_superuser_owner_with_forced_rls_on_the_login_table(pg_conn: Conn) -> None:
    """FORCE ROW LEVEL SECURITY binds the owner the SECURITY DEFINER functions run as: fqlauth_owner lets it in."""
    pg_conn.autocommit = True
    owner = "fqlauth_test_owner"
    pg_conn.execute(
        f"""DO $$ BEGIN CREATE ROLE {owner} NOLOGIN;
            EXCEPTION WHEN duplicate_object THEN NULL; END $$"""
    )
    dbname = pg_conn.info.dbname
    pg_conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(dbname), sql.Identifier(owner)))
    custom = tuple(ACCOUNT_LOGIN.items())
    schema_0001, auth_0002 = _sql(True, "app", custom)
    pg_conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(owner)))
    pg_conn.execute(ACCOUNT_DDL)
    pg_conn.execute("RESET ROLE")
    # 0001 creates cluster roles (a role administrator's job); then it is handed to the owner, as if the
    # owner had applied it
    pg_conn.execute(schema_0001)
    pg_conn.execute(
        f"""ALTER SCHEMA fraiseql OWNER TO {owner};
            DO $$ DECLARE f regprocedure; BEGIN
                FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE pronamespace = 'fraiseql'::regnamespace LOOP
                    EXECUTE format('ALTER FUNCTION %s OWNER TO {owner}', f);
                END LOOP;
            END $$;
            ALTER TABLE fraiseql.tb_claims_key OWNER TO {owner}"""
    )
    pg_conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(owner)))
    install_claims_key(pg_conn)  # as the owner, as `fraiseql migrate` would
    # pgcrypto is created in [database] schema (app), whatever the session's search_path
    pg_conn.execute(
        "ALTER TABLE app.tb_account ENABLE ROW LEVEL SECURITY; ALTER TABLE app.tb_account FORCE ROW LEVEL SECURITY"
    )
    pg_conn.execute(auth_0002)
    pg_conn.execute("UPDATE app.tb_account SET pw = fraiseql.bcrypt_hash(%s)", (PASSWORD,))
    pg_conn.execute("RESET ROLE; RESET search_path")
    assert pg_conn.execute(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pgcrypto'"
    ).fetchone() == ("app",)
    assert pg_conn.execute(
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'fraiseql'::regnamespace AND relowner <> %s::regrole",
        (owner,),
    ).fetchone() == (0,)
    [(subject, _, token)] = login(pg_conn, identifier="carol")
    assert subject == "1" and refresh(pg_conn, token)
    # fraiseql.claims_proven runs as the owner, which reads its own key table
    assert call(pg_conn, AUTHED, jwt(sub="1"), "SELECT fraiseql.current_user_id()") == [("1",)]
    assert login(pg_conn, identifier="carol", password="wrong") == []
    # without its policy the owner is shut out of its own table
    pg_conn.execute("DROP POLICY fqlauth_owner ON fraiseql.tb_login_attempt")
    fails("42501", lambda: login(pg_conn, identifier="carol"))
