"""How each list query pages: the fields callers may order and filter by, with their columns, types and
operators; the default order, always ended by a key so every page has a defined order; the page-size
bounds; and the style (offset, or a keyset connection). One definition, read by the checks, the SDL, the
manifest (which a runtime follows) and the lint rules.

Problems (an order on an unknown field, keyset paging without a key) are not raised here: the plan is
derived with what can be resolved, and :mod:`fraiseql_compiler.checks.paging` reports the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fraiseql_compiler.analysis.sources import Source
from fraiseql_compiler.ir import Field, ObjectType, Query, Schema
from fraiseql_compiler.settings import Settings

# Operators by kind of value. Booleans, enums and UUIDs are compared for (in)equality only; like/ilike are
# never in a default set: a pattern with a leading % reads every row, so a field opts in by naming them.
EQUALITY = ("eq", "neq", "in", "isNull")
ORDERED = ("eq", "neq", "lt", "lte", "gt", "gte", "in", "isNull")
PATTERN = ("like", "ilike")
ALL_OPERATORS = (*ORDERED, *PATTERN)
_UNORDERED_SQL = ("boolean", "uuid")
_UNSORTABLE_SQL = ("json", "jsonb")
_TEXT_SQL = ("text", "character varying", "varchar", "citext")

# The arguments a list query takes for paging, by GraphQL name (fixed, so a runtime needs no lookup).
OFFSET_ARGUMENTS = ("limit", "offset")
KEYSET_ARGUMENTS = ("first", "after")
SHAPE_ARGUMENTS = ("orderBy", "where")
PAGING_PYTHON_NAMES = {"limit": "limit", "offset": "offset", "first": "first", "after": "after"}

Direction = Literal["ASC", "DESC"]


@dataclass(frozen=True)
class PageField:
    """A field list queries may order or filter by (or that a default order names)."""

    name: str  # Python name
    graphql_name: str
    column: str  # in the relation the query reads
    sql_type: str
    graphql_type: str  # the named GraphQL type: String, DateTime, an enum…
    kind: Literal["scalar", "enum"]
    nullable: bool
    order: bool  # callers may order by it
    operators: tuple[str, ...]  # callers may filter with these (empty: not filterable)


@dataclass(frozen=True)
class OrderKey:
    field: str  # GraphQL name
    direction: Direction
    nulls_first: bool  # where NULLs sort; PostgreSQL's default (ASC: last, DESC: first) unless asked


@dataclass(frozen=True)
class Paging:
    style: Literal["offset", "keyset"]
    type_name: str
    fields: tuple[PageField, ...]  # every field a caller or the default order may name
    default_order: tuple[OrderKey, ...]  # as written, then the key
    key: tuple[str, ...]  # GraphQL names that end every order and make it total
    key_unique: bool  # the key is the type's id: one row per key value
    default_limit: int
    max_limit: int
    max_in: int
    max_depth: int
    max_conditions: int
    declared: tuple[str, ...]  # the paging arguments the user declared (Python names): not arguments of theirs

    @property
    def orderable(self) -> tuple[PageField, ...]:
        return tuple(f for f in self.fields if f.order)

    @property
    def filterable(self) -> tuple[PageField, ...]:
        return tuple(f for f in self.fields if f.operators)

    def field(self, graphql_name: str) -> PageField | None:
        return next((f for f in self.fields if f.graphql_name == graphql_name), None)

    @property
    def arguments(self) -> tuple[str, ...]:
        """The paging arguments, by GraphQL name, in the order the SDL lists them."""
        head = KEYSET_ARGUMENTS if self.style == "keyset" else OFFSET_ARGUMENTS
        tail = (("orderBy",) if self.orderable else ()) + (("where",) if self.filterable else ())
        return head + tail

    @property
    def order_by_input(self) -> str:
        return f"{self.type_name}OrderBy"

    @property
    def where_input(self) -> str:
        return f"{self.type_name}Where"

    @property
    def connection(self) -> str:
        return f"{self.type_name}Connection"

    @property
    def edge(self) -> str:
        return f"{self.type_name}Edge"


def default_operators(sql_type: str, kind: str) -> tuple[str, ...]:
    if kind == "enum" or sql_type in _UNORDERED_SQL:
        return EQUALITY
    return ORDERED


def allowed_operators(sql_type: str, kind: str) -> tuple[str, ...]:
    """Every operator a field of this type may declare."""
    if sql_type in _UNSORTABLE_SQL:
        return ()
    base = default_operators(sql_type, kind)
    return base + PATTERN if sql_type in _TEXT_SQL and kind == "scalar" else base


def sortable(sql_type: str | None) -> bool:
    return sql_type is not None and sql_type not in _UNSORTABLE_SQL


def field_operators(f: Field) -> tuple[str, ...]:
    """The operators ``f`` declares, as far as its type allows them (the checks report the rest)."""
    sql_type, kind = str(f.type.sql_type), f.type.kind
    if f.filter is False:
        return ()
    allowed = allowed_operators(sql_type, kind)
    wanted = default_operators(sql_type, kind) if f.filter is True else tuple(f.filter)
    return tuple(op for op in ALL_OPERATORS if op in wanted and op in allowed)


def column_field(f: Field) -> bool:
    """A scalar or enum field read from a column: what paging can order and filter by."""
    return f.column is not None and f.type.kind in ("scalar", "enum") and f.type.sql_type is not None


def _page_field(f: Field, source: Source | None) -> PageField | None:
    if not column_field(f):
        return None
    column = f.name
    if source is not None and source.known_columns is not None and column not in source.known_columns:
        return None
    return PageField(
        name=f.name,
        graphql_name=f.graphql_name,
        column=column,
        sql_type=str(f.type.sql_type),
        graphql_type=str(f.type.name),
        kind="enum" if f.type.kind == "enum" else "scalar",
        nullable=f.type.nullable,
        order=f.order and sortable(f.type.sql_type),
        operators=field_operators(f),
    )


def parse_order(item: str) -> tuple[str, Direction]:
    """``"-created_at"`` → ("created_at", "DESC")."""
    text = item.strip()
    return (text[1:].strip(), "DESC") if text.startswith("-") else (text.lstrip("+").strip(), "ASC")


def _resolve(name: str, t: ObjectType) -> Field | None:
    return next((f for f in t.fields if name in (f.name, f.graphql_name)), None)


def is_list_query(q: Query) -> bool:
    return q.returns.kind == "list" and q.returns.named().kind == "object"


def plan_paging(q: Query, schema: Schema, source: Source | None, settings: Settings) -> Paging | None:
    """The paging of a list query over an object type (None for single-row queries)."""
    if not is_list_query(q):
        return None
    t = schema.object_type(str(q.returns.named().name))
    if t is None:
        return None
    by_name: dict[str, PageField] = {}
    for f in t.fields:
        pf = _page_field(f, source)
        if pf is not None:
            by_name[f.name] = pf
    order: list[OrderKey] = []
    for item in q.order_by or ():
        name, direction = parse_order(item)
        named = _resolve(name, t)
        if named is None or named.name not in by_name or not sortable(named.type.sql_type):
            continue  # reported by the checks
        if all(k.field != named.graphql_name for k in order):
            order.append(OrderKey(named.graphql_name, direction, direction == "DESC"))
    id_field = by_name.get("id")
    if id_field is not None:
        key: tuple[str, ...] = (id_field.graphql_name,)
    else:  # no key: every sortable column, in declaration order, so only identical rows can tie
        key = tuple(f.graphql_name for f in by_name.values() if sortable(f.sql_type))
    for name in key:
        if all(k.field != name for k in order):
            order.append(OrderKey(name, "ASC", False))
    # The style's own arguments only: `after` on an offset query is an argument of the author's (the checks
    # refuse the other style's limit/offset/first), bound like any other.
    style_arguments = KEYSET_ARGUMENTS if q.paging == "keyset" else OFFSET_ARGUMENTS
    declared = tuple(
        a.name
        for a in q.arguments
        if a.name in style_arguments and a.type.kind == "scalar" and a.type.name in ("Int", "String")
    )
    limit_arg = next((a for a in q.arguments if a.name == ("first" if q.paging == "keyset" else "limit")), None)
    paging = settings.paging
    max_limit = q.max_limit or paging.max_limit
    # A declared default is the author's (FQL243 if over max_limit); without one (no argument, no default, or
    # None), [paging] default_limit, lowered to the query's max_limit.
    default_limit = min(paging.default_limit, max_limit)
    if limit_arg is not None and limit_arg.has_default and type(limit_arg.default) is int:
        default_limit = limit_arg.default
    return Paging(
        style=q.paging,
        type_name=t.name,
        fields=tuple(
            f for f in by_name.values() if f.order or f.operators or any(k.field == f.graphql_name for k in order)
        ),
        default_order=tuple(order),
        key=key,
        key_unique=id_field is not None,
        default_limit=default_limit,
        max_limit=max_limit,
        max_in=paging.max_in,
        max_depth=paging.max_depth,
        max_conditions=paging.max_conditions,
        declared=declared,
    )
