"""SQL migration files: the ``fraiseql`` schema and its claim helpers, then the JSONB read views."""

from __future__ import annotations

from fraiseql_compiler.checks.views import owner_key, view_columns, view_dependencies
from fraiseql_compiler.emit.artifacts import Artifact
from fraiseql_compiler.emit.templates import render
from fraiseql_compiler.ir import Field, ObjectType, Schema
from fraiseql_compiler.naming import qualify, quote_ident, sql_literal

# jsonb_build_object takes at most 100 arguments: 50 key/value pairs per call.
_PAIRS_PER_CALL = 50

CLAIM_HELPERS = (
    {
        "name": "claims",
        "params": "",
        "param_types": "",
        "returns": "jsonb",
        "comment": "The request's normalized JWT claims; unset or '' (a pooled connection after the "
        "transaction that set them) means anonymous: an empty object, never everyone.",
        "body": "SELECT COALESCE(NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb, "
        "'{}'::jsonb)",
    },
    {
        "name": "claim",
        "params": "name text",
        "param_types": "text",
        "returns": "text",
        "comment": "One claim as text (NULL when absent).",
        "body": "SELECT fraiseql.claims() OPERATOR(pg_catalog.->>) name",
    },
    {
        "name": "current_user_id",
        "params": "",
        "param_types": "",
        "returns": "text",
        "comment": "The caller's subject (the `sub` claim), NULL when anonymous.",
        "body": "SELECT NULLIF(fraiseql.claims() OPERATOR(pg_catalog.->>) 'sub', '')",
    },
)


def _file(title: str, statements: list[str]) -> str:
    return render("file.sql.j2", title=title, statements=[s.rstrip("\n") for s in statements])


def emit_fraiseql_schema() -> str:
    statements = [render("fraiseql_schema.sql.j2")]
    statements += [render("claims_function.sql.j2", **helper) for helper in CLAIM_HELPERS]
    return _file("The fraiseql schema: claim helpers every generated predicate reads through.", statements)


def _order(schema: Schema) -> list[ObjectType]:
    """Table-backed types, each after the types its view embeds (checks reject cycles)."""
    deps = view_dependencies(schema)
    by_name = {t.name: t for t in schema.types}
    done: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        for dep in deps.get(name, []):
            visit(dep)
        done.append(name)

    for name in sorted(deps):
        visit(name)
    return [by_name[n] for n in done]


def _has_id(t: ObjectType) -> bool:
    return any(f.name == "id" for f in t.fields)


def _value(f: Field, t: ObjectType, by_name: dict[str, ObjectType], default_schema: str) -> str:
    """The JSON value of one field in the ``data`` column, read from alias ``t``."""
    named = f.type.named()
    target = by_name.get(str(named.name)) if named.kind == "object" else None
    if target is not None and target.table and target.view:
        view = qualify(target.view, default_schema)
        if f.type.kind == "list":
            fk = quote_ident(f.foreign_key or owner_key(t))
            order = " ORDER BY c.id" if _has_id(target) else ""
            agg = f"(SELECT jsonb_agg(c.data{order}) FROM {view} AS c WHERE c.{fk} = t.id)"
            return agg if f.type.nullable else f"COALESCE({agg}, '[]'::jsonb)"
        return f"(SELECT c.data FROM {view} AS c WHERE c.id = t.{quote_ident(str(f.column))})"
    return f"t.{quote_ident(str(f.column))}"


def render_view(t: ObjectType, by_name: dict[str, ObjectType], default_schema: str, view_cols: dict[str, str]) -> str:
    columns = []
    for name, column in view_cols.items():
        col, alias = quote_ident(column), quote_ident(name)
        columns.append(f"t.{col}" if col == alias else f"t.{col} AS {alias}")
    pairs = [f"{sql_literal(f.graphql_name)}, {_value(f, t, by_name, default_schema)}" for f in t.fields]
    calls = []
    for start in range(0, max(len(pairs), 1), _PAIRS_PER_CALL):
        chunk = pairs[start : start + _PAIRS_PER_CALL]
        calls.append("jsonb_build_object(\n" + ",\n".join("        " + p for p in chunk) + "\n    )")
    return render(
        "view.sql.j2",
        type_name=t.name,
        source=f"{t.span.file}:{t.span.line}",
        view=qualify(str(t.view), default_schema),
        table=qualify(str(t.table), default_schema),
        columns=columns,
        data=" || ".join(calls),
    )


def emit_sql(schema: Schema, default_schema: str = "public") -> list[Artifact]:
    artifacts = [Artifact("sql/0001_fraiseql_schema.sql", emit_fraiseql_schema())]
    by_name = {t.name: t for t in schema.types}
    all_columns = view_columns(schema)
    views = [render_view(t, by_name, default_schema, all_columns[t.name]) for t in _order(schema)]
    if views:
        artifacts.append(Artifact("sql/0002_views.sql", _file("JSONB read views, one per table-backed type.", views)))
    return artifacts
