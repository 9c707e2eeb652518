"""The row_filter / policy predicate parser: the SQL-injection boundary of the compiler."""

from __future__ import annotations

import random
import sys
from typing import Any

import pglast
import pglast.keywords
import pytest

from fraiseql_compiler.sql import predicate as predicate_module
from fraiseql_compiler.sql.predicate import (
    MAX_DEPTH,
    PLACEHOLDER_KINDS,
    ColumnRef,
    Placeholder,
    PredicateError,
    parse_predicate,
)
from fraiseql_compiler.sql.quoting import QUOTED_KEYWORDS, check_type, quote_literal

ALL_KINDS = PLACEHOLDER_KINDS
UUID_COLS = {"id": "uuid", "author_id": "uuid", "owner_id": "uuid"}

# (text, to_sql keyword arguments, expected SQL, expected arg names)
VALID: list[tuple[str, dict[str, Any], str, tuple[str, ...]]] = [
    ("id = {current_user_id}", {}, "id = (SELECT fraiseql.current_user_id())", ()),
    ("id = {current_user_id}", {"column_types": UUID_COLS},
     "id = (SELECT fraiseql.current_user_id()::uuid)", ()),
    (
        "author_id = {current_user_id} AND published IS TRUE",
        {"column_types": UUID_COLS},
        "author_id = (SELECT fraiseql.current_user_id()::uuid) AND published IS TRUE",
        (),
    ),
    (
        "{current_user_id} = owner_id",
        {"column_types": UUID_COLS},
        "(SELECT fraiseql.current_user_id()::uuid) = owner_id",
        (),
    ),
    (
        "role = {jwt:https://example.com/roles}",
        {},
        "role = (SELECT fraiseql.claim('https://example.com/roles'))",
        (),
    ),
    (
        "tenant_id = {jwt:https://x.io/#tenant}",
        {"column_types": {"tenant_id": "integer"}},
        "tenant_id = (SELECT fraiseql.claim('https://x.io/#tenant')::integer)",
        (),
    ),
    (
        "author_id = {arg:author_id} AND status = {arg:status} OR author_id = {arg:author_id}",
        {"column_types": UUID_COLS, "arg_types": {"status": "text"}},
        "(author_id = $1::uuid AND status = $2::text) OR author_id = $1::uuid",
        ("author_id", "status"),
    ),
    ("author_id = {arg:who}", {}, "author_id = $1", ("who",)),
    (
        "status IN ('draft', 'published', {arg:extra})",
        {"column_types": {"status": "text"}},
        "status IN ('draft', 'published', $1::text)",
        ("extra",),
    ),
    ("id NOT IN (1, 2, -3)", {}, "id NOT IN (1, 2, -3)", ()),
    ("id IN ({jwt:sub})", {"column_types": UUID_COLS}, "id = (SELECT fraiseql.claim('sub')::uuid)", ()),
    ("id NOT IN ({current_user_id})", {}, "id <> (SELECT fraiseql.current_user_id())", ()),
    ("id IN ({arg:one})", {}, "id IN ($1)", ("one",)),
    ("NOT id IN (1)", {}, "id NOT IN (1)", ()),
    (
        "email ILIKE {jwt:email_pattern}",
        {"column_types": {"email": "text"}},
        "email ILIKE (SELECT fraiseql.claim('email_pattern')::text)",
        (),
    ),
    ("name LIKE 'a%' AND name NOT LIKE '%z' AND name NOT ILIKE 'b_'", {},
     "name LIKE 'a%' AND name NOT LIKE '%z' AND name NOT ILIKE 'b_'", ()),
    (
        "created_at BETWEEN {arg:since} AND now()",
        {"column_types": {"created_at": "timestamp with time zone"}},
        "created_at BETWEEN $1::timestamp with time zone AND now()",
        ("since",),
    ),
    ("score NOT BETWEEN -1 AND 2.5", {}, "score NOT BETWEEN -1 AND 2.5", ()),
    ("a IS NULL AND b IS NOT NULL AND c IS NOT TRUE AND d IS FALSE AND e IS NOT FALSE", {},
     "a IS NULL AND b IS NOT NULL AND c IS NOT TRUE AND d IS FALSE AND e IS NOT FALSE", ()),
    ("NOT a IS NULL", {}, "a IS NOT NULL", ()),
    ("a = b IS NULL", {}, "(a = b) IS NULL", ()),
    ("order = 1 AND user = 'x' AND group IS NULL", {},
     "\"order\" = 1 AND \"user\" = 'x' AND \"group\" IS NULL", ()),
    ("id = {current_user_id}", {"qualifier": "t", "column_types": UUID_COLS},
     "t.id = (SELECT fraiseql.current_user_id()::uuid)", ()),
    ("order = 1", {"qualifier": "user"}, '"user"."order" = 1', ()),
    ("name = 'O''Brien'", {}, "name = 'O''Brien'", ()),
    ("name = 'x'' OR ''1''=''1'", {}, "name = 'x'' OR ''1''=''1'", ()),
    # Legal and harmless: the schema author's own (silly) text, rendered with every quote escaped.
    ("id = '1' OR '1'='1'", {}, "id = '1' OR '1' = '1'", ()),
    ("path = 'C:\\dir\\'", {}, "path = E'C:\\\\dir\\\\'", ()),
    ("note = '{current_user_id}; --'", {}, "note = '{current_user_id}; --'", ()),
    ("name = 'ünïcødé ✓'", {}, "name = 'ünïcødé ✓'", ()),
    ("lower(email) = lower({jwt:email})", {}, "lower(email) = lower((SELECT fraiseql.claim('email')))", ()),
    ("coalesce(archived, FALSE) IS FALSE", {}, "coalesce(archived, FALSE) IS FALSE", ()),
    ("length(trim(name)) > 0 AND UPPER(code) = 'X'", {}, "length(trim(name)) > 0 AND upper(code) = 'X'", ()),
    ("a = 1 OR b = 2 AND c = 3", {}, "a = 1 OR (b = 2 AND c = 3)", ()),
    ("(a = 1 OR b = 2) AND c = 3", {}, "(a = 1 OR b = 2) AND c = 3", ()),
    ("((a = 1)) AND (b = 2 AND (c = 3))", {}, "a = 1 AND b = 2 AND c = 3", ()),
    ("NOT (a = 1 OR b = 2)", {}, "NOT (a = 1 OR b = 2)", ()),
    ("NOT archived", {}, "NOT archived", ()),
    ("published", {}, "published", ()),
    ("TRUE", {}, "TRUE", ()),
    ("a=-1 AND b<>-2 AND c >= 1e3 AND d < .5 AND e = - 7", {},
     "a = -1 AND b <> -2 AND c >= 1e3 AND d < .5 AND e = -7", ()),
    ("a != 1", {}, "a <> 1", ()),
    ("a = 1 and b is not null or c in (1) and d like 'x'", {},
     "(a = 1 AND b IS NOT NULL) OR (c IN (1) AND d LIKE 'x')", ()),
    ("a = 1\n  AND\tb = 2\r\n", {}, "a = 1 AND b = 2", ()),
    ("deleted_at IS NULL AND x = NULL", {}, "deleted_at IS NULL AND x = NULL", ()),
    ("trim = 1 AND position = 2 AND lower = 3", {}, '"trim" = 1 AND "position" = 2 AND lower = 3', ()),
]

VALID_WITH_SCOPE: list[tuple[str, str]] = [
    (
        "{scope:read:posts} OR author_id = {current_user_id}",
        "(SELECT fraiseql.has_scope('read:posts')) OR author_id = (SELECT fraiseql.current_user_id())",
    ),
    ("NOT {scope:admin:*}", "NOT (SELECT fraiseql.has_scope('admin:*'))"),
]

FQL209, FQL210 = "FQL209", "FQL210"
DEEP = "(" * 51 + "a" + ")" * 51

# (text, code, offending piece or None where "the offending part" is not one piece of text)
HOSTILE: list[tuple[str, str, str | None]] = [
    ("id = 1; DROP TABLE users", FQL209, ";"),
    ("1=1 OR TRUE; DROP TABLE x", FQL209, ";"),
    ("{current_user_id} = id; --", FQL209, ";"),
    ("id=1 OR id IS NULL\n;", FQL209, ";"),
    ("id = 1 -- comment", FQL209, "--"),
    ("id = 1 OR 1=1 --", FQL209, "--"),
    ("id =-- comment\n1", FQL209, "--"),
    ("id = 1 /* c */", FQL209, "/*"),
    ("id = 1) OR (1=1", FQL209, ")"),
    ("id = 1 OR TRUE) --", FQL209, ")"),
    ("(id = 1", FQL209, "("),
    ("pg_sleep(10) IS NULL", FQL209, "pg_sleep"),
    ("id = 1 OR pg_sleep(10) IS NULL", FQL209, "pg_sleep"),
    ("current_setting('request.jwt.claims') = 'x'", FQL209, "current_setting"),
    ("set_config('role', 'postgres', false) IS NOT NULL", FQL209, "set_config"),
    ("dblink('host=evil', 'select 1') IS NULL", FQL209, "dblink"),
    ("version() = 'x'", FQL209, "version"),
    ("PG_SLEEP (1) IS NULL", FQL209, "PG_SLEEP"),
    ("TRUE OR pg_catalog.pg_sleep(1) IS NULL", FQL209, "pg_catalog.pg_sleep"),
    ("count(*) > 0", FQL209, "count"),
    ("row_number() OVER () = 1", FQL209, "row_number"),
    ("generate_series(1, 10) = id", FQL209, "generate_series"),
    ("id = (SELECT 1)", FQL209, "SELECT"),
    ("id IN (select id FROM admins)", FQL209, "select"),
    ("EXISTS (SELECT 1 FROM users)", FQL209, "EXISTS"),
    ("id = 1 UNION SELECT 1", FQL209, "UNION"),
    ("WITH x AS (SELECT 1) SELECT 1", FQL209, "WITH"),
    ("id = ANY(ARRAY[1, 2])", FQL209, "ANY"),
    ("id = 1 OR 1=1 LIMIT 1", FQL209, "LIMIT"),
    ("id = $$1$$", FQL209, "$$"),
    ("id = $tag$x$tag$", FQL209, "$tag$"),
    ("id = $1", FQL209, "$1"),
    ("id = 1::int", FQL209, "::"),
    ("id = {jwt:role}::uuid", FQL209, "::"),
    ("CAST(id AS text) = '1'", FQL209, "CAST"),
    ("name = E'\\x27 OR 1=1'", FQL209, "E'\\x27 OR 1=1'"),
    ("x = e'\\''", FQL209, "e'\\''"),  # '' inside: the literal runs to the end
    ("name = U&'\\0027'", FQL209, "U&'\\0027'"),
    ("flags = B'1010'", FQL209, "B'1010'"),
    ("flags = X'FF'", FQL209, "X'FF'"),
    ("date '2020-01-01' < created_at", FQL209, "date '2020-01-01'"),
    ("interval '1 day' > x", FQL209, "interval '1 day'"),
    ('"id" = 1', FQL209, '"id"'),
    ('a = 1 OR "b"=1', FQL209, '"b"'),
    ("t.id = 1", FQL209, "t.id"),
    ("public.t.x = 1", FQL209, "public.t.x"),
    ("tags[1] = 'a'", FQL209, "["),
    ("data->>'role' = 'admin'", FQL209, "->>"),
    ("data -> 'role' IS NULL", FQL209, "->"),
    ("data @> '{}'", FQL209, "@>"),
    ("data ? 'k'", FQL209, "?"),
    ("data #> '{a}' IS NULL", FQL209, "#>"),
    ("a ~ 'x'", FQL209, "~"),
    ("a || 'x' = 'y'", FQL209, "||"),
    ("a <=> b", FQL209, "<=>"),
    ("id = 1 + 1", FQL209, "+"),
    ("id = 1 - 1", FQL209, "-"),
    ("id = -a", FQL209, "-"),
    ("now() - x > 1", FQL209, "-"),
    ("name COLLATE \"C\" = 'x'", FQL209, "COLLATE"),
    ("name LIKE 'a%' ESCAPE '!'", FQL209, "ESCAPE"),
    ("name SIMILAR TO 'x'", FQL209, "SIMILAR"),
    ("id IS DISTINCT FROM 1", FQL209, "DISTINCT"),
    ("a = 1 OR b IS UNKNOWN", FQL209, "UNKNOWN"),
    ("CASE WHEN TRUE THEN TRUE END", FQL209, "CASE"),
    ("id = 1 OR id = 2 AS x", FQL209, "AS"),
    ("current_user = 'x'", FQL209, "current_user"),
    ("owner = session_user", FQL209, "session_user"),
    ("ID = 1", FQL209, "ID"),
    ("userId = 1", FQL209, "userId"),
    ("__fql_t0 = 1", FQL209, "__fql_t0"),
    ("a" * 64 + " = 1", FQL209, "a" * 64),
    ("id = 0x1F", FQL209, "0x1F"),
    ("id = 1_000", FQL209, "1_000"),
    ("id = 1e", FQL209, "1e"),
    ("name = 'unterminated", FQL209, "'unterminated"),
    ("name = 'x\u202e'", FQL209, "\u202e"),
    ("a = 'x\x00'", FQL209, "\x00"),
    ("a = 1 \x00", FQL209, "\x00"),
    ("id = 1\uff1bDROP TABLE t", FQL209, "\uff1b"),
    ("id = 1\u200bOR 1=1", FQL209, "\u200b"),
    ("\u0455elect = 1", FQL209, "\u0455"),
    ("id\u00a0= 1", FQL209, "\u00a0"),
    (":name = 1", FQL209, ":"),
    ("id = 1 \\g", FQL209, "\\"),
    ("id = 1 2", FQL209, "2"),
    ("id = 'a' 'b'", FQL209, "'b'"),
    ("a = 1,", FQL209, ","),
    ("x IN (1,)", FQL209, ","),
    ("id = 1 OR 1=1 AND", FQL209, "AND"),
    ("NOT", FQL209, "NOT"),
    ("", FQL209, None),
    ("   ", FQL209, None),
    ("a" * 4001, FQL209, "a"),
    (DEEP, FQL209, "("),
    ("NOT " * 51 + "a", FQL209, "NOT"),
    ("lower(" * 51 + "a" + ")" * 51 + " = 'x'", FQL209, "("),
    ("a IN ()", FQL209, None),
    ("id IN (other_col)", FQL209, "other_col"),
    ("(a, b) = (1, 2)", FQL209, None),
    ("lower(a, b) = 'x'", FQL209, "lower"),
    ("now(1) < a", FQL209, "now"),
    ("a = b = c", FQL209, "a = b"),
    ("a LIKE b", FQL209, "b"),
    ("name LIKE upper('x')", FQL209, "upper('x')"),
    ("a IS 'x'", FQL209, None),
    ("{jwt:role}", FQL209, "{jwt:role}"),
    ("NULL", FQL209, "NULL"),
    ("42", FQL209, "42"),
    ("lower(a)", FQL209, "lower(a)"),
    ("id = {jwt:x'); DROP TABLE t; --}", FQL210, "{jwt:x'); DROP TABLE t; --}"),
    ("id = {jwt:}", FQL210, "{jwt:}"),
    ("id = {jwt}", FQL210, "{jwt}"),
    ("id = {jwt:a b}", FQL210, "{jwt:a b}"),
    ("id = {arg:1x}", FQL210, "{arg:1x}"),
    ("id = {arg:x-y}", FQL210, "{arg:x-y}"),
    ("id = {arg:class}", FQL210, "{arg:class}"),
    ("id = {current_user_id:x}", FQL210, "{current_user_id:x}"),
    ("id = {unknown}", FQL210, "{unknown}"),
    ("id = {Current_User_Id}", FQL210, "{Current_User_Id}"),
    ("id = { current_user_id }", FQL210, "{ current_user_id }"),
    ("id = {scope:read:posts}", FQL210, "{scope:read:posts}"),
    # scopes fraiseql.scope_covers would never match: refused rather than silently matching nobody
    ("{scope:Admin:*}", FQL210, "{scope:Admin:*}"),
    ("{scope:*:posts}", FQL210, "{scope:*:posts}"),
    ("{scope:9x:posts}", FQL210, "{scope:9x:posts}"),
    ("id = {arg:{x}}", FQL210, "{"),
    ("id = {current_user_id", FQL210, "{"),
    ("id = current_user_id}", FQL210, "}"),
    ("x NOT IS NULL", FQL209, "NOT IS"),  # PostgreSQL refuses it; a lenient parser reads IS NOT NULL
]


def _error(text: str, **kwargs: Any) -> PredicateError:
    with pytest.raises(PredicateError) as info:
        parse_predicate(text, **kwargs)
    return info.value


# --- valid predicates --------------------------------------------------------


@pytest.mark.parametrize(("text", "kwargs", "sql", "args"), VALID, ids=[v[0][:50] for v in VALID])
def test_valid_predicate_renders(text: str, kwargs: dict[str, Any], sql: str, args: tuple[str, ...]) -> None:
    assert parse_predicate(text).to_sql(**kwargs) == (sql, args)


@pytest.mark.parametrize(("text", "sql"), VALID_WITH_SCOPE)
def test_scope_placeholder_when_allowed(text: str, sql: str) -> None:
    assert parse_predicate(text, allowed=ALL_KINDS).to_sql() == (sql, ())


def test_columns_and_placeholders_carry_offsets_into_the_source() -> None:
    text = "author_id = {arg:who} OR lower(email) = {jwt:https://example.com/email} AND who_else = {arg:who}"
    p = parse_predicate(text)
    assert p.source == text
    assert [c.name for c in p.columns] == ["author_id", "email", "who_else"]
    assert all(text[c.offset : c.offset + c.length] == c.name for c in p.columns)
    assert p.placeholders[1] == Placeholder("jwt", "https://example.com/email", 40, 31)
    assert [text[h.offset : h.offset + h.length] for h in p.placeholders] == [
        "{arg:who}", "{jwt:https://example.com/email}", "{arg:who}"
    ]
    assert p.columns[0] == ColumnRef("author_id", 0, 9)
    assert p.column_names() == frozenset({"author_id", "email", "who_else"})
    assert p.arg_names() == ("who",)
    assert parse_predicate("id = {current_user_id}").placeholders[0].name is None


def test_arg_numbering_follows_first_appearance() -> None:
    p = parse_predicate("b = {arg:second} AND a = {arg:first} AND c IN ({arg:second}, {arg:third})")
    assert p.to_sql() == ("b = $1 AND a = $2 AND c IN ($1, $3)", ("second", "first", "third"))


def test_arg_type_wins_over_column_type() -> None:
    sql, _ = parse_predicate("id = {arg:x}").to_sql(column_types={"id": "uuid"}, arg_types={"x": "text"})
    assert sql == "id = $1::text"


def test_nesting_and_long_chains_at_the_limits_still_parse() -> None:
    limit = sys.getrecursionlimit()
    deep = "(" * MAX_DEPTH + "a = 1" + ")" * MAX_DEPTH
    assert parse_predicate(deep).to_sql() == ("a = 1", ())
    assert parse_predicate("NOT " * MAX_DEPTH + "a").to_sql()[0].startswith("NOT (NOT (")
    chain = " AND ".join(f"c{i} = {i}" for i in range(250))
    assert len(chain) < 4000
    assert parse_predicate(chain).to_sql()[0] == chain
    assert sys.getrecursionlimit() == limit


def test_the_depth_limit_fits_the_default_recursion_limit_even_from_a_deep_stack() -> None:
    """Parsing never changes the process-wide recursion limit; MAX_DEPTH leaves room for a deep caller."""
    deep = "(" * MAX_DEPTH + "a = 1" + ")" * MAX_DEPTH  # parentheses cost the most frames
    limit = sys.getrecursionlimit()

    def nested(n: int) -> str:
        return nested(n - 1) if n else parse_predicate(deep).to_sql()[0]

    assert nested(200) == "a = 1"
    assert sys.getrecursionlimit() == limit == 1000
    assert _error("(" * (MAX_DEPTH + 1) + "a = 1" + ")" * (MAX_DEPTH + 1)).message.startswith(
        "the row_filter is nested deeper than"
    )


def test_context_names_the_construct_in_messages() -> None:
    assert _error("(SELECT 1)", context="policy").message == "subqueries are not allowed in a policy"
    assert _error("(SELECT 1)").message == "subqueries are not allowed in a row_filter"
    e = _error("pg_sleep(10) IS NULL")
    assert e.message == 'function "pg_sleep" is not allowed in a row_filter'
    assert e.hint is not None and "lower" in e.hint


def test_placeholder_errors_list_the_accepted_placeholders() -> None:
    e = _error("id = {nope}")
    assert e.hint == "accepted placeholders: {current_user_id}, {jwt:<claim>}, {arg:<name>}"
    e = _error("id = {nope}", allowed=frozenset({"current_user_id"}))
    assert e.hint == "accepted placeholders: {current_user_id}"
    assert _error("id = {arg:x}", allowed=frozenset({"current_user_id"})).code == FQL210


def test_uppercase_column_hint() -> None:
    assert _error("Author_Id = 1").hint == 'write "author_id"'


def test_unknown_allowed_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_predicate("a = 1", allowed=frozenset({"env"}))


# --- hostile input -------------------------------------------------------------


@pytest.mark.parametrize(("text", "code", "piece"), HOSTILE, ids=[repr(h[0][:40]) for h in HOSTILE])
def test_hostile_input_is_rejected_at_the_offending_part(text: str, code: str, piece: str | None) -> None:
    e = _error(text)
    assert e.code == code, e.message
    assert e.length >= 1 and 0 <= e.offset <= len(text)
    assert e.message
    if piece is not None:
        assert text[e.offset : e.offset + e.length] == piece, e.message


def test_hostile_corpus_never_renders() -> None:
    assert len(HOSTILE) >= 40
    for text, _, _ in HOSTILE:
        for allowed in (ALL_KINDS, frozenset({"current_user_id", "jwt", "arg"})):
            if text == "id = {scope:read:posts}" and "scope" in allowed:
                continue  # hostile only because scope is not allowed in a row_filter
            for variant in (text, "published AND " + text):
                with pytest.raises(PredicateError):
                    parse_predicate(variant, allowed=allowed)


def test_a_parser_that_drops_tokens_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = predicate_module._Parser.take

    def forgetful(self: Any, kind: str, value: str | None = None) -> Any:  # an AND consumed, not in the tree
        tok = real(self, kind, value)
        if tok.value == "AND":
            self.used["AND"] -= 1
        return tok

    monkeypatch.setattr(predicate_module._Parser, "take", forgetful)
    assert _error("a = 1 AND b = 2").message == "could not parse the row_filter unambiguously"


# --- rendering helpers -----------------------------------------------------------


def test_quoted_keywords_cover_postgresql_keywords_that_cannot_be_bare_columns() -> None:
    needed = pglast.keywords.RESERVED_KEYWORDS | pglast.keywords.TYPE_FUNC_NAME_KEYWORDS
    needed |= pglast.keywords.COL_NAME_KEYWORDS
    assert needed <= QUOTED_KEYWORDS


@pytest.mark.parametrize(
    "type_name",
    ["uuid", "text", "integer", "timestamp with time zone", "character varying(255)", "numeric(10, 2)",
     "uuid[]", "public.status", "double precision", "timestamp(3) without time zone"],
)
def test_trusted_type_names_are_accepted(type_name: str) -> None:
    sql, _ = parse_predicate("x = {arg:v}").to_sql(column_types={"x": type_name})
    assert sql == f"x = $1::{type_name}"
    pglast.parse_sql(f"SELECT 1 FROM t WHERE {sql}")


@pytest.mark.parametrize(
    "type_name", ["uuid); DROP TABLE x; --", "uuid OR true", "text'", 'text"', "int -- x", "", "a(b)"]
)
def test_type_names_that_could_carry_sql_are_refused(type_name: str) -> None:
    with pytest.raises(ValueError):
        check_type(type_name)
    with pytest.raises(ValueError):
        parse_predicate("id = {current_user_id}").to_sql(column_types={"id": type_name})


def test_quote_literal() -> None:
    assert quote_literal("it's") == "'it''s'"
    assert quote_literal("a\\'b") == "E'a\\\\''b'"


# --- the output is PostgreSQL, and only the allow-listed kind of PostgreSQL -------

_FUNCS = {"lower", "upper", "length", "now", "pg_catalog.btrim",
          "fraiseql.current_user_id", "fraiseql.claim", "fraiseql.has_scope"}
_NODES = {"BoolExpr", "A_Expr", "ColumnRef", "A_Const", "ParamRef", "TypeCast", "TypeName", "String",
          "Integer", "Float", "Boolean", "NullTest", "BooleanTest", "FuncCall", "SubLink", "SelectStmt",
          "ResTarget", "CoalesceExpr"}
_A_EXPR = {"AEXPR_OP", "AEXPR_IN", "AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN"}
_OPS = {"=", "<>", "<", "<=", ">", ">=", "~~", "!~~", "~~*", "!~~*", "BETWEEN", "NOT BETWEEN"}


def _check_pg_tree(node: Any) -> None:
    if isinstance(node, list | tuple):
        for item in node:
            _check_pg_tree(item)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("@")
    if kind is not None:
        assert kind in _NODES, kind
    if kind == "A_Expr":
        assert node["kind"]["name"] in _A_EXPR and node["name"][0]["sval"] in _OPS, node
    if kind == "FuncCall":
        assert ".".join(n["sval"] for n in node["funcname"]) in _FUNCS, node
        assert not node.get("agg_star") and "over" not in node and "agg_filter" not in node
    if kind == "SubLink":
        assert node["subLinkType"]["name"] == "EXPR_SUBLINK"
        select = node["subselect"]
        assert set(select) <= {"@", "targetList", "limitOption", "op", "all", "groupDistinct"}, select
        assert len(select["targetList"]) == 1
        call = select["targetList"][0]["val"]
        call = call.get("arg", call)  # under a TypeCast
        assert call["@"] == "FuncCall" and call["funcname"][0]["sval"] == "fraiseql"
    if kind == "ColumnRef":
        assert all(f["@"] == "String" for f in node["fields"])
    for key, value in node.items():
        if key != "@":
            _check_pg_tree(value)


def _assert_safe_postgresql(sql: str) -> None:
    statements = pglast.parse_sql(f"SELECT 1 FROM t WHERE {sql}")
    assert len(statements) == 1
    stmt = statements[0].stmt
    assert set(stmt(skip_none=True)) <= {"@", "targetList", "fromClause", "whereClause", "limitOption", "op",
                                         "all", "groupDistinct"}
    _check_pg_tree(stmt.whereClause(skip_none=True))


def test_every_valid_rendering_is_one_safe_postgresql_expression() -> None:
    rendered = [parse_predicate(text).to_sql(**kwargs)[0] for text, kwargs, _, _ in VALID]
    rendered += [parse_predicate(text, allowed=ALL_KINDS).to_sql()[0] for text, _ in VALID_WITH_SCOPE]
    for sql in rendered:
        _assert_safe_postgresql(sql)


_VALUES = ["id", "name", "order", "user", "1", "-2.5", "'x'", "'it''s'", "'a\\b'", "TRUE", "NULL",
           "{current_user_id}", "{jwt:sub}", "{jwt:https://e.com/r}", "{arg:a}", "{arg:b}", "{scope:read:x}",
           "lower(name)", "coalesce(a, 'z')", "now()", "trim(upper(n))"]
_PATTERNS = ["'a%'", "{arg:p}", "{jwt:pat}"]


def _random_predicate(
    rng: random.Random, depth: int = 0, values: list[str] = _VALUES, patterns: list[str] = _PATTERNS
) -> str:
    choice = rng.randrange(10 if depth < 4 else 6)
    value = lambda: rng.choice(values)  # noqa: E731
    if choice == 0:
        return f"{value()} {rng.choice(['=', '<>', '!=', '<', '<=', '>', '>='])} {value()}"
    if choice == 1:
        return f"{value()} IS {rng.choice(['', 'NOT '])}{rng.choice(['NULL', 'TRUE', 'FALSE'])}"
    if choice == 2:
        pool = ["1", "'a'", "{arg:a}", "{jwt:x}", "-3"]
        items = ", ".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))
        return f"{value()} {rng.choice(['', 'NOT '])}IN ({items})"
    if choice == 3:
        return f"{value()} {rng.choice(['', 'NOT '])}{rng.choice(['LIKE', 'ILIKE'])} {rng.choice(patterns)}"
    if choice == 4:
        return f"{value()} {rng.choice(['', 'NOT '])}BETWEEN {value()} AND {value()}"
    if choice == 5:
        return rng.choice(["published", "TRUE", "{scope:read:posts}", "coalesce(done, FALSE)"])
    if choice == 6:
        return f"NOT {_random_predicate(rng, depth + 1, values, patterns)}"
    if choice == 7:
        return f"({_random_predicate(rng, depth + 1, values, patterns)})"
    joiner = rng.choice([" AND ", " OR ", " and ", " or "])
    return joiner.join(_random_predicate(rng, depth + 1, values, patterns) for _ in range(rng.randint(2, 3)))


def test_generated_valid_predicates_render_to_safe_postgresql() -> None:
    rng = random.Random(20240611)
    types = {"id": "uuid", "name": "text", "order": "integer"}
    for _ in range(300):
        text = _random_predicate(rng)
        try:
            sql, _ = parse_predicate(text, allowed=ALL_KINDS).to_sql(column_types=types, qualifier="t")
        except PredicateError as e:  # only the structurally ambiguous `x = y IS ...` shapes may be refused
            pytest.fail(f"{text!r}: {e}")
        _assert_safe_postgresql(sql)


# Tokens that are each allowed: whatever the parser makes of a random sequence of them must be either
# refused or rendered as one allow-listed expression (nothing dropped, nothing re-associated).
_GOOD_TOKENS = ["id", "name", "order", "=", "<>", "<", ">=", "AND", "OR", "NOT", "(", ")", ",", "1", "-1",
                "'x'", "'a''b'", "TRUE", "NULL", "IS", "IN", "LIKE", "ILIKE", "BETWEEN", "lower(",
                "coalesce(", "now()", "{current_user_id}", "{jwt:sub}", "{arg:a}"]
_BAD_TOKENS = [";", "--", "/*", "$1", "$$", "::int", "SELECT", "pg_sleep(", '"x"', "t.x", "->", "+", "E'x'",
               "[1]", "\u200b", "'", "{", "}", "{jwt:", "ANY", "ARRAY", "FROM", "\\"]


@pytest.mark.parametrize(
    ("vocabulary", "min_rendered"),
    [(_GOOD_TOKENS, 15), (_GOOD_TOKENS + _BAD_TOKENS, 10)],
    ids=["good", "mixed"],
)
def test_random_token_soup_is_rejected_or_renders_safe_postgresql(
    vocabulary: list[str], min_rendered: int
) -> None:
    rng = random.Random(7)
    rendered = 0
    for _ in range(1000):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 9)))
        try:
            sql, _ = parse_predicate(text).to_sql(column_types={"id": "uuid"})
        except PredicateError as e:
            assert e.code in (FQL209, FQL210) and e.length >= 1
            continue
        rendered += 1
        _assert_safe_postgresql(sql)
    assert rendered >= min_rendered  # the soup must exercise the renderer, not only the error paths


def test_mutated_valid_predicates_are_rejected_or_render_safe_postgresql() -> None:
    """Drop, repeat or swap one token of a valid predicate: the near misses a lenient parser gets wrong."""
    rng = random.Random(99)
    rendered = refused = 0
    for _ in range(600):
        words = _random_predicate(rng).replace("(", " ( ").replace(")", " ) ").split()
        i, j = rng.randrange(len(words)), rng.randrange(len(words))
        mutation = rng.randrange(3)
        if mutation == 0:
            del words[i]
        elif mutation == 1:
            words.insert(i, words[j])
        else:
            words[i], words[j] = words[j], words[i]
        try:
            sql, _ = parse_predicate(" ".join(words) or "x", allowed=ALL_KINDS).to_sql()
        except PredicateError as e:
            assert e.code in (FQL209, FQL210) and e.length >= 1
            refused += 1
            continue
        rendered += 1
        _assert_safe_postgresql(sql)
    assert rendered >= 50 and refused >= 50


# --- fidelity: PostgreSQL reads the user's text exactly as we render it ----------------------------------

_FLIP_TEST = {"IS_NULL": "IS_NOT_NULL", "IS_TRUE": "IS_NOT_TRUE", "IS_FALSE": "IS_NOT_FALSE"}
_FLIP_TEST |= {v: k for k, v in _FLIP_TEST.items()}
_FLIP_OP = {"~~": "!~~", "~~*": "!~~*", "BETWEEN": "NOT BETWEEN"}
_FLIP_OP |= {v: k for k, v in _FLIP_OP.items()}


def _pg_normal(node: Any) -> Any:
    """A pglast tree without locations, with AND/OR chains flattened and `NOT <test>` folded into the test."""
    if isinstance(node, list | tuple):
        return [_pg_normal(n) for n in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("@")
    if kind == "BoolExpr":
        op, args = node["boolop"]["name"], [_pg_normal(a) for a in node["args"]]
        if op != "NOT_EXPR":
            return {"@": op, "args": [x for a in args for x in (a["args"] if a.get("@") == op else [a])]}
        inner = args[0]
        if inner.get("@") in ("NullTest", "BooleanTest"):
            key = "nulltesttype" if inner["@"] == "NullTest" else "booltesttype"
            return {**inner, key: _FLIP_TEST[inner[key]]}
        if inner.get("@") == "A_Expr" and inner["kind"] == "AEXPR_IN":
            return {**inner, "name": "<>" if inner["name"] == "=" else "="}
        if inner.get("@") == "A_Expr" and inner["name"] in _FLIP_OP:
            flipped = {"AEXPR_BETWEEN": "AEXPR_NOT_BETWEEN", "AEXPR_NOT_BETWEEN": "AEXPR_BETWEEN"}
            kind = flipped.get(inner["kind"], inner["kind"])
            return {**inner, "name": _FLIP_OP[inner["name"]], "kind": kind}
        return {"@": "NOT", "arg": inner}
    out = {}
    for key, value in node.items():
        if key in ("location", "rexpr_list_start", "rexpr_list_end"):
            continue
        if isinstance(value, dict) and "#" in value:
            out[key] = value["name"]
        elif kind == "A_Expr" and key == "name":
            out[key] = " ".join(n["sval"] for n in value)
        else:
            out[key] = _pg_normal(value)
    return out


def _pg_where(sql: str) -> Any:
    return _pg_normal(pglast.parse_sql(f"SELECT 1 FROM t WHERE {sql}")[0].stmt.whereClause(skip_none=True))


def test_postgresql_reads_the_accepted_text_as_we_render_it() -> None:
    """For placeholder-free input PostgreSQL can parse the user's text itself: it must mean what we emit.

    This is what catches a parser that re-associates `a OR b AND c`, or accepts syntax PostgreSQL does not.
    """
    values = [v for v in _VALUES if "{" not in v and v not in ("order", "user")]  # PostgreSQL must parse it
    rng = random.Random(5)
    checked = 0
    for n in range(900):
        text = _random_predicate(rng, 0, values, ["'a%'", "'%b'"])
        words = text.replace("(", " ( ").replace(")", " ) ").split()
        if "{" in " ".join(words):  # {scope:...} comes from a fixed choice
            continue
        if n % 4 == 1:  # near misses: one token repeated or dropped
            words.insert(rng.randrange(len(words)), rng.choice(words))
        elif n % 4 == 3:
            words.pop(rng.randrange(len(words)))
        text = " ".join(words) or "x"
        try:
            sql, _ = parse_predicate(text).to_sql()
        except PredicateError:
            continue
        assert _pg_where(text) == _pg_where(sql), (text, sql)
        checked += 1
    assert checked >= 300
