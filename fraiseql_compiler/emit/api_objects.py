"""One API object per operation, in the API schema: the only things the API roles may call.

A query is a view (``security_invoker``, ``security_barrier``) over its source that applies the
decorators' guards and the row_filter; when the row_filter takes arguments it is a set-returning SQL
function instead. A mutation is a function that runs the guards, then calls the user's ``fn_<name>``
with the caller's identity. Mutations bound to an auth flow call the generated auth functions
directly, so they get no API object.
"""

from __future__ import annotations

from fraiseql_compiler.emit.context import SqlContext
from fraiseql_compiler.emit.templates import render
from fraiseql_compiler.ir import Auth, Mutation, Query, Schema
from fraiseql_compiler.sql.quoting import qualify, quote_ident, quote_literal


def api_relation(name: str, ctx: SqlContext) -> str:
    return f"{quote_ident(ctx.api_schema)}.{quote_ident(name)}"


def guards(auth: Auth) -> list[str]:
    """The guard calls an operation's decorators require, most general first."""
    calls = []
    if auth.authenticated or auth.scopes or auth.api_key:
        calls.append("fraiseql.require_authenticated()")
    if auth.api_key:
        calls.append("fraiseql.require_api_key()")
    calls += [f"fraiseql.require_scope({quote_literal(s)})" for s in auth.scopes]
    return calls


def param_types(q: Query) -> list[str]:
    """The SQL types of the row_filter's $1, $2, … (the arguments they bind)."""
    by_name = {a.name: a for a in q.arguments}
    assert q.row_filter is not None
    return [str(by_name[p].type.sql_type or "text") for p in q.row_filter.params]


def render_query(q: Query, ctx: SqlContext) -> str:
    # Row-independent guards as (SELECT …): a One-Time Filter, checked before any row is read.
    conditions = [f"(SELECT {g})" for g in guards(q.auth)]
    if q.row_filter is not None:
        conditions.append(f"({q.row_filter.sql})")
    context = {
        "graphql_name": q.graphql_name,
        "source": f"{q.span.file}:{q.span.line}",
        "relation": api_relation(q.name, ctx),
        "from": qualify(q.sql_source, ctx.default_schema),
        "conditions": conditions,
        "roles": ctx.roles.api_idents,
    }
    if q.row_filter is not None and q.row_filter.params:
        return render("api_query_function.sql.j2", params=", ".join(param_types(q)), **context)
    return render("api_query_view.sql.j2", **context)


def render_mutation(m: Mutation, ctx: SqlContext) -> str:
    return render(
        "api_mutation.sql.j2",
        graphql_name=m.graphql_name,
        source=f"{m.span.file}:{m.span.line}",
        relation=api_relation(m.name, ctx),
        target=qualify(m.function, ctx.default_schema),
        guards=guards(m.auth),
        roles=ctx.roles.api_idents,
    )


def eligible_roles(auth: Auth, ctx: SqlContext) -> list[str]:
    """The API roles that can pass an operation's guards."""
    if auth.api_key:
        return [ctx.roles.api_key.ident]
    if auth.authenticated or auth.scopes:
        return [r.ident for r in ctx.roles.api if r.key != "anonymous"]
    return [r.ident for r in ctx.roles.api]


def user_source_grants(schema: Schema, ctx: SqlContext) -> list[str]:
    """The API views read their source as the caller (security_invoker), so the caller needs SELECT on
    it. Generated views get it with their table; a source of the user's own gets it here, for the roles
    that can pass the guards of the queries reading it, and nobody else."""
    generated = {qualify(t.view, ctx.default_schema) for t in schema.types if t.view}
    roles: dict[str, set[str]] = {}
    for q in schema.queries:
        source = qualify(q.sql_source, ctx.default_schema) if q.sql_source else None
        if source and source not in generated:
            roles.setdefault(source, set()).update(eligible_roles(q.auth, ctx))
    return [
        f"-- {source} is the schema's own view: it must be security_invoker so that row-level security applies\n"
        f"GRANT SELECT ON {source} TO {', '.join(sorted(names))};"
        for source, names in sorted(roles.items())
    ]


def emit_api_objects(schema: Schema, ctx: SqlContext) -> list[str]:
    out = user_source_grants(schema, ctx)
    out += [render_query(q, ctx) for q in schema.queries if q.sql_source]
    out += [render_mutation(m, ctx) for m in schema.mutations if m.auth_flow is None]
    return out
