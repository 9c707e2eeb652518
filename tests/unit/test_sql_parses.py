"""Every statement we emit is parsed by pglast, PostgreSQL's own parser."""

from __future__ import annotations

import pglast
import pglast.stream
import pytest

from tests.cases import Case, cases, sql_files

CASES = cases()
ALLOWED = {
    "CreateSchemaStmt", "CreateFunctionStmt", "ViewStmt", "GrantStmt", "GrantRoleStmt", "DoStmt",
    "AlterTableStmt", "CreatePolicyStmt",
    # 0002_auth.sql: the auth tables, their indexes, and DROP POLICY IF EXISTS before re-creating
    "CreateStmt", "IndexStmt", "DropStmt",
    # each file's header pins standard_conforming_strings and search_path
    "VariableSetStmt", "SelectStmt",
}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_statement_parses(case: Case) -> None:
    files = sql_files(case)
    assert files, "no SQL emitted"
    for path, sql in files:
        statements = pglast.parse_sql(sql)
        assert statements, f"{path} holds no statement"
        kinds = {type(raw.stmt).__name__ for raw in statements}
        assert kinds <= ALLOWED, f"{path}: unexpected statement kinds {kinds - ALLOWED}"
        head = [pglast.stream.RawStream()(raw.stmt) for raw in statements[:2]]
        pinned = ["SET standard_conforming_strings TO 'on'", "SELECT pg_catalog.set_config('search_path', '', FALSE)"]
        assert head == pinned, f"{path} must start by pinning how it is read"
        selects = [raw for raw in statements[2:] if type(raw.stmt).__name__ in ("SelectStmt", "VariableSetStmt")]
        assert not selects, f"{path}: only the header sets session state"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_row_filters_parse(case: Case) -> None:
    import json

    from tests.cases import compiled

    manifest = json.loads(compiled(case)["fraiseql.manifest.json"])
    for query in manifest["queries"]:
        if query["row_filter"]:
            pglast.parse_sql(f"SELECT data FROM {query['sql_source']} WHERE {query['row_filter']['sql']}")
