"""sql/quoting.py against PostgreSQL: a literal means the same whatever the session's
standard_conforming_strings, an identifier names exactly itself, and every file pins the setting."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from fraiseql_compiler.sql.quoting import quote_ident, quote_literal
from tests.cases import cases, sql_files

VALUES = [
    "plain", "it's", "back\\slash", "ends with \\", "\\'; DROP TABLE x; --", "e'\\x41'", "ünï ✓", "tab\tnew\nline",
]


@pytest.mark.parametrize("setting", ["on", "off"])
def test_literals_mean_themselves_under_either_setting(pg_conn: psycopg.Connection[Any], setting: str) -> None:
    pg_conn.execute(f"SET standard_conforming_strings = {setting}")  # type: ignore[arg-type]
    pg_conn.execute("SET escape_string_warning = off")
    for value in VALUES:
        row = pg_conn.execute(f"SELECT {quote_literal(value)}").fetchone()  # type: ignore[arg-type]
        assert row == (value,), (setting, value)
    with pytest.raises(ValueError):
        quote_literal("nul\x00")


def test_identifiers_name_exactly_themselves(pg_conn: psycopg.Connection[Any]) -> None:
    for name in ["user", "order", "time", "plain_name", 'we"ird', "Mixed", "café"]:
        ident = quote_ident(name)
        row = pg_conn.execute(f"SELECT 1 AS {ident}").fetchone()  # type: ignore[arg-type]
        assert row == (1,)
        cur = pg_conn.execute(f"SELECT 1 AS {ident}")  # type: ignore[arg-type]
        assert cur.description is not None and cur.description[0].name == name


def test_every_file_applies_after_a_session_that_turned_standard_conforming_strings_off(
    pg_conn: psycopg.Connection[Any],
) -> None:
    case = next(c for c in cases() if c.name == "examples/blog")
    assert case.ddl is not None
    pg_conn.execute(case.ddl.read_text(encoding="utf-8"))  # type: ignore[arg-type]
    for _, sql in sql_files(case):
        pg_conn.execute("SET standard_conforming_strings = off; SET search_path = public")
        pg_conn.execute(sql)  # type: ignore[arg-type]
        settings = pg_conn.execute(
            "SELECT current_setting('standard_conforming_strings'), current_setting('search_path')"
        ).fetchone()
        assert settings == ("on", "")
