"""fraiseql.scope_covers (and has_scope through it) against the table the Python rule passes."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.cases import cases, sql_files
from tests.pg.sessions import install_claims_key, set_claims
from tests.scope_cases import CASES


def test_scope_covers_agrees_with_the_python_rule(pg_conn: psycopg.Connection[Any]) -> None:
    case = next(c for c in cases() if c.name == "examples/blog")
    assert case.ddl is not None
    pg_conn.execute(case.ddl.read_text(encoding="utf-8"))  # type: ignore[arg-type]
    for _, sql in sql_files(case):
        pg_conn.execute(sql)  # type: ignore[arg-type]
    install_claims_key(pg_conn)
    (login_role,) = pg_conn.execute("SELECT session_user").fetchone() or ("",)  # no SET ROLE: the login role
    for granted, required, covered in CASES:
        row = pg_conn.execute("SELECT fraiseql.scope_covers(%s, %s)", (granted, required)).fetchone()
        assert row == (covered,), (granted, required)
        claims = {"sub": "00000000-0000-0000-0000-00000000000a", "auth": "jwt", "jti": "j", "scopes": [granted]}
        set_claims(pg_conn, login_role, claims)
        assert pg_conn.execute("SELECT fraiseql.has_scope(%s)", (required,)).fetchone() == (covered,)
