"""The staged API and the derived facts: each fact has one owner, and the places that state it agree."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fraiseql._spec import AUTH_FLOW_CONVENTIONS, AUTH_FLOWS
from fraiseql_compiler import api
from fraiseql_compiler.analysis.authflows import FLOWS
from fraiseql_compiler.api import Analysis
from fraiseql_compiler.diagnostics import FraiseQLError
from fraiseql_compiler.emit.artifacts import MARKER
from fraiseql_compiler.emit.auth_sql import GRANTS
from fraiseql_compiler.manifest import MANIFEST_FILE, Manifest
from fraiseql_compiler.project import resolve_project
from tests.cases import REPO

BLOG_TOML = """
[security]
optional_claims = ["post_id"]
"""
BLOG = """
import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_user", access={"authenticated": fraiseql.access(read="true")})
class User:
    id: ID
    name: str


@fraiseql.type(table="tb_comment", access={"authenticated": fraiseql.access(read="post_id = {jwt:post_id}")})
class Comment:
    id: ID
    body: str
    author: User


@fraiseql.type(table="tb_post", access={"authenticated": fraiseql.access(read="true")})
class Post:
    id: ID
    title: str
    comments: list[Comment]


@fraiseql.query(sql_source="v_comment", row_filter="post_id = {jwt:post_id} OR author_id = {jwt:post_id}")
def thread() -> list[Comment]: ...
"""


def analyze(tmp_path: Path, source: str, toml: str = "") -> Analysis:
    (tmp_path / "schema.py").write_text(textwrap.dedent(source), encoding="utf-8")
    if toml:
        (tmp_path / "fraiseql.toml").write_text(textwrap.dedent(toml), encoding="utf-8")
    return api.analyze(resolve_project(tmp_path / "schema.py"))


def test_every_column_of_a_generated_view_is_typed_list_keys_included(tmp_path: Path) -> None:
    """The bug of two column maps: post_id (the key Post.comments joins on) had no type, so a predicate
    comparing it with a claim got no ::uuid and failed with `operator does not exist: uuid = text`."""
    analysis = analyze(tmp_path, BLOG, BLOG_TOML)
    view = analysis.facts.views["Comment"]
    assert {c.name: (c.sql_type, c.origin) for c in view.columns.values()} == {
        "id": ("uuid", "field"),
        "body": ("text", "field"),
        "author_id": ("uuid", "embedded_key"),
        "post_id": ("uuid", "list_key"),
    }
    assert analysis.facts.row_filters["query.thread"] == (
        "post_id = (SELECT fraiseql.claim('post_id')::uuid) OR author_id = (SELECT fraiseql.claim('post_id')::uuid)"
    )
    policy = analysis.facts.policies["type.Comment.policy.authenticated.read"]
    assert policy == "post_id = (SELECT fraiseql.claim('post_id')::uuid)"


def test_the_emitted_view_exposes_exactly_the_facts_columns(tmp_path: Path) -> None:
    analysis = analyze(tmp_path, BLOG, BLOG_TOML)
    sql = next(a.content for a in api.emit(analysis) if a.path == "sql/0003_views.sql")
    block = sql[sql.index("CREATE OR REPLACE VIEW public.v_comment") :]
    block = block[: block.index("AS data")]
    for column in analysis.facts.views["Comment"].columns:
        assert f"t.{column}," in block
    assert block.count("    t.") == len(analysis.facts.views["Comment"].columns)


def test_bindings_and_reachable_roles_are_derived_once_and_reach_the_manifest(tmp_path: Path) -> None:
    analysis = analyze(
        tmp_path,
        BLOG
        + """
from fraiseql.auth import api_key_required, authenticated


@fraiseql.query(sql_source="v_post")
@authenticated
def posts(title: str | None = None, limit: int = 20) -> list[Post]: ...


@fraiseql.query(sql_source="v_post")
@api_key_required
def feed(limit: int = 20) -> list[Post]: ...
""",
        BLOG_TOML,
    )
    manifest = Manifest.model_validate_json(next(a.content for a in api.emit(analysis) if a.path == MANIFEST_FILE))
    posts = next(q for q in manifest.queries if q.name == "posts")
    # limit belongs to the query's paging (and leaves its arguments), the rest binds as before
    assert [(b.argument, b.kind, b.column) for b in posts.executes.bindings] == [("title", "filter", "title")]
    assert posts.paging is not None and posts.paging.arguments[:2] == ["limit", "offset"]
    assert [a.name for a in posts.arguments] == ["title"]
    assert analysis.facts.roles["query.posts"] == ("authenticated", "api_key")
    assert {q.name: q.reachable_roles for q in manifest.queries} == {
        "posts": ["authenticated", "api_key"],
        "feed": ["api_key"],
        "thread": ["anonymous", "authenticated", "api_key"],
    }


def test_auth_flows_are_stated_once() -> None:
    """The authoring API names the flows (it cannot import the compiler); the compiler describes exactly
    those, and 0002's grants for them come from that description."""
    assert set(AUTH_FLOWS) == set(FLOWS)
    assert set(AUTH_FLOW_CONVENTIONS.values()) <= set(FLOWS)
    grants = dict(GRANTS)
    for flow in FLOWS.values():
        assert grants[flow.signature] == flow.roles


def test_the_manifest_file_name_is_stated_once() -> None:
    assert MARKER == MANIFEST_FILE == "fraiseql.manifest.json"
    sources = [p for p in (REPO / "fraiseql_compiler").rglob("*.py") if "fraiseql.manifest.json" in p.read_text()]
    assert [p.relative_to(REPO).as_posix() for p in sources] == ["fraiseql_compiler/manifest/__init__.py"]


def test_analyze_raises_every_error_and_returns_the_warnings(tmp_path: Path) -> None:
    with pytest.raises(FraiseQLError) as info:
        analyze(
            tmp_path,
            """
            import fraiseql

            @fraiseql.type(table="tb_a")
            class A:
                id: int

            @fraiseql.query(sql_source="v_a", row_filter="nope = 1")
            def a(bogus: int) -> list[A]: ...
            """,
        )
    assert sorted(d.code for d in info.value.diagnostics) == ["FQL203", "FQL214"]
    warned = analyze(tmp_path, "import fraiseql\n\n@fraiseql.type(table='tb_b')\nclass B:\n    id: int\n")
    assert [d.code for d in warned.diagnostics] == ["FQL220"]


def test_suppression_comments_silence_warnings_and_flag_what_they_cannot_silence(tmp_path: Path) -> None:
    analysis = analyze(
        tmp_path,
        """
        import fraiseql

        @fraiseql.type(
            table="tb_audit",  # fraiseql: ignore[FQL220]
        )
        class Audit:
            id: int

        @fraiseql.type(table="tb_other")
        class Other:  # fraiseql: ignore[FQL220, FQL203, FQL999]
            id: int

        @fraiseql.type(table="tb_loud")
        class Loud:
            id: int  # fraiseql: ignore[FQL220]  (a field line does not cover the decorator)
        """,
    )
    found = [(d.code, d.message.split(":")[0], d.span.line if d.span else None) for d in analysis.diagnostics]
    assert found == [
        ("FQL303", "FQL203 is an error and cannot be ignored", 11),
        ("FQL303", "FQL999 is not a fraiseql diagnostic code", 11),
        ("FQL220", "Loud (tb_loud) declares no access rule", 14),
    ]


def test_the_graphql_names_of_the_sdl_are_valid(tmp_path: Path) -> None:
    with pytest.raises(FraiseQLError) as info:
        analyze(
            tmp_path,
            r"""
            from typing import Annotated
            import fraiseql

            @fraiseql.type(name="Query")
            class Root:
                id: int
                title: Annotated[str, fraiseql.field(name="my title\\")]
                café: str

            @fraiseql.query(sql_source="v_x")
            def my_items() -> list[Root]: ...

            @fraiseql.query(sql_source="v_y", name="myItems")
            def other() -> list[Root]: ...
            """,
        )
    problems = sorted((d.code, d.message) for d in info.value.diagnostics)
    assert [code for code, _ in problems] == ["FQL202", "FQL229", "FQL229", "FQL229"]
    text = "\n".join(message for _, message in problems)
    assert '"Query" of type Root' in text and '"my title\\"' in text and '"café"' in text
    assert 'both have the GraphQL name "myItems"' in text
