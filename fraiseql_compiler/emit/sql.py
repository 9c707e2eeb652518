"""SQL migration files: the ``fraiseql`` schema and its claim helpers, then the JSONB read views."""

from __future__ import annotations

from fraiseql_compiler.checks.views import owner_key, view_columns, view_dependencies
from fraiseql_compiler.emit.api_objects import emit_api_objects
from fraiseql_compiler.emit.artifacts import Artifact
from fraiseql_compiler.emit.auth_sql import emit_auth_sql
from fraiseql_compiler.emit.context import SqlContext
from fraiseql_compiler.emit.policies import emit_policies
from fraiseql_compiler.emit.templates import render
from fraiseql_compiler.ir import Field, ObjectType, Schema
from fraiseql_compiler.sql.quoting import qualify, quote_ident, quote_literal

# jsonb_build_object takes at most 100 arguments: 50 key/value pairs per call.
_PAIRS_PER_CALL = 50

HELPER_FUNCTIONS = (
    "claims()",
    "claim(text)",
    "current_user_id()",
    "auth_method()",
    "is_authenticated()",
    "scopes()",
    "has_scope(text)",
    "authenticated_claims()",
    "require_authenticated()",
    "require_scope(text)",
    "require_api_key()",
)


def _file(title: str, statements: list[str]) -> str:
    return render("file.sql.j2", title=title, statements=[s.rstrip("\n") for s in statements])


def uses_auth_functions(schema: Schema, ctx: SqlContext) -> bool:
    """The auth tables and functions are emitted when something needs them: a mutation bound to an auth
    flow, API keys, or token revocation (the guards call fraiseql.token_revoked()). They read the
    [auth.login] table, which must then exist."""
    security = getattr(ctx.config, "security", None)
    api_keys = getattr(getattr(security, "api_keys", None), "enabled", False)
    return ctx.revocation.enabled or bool(api_keys) or any(m.auth_flow for m in schema.mutations)


def data_schemas(schema: Schema, ctx: SqlContext) -> list[str]:
    """Schemas holding the user's tables and views: the API roles need USAGE on them."""
    names = {ctx.default_schema}
    for t in schema.types:
        for name in (t.table, t.view):
            if name and "." in name:
                names.add(name.rpartition(".")[0])
    for q in schema.queries:
        if "." in q.sql_source:
            names.add(q.sql_source.rpartition(".")[0])
    return [quote_ident(n) for n in sorted(names)]


def emit_fraiseql_schema(schema: Schema, ctx: SqlContext) -> str:
    statement = render(
        "fraiseql_schema.sql.j2",
        roles=ctx.roles,
        api_schema=quote_ident(ctx.api_schema),
        data_schemas=data_schemas(schema, ctx),
        revocation=ctx.revocation,
        states=ctx.states,
        functions=HELPER_FUNCTIONS,
    )
    title = "Roles, schemas, and the claim helpers and guards every generated predicate reads through."
    return _file(title, [statement])


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
    pairs = [f"{quote_literal(f.graphql_name)}, {_value(f, t, by_name, default_schema)}" for f in t.fields]
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


def emit_sql(schema: Schema, ctx: SqlContext) -> list[Artifact]:
    default_schema = ctx.default_schema
    artifacts = [Artifact("sql/0001_fraiseql_schema.sql", emit_fraiseql_schema(schema, ctx))]
    if uses_auth_functions(schema, ctx):
        artifacts.append(Artifact("sql/0002_auth.sql", emit_auth_sql(ctx)))
    by_name = {t.name: t for t in schema.types}
    all_columns = view_columns(schema)
    views = [render_view(t, by_name, default_schema, all_columns[t.name]) for t in _order(schema)]
    if views:
        artifacts.append(Artifact("sql/0003_views.sql", _file("JSONB read views, one per table-backed type.", views)))
        security = emit_policies(schema, ctx)
        title = "Row-level security and privileges for every table-backed type."
        artifacts.append(Artifact("sql/0004_row_security.sql", _file(title, security)))
    api = emit_api_objects(schema, ctx)
    if api:
        title = "The API: one object per query and mutation, with its checks; the only things API roles call."
        artifacts.append(Artifact("sql/0005_api.sql", _file(title, api)))
    return artifacts
