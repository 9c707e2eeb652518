"""Only sources that are ours to expose (issue 7 §2): the build refuses relations and functions in schemas
the API roles must never be granted, refuses a query over a column-granted table, and warns about a source
no access= rule covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraiseql_compiler.diagnostics import FraiseQLError
from tests.cases import REPO
from tests.unit.test_analysis import analyze

HEADER = """
import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_user", access={"authenticated": fraiseql.access(read="true")})
class User:
    id: ID
    name: str


@fraiseql.type
class Row:
    name: str
"""


def codes(tmp_path: Path, source: str, toml: str = "") -> list[tuple[str, str]]:
    """(code, message) of every diagnostic, errors and warnings alike."""
    try:
        analysis = analyze(tmp_path, source, toml)
    except FraiseQLError as exc:
        return [(d.code, d.message) for d in exc.diagnostics]
    return [(d.code, d.message) for d in analysis.diagnostics]


@pytest.mark.parametrize(
    ("definition", "where"),
    [
        ('@fraiseql.query(sql_source="pg_catalog.pg_authid")\ndef a() -> list[Row]: ...', "pg_catalog"),
        ('@fraiseql.query(sql_source="information_schema.tables")\ndef a() -> list[Row]: ...', "information_schema"),
        ('@fraiseql.query(sql_source="pg_toast.pg_toast_1")\ndef a() -> list[Row]: ...', "pg_toast"),
        ('@fraiseql.query(sql_source="fraiseql.tb_api_key")\ndef a() -> list[Row]: ...', "fraiseql"),
        ('@fraiseql.query(sql_source="api.me")\ndef a() -> list[Row]: ...', "api"),
        ('@fraiseql.type(table="fraiseql.tb_refresh_token")\nclass T:\n    id: ID', "fraiseql"),
        ('@fraiseql.type(table="tb_t", view="api.v_t")\nclass T:\n    id: ID', "api"),
        ('@fraiseql.type(table="pg_catalog.pg_class")\nclass T:\n    id: ID', "pg_catalog"),
        ('@fraiseql.mutation(function="fraiseql.fn_revoke_all")\ndef m(sub: ID) -> int: ...', "fraiseql"),
        ('@fraiseql.mutation(function="pg_catalog.pg_terminate_backend")\ndef m(pid: int) -> bool: ...', "pg_catalog"),
    ],
)
def test_reserved_schemas_are_refused(tmp_path: Path, definition: str, where: str) -> None:
    found = codes(tmp_path, HEADER + "\n\n" + definition + "\n")
    assert [c for c, _ in found if c == "FQL232"] == ["FQL232"], found
    assert f"in {where}" in next(m for c, m in found if c == "FQL232")


def test_the_api_schema_is_reserved_under_its_configured_name(tmp_path: Path) -> None:
    found = codes(
        tmp_path,
        HEADER + '\n\n@fraiseql.query(sql_source="gateway.v_x")\ndef a() -> list[Row]: ...\n',
        '[database]\napi_schema = "gateway"\n',
    )
    assert "FQL232" in [c for c, _ in found]


@pytest.mark.parametrize("table", ["tb_user", "public.tb_user"])
def test_a_query_over_a_column_granted_table_is_refused(tmp_path: Path, table: str) -> None:
    found = codes(tmp_path, HEADER + f'\n\n@fraiseql.query(sql_source="{table}")\ndef a() -> list[User]: ...\n')
    assert [c for c, _ in found] == ["FQL233"]
    assert "credential" in found[0][1]  # tb_user is also the [auth.login] table


def test_the_login_table_is_refused_as_a_source_even_when_no_type_maps_it(tmp_path: Path) -> None:
    source = HEADER.replace('table="tb_user"', 'table="tb_member"')
    found = codes(tmp_path, source + '\n\n@fraiseql.query(sql_source="tb_user")\ndef a() -> list[Row]: ...\n')
    assert [c for c, _ in found] == ["FQL233"]


def test_a_source_of_the_users_own_is_a_warning_that_can_be_reviewed_and_silenced(tmp_path: Path) -> None:
    query = '@fraiseql.query(sql_source="v_report"){}\n@fraiseql.authenticated\ndef a() -> list[Row]: ...\n'
    warned = codes(tmp_path, HEADER + "\n\n" + query.format(""))
    assert [c for c, _ in warned] == ["FQL234"]
    assert "public.v_report" in warned[0][1]
    assert codes(tmp_path, HEADER + "\n\n" + query.format("  # fraiseql: ignore[FQL234]")) == []


def test_generated_views_need_no_review(tmp_path: Path) -> None:
    query = '@fraiseql.query(sql_source="v_user")\n@fraiseql.authenticated\ndef a() -> list[User]: ...\n'
    assert codes(tmp_path, HEADER + "\n\n" + query) == []


def test_the_example_builds_without_warnings() -> None:
    from fraiseql_compiler import api
    from fraiseql_compiler.project import resolve_project

    assert api.analyze(resolve_project(REPO / "examples" / "blog")).diagnostics == ()


@pytest.mark.parametrize(
    ("toml", "why"),
    [("", "enabled is false"), ('[security.api_keys]\nenabled = true\nstorage = "env"\n', 'storage is "env"')],
)
def test_api_key_mutations_warn_when_no_database_key_is_accepted(tmp_path: Path, toml: str, why: str) -> None:
    source = HEADER + '''

@fraiseql.type
class ApiKey:
    id: str
    key: str


@fraiseql.mutation
@fraiseql.authenticated
def create_api_key(info, name: str, scopes: list[str]) -> ApiKey: ...
'''
    found = codes(tmp_path, source, toml)
    assert [c for c, _ in found] == ["FQL237"] and why in found[0][1]
