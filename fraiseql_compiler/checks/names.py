"""Names: SQL identifiers the user wrote, GraphQL name clashes, input/output positions."""

from __future__ import annotations

from fraiseql_compiler.errors import Diagnostic, Span, error
from fraiseql_compiler.ir import Field, Schema
from fraiseql_compiler.naming import IDENT_RE
from fraiseql_compiler.sql.quoting import split_qualified


def _identifier_problem(value: str) -> str | None:
    schema, obj = split_qualified(value)
    for part in (schema, obj) if schema is not None else (obj,):
        if not part or not IDENT_RE.match(part):
            if part and part.lower() != part and IDENT_RE.match(part.lower()):
                return f'"{value}" has upper-case letters; PostgreSQL folds unquoted names to lower case'
            return f'"{value}" is not a valid SQL identifier'
    return None


def _ident(what: str, value: str | None, span: Span | None) -> list[Diagnostic]:
    if value is None:
        return []
    problem = _identifier_problem(value)
    if problem is None:
        return []
    return [
        error(
            "FQL204",
            f"{what} {problem}",
            span,
            "use a lower-case name of letters, digits and underscores (max 63), optionally schema-qualified",
        )
    ]


def check_identifiers(schema: Schema) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for t in schema.types:
        out += _ident("table", t.table, t.table_span or t.span)
        out += _ident("view", t.view, t.view_span or t.table_span or t.span)
        for f in t.fields:
            if t.table is not None:
                out += _ident(f'column of field "{f.name}"', f.column, f.span)
                out += _ident(f'foreign_key of field "{f.name}"', f.foreign_key, f.span)
    for q in schema.queries:
        if q.sql_source:
            out += _ident("sql_source", q.sql_source, q.sql_source_span or q.span)
    for m in schema.mutations:
        out += _ident("function", m.function, m.function_span or m.span)
    return out


def check_graphql_names(schema: Schema) -> list[Diagnostic]:
    out: list[Diagnostic] = []

    def fields_clash(owner: str, fields: tuple[Field, ...]) -> None:
        seen: dict[str, Field] = {}
        for f in fields:
            if f.graphql_name in seen:
                other = seen[f.graphql_name]
                out.append(
                    error(
                        "FQL202",
                        f'fields "{other.name}" and "{f.name}" of {owner} both map to GraphQL name "{f.graphql_name}"',
                        f.span,
                        'rename one, or set fraiseql.field(name="...")',
                    )
                )
            seen[f.graphql_name] = f

    for t in schema.types:
        fields_clash(t.name, t.fields)
    for i in schema.inputs:
        fields_clash(i.name, i.fields)
    views: dict[str, str] = {}
    for t in schema.types:
        if t.view is not None:
            key = t.view if "." in t.view else f"public.{t.view}"
            if key in views:
                out.append(
                    error(
                        "FQL202",
                        f'types {views[key]} and {t.name} both generate view "{t.view}"',
                        t.span,
                        'set view="..." on one of them',
                    )
                )
            views[key] = t.name
    return out


def check_positions(schema: Schema) -> list[Diagnostic]:
    """Input types only as arguments and input fields; object types only as results and output fields."""
    out: list[Diagnostic] = []
    for t in schema.types:
        for f in t.fields:
            if f.type.named().kind == "input":
                out.append(
                    error(
                        "FQL206",
                        f'field "{f.name}" of {t.name} is an input type ({f.type.named().name})',
                        f.span,
                        "output types can hold only object types, enums and scalars",
                    )
                )
    for i in schema.inputs:
        for f in i.fields:
            if f.type.named().kind == "object":
                out.append(
                    error(
                        "FQL206",
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
                    error(
                        "FQL206",
                        f'argument "{a.name}" of {kind} {op.name} is an object type ({a.type.named().name})',
                        a.span,
                        f"arguments take inputs: declare {a.type.named().name}Input with @fraiseql.input",
                    )
                )
        if op.returns.named().kind == "input":
            out.append(
                error(
                    "FQL206",
                    f"{kind} {op.name} returns an input type ({op.returns.named().name})",
                    op.span,
                    "return an @fraiseql.type",
                )
            )
    return out
