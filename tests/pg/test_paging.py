"""List queries that page, through the reference executor against PostgreSQL, as a runtime runs them.

One database per module: the blog example plus a table-backed ``Item`` with a field of every kind (text,
numeric, int, float, timestamp, date, uuid, boolean, an enum; each also nullable, holding NULLs), read by an
offset query (``items``), a keyset connection (``itemFeed``) and a row-filtered query (``myItems``), all
under row-level security (anonymous callers see visible items; users see those and their own).

What the executor returns is compared with an oracle computed in Python from the rows inserted (ordering,
three-valued filter logic), and, for LIKE patterns and the access rules, with plain SQL run as superuser.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import random
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pglast
import psycopg
import pytest

from fraiseql_compiler.api import analyze, emit
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.paging import page_request, page_sql, split_variables
from fraiseql_compiler.executor.run import Request, bind_arguments, execute, find_operation, query_statement
from fraiseql_compiler.manifest.models import PagingEntry, QueryEntry
from fraiseql_compiler.project import resolve_project
from tests.cases import REPO
from tests.pg.blogdb import ENV, Blog, build_blog
from tests.pg.sessions import ALICE, ALICE_DRAFT, BOB
from tests.pgserver import PgServer

ITEM_SCHEMA = '''

# --- tests only: a type with a field of every kind, and list queries that page over it -------------------

import enum

from fraiseql.scalars import JSON, UUID, Date, Decimal

EVERY = ["eq", "neq", "lt", "lte", "gt", "gte", "in", "isNull", "like", "ilike"]


@fraiseql.enum
class Shade(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


@fraiseql.type(
    table="tb_item",
    access={
        "anonymous": fraiseql.access(read="visible"),
        "authenticated": fraiseql.access(read="visible OR owner_id = {current_user_id}"),
    },
)
class Item:
    """A thing with a value of every kind."""

    id: ID
    name: Annotated[str, fraiseql.field(order=True, filter=EVERY)]
    note: Annotated[str | None, fraiseql.field(order=True, filter=EVERY)]
    price: Annotated[Decimal, fraiseql.field(order=True, filter=True)]
    discount: Annotated[Decimal | None, fraiseql.field(order=True, filter=True)]
    qty: Annotated[int, fraiseql.field(order=True, filter=True)]
    rank: Annotated[int | None, fraiseql.field(order=True, filter=True)]
    score: Annotated[float, fraiseql.field(order=True, filter=True)]
    weight: Annotated[float | None, fraiseql.field(order=True, filter=True)]
    made_at: Annotated[DateTime, fraiseql.field(order=True, filter=True)]
    seen_at: Annotated[DateTime | None, fraiseql.field(order=True, filter=True)]
    day: Annotated[Date, fraiseql.field(order=True, filter=True)]
    due: Annotated[Date | None, fraiseql.field(order=True, filter=True)]
    ref: Annotated[UUID, fraiseql.field(order=True, filter=True)]
    alt_ref: Annotated[UUID | None, fraiseql.field(order=True, filter=True)]
    active: Annotated[bool, fraiseql.field(order=True, filter=True)]
    flag: Annotated[bool | None, fraiseql.field(order=True, filter=True)]
    shade: Annotated[Shade, fraiseql.field(order=True, filter=True)]
    tint: Annotated[Shade | None, fraiseql.field(order=True, filter=True)]
    order: Annotated[int, fraiseql.field(order=True, filter=True)]  # a reserved word in SQL
    visible: Annotated[bool, fraiseql.field(filter=["eq"])]
    owner_id: ID
    bucket: int  # neither ordered nor filtered
    extra: JSON | None


@fraiseql.query(sql_source="v_item")
@fraiseql.public
def items() -> list[Item]:
    """Items, a page at a time (by default in key order)."""
    pass


@fraiseql.query(sql_source="v_item", order_by="-made_at", paging="keyset", max_limit=50)
@fraiseql.public
def item_feed(first: int = 5) -> list[Item]:
    """Items as a connection, newest first."""
    pass


@fraiseql.query(sql_source="v_item", row_filter="owner_id = {current_user_id}", order_by=["qty", "-name"])
@authenticated
def my_items(limit: int = 10) -> list[Item]:
    """The caller's own items."""
    pass


@fraiseql.query(sql_source="v_item", row_filter="qty >= {arg:min_qty}", order_by="-price", paging="keyset")
@fraiseql.public
def items_from(min_qty: int, first: int = 4) -> list[Item]:
    """Items with at least min_qty of them (an API function: its row_filter takes an argument)."""
    pass


@fraiseql.query(sql_source="v_item", row_filter="name > {arg:after}", order_by="name")
@fraiseql.public
def items_after(after: str) -> list[Item]:
    """Offset paging: "after" is an argument of the query's own here, not a cursor."""
    pass


@fraiseql.query(sql_source="v_post", order_by="-created_at")
@fraiseql.public
def public_posts() -> list[Post]:
    """Posts anyone may read."""
    pass
'''

ITEM_DDL = """
CREATE TABLE IF NOT EXISTS public.tb_item (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    note text,
    price numeric NOT NULL,
    discount numeric,
    qty integer NOT NULL,
    rank integer,
    score double precision NOT NULL,
    weight double precision,
    made_at timestamptz NOT NULL,
    seen_at timestamptz,
    day date NOT NULL,
    due date,
    ref uuid NOT NULL,
    alt_ref uuid,
    active boolean NOT NULL,
    flag boolean,
    shade text NOT NULL,
    tint text,
    "order" integer NOT NULL,
    visible boolean NOT NULL DEFAULT true,
    owner_id uuid NOT NULL REFERENCES public.tb_user (id),
    bucket integer NOT NULL DEFAULT 0,
    extra jsonb
);
"""

COLUMNS = (
    "id", "name", "note", "price", "discount", "qty", "rank", "score", "weight", "made_at", "seen_at", "day", "due",
    "ref", "alt_ref", "active", "flag", "shade", "tint", "order", "visible", "owner_id", "bucket",
)
# GraphQL name → column, for every field callers may order or filter by
FIELDS = {
    "name": "name", "note": "note", "price": "price", "discount": "discount", "qty": "qty", "rank": "rank",
    "score": "score", "weight": "weight", "madeAt": "made_at", "seenAt": "seen_at", "day": "day", "due": "due",
    "ref": "ref", "altRef": "alt_ref", "active": "active", "flag": "flag", "shade": "shade", "tint": "tint",
    "order": "order",
}
NULLABLE = ("note", "discount", "rank", "weight", "seenAt", "due", "altRef", "flag", "tint")
DIRECTIONS = ("ASC", "ASC_NULLS_FIRST", "ASC_NULLS_LAST", "DESC", "DESC_NULLS_FIRST", "DESC_NULLS_LAST")
# Text that sorts and compares in interesting ways: case, commas and spaces (", " inside JSON), LIKE's
# wildcards and escape character, quotes, non-ASCII (C collation: code point order).
NAMES = (
    "apple", "Apple", "APPLE", "banana", "a, b", "a,b", 'say "hi", ok', "50% off", "under_score", "back\\slash",
    "O'Brien", "ünïcode", "Ünïcode", "zeta", "a_b",
)
BASE = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
UUIDS = [uuid.UUID(int=random.Random(n).getrandbits(128)) for n in range(8)]
ROW_COUNT = 40
SQL_TEXT = "x' OR '1'='1'; DROP TABLE public.tb_item; --"


def make_rows() -> list[dict[str, Any]]:
    rng = random.Random(20240301)

    def maybe(value: Any, p: float = 0.3) -> Any:
        return None if rng.random() < p else value

    rows = []
    for i in range(ROW_COUNT):
        rows.append({
            "id": uuid.UUID(int=rng.getrandbits(128)),
            "name": rng.choice(NAMES),
            "note": maybe(rng.choice(NAMES)),
            "price": Decimal(rng.choice(("0", "1.5", "1.50", "2.25", "-3", "10.000", "12345678901234567890.12"))),
            "discount": maybe(Decimal(rng.choice(("0.1", "0.10", "5", "-2.5")))),
            "qty": rng.randrange(4),
            "rank": maybe(rng.randrange(5), 0.35),
            "score": rng.choice((-1.5, 0.0, 0.1, 0.30000000000000004, 2.5, 1e10, 1e-300)),
            "weight": maybe(rng.choice((0.0, 1.25, -7.5, 1e300))),
            "made_at": BASE + dt.timedelta(minutes=rng.randrange(12), microseconds=rng.choice((0, 0, 1, 123456))),
            "seen_at": maybe(BASE + dt.timedelta(days=rng.randrange(5), seconds=rng.choice((0, 30)))),
            "day": dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(6)),
            "due": maybe(dt.date(2024, 2, 1) + dt.timedelta(days=rng.randrange(4))),
            "ref": rng.choice(UUIDS),
            "alt_ref": maybe(rng.choice(UUIDS[:4])),
            "active": rng.random() < 0.5,
            "flag": maybe(rng.random() < 0.5, 0.34),
            "shade": rng.choice(("RED", "GREEN", "BLUE")),
            "tint": maybe(rng.choice(("RED", "GREEN", "BLUE"))),
            "order": rng.randrange(-2, 3),
            "visible": i % 7 != 3,  # hidden: some of Alice's, some of Bob's
            "owner_id": uuid.UUID(ALICE if i % 2 else BOB),
            "bucket": i,
        })
    return rows


@dataclass
class Db:
    blog: Blog
    conn: psycopg.Connection[Any]  # as the authenticator, reused across calls
    rows: list[dict[str, Any]]

    def run(self, operation: str, token: str | None = None, **variables: Any) -> Any:
        try:
            return execute(self.conn, self.blog.manifest, Request(operation, variables, token, None), ENV)
        except ExecutionError as exc:
            return exc

    def ok(self, operation: str, token: str | None = None, **variables: Any) -> Any:
        result = self.run(operation, token, **variables)
        assert not isinstance(result, ExecutionError), f"{result.http} {result.code}: {result.message}"
        return result

    def ids(self, operation: str = "items", token: str | None = None, **variables: Any) -> list[uuid.UUID]:
        variables.setdefault("limit", 100)
        return [uuid.UUID(r["id"]) for r in self.ok(operation, token, **variables)]

    def visible(self, caller: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["visible"] or (caller is not None and r["owner_id"] == uuid.UUID(caller))]

    def paging(self, operation: str) -> PagingEntry:
        op = find_operation(self.blog.manifest, operation)
        assert isinstance(op, QueryEntry) and op.paging is not None
        return op.paging

    def insert(self, row: dict[str, Any]) -> None:
        names = ", ".join(f'"{c}"' for c in COLUMNS)
        values = ", ".join(["%s"] * len(COLUMNS))
        self.blog.admin.execute(f"INSERT INTO public.tb_item ({names}) VALUES ({values})", [row[c] for c in COLUMNS])

    def delete(self, *ids: uuid.UUID) -> None:
        self.blog.admin.execute("DELETE FROM public.tb_item WHERE id = ANY(%s)", (list(ids),))


@pytest.fixture(scope="module")
def db(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Db]:
    url = pg_server.create_database()
    try:
        example = REPO / "examples" / "blog"
        files = {
            "schema.py": (example / "schema.py").read_text(encoding="utf-8") + ITEM_SCHEMA,
            "db/migrations/0003_items.sql": ITEM_DDL,
        }
        blog = build_blog(tmp_path_factory.mktemp("paging"), url, files=files)
        blog.admin.execute(  # a draft of Alice's, next to Bob's draft from the seed
            "INSERT INTO public.tb_post (id, author_id, title, published) VALUES (%s, %s, 'Alice draft', false)",
            (ALICE_DRAFT, ALICE),
        )
        conn = psycopg.connect(blog.url, autocommit=True)
        db = Db(blog, conn, make_rows())
        for row in db.rows:
            db.insert(row)
        try:
            yield db
        finally:
            conn.close()
            blog.admin.close()
    finally:
        pg_server.drop_database(url)


# --- the oracle -------------------------------------------------------------------------------------------


def key_cmp(a: Any, b: Any, descending: bool, nulls_first: bool) -> int:
    if a is None or b is None:
        if a is None and b is None:
            return 0
        return (-1 if nulls_first else 1) * (1 if a is None else -1)
    if a == b:
        return 0
    return (1 if a > b else -1) * (-1 if descending else 1)


def direction(name: str) -> tuple[bool, bool]:
    """(descending, nulls first) as PostgreSQL reads the OrderDirection."""
    descending = name.startswith("DESC")
    return descending, ("NULLS_FIRST" in name) or (descending and "NULLS" not in name)


def ordered(rows: list[dict[str, Any]], order: list[tuple[str, str]]) -> list[uuid.UUID]:
    """ids of ``rows`` in the order of ``order`` ((GraphQL field, OrderDirection) pairs), then id ascending."""
    keys = [(FIELDS[f], *direction(d)) for f, d in order] + [("id", False, False)]

    def cmp(r1: dict[str, Any], r2: dict[str, Any]) -> int:
        for column, descending, nulls_first in keys:
            c = key_cmp(r1[column], r2[column], descending, nulls_first)
            if c:
                return c
        return 0

    return [r["id"] for r in sorted(rows, key=functools.cmp_to_key(cmp))]


def parse(field: str, value: Any) -> Any:
    column = FIELDS.get(field, field)
    if column in ("price", "discount"):
        return Decimal(str(value))
    if column in ("made_at", "seen_at"):
        return dt.datetime.fromisoformat(value)
    if column in ("day", "due"):
        return dt.date.fromisoformat(value)
    if column in ("ref", "alt_ref"):
        return uuid.UUID(value)
    return value


def like(pattern: str, text: str, fold: bool) -> bool:
    """SQL LIKE (backslash escapes); ILIKE folds ASCII letters only, as PostgreSQL does under the C locale."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    if fold:
        def ascii_lower(s: str) -> str:
            return "".join(c.lower() if c.isascii() else c for c in s)

        return re.fullmatch(ascii_lower("".join(out)), ascii_lower(text), re.S) is not None
    return re.fullmatch("".join(out), text, re.S) is not None


def leaf(row: dict[str, Any], field: str, op: str, value: Any) -> bool | None:
    """One condition with SQL's three-valued logic: None where SQL yields NULL."""
    v = row[FIELDS.get(field, field)]
    if op == "isNull":
        return (v is None) == value
    if v is None:
        return None
    if op == "in":
        return v in [parse(field, x) for x in (value if isinstance(value, list) else [value])]
    if op in ("like", "ilike"):
        return like(value, v, op == "ilike")
    x = parse(field, value)
    return {"eq": v == x, "neq": v != x, "lt": v < x, "lte": v <= x, "gt": v > x, "gte": v >= x}[op]


def and3(values: list[bool | None]) -> bool | None:
    return False if False in values else None if None in values else True


def or3(values: list[bool | None]) -> bool | None:
    return True if True in values else None if None in values else False


def holds(row: dict[str, Any], where: dict[str, Any]) -> bool | None:
    parts: list[bool | None] = []
    for key, value in where.items():
        if key in ("and", "or"):
            items = [holds(row, w) for w in (value if isinstance(value, list) else [value])]
            parts.append(and3(items) if key == "and" else or3(items))
        elif key == "not":
            parts.append(holds(row, value) is not True)
        else:
            parts.append(and3([leaf(row, key, op, x) for op, x in value.items()]))
    return and3(parts)


def selected(rows: list[dict[str, Any]], where: dict[str, Any]) -> list[uuid.UUID]:
    return sorted(r["id"] for r in rows if holds(r, where) is True)


def text(value: Any) -> Any:
    """A row value as a caller writes it in a where."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    return value


def bad(result: Any, *codes: str) -> ExecutionError:
    assert isinstance(result, ExecutionError), f"expected a 400, got {result!r}"[:500]
    assert result.http == 400, f"{result.http} {result.code}: {result.message}"
    assert not codes or result.code in codes, f"{result.code}: {result.message}"
    return result


# --- the schema --------------------------------------------------------------------------------------------


def test_the_manifest_describes_every_field_as_declared(db: Db) -> None:
    paging = db.paging("items")
    fields = {f.graphql_name: f for f in paging.fields}
    assert set(fields) == {*FIELDS, "visible", "id"}
    assert {n for n, f in fields.items() if f.nullable} == set(NULLABLE)
    assert {n for n, f in fields.items() if f.order} == set(FIELDS)
    every = ["eq", "neq", "lt", "lte", "gt", "gte", "in", "isNull", "like", "ilike"]
    ordered_ops = every[:-2]
    equality = ["eq", "neq", "in", "isNull"]
    expected = {
        "name": every, "note": every, "visible": ["eq"], "id": [],
        **{f: equality for f in ("ref", "altRef", "active", "flag", "shade", "tint")},
    }
    assert {n: f.operators for n, f in fields.items()} == {n: expected.get(n, ordered_ops) for n in fields}
    assert (paging.style, paging.default_limit, paging.max_limit, paging.key) == ("offset", 20, 100, ["id"])
    assert [(k.field, k.direction, k.nulls) for k in paging.default_order] == [("id", "ASC", "LAST")]
    assert paging.arguments == ["limit", "offset", "orderBy", "where"]
    feed = db.paging("itemFeed")
    assert (feed.style, feed.default_limit, feed.max_limit, feed.connection) == ("keyset", 5, 50, "ItemConnection")
    assert [(k.field, k.direction, k.nulls) for k in feed.default_order] == [
        ("madeAt", "DESC", "FIRST"), ("id", "ASC", "LAST")]
    assert feed.arguments == ["first", "after", "orderBy", "where"]
    mine = db.paging("myItems")
    assert [(k.field, k.direction) for k in mine.default_order] == [("qty", "ASC"), ("name", "DESC"), ("id", "ASC")]


def test_every_statement_of_the_build_and_of_the_executor_parses_with_pglast(db: Db) -> None:
    artifacts = {a.path: a.content for a in emit(analyze(resolve_project(db.blog.project)))}
    sql = {p: c for p, c in artifacts.items() if p.endswith(".sql")}
    assert len(sql) == 5 and "public.v_item" in sql["sql/0003_views.sql"] and "api.item_feed" in sql["sql/0005_api.sql"]
    for path, content in sql.items():
        assert pglast.parse_sql(content), path
    manifest = db.blog.manifest
    feed = db.ok("itemFeed", first=3, orderBy=[{"note": "ASC_NULLS_FIRST"}])["pageInfo"]["endCursor"]
    rank = db.ok("itemsFrom", minQty=1, first=3, orderBy=[{"rank": "DESC_NULLS_LAST"}])
    rank_cursor = rank["pageInfo"]["endCursor"]
    requests: list[tuple[str, dict[str, Any]]] = [
        ("items", {}),
        ("items", {"limit": 5, "offset": 3, "orderBy": [{"rank": "DESC_NULLS_LAST"}, {"name": "ASC"}]}),
        ("items", {"where": {"or": [{"name": {"like": "a%", "neq": "b"}}, {"not": {"rank": {"in": [1, 2]}}}],
                             "and": [{"seenAt": {"isNull": True}}, {"price": {"gte": "1.5"}}]}}),
        ("itemFeed", {"first": 3, "orderBy": [{"note": "ASC_NULLS_FIRST"}], "after": feed}),
        ("itemFeed", {"where": {"shade": {"in": ["RED"]}}}),
        ("myItems", {"where": {"qty": {"eq": 1}}, "offset": 2}),
        ("itemsFrom", {"minQty": 1, "where": {"weight": {"in": [0, 1.5]}}, "orderBy": [{"rank": "DESC_NULLS_LAST"}],
                       "after": rank_cursor}),
        ("publicPosts", {"orderBy": {"createdAt": "ASC"}, "where": {"published": {"eq": True}}}),
    ]
    for name, variables in requests:
        op = find_operation(manifest, name)
        assert isinstance(op, QueryEntry) and op.paging is not None
        args = bind_arguments(manifest, op, variables)
        page = page_request(manifest, op.paging, split_variables(op.paging, variables)[1])
        statement, params = query_statement(op, args, page)
        numbered = statement
        for n in range(1, statement.count("%s") + 1):
            numbered = numbered.replace("%s", f"${n}", 1)
        assert numbered.count("$") == len(params)
        [raw] = pglast.parse_sql(numbered)
        assert type(raw.stmt).__name__ == "SelectStmt"


def test_a_page_past_an_offset_builds_json_for_its_rows_only(db: Db) -> None:
    """Past an offset, the rows are chosen by their order and key columns, then read by key: PostgreSQL builds
    the JSON of the page's rows, not of every row it skips. Same rows as the one-step read."""
    manifest = db.blog.manifest
    op = find_operation(manifest, "items")
    assert isinstance(op, QueryEntry) and op.paging is not None and op.paging.key_unique
    variables = {"limit": 4, "offset": 3, "orderBy": [{"name": "DESC"}]}
    page = page_request(manifest, op.paging, variables)
    statement, params = query_statement(op, bind_arguments(manifest, op, {}), page)
    assert statement.startswith('SELECT s.data FROM (SELECT s."name", s."id" FROM api.items AS s')
    assert ') AS p JOIN api.items AS s ON s."id" = p."id" ORDER BY p."name" DESC' in statement
    one_step, one_params = page_sql(page, "api.items", [], [], by_key=False)
    assert "JOIN" not in one_step
    with db.blog.admin.transaction():
        two = [r[0] for r in db.blog.admin.execute(statement, params).fetchall()]  # type: ignore[arg-type]
        one = [r[0] for r in db.blog.admin.execute(one_step, one_params).fetchall()]  # type: ignore[arg-type]
    assert two == one and len(two) == 4
    assert [r["id"] for r in db.ok("items", **variables)] == [r["id"] for r in one]


# --- ordering -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", list(FIELDS))
def test_every_field_orders_in_every_direction(db: Db, field: str) -> None:
    rows = db.visible()
    for d in DIRECTIONS:
        assert db.ids(orderBy=[{field: d}]) == ordered(rows, [(field, d)]), d


def test_orders_agree_with_plain_sql_as_superuser(db: Db) -> None:
    for field, d, sql in [
        ("rank", "ASC", "rank ASC NULLS LAST"),
        ("rank", "DESC", "rank DESC NULLS FIRST"),
        ("note", "ASC_NULLS_FIRST", "note ASC NULLS FIRST"),
        ("seenAt", "DESC_NULLS_LAST", "seen_at DESC NULLS LAST"),
        ("name", "DESC", "name DESC"),
        ("price", "ASC", "price ASC"),
        ("tint", "DESC_NULLS_FIRST", "tint DESC NULLS FIRST"),
    ]:
        expected = [r[0] for r in db.blog.admin.execute(
            f"SELECT id FROM public.tb_item WHERE visible ORDER BY {sql}, id").fetchall()]
        assert db.ids(orderBy=[{field: d}]) == expected, (field, d)


def test_several_keys_and_the_default_orders(db: Db) -> None:
    rows = db.visible()
    order = [("flag", "DESC_NULLS_LAST"), ("rank", "ASC_NULLS_FIRST"), ("price", "DESC")]
    assert db.ids(orderBy=[{f: d} for f, d in order]) == ordered(rows, order)
    assert db.ids(orderBy=[{"qty": "ASC"}, {"name": "DESC"}]) == ordered(rows, [("qty", "ASC"), ("name", "DESC")])
    assert db.ids() == sorted(r["id"] for r in rows)  # no order_by=: the key
    assert db.ids(orderBy={"shade": "ASC"}) == ordered(rows, [("shade", "ASC")])  # one object for a list of one
    assert db.ids(orderBy=None) == db.ids()
    alice = db.visible(ALICE)
    mine = [r for r in alice if r["owner_id"] == uuid.UUID(ALICE)]
    assert db.ids("myItems", db.blog.token(ALICE)) == ordered(mine, [("qty", "ASC"), ("name", "DESC")])
    feed = db.ok("itemFeed", first=50)
    assert [uuid.UUID(e["node"]["id"]) for e in feed["edges"]] == ordered(rows, [("madeAt", "DESC")])


@pytest.mark.parametrize("order", [[], [("qty", "ASC")], [("qty", "DESC")], [("active", "ASC")],
                                   [("shade", "DESC"), ("active", "ASC")], [("flag", "ASC_NULLS_FIRST")]])
def test_ties_stay_stable_across_offset_pages(db: Db, order: list[tuple[str, str]]) -> None:
    rows = db.visible()
    order_by = [{f: d} for f, d in order] or None
    whole = db.ids(orderBy=order_by)
    assert whole == ordered(rows, order)
    for size in (1, 4, 7):
        pages = [db.ids(orderBy=order_by, limit=size, offset=start) for start in range(0, len(rows) + size, size)]
        assert all(len(p) == size for p in pages[: len(rows) // size])
        joined = [i for p in pages for i in p]
        assert joined == whole and len(set(joined)) == len(joined), size


def test_an_offset_query_may_have_an_argument_named_after(db: Db) -> None:
    rows = db.visible()
    for after in ("a", "apple", "~"):
        expected = [i for i in ordered(rows, [("name", "ASC")]) if by_id(db, i)["name"] > after]
        assert db.ids("itemsAfter", after=after) == expected
        assert db.ids("itemsAfter", after=after, limit=2, offset=1) == expected[1:3]
        assert sorted(db.ids("itemsAfter", after=after, where={"qty": {"eq": 1}})) == sorted(
            i for i in expected if by_id(db, i)["qty"] == 1)
    assert bad(db.run("itemsAfter"), "MISSING_ARGUMENT")


def by_id(db: Db, i: uuid.UUID) -> dict[str, Any]:
    return next(r for r in db.rows if r["id"] == i)


def test_limit_and_offset_bounds(db: Db) -> None:
    rows = db.visible()
    assert len(db.ok("items")) == 20  # [paging] default_limit
    assert len(db.ok("items", limit=None)) == 20
    assert db.ids(limit=0) == []
    assert len(db.ids(limit=100)) == len(rows)
    assert db.ids(limit=3.0) == db.ids(limit=3)  # an integral Float is an Int, as for any Int argument
    assert db.ids(offset=len(rows)) == []
    assert db.ids(offset=2**31 - 1) == []
    assert len(db.ok("myItems", db.blog.token(BOB))) == 10  # its own default (limit: int = 10)
    assert len(db.ok("itemFeed")["edges"]) == 5


# --- filtering ------------------------------------------------------------------------------------------------


def sample(db: Db, field: str) -> list[Any]:
    """Values of ``field`` to compare with: its smallest, a middle one and its largest present values, and one
    that no row holds."""
    present = sorted({r[FIELDS[field]] for r in db.rows if r[FIELDS[field]] is not None})
    absent: dict[str, Any] = {
        "name": "no such name", "note": "~", "price": Decimal("7.77"), "discount": Decimal("-100"), "qty": 99,
        "rank": -1, "score": 3.25, "weight": 2.0, "madeAt": BASE - dt.timedelta(days=1),
        "seenAt": BASE + dt.timedelta(days=30), "day": dt.date(2000, 1, 1), "due": dt.date(2030, 1, 1),
        "ref": uuid.UUID(int=1), "altRef": uuid.UUID(int=2), "active": None, "flag": None, "shade": None,
        "tint": None, "order": 7,
    }
    values = [present[0], present[len(present) // 2], present[-1]]
    return [text(v) for v in values + ([absent[field]] if absent[field] is not None else [])]


@pytest.mark.parametrize("field", list(FIELDS))
def test_every_operator_on_every_field(db: Db, field: str) -> None:
    rows = db.visible()
    operators = next(f.operators for f in db.paging("items").fields if f.graphql_name == field)
    values = sample(db, field)
    checked = 0
    for op in operators:
        if op in ("like", "ilike"):
            continue  # test_like_and_ilike
        cases: list[Any] = [True, False] if op == "isNull" else [values[:2] + values[-1:], values[1:2], []] \
            if op == "in" else values
        for value in cases:
            where = {field: {op: value}}
            assert sorted(db.ids(where=where)) == selected(rows, where), where
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("field", ["name", "note"])
def test_like_and_ilike(db: Db, field: str) -> None:
    rows = db.visible()
    column = FIELDS[field]
    patterns = ["a%", "%E", "apple", "APPLE", "_pple", "%, %", "%,%", "a\\_b", "a_b", "%\\%%", "%\\\\%", "%",
                "", "ü%", "Ü%", "%'%", 'say "hi"%', SQL_TEXT]
    for op in ("like", "ilike"):
        for pattern in patterns:
            where = {field: {op: pattern}}
            got = sorted(db.ids(where=where))
            assert got == selected(rows, where), where
            sql = f"SELECT id FROM public.tb_item WHERE visible AND {column} {op.upper()} %s ORDER BY id"
            assert got == [r[0] for r in db.blog.admin.execute(sql, (pattern,)).fetchall()], where
    assert db.ids(where={field: {"like": "a%", "ilike": "%B"}}) == sorted(
        r["id"] for r in rows if r[column] is not None and like("a%", r[column], False) and like("%B", r[column], True))


def test_several_operators_on_one_field_all_hold(db: Db) -> None:
    rows = db.visible()
    for where in (
        {"rank": {"gte": 1, "lt": 3}},
        {"price": {"gt": "0", "neq": "10"}},
        {"madeAt": {"gte": text(BASE + dt.timedelta(minutes=3)), "lte": text(BASE + dt.timedelta(minutes=7))}},
        {"note": {"isNull": False, "neq": "apple"}},
        {"due": {"isNull": True, "eq": "2024-02-02"}},
        {"qty": {"in": [1, 2]}, "active": {"eq": True}, "shade": {"neq": "RED"}},
    ):
        assert sorted(db.ids(where=where)) == selected(rows, where), where


def test_values_compare_as_their_type(db: Db) -> None:
    rows = db.visible()
    # numeric: 1.5 = 1.50 and 10.000 = 10; a Decimal may be given as a string, an Int or a Float
    for value in ("1.5", "1.50", 1.5, "10", 10, "1.5e0"):
        assert sorted(db.ids(where={"price": {"eq": value}})) == selected(rows, {"price": {"eq": str(value)}})
    # the same instant in another offset; microseconds count
    some = next(r for r in rows if r["made_at"].microsecond == 123456)
    elsewhere = some["made_at"].astimezone(dt.timezone(dt.timedelta(hours=-5, minutes=-30))).isoformat()
    same = selected(rows, {"madeAt": {"eq": text(some["made_at"])}})
    assert sorted(db.ids(where={"madeAt": {"eq": elsewhere}})) == same
    zulu = some["made_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert some["id"] in db.ids(where={"madeAt": {"eq": zulu}})
    truncated = some["made_at"].replace(microsecond=0).isoformat()
    assert some["id"] not in db.ids(where={"madeAt": {"eq": truncated}})
    # floats compare exactly: 0.1 + 0.2 is not 0.3
    assert sorted(db.ids(where={"score": {"eq": 0.1 + 0.2}})) == selected(rows, {"score": {"eq": 0.30000000000000004}})
    assert db.ids(where={"score": {"eq": 0.3}}) == []
    assert sorted(db.ids(where={"score": {"in": [1e-300, 1e10]}})) == selected(rows, {"score": {"in": [1e-300, 1e10]}})
    # an Int for a Float, mixed in one list
    assert sorted(db.ids(where={"weight": {"in": [0, 1.25]}})) == selected(rows, {"weight": {"in": [0.0, 1.25]}})
    assert sorted(db.ids(where={"price": {"in": ["1.5", 0, 2.25]}})) == selected(
        rows, {"price": {"in": ["1.5", "0", "2.25"]}})
    # uuids in any case
    ref = str(UUIDS[0])
    assert sorted(db.ids(where={"ref": {"eq": ref.upper()}})) == selected(rows, {"ref": {"eq": ref}})
    # one value stands for a list of one
    assert sorted(db.ids(where={"qty": {"in": 2}})) == selected(rows, {"qty": {"in": [2]}})


def test_and_or_not_and_empty_lists(db: Db) -> None:
    rows = db.visible()
    everything = sorted(r["id"] for r in rows)
    assert sorted(db.ids(where={})) == everything
    assert sorted(db.ids(where={"and": []})) == everything
    assert db.ids(where={"or": []}) == []
    assert db.ids(where={"not": {}}) == []
    assert sorted(db.ids(where={"not": {"or": []}})) == everything
    assert sorted(db.ids(where=None)) == everything
    where = {"or": [{"rank": {"gt": 2}}, {"and": [{"flag": {"eq": True}}, {"not": {"note": {"isNull": True}}}]}],
             "qty": {"lt": 3}}
    assert sorted(db.ids(where=where)) == selected(rows, where)
    assert sorted(db.ids(where={"and": {"qty": {"eq": 1}}})) == selected(rows, {"qty": {"eq": 1}})


LEAVES: list[tuple[str, str, Any]] = [
    ("name", "eq", "apple"), ("name", "gt", "a,b"), ("note", "isNull", True), ("note", "like", "%a%"),
    ("note", "neq", "zeta"), ("rank", "gt", 2), ("rank", "lte", 1), ("rank", "in", [0, 3]), ("price", "gte", "1.5"),
    ("discount", "lt", "1"), ("discount", "isNull", False), ("score", "lt", 0.1), ("weight", "neq", 0.0),
    ("weight", "gte", 1.25), ("madeAt", "gt", "2024-03-01T12:05:00+00:00"),
    ("seenAt", "lt", "2024-03-03T12:00:00+00:00"), ("day", "in", ["2024-01-02", "2024-01-04"]),
    ("due", "gte", "2024-02-02"), ("ref", "eq", str(UUIDS[1])), ("altRef", "in", [str(UUIDS[0]), str(UUIDS[2])]),
    ("altRef", "neq", str(UUIDS[3])), ("active", "eq", True), ("flag", "neq", False), ("flag", "eq", True),
    ("shade", "in", ["RED", "BLUE"]), ("tint", "eq", "GREEN"), ("tint", "neq", "RED"), ("qty", "eq", 0),
]


def leaves(where: Any) -> int:
    if isinstance(where, list):
        return sum(leaves(w) for w in where)
    return sum(leaves(v) if k in ("and", "or", "not") else len(v) for k, v in where.items())


def random_where(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if depth < 3 and kind < 0.35:
            key = rng.choice(("and", "or"))
            node[key] = [random_where(rng, depth + 1) for _ in range(rng.randint(1, 3))]
        elif depth < 3 and kind < 0.5:
            node["not"] = random_where(rng, depth + 1)
        else:
            field, op, value = rng.choice(LEAVES)
            node.setdefault(field, {})[op] = value
    return node


def test_random_where_trees_match_three_valued_logic_and_not_is_the_complement(db: Db) -> None:
    rng = random.Random(7)
    for caller in (None, BOB):
        rows = db.visible(caller)
        everything = sorted(r["id"] for r in rows)
        token = db.blog.token(caller) if caller else None
        for _ in range(60):
            where = random_where(rng)
            while leaves(where) > 50:  # [paging] max_conditions
                where = random_where(rng)
            got = sorted(db.ids(token=token, where=where))
            assert got == selected(rows, where), where
            complement = sorted(db.ids(token=token, where={"not": where}))
            assert complement == sorted(set(everything) - set(got)), where


def test_not_returns_exactly_the_rows_a_condition_does_not_null_rows_included(db: Db) -> None:
    rows = db.visible()
    everything = {r["id"] for r in rows}
    for field in NULLABLE:
        present = sample(db, field)[1]
        for op in ("eq", "neq") + (("lt", "gte") if field not in ("altRef", "flag", "tint") else ()):
            where = {field: {op: present}}
            got = set(db.ids(where=where))
            negated = set(db.ids(where={"not": where}))
            nulls = {r["id"] for r in rows if r[FIELDS[field]] is None}
            assert nulls and not nulls & got and nulls <= negated, where
            assert got | negated == everything and not got & negated, where
    # neq excludes NULLs (SQL), so neq and not-eq differ by exactly the NULL rows
    nulls = {r["id"] for r in rows if r["rank"] is None}
    assert set(db.ids(where={"not": {"rank": {"eq": 1}}})) - set(db.ids(where={"rank": {"neq": 1}})) == nulls


def test_null_values(db: Db) -> None:
    rows = db.visible()
    assert sorted(db.ids(where={"note": {"isNull": True}})) == sorted(r["id"] for r in rows if r["note"] is None)
    assert sorted(db.ids(where={"tint": {"isNull": False}})) == sorted(r["id"] for r in rows if r["tint"] is not None)
    assert "isNull" in bad(db.run("items", where={"note": {"eq": None}}), "BAD_ARGUMENT").message
    bad(db.run("items", where={"note": {"isNull": None}}), "BAD_ARGUMENT")
    bad(db.run("items", where={"rank": {"in": [1, None]}}), "BAD_ARGUMENT")
    bad(db.run("items", where={"note": None}), "BAD_ARGUMENT")
    bad(db.run("items", orderBy=[{"note": None}]), "BAD_ARGUMENT")


def test_sql_text_in_values_is_a_value_that_matches_nothing(db: Db) -> None:
    before = db.blog.admin.execute("SELECT count(*) FROM public.tb_item").fetchone()
    for where in (
        {"name": {"eq": SQL_TEXT}}, {"name": {"in": [SQL_TEXT, "'"]}}, {"note": {"like": SQL_TEXT}},
        {"name": {"ilike": "%' OR 1=1 --"}}, {"name": {"eq": "apple') OR ('1'='1"}},
    ):
        assert db.ids(where=where) == [], where
    rows = db.visible()
    assert sorted(db.ids(where={"name": {"gt": SQL_TEXT}})) == selected(rows, {"name": {"gt": SQL_TEXT}})
    assert db.blog.admin.execute("SELECT count(*) FROM public.tb_item").fetchone() == before


# --- row filters and row-level security ------------------------------------------------------------------------


def test_where_never_widens_what_row_level_security_allows(db: Db) -> None:
    widen = {"or": [{"visible": {"eq": False}}, {"visible": {"eq": True}}]}
    admin = db.blog.admin
    allowed_anonymous = sorted(r[0] for r in admin.execute("SELECT id FROM public.tb_item WHERE visible").fetchall())
    assert sorted(db.ids(where=widen)) == allowed_anonymous
    assert db.ids(where={"visible": {"eq": False}}) == []
    assert db.ids(where={"not": {"visible": {"eq": True}}}) == []
    assert db.ok("itemFeed", where={"visible": {"eq": False}})["edges"] == []
    for caller in (ALICE, BOB):
        token = db.blog.token(caller)
        allowed = sorted(r[0] for r in admin.execute(
            "SELECT id FROM public.tb_item WHERE visible OR owner_id = %s", (caller,)).fetchall())
        assert sorted(db.ids(token=token, where=widen)) == allowed
        hidden = sorted(r[0] for r in admin.execute(
            "SELECT id FROM public.tb_item WHERE NOT visible AND owner_id = %s", (caller,)).fetchall())
        assert hidden and sorted(db.ids(token=token, where={"visible": {"eq": False}})) == hidden


def test_where_never_widens_a_row_filter(db: Db) -> None:
    widen = {"or": [{"visible": {"eq": False}}, {"visible": {"eq": True}}, {"not": {"qty": {"eq": -1}}}]}
    for caller in (ALICE, BOB):
        token = db.blog.token(caller)
        own = sorted(r["id"] for r in db.rows if r["owner_id"] == uuid.UUID(caller))
        assert sorted(db.ids("myItems", token, where=widen)) == own
        assert sorted(db.ids("myItems", token, where={"not": {"visible": {"eq": True}}})) == sorted(
            r["id"] for r in db.rows if r["owner_id"] == uuid.UUID(caller) and not r["visible"])
    assert bad_auth(db.run("myItems", where=widen))


def bad_auth(result: Any) -> bool:
    assert isinstance(result, ExecutionError) and result.http == 401, result
    return True


def test_blog_posts_where_stays_within_the_policies(db: Db) -> None:
    admin = db.blog.admin
    widen = {"or": [{"published": {"eq": False}}, {"published": {"eq": True}}]}
    published = sorted(str(r[0]) for r in admin.execute("SELECT id FROM public.tb_post WHERE published").fetchall())
    assert published and sorted(p["id"] for p in db.ok("publicPosts", where=widen)) == published
    assert db.ok("publicPosts", where={"published": {"eq": False}}) == []
    assert db.ok("publicPosts", where={"not": {"published": {"eq": True}}}) == []
    bob = db.blog.token(BOB)
    allowed = sorted(str(r[0]) for r in admin.execute(
        "SELECT id FROM public.tb_post WHERE published OR author_id = %s", (BOB,)).fetchall())
    assert sorted(p["id"] for p in db.ok("posts", bob, where=widen)) == allowed
    drafts = [p["id"] for p in db.ok("posts", bob, where={"published": {"eq": False}})]
    assert ALICE_DRAFT not in drafts and drafts == [
        str(r[0]) for r in admin.execute("SELECT id FROM public.tb_post WHERE NOT published AND author_id = %s",
                                         (BOB,)).fetchall()]
    mine = db.ok("myPosts", db.blog.token(ALICE), where={"or": [{"published": {"eq": False}}, {"not": {}}]})
    assert [p["id"] for p in mine] == [ALICE_DRAFT]


# --- keyset paging ------------------------------------------------------------------------------------------------


def walk(db: Db, first: int, token: str | None = None, on_page: Callable[[int, str], None] | None = None,
         operation: str = "itemFeed", **variables: Any) -> list[uuid.UUID]:
    """Every id a client reading page after page sees, checking each page's pageInfo."""
    seen: list[uuid.UUID] = []
    after = None
    for page_number in range(1000):
        page = db.ok(operation, token, first=first, after=after, **variables)
        edges, info = page["edges"], page["pageInfo"]
        assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
        assert all(isinstance(e["cursor"], str) and "=" not in e["cursor"] for e in edges)
        seen += [uuid.UUID(e["node"]["id"]) for e in edges]
        if not info["hasNextPage"]:
            return seen
        assert len(edges) == first  # a page that has a next one is full
        after = info["endCursor"]
        if on_page is not None:
            on_page(page_number, after)
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("field", list(FIELDS))
def test_keyset_walks_visit_every_row_once_in_every_order(db: Db, field: str) -> None:
    rows = db.visible()
    directions = DIRECTIONS if field in NULLABLE else ("ASC", "DESC")
    first = 1 if field in ("name", "note") else 4  # every row a page boundary for the text keys
    for d in directions:
        seen = walk(db, first, orderBy=[{field: d}])
        assert seen == ordered(rows, [(field, d)]), d
        assert len(set(seen)) == len(seen) == len(rows)


def test_keyset_default_order_several_keys_and_a_where(db: Db) -> None:
    rows = db.visible()
    assert walk(db, 3) == ordered(rows, [("madeAt", "DESC")])
    order = [("tint", "ASC"), ("flag", "DESC_NULLS_LAST"), ("discount", "ASC_NULLS_FIRST"), ("madeAt", "ASC")]
    assert walk(db, 2, orderBy=[{f: d} for f, d in order]) == ordered(rows, order)
    where = {"or": [{"rank": {"gte": 2}}, {"note": {"isNull": True}}]}
    keep = set(selected(rows, where))
    assert walk(db, 3, where=where, orderBy=[{"rank": "ASC"}]) == [
        i for i in ordered(rows, [("rank", "ASC")]) if i in keep]
    alice = db.visible(ALICE)
    assert walk(db, 4, db.blog.token(ALICE), orderBy=[{"seenAt": "DESC_NULLS_LAST"}]) == ordered(
        alice, [("seenAt", "DESC_NULLS_LAST")])


def test_keyset_over_an_api_function_binds_its_arguments_the_where_and_the_cursor_in_order(db: Db) -> None:
    rows = db.visible()
    for min_qty, where, order in [
        (1, None, [("price", "DESC")]),
        (2, {"note": {"isNull": False}, "rank": {"in": [0, 1, 2, 4]}}, [("price", "DESC")]),
        (0, {"or": [{"weight": {"lt": 1}}, {"tint": {"eq": "BLUE"}}]}, [("discount", "DESC_NULLS_LAST")]),
        (1, {"madeAt": {"gte": text(BASE + dt.timedelta(minutes=4))}}, [("seenAt", "ASC"), ("name", "DESC")]),
    ]:
        keep = {r["id"] for r in rows if r["qty"] >= min_qty and (where is None or holds(r, where) is True)}
        order_by = [{f: d} for f, d in order] if order != [("price", "DESC")] else None
        seen = walk(db, 2, operation="itemsFrom", minQty=min_qty, where=where, orderBy=order_by)
        assert seen == [i for i in ordered(rows, order) if i in keep], (min_qty, where, order)
    op = find_operation(db.blog.manifest, "itemsFrom")
    assert isinstance(op, QueryEntry) and op.executes.kind == "function"


def test_keyset_page_info_at_the_edges(db: Db) -> None:
    count = len(db.visible())
    whole = db.ok("itemFeed", first=count)
    assert len(whole["edges"]) == count and whole["pageInfo"]["hasNextPage"] is False
    short = db.ok("itemFeed", first=count - 1)
    assert short["pageInfo"]["hasNextPage"] is True
    last = db.ok("itemFeed", first=5, after=short["pageInfo"]["endCursor"])
    assert len(last["edges"]) == 1 and last["pageInfo"]["hasNextPage"] is False
    end = db.ok("itemFeed", first=5, after=last["pageInfo"]["endCursor"])
    assert end == {
        "edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None, "hasPreviousPage": True, "startCursor": None}
    }
    none = db.ok("itemFeed", first=0)
    assert none == {
        "edges": [], "pageInfo": {"hasNextPage": True, "endCursor": None, "hasPreviousPage": False, "startCursor": None}
    }
    # a multiple of the page size: the last full page says there is no next one
    divisor = next(n for n in range(3, count) if count % n == 0)
    assert len(walk(db, divisor)) == count
    # cursors of a walk are the cursors of the edges in one large page, in the same order
    cursors = [e["cursor"] for e in db.ok("itemFeed", first=count, orderBy=[{"weight": "ASC"}])["edges"]]
    for i in (0, 7, count - 2):
        nxt = db.ok("itemFeed", first=1, after=cursors[i], orderBy=[{"weight": "ASC"}])
        assert nxt["edges"][0]["cursor"] == cursors[i + 1]


def new_row(db: Db, name: str, **values: Any) -> dict[str, Any]:
    row = dict(db.rows[0])
    row.update(id=uuid.uuid4(), name=name, visible=True, **values)
    return row


def test_keyset_walk_while_rows_are_inserted_and_deleted(db: Db) -> None:
    rows = db.visible()
    order = ordered(rows, [("name", "ASC")])
    by_id = {r["id"]: r for r in db.rows}
    before, after_row = new_row(db, "!"), new_row(db, "~~~")  # sort before every name / after the first pages
    ahead = new_row(db, "zzz")
    db.insert(ahead)
    cursor_row: dict[str, Any] = {}
    events: list[str] = []

    def between_pages(page: int, cursor: str) -> None:
        if page == 0:
            db.insert(before)
            db.insert(after_row)
            events.append("inserted")
        elif page == 1:
            db.delete(ahead["id"])
            # the row the cursor stands on goes too: the next page still starts after it
            last = uuid.UUID(json.loads(decode(cursor))[2][-1])
            cursor_row.update(by_id[last])
            db.delete(last)
            events.append("deleted")

    try:
        seen = walk(db, 5, orderBy=[{"name": "ASC"}], on_page=between_pages)
    finally:
        db.delete(before["id"], after_row["id"], ahead["id"])
        if cursor_row:
            db.insert(cursor_row)
    assert events == ["inserted", "deleted"]
    assert before["id"] not in seen and after_row["id"] in seen and ahead["id"] not in seen
    assert len(set(seen)) == len(seen)
    assert [i for i in seen if i != after_row["id"]] == order
    assert db.ids() == sorted(r["id"] for r in rows)  # the data is as it was


def decode(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_cursor_values_are_exact(db: Db) -> None:
    """A cursor keeps a row's values as PostgreSQL wrote them: numeric digits, float digits, microseconds, text
    with commas and quotes."""
    for field in ("price", "score", "weight", "madeAt", "name", "note", "discount"):
        page = db.ok("itemFeed", first=50, orderBy=[{field: "ASC"}])
        by_id = {r["id"]: r for r in db.rows}
        for edge in page["edges"]:
            signature, values = json.loads(decode(edge["cursor"]), parse_float=Decimal)[1:]
            assert signature == [[field, "ASC", "LAST"], ["id", "ASC", "LAST"]]
            row = by_id[uuid.UUID(edge["node"]["id"])]
            assert values[1] == str(row["id"])
            value = row[FIELDS[field]]
            if isinstance(value, dt.datetime):
                assert dt.datetime.fromisoformat(values[0]) == value
            elif isinstance(value, float):
                assert float(values[0]) == value
            else:
                assert values[0] == value, (field, values[0], value)


def test_cursor_text_is_the_documented_form(db: Db) -> None:
    """docs/paging.md, Cursors: ``[1,<signature>,<values>]`` without whitespace between elements, the text of
    string values as it is, base64url without padding."""
    row = next(r for r in db.visible() if r["name"] == 'say "hi", ok')
    edges = db.ok("itemFeed", first=50, orderBy=[{"name": "ASC"}])["edges"]
    cursor = next(e["cursor"] for e in edges if e["node"]["id"] == str(row["id"]))
    expected = '[1,[["name","ASC","LAST"],["id","ASC","LAST"]],["say \\"hi\\", ok","' + str(row["id"]) + '"]]'
    assert decode(cursor) == expected and cursor == encode(expected)
    score = db.ok("itemFeed", first=50, orderBy=[{"score": "DESC"}, {"discount": "ASC_NULLS_FIRST"}])["edges"]
    tiny = next(e for e in score if next(r for r in db.rows if str(r["id"]) == e["node"]["id"])["score"] == 1e-300)
    assert decode(tiny["cursor"]).startswith('[1,[["score","DESC","FIRST"],["discount","ASC","FIRST"],'
                                             '["id","ASC","LAST"]],[0.' + "0" * 299 + "1,")


def test_long_text_values_make_usable_cursors(db: Db) -> None:
    rows = db.visible()
    long_rows = [new_row(db, "m" + "é, " * 2000 + str(n)) for n in range(3)]
    for row in long_rows:
        db.insert(row)
    try:
        seen = walk(db, 1, orderBy=[{"name": "DESC"}])
    finally:
        db.delete(*(r["id"] for r in long_rows))
    assert seen == ordered(rows + long_rows, [("name", "DESC")])


def test_infinite_timestamps_and_dates_make_usable_cursors(db: Db) -> None:
    rows = db.visible()
    extra = [new_row(db, "inf"), new_row(db, "-inf")]
    try:
        for row in extra:
            db.insert(row)
        db.blog.admin.execute("UPDATE public.tb_item SET seen_at = 'infinity', due = 'infinity' WHERE id = %s",
                              (extra[0]["id"],))
        db.blog.admin.execute("UPDATE public.tb_item SET seen_at = '-infinity', due = '-infinity' WHERE id = %s",
                              (extra[1]["id"],))
        for field in ("seenAt", "due"):
            for d in ("ASC", "DESC_NULLS_LAST"):
                seen = walk(db, 2, orderBy=[{field: d}])
                assert len(seen) == len(rows) + 2 and set(seen) == {r["id"] for r in rows + extra}
                assert seen.index(extra[1]["id"]) < seen.index(extra[0]["id"]) if d == "ASC" else \
                    seen.index(extra[0]["id"]) < seen.index(extra[1]["id"])
    finally:
        db.delete(*(r["id"] for r in extra))


# --- hostile input: a 400, never a database error ------------------------------------------------------------------

# [paging] max_depth = 5 levels: the where object is level 1, each and/or/not one more (docs/paging.md)
DEEP = {"not": {"or": [{"not": {"and": [{"qty": {"eq": 1}}]}}]}}
DEEPER = {"not": DEEP}
HOSTILE: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    # where: names
    "unknown field": ("items", {"where": {"nope": {"eq": 1}}}, ("UNKNOWN_ARGUMENT",)),
    "python name": ("items", {"where": {"made_at": {"eq": "2024-03-01T12:00:00Z"}}}, ("UNKNOWN_ARGUMENT",)),
    "not filterable": ("items", {"where": {"bucket": {"eq": 1}}}, ("UNKNOWN_ARGUMENT",)),
    "json field": ("items", {"where": {"extra": {"eq": 1}}}, ("UNKNOWN_ARGUMENT",)),
    "the key": ("items", {"where": {"id": {"eq": str(UUIDS[0])}}}, ("UNKNOWN_ARGUMENT",)),
    "owner": ("items", {"where": {"ownerId": {"eq": ALICE}}}, ("UNKNOWN_ARGUMENT",)),
    "operator not declared": ("items", {"where": {"visible": {"neq": True}}}, ("UNKNOWN_ARGUMENT",)),
    "like on an int": ("items", {"where": {"qty": {"like": "1%"}}}, ("UNKNOWN_ARGUMENT",)),
    "lt on a uuid": ("items", {"where": {"ref": {"lt": str(UUIDS[0])}}}, ("UNKNOWN_ARGUMENT",)),
    "gt on an enum": ("items", {"where": {"shade": {"gt": "RED"}}}, ("UNKNOWN_ARGUMENT",)),
    "unknown operator": ("items", {"where": {"name": {"regex": ".*"}}}, ("UNKNOWN_ARGUMENT",)),
    "sql as a field": ("items", {"where": {"name = name OR true --": {"eq": 1}}}, ("UNKNOWN_ARGUMENT",)),
    "sql as an operator": ("items", {"where": {"name": {"eq OR 1=1": "x"}}}, ("UNKNOWN_ARGUMENT",)),
    # where: shapes
    "where a list": ("items", {"where": [{"qty": {"eq": 1}}]}, ("BAD_ARGUMENT",)),
    "where a string": ("items", {"where": "qty = 1"}, ("BAD_ARGUMENT",)),
    "no operators": ("items", {"where": {"qty": {}}}, ("BAD_ARGUMENT",)),
    "operators a list": ("items", {"where": {"qty": [1]}}, ("BAD_ARGUMENT",)),
    "not a list": ("items", {"where": {"not": [{"qty": {"eq": 1}}]}}, ("BAD_ARGUMENT",)),
    "or of strings": ("items", {"where": {"or": ["qty = 1"]}}, ("BAD_ARGUMENT",)),
    "too deep": ("items", {"where": DEEPER}, ("BAD_ARGUMENT",)),
    "too deep or": ("items", {"where": {"or": [{"or": [{"or": [{"or": [{"or": [{}]}]}]}]}]}}, ("BAD_ARGUMENT",)),
    "too deep and": ("items", {"where": {"and": [{"and": [{"and": [{"and": [{"and": [{}]}]}]}]}]}}, ("BAD_ARGUMENT",)),
    "in over max_in": ("items", {"where": {"qty": {"in": list(range(101))}}}, ("BAD_ARGUMENT",)),
    "too many conditions": ("items", {"where": {"or": [{"qty": {"eq": n}} for n in range(51)]}}, ("BAD_ARGUMENT",)),
    "too many in one field": ("items", {"where": {"and": [{"rank": {"gt": n, "lt": n}} for n in range(26)]}},
                              ("BAD_ARGUMENT",)),
    # where: values of the wrong type
    "string for an int": ("items", {"where": {"qty": {"eq": "1"}}}, ("BAD_ARGUMENT",)),
    "float for an int": ("items", {"where": {"qty": {"eq": 1.5}}}, ("BAD_ARGUMENT",)),
    "int over 32 bits": ("items", {"where": {"qty": {"gt": 2**31}}}, ("BAD_ARGUMENT",)),
    "bool for an int": ("items", {"where": {"qty": {"eq": True}}}, ("BAD_ARGUMENT",)),
    "object for an int": ("items", {"where": {"qty": {"eq": {"gt": 1}}}}, ("BAD_ARGUMENT",)),
    "list for eq": ("items", {"where": {"qty": {"eq": [1, 2]}}}, ("BAD_ARGUMENT",)),
    "not a decimal": ("items", {"where": {"price": {"eq": "1.5; DROP TABLE x"}}}, ("BAD_ARGUMENT",)),
    "decimal NaN": ("items", {"where": {"price": {"eq": "NaN"}}}, ("BAD_ARGUMENT",)),
    "decimal too small": ("items", {"where": {"price": {"gt": "1e-20000"}}}, ("BAD_ARGUMENT",)),
    "float infinity": ("items", {"where": {"score": {"lt": float("inf")}}}, ("BAD_ARGUMENT",)),
    "float NaN": ("items", {"where": {"weight": {"in": [float("nan")]}}}, ("BAD_ARGUMENT",)),
    "float a string": ("items", {"where": {"score": {"eq": "0.1"}}}, ("BAD_ARGUMENT",)),
    "not a timestamp": ("items", {"where": {"madeAt": {"gt": "yesterday"}}}, ("BAD_ARGUMENT",)),
    "timestamp without zone": ("items", {"where": {"madeAt": {"gt": "2024-03-01T12:00:00"}}}, ("BAD_ARGUMENT",)),
    "timestamp infinity": ("items", {"where": {"seenAt": {"lt": "infinity"}}}, ("BAD_ARGUMENT",)),
    "february 30": ("items", {"where": {"day": {"eq": "2024-02-30"}}}, ("BAD_ARGUMENT",)),
    "date with time": ("items", {"where": {"due": {"eq": "2024-02-01T00:00:00Z"}}}, ("BAD_ARGUMENT",)),
    "not a uuid": ("items", {"where": {"ref": {"eq": "not-a-uuid"}}}, ("BAD_ARGUMENT",)),
    "uuid list with junk": ("items", {"where": {"altRef": {"in": [str(UUIDS[0]), "x"]}}}, ("BAD_ARGUMENT",)),
    "string for a boolean": ("items", {"where": {"active": {"eq": "true"}}}, ("BAD_ARGUMENT",)),
    "isNull a string": ("items", {"where": {"note": {"isNull": "yes"}}}, ("BAD_ARGUMENT",)),
    "enum python value": ("items", {"where": {"shade": {"eq": "red"}}}, ("BAD_ARGUMENT",)),
    "enum unknown": ("items", {"where": {"tint": {"in": ["RED", "PURPLE"]}}}, ("BAD_ARGUMENT",)),
    "like a number": ("items", {"where": {"name": {"like": 5}}}, ("BAD_ARGUMENT",)),
    "like ends in escape": ("items", {"where": {"name": {"like": "%\\"}}}, ("BAD_ARGUMENT",)),
    "ilike ends in escape": ("items", {"where": {"note": {"ilike": "back\\\\slash\\"}}}, ("BAD_ARGUMENT",)),
    "nul in text": ("items", {"where": {"name": {"eq": "a\x00b"}}}, ("BAD_ARGUMENT",)),
    "nul in a pattern": ("items", {"where": {"name": {"like": "a\x00%"}}}, ("BAD_ARGUMENT",)),
    # orderBy
    "order unknown": ("items", {"orderBy": [{"nope": "ASC"}]}, ("UNKNOWN_ARGUMENT",)),
    "order not orderable": ("items", {"orderBy": [{"bucket": "ASC"}]}, ("UNKNOWN_ARGUMENT",)),
    "order filter-only": ("items", {"orderBy": [{"visible": "ASC"}]}, ("UNKNOWN_ARGUMENT",)),
    "order by the key": ("items", {"orderBy": [{"id": "DESC"}]}, ("UNKNOWN_ARGUMENT",)),
    "order python name": ("items", {"orderBy": [{"made_at": "ASC"}]}, ("UNKNOWN_ARGUMENT",)),
    "order direction a list": ("items", {"orderBy": [{"name": ["ASC"]}]}, ("BAD_ARGUMENT",)),
    "order direction an object": ("items", {"orderBy": [{"name": {"direction": "ASC"}}]}, ("BAD_ARGUMENT",)),
    "order sql": ("items", {"orderBy": [{"name": "ASC; DROP TABLE public.tb_item"}]}, ("BAD_ARGUMENT",)),
    "order lower case": ("items", {"orderBy": [{"name": "asc"}]}, ("BAD_ARGUMENT",)),
    "order no key": ("items", {"orderBy": [{}]}, ("BAD_ARGUMENT",)),
    "order two keys": ("items", {"orderBy": [{"name": "ASC", "qty": "DESC"}]}, ("BAD_ARGUMENT",)),
    "order twice": ("items", {"orderBy": [{"name": "ASC"}, {"qty": "ASC"}, {"name": "DESC"}]}, ("BAD_ARGUMENT",)),
    "order a string": ("items", {"orderBy": "name"}, ("BAD_ARGUMENT",)),
    "order a list of lists": ("items", {"orderBy": [["name", "ASC"]]}, ("BAD_ARGUMENT",)),
    "order too long": ("items", {"orderBy": [{"name": "ASC"}] * 20}, ("BAD_ARGUMENT",)),
    "order keyset unknown": ("itemFeed", {"orderBy": [{"bucket": "ASC"}]}, ("UNKNOWN_ARGUMENT",)),
    # limit / offset / first
    "limit over max": ("items", {"limit": 101}, ("LIMIT_TOO_LARGE",)),
    "limit far over max": ("items", {"limit": 2**31 - 1}, ("LIMIT_TOO_LARGE",)),
    "limit negative": ("items", {"limit": -1}, ("BAD_ARGUMENT",)),
    "limit over 32 bits": ("items", {"limit": 2**31}, ("LIMIT_TOO_LARGE",)),
    "limit 1e20": ("items", {"limit": 1e20}, ("LIMIT_TOO_LARGE",)),
    "offset a fraction": ("items", {"offset": 0.5}, ("BAD_ARGUMENT",)),
    "limit a string": ("items", {"limit": "10"}, ("BAD_ARGUMENT",)),
    "limit a fraction": ("items", {"limit": 1.5}, ("BAD_ARGUMENT",)),
    "limit a boolean": ("items", {"limit": True}, ("BAD_ARGUMENT",)),
    "offset negative": ("items", {"offset": -1}, ("BAD_ARGUMENT",)),
    "offset over 32 bits": ("items", {"offset": 2**31}, ("BAD_ARGUMENT",)),
    "offset a string": ("items", {"offset": "5"}, ("BAD_ARGUMENT",)),
    "offset a boolean": ("items", {"offset": False}, ("BAD_ARGUMENT",)),
    "row filter limit over max": ("myItems", {"limit": 101}, ("LIMIT_TOO_LARGE",)),
    "first over max_limit=": ("itemFeed", {"first": 51}, ("LIMIT_TOO_LARGE",)),
    "first negative": ("itemFeed", {"first": -5}, ("BAD_ARGUMENT",)),
    "limit on keyset": ("itemFeed", {"limit": 5}, ("UNKNOWN_ARGUMENT",)),
    "offset on keyset": ("itemFeed", {"offset": 5}, ("UNKNOWN_ARGUMENT",)),
    "after on offset": ("items", {"after": "abc"}, ("UNKNOWN_ARGUMENT",)),
    "first on offset": ("items", {"first": 5}, ("UNKNOWN_ARGUMENT",)),
    # cursors
    "cursor garbage": ("itemFeed", {"after": "!!!not base64!!!"}, ("INVALID_CURSOR",)),
    "cursor empty": ("itemFeed", {"after": ""}, ("INVALID_CURSOR",)),
    "cursor a number": ("itemFeed", {"after": 12}, ("INVALID_CURSOR",)),
    "cursor a list": ("itemFeed", {"after": ["x"]}, ("INVALID_CURSOR",)),
    "cursor not json": ("itemFeed", {"after": encode("not json")}, ("INVALID_CURSOR",)),
    "cursor not utf-8": ("itemFeed", {"after": base64.urlsafe_b64encode(b"\xff\xfe[").decode()}, ("INVALID_CURSOR",)),
    "cursor non-ascii": ("itemFeed", {"after": "é"}, ("INVALID_CURSOR",)),
    "cursor an object": ("itemFeed", {"after": encode('{"a": 1}')}, ("INVALID_CURSOR",)),
    "cursor version 2": ("itemFeed", {"after": encode(
        '[2,[["madeAt","DESC","FIRST"],["id","ASC","LAST"]],["2024-03-01T12:00:00+00:00","' + str(UUIDS[0]) + '"]]')},
        ("INVALID_CURSOR",)),
    "cursor too few values": ("itemFeed", {"after": encode(
        '[1,[["madeAt","DESC","FIRST"],["id","ASC","LAST"]],["2024-03-01T12:00:00+00:00"]]')}, ("INVALID_CURSOR",)),
    "cursor wrong type": ("itemFeed", {"after": encode(
        '[1,[["madeAt","DESC","FIRST"],["id","ASC","LAST"]],[5,"' + str(UUIDS[0]) + '"]]')}, ("INVALID_CURSOR",)),
    "cursor sql value": ("itemFeed", {"after": encode(
        '[1,[["madeAt","DESC","FIRST"],["id","ASC","LAST"]],["2024-03-01\'; DROP TABLE x; --","'
        + str(UUIDS[0]) + '"]]')}, ("INVALID_CURSOR",)),
    "cursor null for a non-null key": ("itemFeed", {"after": encode(
        '[1,[["madeAt","DESC","FIRST"],["id","ASC","LAST"]],[null,"' + str(UUIDS[0]) + '"]]')}, ("INVALID_CURSOR",)),
    "cursor of another order": ("itemFeed", {"orderBy": [{"madeAt": "ASC"}], "after": encode(
        '[1,[["madeAt","DESC","FIRST"],["id","ASC","LAST"]],["2024-03-01T12:00:00+00:00","' + str(UUIDS[0]) + '"]]')},
        ("INVALID_CURSOR",)),
    "cursor huge": ("itemFeed", {"after": "A" * 2_000_000}, ("INVALID_CURSOR",)),
    "cursor nested deep": ("itemFeed", {"after": encode("[" * 3000)}, ("INVALID_CURSOR",)),
    "cursor nested deep, closed": ("itemFeed", {"after": encode("[1,[[" + "[" * 2000 + "]" * 2002 + ",[1,2]]")},
                                   ("INVALID_CURSOR",)),
    "cursor digits": ("itemFeed", {"orderBy": [{"price": "ASC"}], "after": encode(
        '[1,[["price","ASC","LAST"],["id","ASC","LAST"]],[' + "9" * 5000 + ',"' + str(UUIDS[0]) + '"]]')},
        ("INVALID_CURSOR",)),
}


# PostgreSQL takes time zone offsets up to 15:59 (Python up to 23:59): the argument checks refuse the rest, so a
# DateTime value never reaches SQL to fail there (22009) as a 500.
HOSTILE_PARAMS = [pytest.param(*case, id=name) for name, case in HOSTILE.items()] + [
    pytest.param("items", {"where": {"madeAt": {"gt": "2024-03-01T12:00:00+20:00"}}}, ("BAD_ARGUMENT",),
                 id="timestamp offset out of range"),
    pytest.param("itemFeed", {"after": encode('[1,[["madeAt","DESC","FIRST"],["id","ASC","LAST"]],'
                                               '["2024-03-01T12:00:00+20:00","' + str(UUIDS[0]) + '"]]')},
                 ("INVALID_CURSOR",), id="cursor offset out of range"),
]


@pytest.mark.parametrize(("operation", "variables", "codes"), HOSTILE_PARAMS)
def test_hostile_input_is_a_400(db: Db, operation: str, variables: dict[str, Any], codes: tuple[str, ...]) -> None:
    result = db.run(operation, db.blog.token(ALICE) if operation == "myItems" else None, **variables)
    error = bad(result, *codes)
    assert error.sqlstate is None  # refused before any SQL ran
    assert len(error.message) < 400


def test_real_cursors_refused_where_they_do_not_belong(db: Db) -> None:
    page = db.ok("itemFeed", first=3)
    cursor = page["pageInfo"]["endCursor"]
    assert db.ok("itemFeed", first=3, after=cursor)["edges"]  # it works where it belongs
    bad(db.run("itemFeed", after=cursor, orderBy=[{"madeAt": "DESC"}, {"name": "ASC"}]), "INVALID_CURSOR")
    bad(db.run("itemFeed", after=cursor, orderBy=[{"madeAt": "ASC"}]), "INVALID_CURSOR")
    # DESC and DESC_NULLS_FIRST are one order on a column that holds no NULL: the cursor carries over
    assert db.ok("itemFeed", first=3, after=cursor, orderBy=[{"madeAt": "DESC_NULLS_FIRST"}])["edges"]
    for tampered in (cursor[:-2], cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), cursor + "x", "x" + cursor,
                     cursor.upper()):
        result = db.run("itemFeed", after=tampered)
        if not isinstance(result, ExecutionError):  # a change base64 absorbs must still decode to this cursor
            assert result == db.ok("itemFeed", after=cursor)
        else:
            bad(result, "INVALID_CURSOR")
    # a valid cursor re-made with another value is just another position: no error, no row seen twice
    head, signature, values = json.loads(decode(cursor))
    values[0] = "1999-01-01T00:00:00+00:00"
    assert db.ok("itemFeed", first=3, after=encode(json.dumps([head, signature, values])))["edges"] == []
    values[0] = SQL_TEXT
    bad(db.run("itemFeed", after=encode(json.dumps([head, signature, values]))), "INVALID_CURSOR")
    name_cursor = db.ok("itemFeed", first=1, orderBy=[{"name": "ASC"}])["pageInfo"]["endCursor"]
    head, signature, values = json.loads(decode(name_cursor))
    values[0] = SQL_TEXT  # text: any string is a position
    moved = db.ok("itemFeed", first=50, orderBy=[{"name": "ASC"}], after=encode(json.dumps([head, signature, values])))
    rows = db.visible()
    assert [uuid.UUID(e["node"]["id"]) for e in moved["edges"]] == [
        i for i in ordered(rows, [("name", "ASC")]) if next(r for r in rows if r["id"] == i)["name"] > SQL_TEXT]


def test_the_bounds_are_inclusive(db: Db) -> None:
    assert sorted(db.ids(where=DEEP)) == selected(db.visible(), DEEP)
    assert db.ok("items", where={"qty": {"in": list(range(100))}})
    assert db.ok("items", where={"or": [{"qty": {"eq": n}} for n in range(50)]})
    assert len(db.ok("items", limit=100)) == len(db.visible())
    assert len(db.ok("itemFeed", first=50)["edges"]) == len(db.visible())
    assert len(db.ok("items", orderBy=[{f: "ASC"} for f in FIELDS])) == 20  # every orderable field once


def test_the_data_survived(db: Db) -> None:
    count = db.blog.admin.execute("SELECT count(*) FROM public.tb_item").fetchone()
    assert count == (ROW_COUNT,)
    assert db.blog.admin.execute("SELECT to_regclass('public.tb_item') IS NOT NULL").fetchone() == (True,)
