"""Paging, at build time: the SDL and the manifest of a small schema, the checks FQL240-FQL244 (each raised
with its span for a minimal bad schema, none for a good one), ``[paging]`` in fraiseql.toml, and the
decorator-time errors (FQL107) for bad ``filter=``, ``order_by=``, ``paging=`` and ``max_limit=`` values."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    build_schema,
    print_type,
    value_from_ast_untyped,
)

import fraiseql
from fraiseql_compiler import api
from fraiseql_compiler.config import CONFIG_FILE, ConfigError, load_config
from fraiseql_compiler.diagnostics import Diagnostic, FraiseQLError
from fraiseql_compiler.manifest import MANIFEST_FILE, Manifest
from fraiseql_compiler.project import resolve_project

HEAD = """\
import enum
from typing import Annotated

import fraiseql
from fraiseql.scalars import ID, JSON, DateTime


@fraiseql.enum
class Status(enum.Enum):
    DRAFT = "draft"
    LIVE = "live"


@fraiseql.type(table="tb_user", access={"anonymous": fraiseql.access(read="true")})
class User:
    id: ID
    name: str


@fraiseql.type(table="tb_post", access={"anonymous": fraiseql.access(read="true")})
class Post:
    id: ID
    title: Annotated[str, fraiseql.field(order=True, filter=["eq", "ilike"])]
    status: Annotated[Status, fraiseql.field(filter=True)]
    created_at: Annotated[DateTime, fraiseql.field(order=True)]
    views: Annotated[int | None, fraiseql.field(filter=["gte", "lt", "isNull"])]
    author: User
    extra: JSON | None
"""

GOOD = HEAD + '''

@fraiseql.query(sql_source="v_post", order_by="-created_at", max_limit=50)
@fraiseql.public
def posts(limit: int = 10) -> list[Post]:
    """Posts, newest first."""


@fraiseql.query(sql_source="v_post", paging="keyset")
@fraiseql.public
def feed(first: int = 5, after: str | None = None) -> list[Post]:
    """Posts as a connection."""


@fraiseql.query(sql_source="v_post", id_arg="id")
@fraiseql.public
def post(id: ID) -> Post | None:
    """One post."""


@fraiseql.query(sql_source="v_user", order_by=["name"])
@fraiseql.public
def users(offset: int = 0) -> list[User]:
    """Users, by name: nothing to order or filter by for callers."""
'''


def write(root: Path, source: str, toml: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "schema.py").write_text(textwrap.dedent(source), encoding="utf-8")
    config = '[project]\nname = "paging"\n\n[schema]\nmodules = ["schema.py"]\n' + textwrap.dedent(toml)
    (root / CONFIG_FILE).write_text(config, encoding="utf-8")
    return root


def build(tmp_path: Path, source: str = GOOD, toml: str = "") -> dict[str, str]:
    analysis = api.analyze(resolve_project(write(tmp_path, source, toml)))
    assert not [d for d in analysis.diagnostics if d.code.startswith("FQL24")], analysis.diagnostics
    return {a.path: a.content for a in api.emit(analysis)}


def manifest(artifacts: dict[str, str]) -> Manifest:
    return Manifest.model_validate_json(artifacts[MANIFEST_FILE])


def errors(tmp_path: Path, source: str, toml: str = "") -> list[Diagnostic]:
    with pytest.raises(FraiseQLError) as caught:
        api.analyze(resolve_project(write(tmp_path, source, toml)))
    return caught.value.diagnostics


def spanned(tmp_path: Path, d: Diagnostic) -> str:
    """The source text a diagnostic's span covers."""
    assert d.span is not None and d.span.file == "schema.py" and d.span.column and d.span.length, d
    line = (tmp_path / "schema.py").read_text(encoding="utf-8").splitlines()[d.span.line - 1]
    return line[d.span.column - 1 : d.span.column - 1 + d.span.length]


# --- the SDL --------------------------------------------------------------------------------------------------


def test_sdl_arguments_inputs_and_connection_types(tmp_path: Path) -> None:
    sdl = build(tmp_path)["schema.graphql"]
    schema = build_schema(sdl)
    assert schema.query_type is not None
    fields = schema.query_type.fields

    def args(name: str) -> list[tuple[str, str, Any]]:
        out = []
        for n, a in fields[name].args.items():
            default = a.ast_node.default_value if a.ast_node is not None else None
            out.append((n, str(a.type), value_from_ast_untyped(default) if default is not None else None))
        return out

    assert args("posts") == [
        ("limit", "Int", 10), ("offset", "Int", 0), ("orderBy", "[PostOrderBy!]", None), ("where", "PostWhere", None)]
    assert str(fields["posts"].type) == "[Post!]!"
    assert args("feed") == [
        ("first", "Int", 5), ("after", "String", None), ("orderBy", "[PostOrderBy!]", None),
        ("where", "PostWhere", None)]
    assert str(fields["feed"].type) == "PostConnection!"
    assert args("post") == [("id", "ID!", None)]
    assert str(fields["post"].type) == "Post"
    assert args("users") == [("limit", "Int", 20), ("offset", "Int", 0)]  # nothing ordered or filtered by callers
    assert "  posts(limit: Int = 10, offset: Int = 0, orderBy: [PostOrderBy!], where: PostWhere): [Post!]!\n" in sdl

    order_by = schema.get_type("PostOrderBy")
    assert isinstance(order_by, GraphQLInputObjectType)
    assert {n: str(f.type) for n, f in order_by.fields.items()} == {
        "title": "OrderDirection", "createdAt": "OrderDirection"}
    direction = schema.get_type("OrderDirection")
    assert isinstance(direction, GraphQLEnumType)
    assert list(direction.values) == [
        "ASC", "ASC_NULLS_FIRST", "ASC_NULLS_LAST", "DESC", "DESC_NULLS_FIRST", "DESC_NULLS_LAST"]
    where = schema.get_type("PostWhere")
    assert isinstance(where, GraphQLInputObjectType)
    assert {n: str(f.type) for n, f in where.fields.items()} == {
        "title": "StringFilter", "status": "StatusFilter", "views": "IntFilter",
        "and": "[PostWhere!]", "or": "[PostWhere!]", "not": "PostWhere"}

    def inputs(name: str) -> dict[str, str]:
        t = schema.get_type(name)
        assert isinstance(t, GraphQLInputObjectType), name
        return {n: str(f.type) for n, f in t.fields.items()}

    assert inputs("StringFilter") == {"eq": "String", "ilike": "String"}  # only what some field declares
    assert inputs("StatusFilter") == {"eq": "Status", "neq": "Status", "in": "[Status!]", "isNull": "Boolean"}
    assert inputs("IntFilter") == {"lt": "Int", "gte": "Int", "isNull": "Boolean"}
    assert schema.get_type("DateTimeFilter") is None  # createdAt is ordered, not filtered

    connection, edge, page_info = (schema.get_type(n) for n in ("PostConnection", "PostEdge", "PageInfo"))
    assert isinstance(connection, GraphQLObjectType) and isinstance(edge, GraphQLObjectType)
    assert isinstance(page_info, GraphQLObjectType)
    assert {n: str(f.type) for n, f in connection.fields.items()} == {"edges": "[PostEdge!]!", "pageInfo": "PageInfo!"}
    assert {n: str(f.type) for n, f in edge.fields.items()} == {"cursor": "String!", "node": "Post!"}
    assert {n: str(f.type) for n, f in page_info.fields.items()} == {
        "endCursor": "String", "hasNextPage": "Boolean!", "hasPreviousPage": "Boolean!", "startCursor": "String"
    }
    int_filter = schema.get_type("IntFilter")
    assert int_filter is not None and '"""Conditions on an Int field' in print_type(int_filter)
    # each generated type once, after the schema's own, in name order
    generated = ["IntFilter", "OrderDirection", "PageInfo", "PostConnection", "PostEdge", "PostOrderBy", "PostWhere",
                 "StatusFilter", "StringFilter"]
    positions = [sdl.index(f" {name} {{") for name in generated]
    assert positions == sorted(positions) and all(sdl.count(f" {name} {{") == 1 for name in generated)
    assert sdl.index("type Query {") < positions[0]


def test_no_list_query_no_paging_types(tmp_path: Path) -> None:
    source = HEAD + '''

@fraiseql.query(sql_source="v_post", id_arg="id")
@fraiseql.public
def post(id: ID) -> Post | None:
    """One post."""
'''
    artifacts = build(tmp_path, source)
    for name in ("OrderDirection", "PostWhere", "PostOrderBy", "StringFilter", "PageInfo", "Connection"):
        assert name not in artifacts["schema.graphql"]
    [query] = manifest(artifacts).queries
    assert query.paging is None


# --- the manifest ---------------------------------------------------------------------------------------------


def test_manifest_paging_entries(tmp_path: Path) -> None:
    queries = {q.name: q for q in manifest(build(tmp_path)).queries}
    posts = queries["posts"].paging
    assert posts is not None
    assert (posts.style, posts.connection, posts.default_limit, posts.max_limit) == ("offset", None, 10, 50)
    assert (posts.max_in, posts.max_depth, posts.max_conditions) == (100, 5, 50)
    assert posts.arguments == ["limit", "offset", "orderBy", "where"]
    assert (posts.order_by_input, posts.where_input, posts.key) == ("PostOrderBy", "PostWhere", ["id"])
    assert [k.model_dump() for k in posts.default_order] == [
        {"direction": "DESC", "field": "createdAt", "nulls": "FIRST"},
        {"direction": "ASC", "field": "id", "nulls": "LAST"},
    ]
    assert [f.model_dump() for f in posts.fields] == [
        {"column": "id", "graphql_name": "id", "graphql_type": "ID", "kind": "scalar", "nullable": False,
         "operators": [], "order": False, "sql_type": "uuid"},
        {"column": "title", "graphql_name": "title", "graphql_type": "String", "kind": "scalar", "nullable": False,
         "operators": ["eq", "ilike"], "order": True, "sql_type": "text"},
        {"column": "status", "graphql_name": "status", "graphql_type": "Status", "kind": "enum", "nullable": False,
         "operators": ["eq", "neq", "in", "isNull"], "order": False, "sql_type": "text"},
        {"column": "created_at", "graphql_name": "createdAt", "graphql_type": "DateTime", "kind": "scalar",
         "nullable": False, "operators": [], "order": True, "sql_type": "timestamp with time zone"},
        {"column": "views", "graphql_name": "views", "graphql_type": "Int", "kind": "scalar", "nullable": True,
         "operators": ["lt", "gte", "isNull"], "order": False, "sql_type": "integer"},
    ]
    # the paging arguments are described by paging, not as the query's own, and nothing binds them
    assert queries["posts"].arguments == [] and queries["posts"].executes.bindings == []
    feed = queries["feed"].paging
    assert feed is not None
    assert (feed.style, feed.connection, feed.default_limit, feed.max_limit) == ("keyset", "PostConnection", 5, 100)
    assert feed.arguments == ["first", "after", "orderBy", "where"]
    assert [(k.field, k.direction, k.nulls) for k in feed.default_order] == [("id", "ASC", "LAST")]
    assert queries["feed"].arguments == []
    assert queries["post"].paging is None
    users = queries["users"].paging
    assert users is not None
    assert (users.arguments, users.order_by_input, users.where_input) == (["limit", "offset"], None, None)
    assert [(f.graphql_name, f.order, f.operators) for f in users.fields] == [("id", False, []), ("name", False, [])]
    assert [(k.field, k.direction) for k in users.default_order] == [("name", "ASC"), ("id", "ASC")]


def test_paging_settings_reach_the_manifest(tmp_path: Path) -> None:
    toml = """
    [paging]
    default_limit = 7
    max_limit = 30
    max_in = 9
    max_depth = 3
    max_conditions = 11
    """
    source = HEAD + '''

@fraiseql.query(sql_source="v_post")
@fraiseql.public
def posts() -> list[Post]:
    """Defaults."""


@fraiseql.query(sql_source="v_post", max_limit=4)
@fraiseql.public
def few() -> list[Post]:
    """The default page is lowered to the query's max_limit."""


@fraiseql.query(sql_source="v_post", max_limit=500)
@fraiseql.public
def many(limit: int = 300) -> list[Post]:
    """max_limit= overrides [paging] max_limit."""
'''
    artifacts = build(tmp_path, source, toml)
    pages = {q.name: q.paging for q in manifest(artifacts).queries}
    assert all(p is not None for p in pages.values())
    got = {n: (p.default_limit, p.max_limit, p.max_in, p.max_depth, p.max_conditions) for n, p in pages.items() if p}
    assert got == {"posts": (7, 30, 9, 3, 11), "few": (4, 4, 9, 3, 11), "many": (300, 500, 9, 3, 11)}
    sdl = artifacts["schema.graphql"]
    assert "few(limit: Int = 4, offset: Int = 0," in sdl and "many(limit: Int = 300, offset: Int = 0," in sdl


# --- the checks ---------------------------------------------------------------------------------------------

BAD: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    # FQL240: the default order
    "order_by unknown field": (
        '@fraiseql.query(sql_source="v_post", order_by="-titel")\ndef posts() -> list[Post]: ...\n',
        "", [("FQL240", '"-titel"', 'did you mean "title"?')]),
    "order_by an object": (
        '@fraiseql.query(sql_source="v_post", order_by=["title", "author"])\ndef posts() -> list[Post]: ...\n',
        "", [("FQL240", '["title", "author"]', "Post.author, which is not a sortable column")]),
    "order_by JSON": (
        '@fraiseql.query(sql_source="v_post", order_by="extra")\ndef posts() -> list[Post]: ...\n',
        "", [("FQL240", '"extra"', "not a sortable column")]),
    # FQL241: field options
    "filter an object": ("", "    writer: Annotated[User, fraiseql.field(filter=True, column=\"author_id\")]\n",
                         [("FQL241", "True", "Post.writer is not a column")]),
    "order a list": ("", "    others: Annotated[list[User], fraiseql.field(order=True)]\n",
                     [("FQL241", "True", "Post.others is not a column")]),
    "order JSON": ("", "    meta: Annotated[JSON, fraiseql.field(order=True)]\n",
                   [("FQL241", "True", "Post.meta (jsonb) has no order")]),
    "filter JSON": ("", "    meta: Annotated[JSON, fraiseql.field(filter=True)]\n",
                    [("FQL241", "True", "Post.meta (jsonb) cannot be filtered")]),
    "filter JSON ops": ("", "    meta: Annotated[JSON, fraiseql.field(filter=[\"eq\"])]\n",
                        [("FQL241", '["eq"]', "does not support the operator(s) eq")]),
    "like on an int": ("", "    likes: Annotated[int, fraiseql.field(filter=[\"gte\", \"like\"])]\n",
                       [("FQL241", '["gte", "like"]', "Post.likes (Int!) does not support the operator(s) like")]),
    "lt on a boolean": ("", "    on: Annotated[bool, fraiseql.field(filter=[\"lt\", \"ilike\"])]\n",
                        [("FQL241", '["lt", "ilike"]', "does not support the operator(s) lt, ilike")]),
    "gt on an enum": ("", "    mood: Annotated[Status, fraiseql.field(filter=[\"gt\"])]\n",
                      [("FQL241", '["gt"]', "Post.mood (Status!) does not support")]),
    "lte on a uuid": ("", "    ref: Annotated[ID, fraiseql.field(filter=[\"lte\"])]\n",
                      [("FQL241", '["lte"]', "does not support the operator(s) lte")]),
    "filter named not": ("", "    negated: Annotated[str, fraiseql.field(name=\"not\", filter=True)]\n",
                         [("FQL241", "True", 'Post.not cannot be filtered under the name "not"')]),
    # FQL242: where paging applies
    "order_by on one row": (
        '@fraiseql.query(sql_source="v_post", id_arg="id", order_by="title")\ndef post(id: ID) -> Post | None: ...\n',
        "", [("FQL242", '"title"', 'query "post" returns one row: order_by=')]),
    "paging on one row": (
        '@fraiseql.query(sql_source="v_post", id_arg="id", paging="keyset")\ndef post(id: ID) -> Post | None: ...\n',
        "", [("FQL242", '"keyset"', "paging= applies to list queries")]),
    "max_limit on one row": (
        '@fraiseql.query(sql_source="v_post", id_arg="id", max_limit=5)\ndef post(id: ID) -> Post | None: ...\n',
        "", [("FQL242", "5", "max_limit= applies to list queries")]),
    "keyset without id": (
        '@fraiseql.query(sql_source="v_tag", paging="keyset")\ndef tags() -> list[Tag]: ...\n',
        "", [("FQL242", '"keyset"', "Tag has no id field")]),
    # FQL243: paging arguments
    "declares orderBy": (
        '@fraiseql.query(sql_source="v_post")\ndef posts(orderBy: str | None = None) -> list[Post]: ...\n',
        "", [("FQL243", "orderBy: str | None", 'declares the argument "orderBy"')]),
    "declares where": (
        '@fraiseql.query(sql_source="v_post")\ndef posts(where: str | None = None) -> list[Post]: ...\n',
        "", [("FQL243", "where: str | None", 'declares the argument "where"')]),
    "keyset with limit": (
        '@fraiseql.query(sql_source="v_post", paging="keyset")\ndef feed(limit: int = 5) -> list[Post]: ...\n',
        "", [("FQL243", "limit: int", 'pages by keyset, so "limit" means nothing here')]),
    "keyset with offset": (
        '@fraiseql.query(sql_source="v_post", paging="keyset")\ndef feed(offset: int = 0) -> list[Post]: ...\n',
        "", [("FQL243", "offset: int", '"offset" means nothing here')]),
    "offset with first": (
        '@fraiseql.query(sql_source="v_post")\ndef posts(first: int = 5) -> list[Post]: ...\n',
        "", [("FQL243", "first: int", 'pages by offset, so "first" means nothing here')]),
    "limit a str": (
        '@fraiseql.query(sql_source="v_post")\ndef posts(limit: str = "10") -> list[Post]: ...\n',
        "", [("FQL243", "limit: str", 'paging argument "limit" of "posts" must be int')]),
    "after an int": (
        '@fraiseql.query(sql_source="v_post", paging="keyset")\ndef feed(after: int = 0) -> list[Post]: ...\n',
        "", [("FQL243", "after: int", 'paging argument "after" of "feed" must be str | None')]),
    "default over max_limit": (
        '@fraiseql.query(sql_source="v_post", max_limit=50)\ndef posts(limit: int = 100) -> list[Post]: ...\n',
        "", [("FQL243", "limit: int", "defaults to limit 100, more than its max_limit 50")]),
    "default over [paging] max_limit": (
        '@fraiseql.query(sql_source="v_post", paging="keyset")\ndef feed(first: int = 101) -> list[Post]: ...\n',
        "", [("FQL243", "first: int", "defaults to first 101, more than its max_limit 100")]),
    "offset default": (
        '@fraiseql.query(sql_source="v_post")\ndef posts(offset: int = 5) -> list[Post]: ...\n',
        "", [("FQL243", "offset: int", 'paging argument "offset" of "posts" defaults to 5')]),
    "after default": (
        '@fraiseql.query(sql_source="v_post", paging="keyset")\ndef feed(after: str | None = "x") -> list[Post]: ...\n',
        "", [("FQL243", "after: str | None", "defaults to 'x'")]),
    # FQL244: generated names
    "type PostWhere": ('@fraiseql.type\nclass PostWhere:\n    x: int\n\n\n'
                       '@fraiseql.query(sql_source="v_post")\ndef posts() -> list[Post]: ...\n'
                       '@fraiseql.query(sql_source="v_post")\ndef where_probe() -> list[PostWhere]: ...\n',
                       "", [("FQL244", "class PostWhere:", "the type PostWhere clashes")]),
    "enum OrderDirection": ('@fraiseql.enum\nclass OrderDirection(enum.Enum):\n    UP = "up"\n\n\n'
                            '@fraiseql.query(sql_source="v_post")\ndef posts(d: OrderDirection | None = None) '
                            "-> list[Post]: ...\n", "", [("FQL244", "class OrderDirection(enum.Enum):",
                                                         "the type OrderDirection clashes")]),
    "input StringFilter": ('@fraiseql.input\nclass StringFilter:\n    x: int\n\n\n'
                           '@fraiseql.query(sql_source="v_post")\ndef posts(f: StringFilter | None = None) '
                           "-> list[Post]: ...\n", "", [("FQL244", "class StringFilter:", "StringFilter clashes")]),
    "type PageInfo": ('@fraiseql.type\nclass PageInfo:\n    x: int\n\n\n'
                      '@fraiseql.query(sql_source="v_post", paging="keyset")\ndef feed() -> list[Post]: ...\n'
                      '@fraiseql.query(sql_source="v_post")\ndef probe() -> list[PageInfo]: ...\n',
                      "", [("FQL244", "class PageInfo:", "PageInfo clashes")]),
    "type PostConnection": ('@fraiseql.type(name="PostConnection")\nclass Page:\n    x: int\n\n\n'
                            '@fraiseql.query(sql_source="v_post", paging="keyset")\ndef feed() -> list[Post]: ...\n'
                            '@fraiseql.query(sql_source="v_post")\ndef probe() -> list[Page]: ...\n',
                            "", [("FQL244", "class Page:", "PostConnection clashes")]),
}

TAG = '''

@fraiseql.type(table="tb_tag", access={"anonymous": fraiseql.access(read="true")})
class Tag:
    label: str

'''


def bad_source(operations: str, post_fields: str) -> str:
    head = HEAD.replace("    extra: JSON | None\n", "    extra: JSON | None\n" + post_fields)
    return head + TAG + "\n" + "\n".join(
        ("@fraiseql.public\n" + line if line.startswith("def ") else line) for line in operations.splitlines()
    ) + "\n"


@pytest.mark.parametrize(("operations", "fields", "expected"), BAD.values(), ids=BAD.keys())
def test_each_code_with_its_span(tmp_path: Path, operations: str, fields: str,
                                 expected: list[tuple[str, str, str]]) -> None:
    if not operations:
        operations = '@fraiseql.query(sql_source="v_post")\ndef posts() -> list[Post]: ...\n'
    source = bad_source(operations, fields)
    found = [d for d in errors(tmp_path, source) if d.code.startswith("FQL24")]
    got = [(d.code, spanned(tmp_path, d), f"{d.message} | {d.hint}") for d in found]
    assert len(got) == len(expected), got
    for (code, text, words), (got_code, got_text, message) in zip(expected, got, strict=True):
        assert (got_code, got_text) == (code, text), message
        assert words in message, message
    assert all(d.hint for d in found)


def test_a_good_schema_raises_none(tmp_path: Path) -> None:
    artifacts = build(tmp_path)
    assert MANIFEST_FILE in artifacts
    # and a default order may name a column callers may not order by
    source = GOOD + '''

@fraiseql.query(sql_source="v_post", order_by=["status", "-views", "createdAt"])
@fraiseql.public
def by_status() -> list[Post]:
    """Any column of the type may order it by default."""
'''
    queries = {q.name: q for q in manifest(build(tmp_path / "more", source)).queries}
    paging = queries["by_status"].paging
    assert paging is not None
    assert [(k.field, k.direction, k.nulls) for k in paging.default_order] == [
        ("status", "ASC", "LAST"), ("views", "DESC", "FIRST"), ("createdAt", "ASC", "LAST"), ("id", "ASC", "LAST")]


def test_checks_are_quiet_about_what_they_do_not_own(tmp_path: Path) -> None:
    """A declared limit/offset of the right type, an order_by repeating a field, an explicit after=None."""
    source = HEAD + '''

@fraiseql.query(sql_source="v_post", order_by=["-created_at", "createdAt"], paging="keyset", max_limit=10)
@fraiseql.public
def feed(first: int = 10, after: str | None = None) -> list[Post]:
    """A field named twice counts once, as written first."""


@fraiseql.query(sql_source="v_post")
@fraiseql.public
def posts(limit: int | None = None, offset: int | None = None) -> list[Post]:
    """Declared without defaults."""


@fraiseql.query(sql_source="v_post", max_limit=5)
@fraiseql.public
def few(limit: int | None = None) -> list[Post]:
    """No default of the author's: [paging] default_limit, lowered to max_limit (not FQL243)."""


@fraiseql.query(sql_source="v_post", max_limit=3, paging="keyset")
@fraiseql.public
def few_feed(first: int) -> list[Post]:
    """The same, required."""


@fraiseql.query(sql_source="v_post", row_filter="title > {arg:after}")
@fraiseql.public
def since(after: str) -> list[Post]:
    """An offset query's "after" is its own argument, not a cursor."""
'''
    queries = {q.name: q for q in manifest(build(tmp_path, source)).queries}
    pages = {name: q.paging for name, q in queries.items()}
    feed, posts = pages["feed"], pages["posts"]
    assert feed is not None and posts is not None
    assert [(k.field, k.direction) for k in feed.default_order] == [("createdAt", "DESC"), ("id", "ASC")]
    assert (feed.default_limit, feed.max_limit, posts.default_limit) == (10, 10, 20)
    assert {n: (p.default_limit, p.max_limit) for n, p in pages.items() if p and n.startswith("few")} == {
        "few": (5, 5), "few_feed": (3, 3)}
    sdl = build(tmp_path / "again", source)["schema.graphql"]
    assert "posts(limit: Int = 20, offset: Int = 0," in sdl and "few(limit: Int = 5, offset: Int = 0," in sdl
    assert "fewFeed(first: Int = 3, after: String," in sdl
    assert "since(after: String!, limit: Int = 20, offset: Int = 0, orderBy: [PostOrderBy!], where: PostWhere)" in sdl
    since = queries["since"]
    assert [a.name for a in since.arguments] == ["after"] and since.paging is not None
    assert [(b.argument, b.kind, b.position) for b in since.executes.bindings] == [("after", "param", 1)]
    assert since.paging.arguments == ["limit", "offset", "orderBy", "where"]


# --- [paging] in fraiseql.toml ------------------------------------------------------------------------------


def load(tmp_path: Path, toml: str) -> Any:
    path = tmp_path / CONFIG_FILE
    path.write_text(textwrap.dedent(toml).lstrip("\n"), encoding="utf-8")
    return load_config(path)


def test_paging_config_defaults_and_values(tmp_path: Path) -> None:
    paging = load(tmp_path, '[project]\nname = "x"\n').paging
    assert (paging.default_limit, paging.max_limit, paging.max_in, paging.max_depth, paging.max_conditions) == (
        20, 100, 100, 5, 50)
    paging = load(tmp_path, "[paging]\ndefault_limit = 100\nmax_limit = 100\n").paging
    assert (paging.default_limit, paging.max_limit) == (100, 100)


@pytest.mark.parametrize(
    ("toml", "line", "words"),
    [
        ("[paging]\ndefault_limit = 200\n", 2, "default_limit (200) is larger than max_limit (100)"),
        ("[paging]\nmax_limit = 10\n", 1, "default_limit (20) is larger than max_limit (10)"),
        ("[paging]\ndefault_limit = 50\nmax_limit = 40\n", 2, "default_limit (50) is larger than max_limit (40)"),
        ("[paging]\nmax_limit = 0\n", 2, "greater than or equal to 1"),
        ("[paging]\nmax_in = 0\n", 2, "greater than or equal to 1"),
        ("[paging]\nmax_depth = 33\n", 2, "less than or equal to 32"),
        ("[paging]\nmax_conditions = 1001\n", 2, "less than or equal to 1000"),
        ('[paging]\ndefault_limit = "20"\n', 2, "integer"),
        ("[paging]\nmax_limit = 1.5\n", 2, "integer"),
    ],
)
def test_paging_config_refusals(tmp_path: Path, toml: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, toml)
    [d] = caught.value.diagnostics
    assert d.code == "FQL132" and words in d.message, d.message
    assert d.span is not None and d.span.file == CONFIG_FILE and d.span.line == line, d.span


# --- FQL107 at decoration time --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: fraiseql.field(filter="eq"), "takes True or a list of operators, got str"),
        (lambda: fraiseql.field(filter=[]), "takes True or a list of operators, got list"),
        (lambda: fraiseql.field(filter=5), "takes True or a list of operators, got int"),
        (lambda: fraiseql.field(filter=["eq", 1]), "takes True or a list of operators"),
        (lambda: fraiseql.field(filter=None), "takes True or a list of operators"),
        (lambda: fraiseql.field(filter=["eq", "regex", "like"]), "unknown operator(s) 'regex'"),
        (lambda: fraiseql.field(filter=["EQ"]), "unknown operator(s) 'EQ'"),
        (lambda: fraiseql.field(filter={"eq": True}), "takes True or a list of operators, got dict"),
        (lambda: fraiseql.field(order="yes"), "order"),
        (lambda: fraiseql.field(order=1), "order"),
        (lambda: fraiseql.query(order_by=5), "takes a field name or a list of them, got int"),  # type: ignore[call-overload]
        (lambda: fraiseql.query(order_by=""), "takes a field name or a list of them"),
        (lambda: fraiseql.query(order_by="-"), "takes a field name or a list of them"),
        (lambda: fraiseql.query(order_by=[]), "takes a field name or a list of them"),
        (lambda: fraiseql.query(order_by=["title", 3]), "takes a field name or a list of them"),  # type: ignore[list-item]
        (lambda: fraiseql.query(order_by={"title": "ASC"}), "got dict"),  # type: ignore[call-overload]
        (lambda: fraiseql.query(paging="cursor"), "must be one of 'offset', 'keyset', got 'cursor'"),  # type: ignore[call-overload]
        (lambda: fraiseql.query(paging="Keyset"), "must be one of"),  # type: ignore[call-overload]
        (lambda: fraiseql.query(paging=True), "must be one of"),  # type: ignore[call-overload]
        (lambda: fraiseql.query(max_limit=0), "must be an integer from 1 to 10000, got 0"),
        (lambda: fraiseql.query(max_limit=-5), "must be an integer from 1 to 10000, got -5"),
        (lambda: fraiseql.query(max_limit=10_001), "must be an integer from 1 to 10000, got 10001"),
        (lambda: fraiseql.query(max_limit=True), "must be an integer from 1 to 10000, got True"),
        (lambda: fraiseql.query(max_limit="10"), "must be an integer from 1 to 10000, got '10'"),  # type: ignore[call-overload]
        (lambda: fraiseql.query(max_limit=2.5), "must be an integer from 1 to 10000, got 2.5"),  # type: ignore[call-overload]
    ],
)
def test_bad_option_values_are_fql107(make: Any, words: str) -> None:
    with pytest.raises(fraiseql.AuthoringError) as info:
        make()
    assert info.value.code == "FQL107"
    assert words in info.value.message, info.value.message
    assert info.value.line > 0 and info.value.file.endswith("test_paging.py")


def test_good_option_values_are_accepted() -> None:
    assert fraiseql.field(filter=True).filter is True
    assert fraiseql.field(filter=False).filter is False
    assert fraiseql.field(filter=["eq", "ilike"]).filter == ("eq", "ilike")
    assert fraiseql.field(filter=("in",)).filter == ("in",)
    assert fraiseql.field(order=True, filter=True).order is True
    for options in ({"order_by": "-created_at"}, {"order_by": ["-created_at", "title"]}, {"paging": "keyset"},
                    {"paging": "offset"}, {"max_limit": 1}, {"max_limit": 10_000}):
        decorate = fraiseql.query(sql_source="v_post", **options)

        def listing() -> list[int]:
            return []

        assert decorate(listing) is listing


def test_fql107_through_the_build_points_at_the_line(tmp_path: Path) -> None:
    source = HEAD.replace('fraiseql.field(filter=["gte", "lt", "isNull"])', 'fraiseql.field(filter=["gte", "near"])')
    [d] = errors(tmp_path, source)
    assert d.code == "FQL107" and "'near'" in d.message
    assert d.span is not None and d.span.line == source.splitlines().index(
        '    views: Annotated[int | None, fraiseql.field(filter=["gte", "near"])]') + 1
    source = HEAD + '\n\n@fraiseql.query(sql_source="v_post", paging="pages")\ndef posts() -> list[Post]: ...\n'
    [d] = errors(tmp_path / "query", source)
    assert d.code == "FQL107" and "'pages'" in d.message
    assert d.span is not None and d.span.line == len(HEAD.splitlines()) + 3
