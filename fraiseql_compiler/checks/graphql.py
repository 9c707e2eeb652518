"""GraphQL names and positions: every name the SDL will carry is valid and unique where GraphQL needs it
to be; input types only as inputs, object types only as outputs; each generated view has one type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.diagnostics import Diagnostic, Related, Span, diag
from fraiseql_compiler.ir import Field, InputType, ObjectType, Schema
from fraiseql_compiler.scalars import BY_GRAPHQL

NAME_RE = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")  # the GraphQL spec's Name
ROOT_TYPES = frozenset({"Query", "Mutation", "Subscription"})


@lru_cache(maxsize=4096)
def _name_problem(name: str, kind: str) -> str | None:
    if not NAME_RE.match(name):
        return "a GraphQL name is ASCII letters, digits and underscores, and does not start with a digit"
    if name.startswith("__"):
        return "names starting with __ are reserved for GraphQL introspection"
    if kind == "type" and (name in ROOT_TYPES or name in BY_GRAPHQL):
        return f"{name} is a type GraphQL or the compiler already defines"
    if kind == "enum value" and name in ("true", "false", "null"):
        return f"{name} cannot be an enum value in GraphQL"
    return None


def _names(schema: Schema) -> Iterator[tuple[str, str, str, Span]]:
    """(kind, GraphQL name, what it names, where) for every name the SDL will carry."""
    types: list[ObjectType | InputType] = [*schema.types, *schema.inputs]
    for t in types:
        yield "type", t.name, f"type {t.python_name}", t.name_span or t.span
        for f in t.fields:
            yield "field", f.graphql_name, f'field "{f.name}" of {t.name}', f.name_span or f.span
    for e in schema.enums:
        yield "type", e.name, f"enum {e.python_name}", e.name_span or e.span
        for v in e.values:
            yield "enum value", v.name, f"value {v.name} of {e.name}", v.span
    for op in schema.operations():
        kind = "query" if op.id.startswith("query.") else "mutation"
        yield "operation", op.graphql_name, f"{kind} {op.name}", op.name_span or op.span
        for a in op.arguments:
            yield "argument", a.graphql_name, f'argument "{a.name}" of {op.name}', a.span


def check_graphql_names(schema: Schema, facts: Facts) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for kind, name, what, span in _names(schema):
        problem = _name_problem(name, kind)
        if problem is not None:
            hint = 'set name="..." to a valid name' if kind != "enum value" else "rename the enum member"
            out.append(diag("FQL229", f'GraphQL name "{name}" of {what} is not valid: {problem}', span, hint))
    for kind, ops in (("query", schema.queries), ("mutation", schema.mutations)):
        seen: dict[str, Span] = {}
        for op in ops:
            span = op.name_span or op.span
            first = seen.setdefault(op.graphql_name, span)
            if first is not span:
                out.append(
                    diag(
                        "FQL202",
                        f'{kind} {op.name} and another {kind} both have the GraphQL name "{op.graphql_name}"',
                        span,
                        'rename one of them, or set name="..."',
                        related=(Related(first, "first defined here"),),
                    )
                )
    for t in schema.types:
        _field_clashes(t.name, t.fields, out)
    for i in schema.inputs:
        _field_clashes(i.name, i.fields, out)
    return out


def _field_clashes(owner: str, fields: tuple[Field, ...], out: list[Diagnostic]) -> None:
    seen: dict[str, Field] = {}
    for f in fields:
        other = seen.setdefault(f.graphql_name, f)
        if other is not f:
            out.append(
                diag(
                    "FQL224",
                    f'fields "{other.name}" and "{f.name}" of {owner} both map to GraphQL name "{f.graphql_name}"',
                    f.name_span or f.span,
                    'rename one, or set fraiseql.field(name="...")',
                    related=(Related(other.name_span or other.span, f'"{other.name}" is here'),),
                )
            )


def check_view_names(schema: Schema, facts: Facts) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    owners: dict[str, str] = {}
    for name, view in facts.views.items():
        first = owners.setdefault(view.relation, name)
        if first != name:
            t, other = schema.object_type(name), schema.object_type(first)
            assert t is not None and other is not None
            out.append(
                diag(
                    "FQL225",
                    f'types {first} and {name} both generate view "{t.view}"',
                    t.view_span or t.table_span or t.span,
                    'set view="..." on one of them',
                    related=(Related(other.view_span or other.table_span or other.span, f"{first} generates it here"),),
                )
            )
    return out


def check_positions(schema: Schema, facts: Facts) -> list[Diagnostic]:
    """Input types only as arguments and input fields; object types only as results and output fields."""
    out: list[Diagnostic] = []
    for t in schema.types:
        for f in t.fields:
            if f.type.named().kind == "input":
                out.append(
                    diag(
                        "FQL223",
                        f'field "{f.name}" of {t.name} is an input type ({f.type.named().name})',
                        f.span,
                        "output types can hold only object types, enums and scalars",
                    )
                )
    for i in schema.inputs:
        for f in i.fields:
            if f.type.named().kind == "object":
                out.append(
                    diag(
                        "FQL223",
                        f'field "{f.name}" of input {i.name} is an object type ({f.type.named().name})',
                        f.span,
                        "declare an @fraiseql.input for it",
                    )
                )
    for op in schema.operations():
        kind = "query" if op.id.startswith("query.") else "mutation"
        for a in op.arguments:
            if a.type.named().kind == "object":
                out.append(
                    diag(
                        "FQL223",
                        f'argument "{a.name}" of {kind} {op.name} is an object type ({a.type.named().name})',
                        a.span,
                        f"arguments take inputs: declare {a.type.named().name}Input with @fraiseql.input",
                    )
                )
        if op.returns.named().kind == "input":
            out.append(
                diag(
                    "FQL223",
                    f"{kind} {op.name} returns an input type ({op.returns.named().name})",
                    op.span,
                    "return an @fraiseql.type",
                )
            )
    return out
