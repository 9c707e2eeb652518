"""SQL identifiers the user wrote: tables, views, columns, sources and functions."""

from __future__ import annotations

from functools import lru_cache

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.diagnostics import Diagnostic, Span, diag
from fraiseql_compiler.ir import Schema
from fraiseql_compiler.naming import IDENT_RE
from fraiseql_compiler.sql.quoting import split_qualified


@lru_cache(maxsize=4096)  # schemas repeat their column names across types
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
        diag(
            "FQL204",
            f"{what} {problem}",
            span,
            "use a lower-case name of letters, digits and underscores (max 63), optionally schema-qualified",
        )
    ]


def check_identifiers(schema: Schema, facts: Facts) -> list[Diagnostic]:
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
