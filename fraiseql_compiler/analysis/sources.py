"""The relations queries and policies read, with their columns and SQL types: one definition.

A table-backed type's generated view exposes, besides ``data``: its scalar and enum fields (named by the
field, read from the field's column), the key column of each embedded object (``author`` → ``author_id``,
typed like the embedded type's ``id``), and the foreign keys that parents' list fields join on
(``post_id``, typed like the parent's ``id``). Row filters on the view, the policies on its table, the
argument bindings and the emitted view all read this one map, so a column is typed the same everywhere.

A query may also read a view of the user's own (``sql_source="v_report"``): its columns are not known, so
nothing is checked against them; the returned type's scalar fields give the types a comparison is cast to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from fraiseql_compiler.ir import Field, ObjectType, Query, Schema
from fraiseql_compiler.naming import snake
from fraiseql_compiler.sql.quoting import qualify

Origin = Literal["field", "embedded_key", "list_key"]


@dataclass(frozen=True)
class Column:
    name: str  # as the view exposes it
    table_column: str  # in the base table
    sql_type: str | None  # None when nothing in the schema says (an embedded type without an id field)
    origin: Origin


@dataclass(frozen=True)
class Source:
    relation: str  # qualified and quoted: "public"."v_post"
    type_name: str | None  # the type the rows are (generated: whose view it is)
    generated: bool  # a view the compiler emits, whose columns are exactly ``columns``
    columns: Mapping[str, Column]  # by view column name; for a user's view, a guess from the returned type

    @property
    def known_columns(self) -> frozenset[str] | None:
        """The columns a filter may name; None when the compiler cannot know them (a user's view)."""
        return frozenset(self.columns) if self.generated else None

    def view_types(self) -> dict[str, str]:
        return {c.name: c.sql_type for c in self.columns.values() if c.sql_type}

    def table_types(self) -> dict[str, str]:
        return {c.table_column: c.sql_type for c in self.columns.values() if c.sql_type}


def owner_key(t: ObjectType) -> str:
    """The default foreign-key column a child table uses to point at ``t`` (Post → post_id)."""
    return f"{snake(t.python_name)}_id"


def _key_type(t: ObjectType | None) -> str | None:
    key = next((f for f in t.fields if f.name == "id"), None) if t is not None else None
    return key.type.sql_type if key is not None else None


def _list_keys(schema: Schema) -> dict[str, list[tuple[str, str | None]]]:
    """child type name → (foreign-key column, its type) for every parent's list field over it."""
    keys: dict[str, list[tuple[str, str | None]]] = {}
    for parent in schema.types:
        if not parent.table:
            continue
        for f in parent.fields:
            if f.type.kind == "list" and f.type.named().kind == "object":
                key = (f.foreign_key or owner_key(parent), _key_type(parent))
                keys.setdefault(str(f.type.named().name), []).append(key)
    return keys


def _field_columns(t: ObjectType, schema: Schema) -> dict[str, Column]:
    columns: dict[str, Column] = {}
    for f in t.fields:
        column = _field_column(f, schema)
        if column is not None:
            columns.setdefault(column.name, column)
    return columns


def _field_column(f: Field, schema: Schema) -> Column | None:
    if f.column is None:
        return None
    if f.type.kind in ("scalar", "enum"):
        return Column(f.name, f.column, f.type.sql_type, "field")
    if f.type.kind == "object":
        return Column(f.column, f.column, _key_type(schema.object_type(str(f.type.name))), "embedded_key")
    return None


def view_sources(schema: Schema, default_schema: str) -> dict[str, Source]:
    """type name → the generated view of every table-backed type."""
    list_keys = _list_keys(schema)
    out: dict[str, Source] = {}
    for t in schema.types:
        if not (t.table and t.view):
            continue
        columns = _field_columns(t, schema)
        for key, sql_type in list_keys.get(t.name, ()):
            columns.setdefault(key, Column(key, key, sql_type, "list_key"))
        out[t.name] = Source(qualify(t.view, default_schema), t.name, True, MappingProxyType(columns))
    return out


def query_source(q: Query, schema: Schema, views: Mapping[str, Source], default_schema: str) -> Source | None:
    """What a query reads: the returned type's generated view, or a view of the user's own (None: no
    sql_source, reported by the checks)."""
    if not q.sql_source:
        return None
    relation = qualify(q.sql_source, default_schema)
    name = str(q.returns.named().name)
    view = views.get(name)
    if view is not None and view.relation == relation:
        return view
    target = schema.object_type(name)
    guessed = _field_columns(target, schema) if target is not None else {}
    return Source(relation, name if target is not None else None, False, MappingProxyType(guessed))


def view_dependencies(schema: Schema) -> dict[str, list[str]]:
    """type name → names of the table-backed types its view embeds."""
    backed = {t.name for t in schema.types if t.table}
    deps: dict[str, list[str]] = {}
    for t in schema.types:
        if t.table:
            named = (f.type.named() for f in t.fields)
            deps[t.name] = sorted({str(n.name) for n in named if n.kind == "object" and n.name in backed})
    return deps


def view_order(deps: Mapping[str, list[str]]) -> tuple[str, ...]:
    """Type names, each after the types its view embeds; a cycle (FQL211) is broken where it closes."""
    done: dict[str, None] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in visiting:
            return
        visiting.add(name)
        for dep in deps.get(name, ()):
            visit(dep)
        visiting.discard(name)
        done[name] = None

    for name in sorted(deps):
        visit(name)
    return tuple(done)


def view_cycle(deps: Mapping[str, list[str]]) -> list[str] | None:
    """A cycle of views embedding each other (first found, in name order), closed: [A, B, A]."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in deps.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(deps):
        if node not in state and (found := visit(node)):
            return found
    return None
