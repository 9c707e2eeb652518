"""The emitted SQL applies to a real PostgreSQL, re-applies cleanly, and every view returns what the
manifest promises. Row filters compiled into the manifest run against their views with bound params."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from tests.cases import Case, cases, compiled, sql_files
from tests.pg.sessions import install_claims_key, set_claims

CASES = [c for c in cases() if c.ddl is not None]
SUB_A = "00000000-0000-0000-0000-00000000000a"


def _apply(conn: psycopg.Connection[Any], case: Case) -> None:
    assert case.ddl is not None
    conn.execute(case.ddl.read_text(encoding="utf-8"))  # type: ignore[arg-type]
    for _, sql in sql_files(case):
        conn.execute(sql)  # type: ignore[arg-type]
    install_claims_key(conn)  # what `fraiseql migrate` does after the SQL


def _login_role(conn: psycopg.Connection[Any]) -> str:
    """The role these tests' requests run as: the superuser that applied the SQL, with no SET ROLE."""
    row = conn.execute("SELECT session_user").fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sql_applies_twice_and_views_return_manifest_shape(pg_conn: psycopg.Connection[Any], case: Case) -> None:
    _apply(pg_conn, case)
    for _, sql in sql_files(case):  # re-runnable
        pg_conn.execute(sql)  # type: ignore[arg-type]
    manifest = json.loads(compiled(case)["fraiseql.manifest.json"])
    views = [t for t in manifest["types"] if t["view"]]
    assert views
    for t in views:
        rows = pg_conn.execute(f"SELECT data FROM {t['view']}").fetchall()  # type: ignore[arg-type]
        assert rows, f"{t['view']} returned no rows"
        for (data,) in rows:
            assert sorted(data) == sorted(f["json_key"] for f in t["fields"]), t["view"]
        options = pg_conn.execute(
            "SELECT c.reloptions FROM pg_class c WHERE c.oid = %s::regclass", (t["view"],)
        ).fetchone()
        assert options is not None and "security_invoker=true" in options[0]


def test_blog_views_embed_related_rows(pg_conn: psycopg.Connection[Any]) -> None:
    case = next(c for c in CASES if c.name == "examples/blog")
    _apply(pg_conn, case)
    row = pg_conn.execute("SELECT data FROM public.v_post WHERE id = '00000000-0000-0000-0000-0000000000a1'").fetchone()
    assert row is not None
    post = row[0]
    assert post["title"] == "Hello"
    assert post["author"]["name"] == "Alice"
    assert [c["body"] for c in post["comments"]] == ["Nice post"]
    assert post["comments"][0]["author"]["email"] == "bob@example.com"
    empty = pg_conn.execute(
        "SELECT data->'comments' FROM public.v_post WHERE id = '00000000-0000-0000-0000-0000000000b1'"
    ).fetchone()
    assert empty is not None and empty[0] == []  # a non-null list is [] rather than null


def test_blog_claim_helpers_treat_missing_claims_as_anonymous(pg_conn: psycopg.Connection[Any]) -> None:
    case = next(c for c in CASES if c.name == "examples/blog")
    _apply(pg_conn, case)
    role = _login_role(pg_conn)
    assert pg_conn.execute("SELECT fraiseql.current_user_id()").fetchone() == (None,)
    set_claims(pg_conn, role, "")  # '' even with a valid proof
    assert pg_conn.execute("SELECT fraiseql.current_user_id(), fraiseql.claims()").fetchone() == (None, {})
    set_claims(pg_conn, role, {"sub": SUB_A})
    assert pg_conn.execute("SELECT fraiseql.current_user_id()").fetchone() == (None,)  # no auth method: no one
    claims = {"sub": SUB_A, "auth": "jwt", "jti": "j-1"}
    set_claims(pg_conn, role, claims)
    assert pg_conn.execute("SELECT fraiseql.current_user_id()").fetchone() == (SUB_A,)


ROW_FILTER_PARAMS: dict[str, tuple[dict[str, Any], list[Any], int]] = {
    # query id: (claims, params in manifest order, rows expected)
    "query.me": ({"sub": SUB_A, "auth": "jwt", "jti": "j-1"}, [], 1),
    "query.myPosts": ({"sub": SUB_A, "auth": "jwt", "jti": "j-1"}, [], 1),
    "query.orders": (
        {"sub": SUB_A, "auth": "jwt", "jti": "j-1", "customer_id": "00000000-0000-0000-0000-0000000000c1"},
        ["open"],
        1,
    ),
    "query.books": (
        {},
        ["%Dispossessed%", "00000000-0000-0000-0000-0000000000b1", "00000000-0000-0000-0000-0000000000b2"],
        1,
    ),
}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compiled_row_filters_run(pg_conn: psycopg.Connection[Any], case: Case) -> None:
    _apply(pg_conn, case)
    manifest = json.loads(compiled(case)["fraiseql.manifest.json"])
    for query in manifest["queries"]:
        rf = query["row_filter"]
        if rf is None:
            continue
        claims, params, expected = ROW_FILTER_PARAMS[query["id"]]
        assert len(params) == len(rf["params"])
        set_claims(pg_conn, _login_role(pg_conn), claims)
        name = "q_" + query["name"]
        # Simple-query protocol, so PostgreSQL (not the driver) sees the $n of the PREPARE body.
        prepare = f"PREPARE {name} AS SELECT data FROM {query['sql_source']} WHERE {rf['sql']}"
        result = pg_conn.pgconn.exec_(prepare.encode())
        assert result.status == psycopg.pq.ExecStatus.COMMAND_OK, result.error_message.decode()
        placeholders = ", ".join(["%s"] * len(params))
        sql = f"EXECUTE {name}({placeholders})" if params else f"EXECUTE {name}"
        # EXECUTE is a utility statement: bind its arguments client-side (properly quoted literals).
        cursor = psycopg.ClientCursor(pg_conn)
        rows = cursor.execute(sql, params).fetchall()  # type: ignore[arg-type]
        assert len(rows) == expected, query["id"]
        # anonymous: the same filter returns nothing rather than everything
        set_claims(pg_conn, _login_role(pg_conn), "")
        if "current_user_id" in rf["source"] or "jwt:" in rf["source"]:
            assert cursor.execute(sql, params).fetchall() == [], query["id"]  # type: ignore[arg-type]
