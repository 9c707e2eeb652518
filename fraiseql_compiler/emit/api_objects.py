"""One API object per operation, in the API schema: the only things the API roles may call.

A query is a view (``security_invoker``, ``security_barrier``) over its source that applies the
decorators' guards and the row_filter; when the row_filter takes arguments it is a set-returning SQL
function instead. A mutation is a function that runs the guards, then calls the user's ``fn_<name>``
with the caller's identity. Mutations bound to an auth flow call the generated auth functions
directly, so they get no API object.
"""

from __future__ import annotations

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.emit.templates import render
from fraiseql_compiler.ir import Auth, Mutation, Query, Schema
from fraiseql_compiler.settings import Settings
from fraiseql_compiler.sql.quoting import comment_text, qualify, quote_ident, quote_literal


def api_relation(name: str, settings: Settings) -> str:
    return f"{quote_ident(settings.api_schema)}.{quote_ident(name)}"


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


def _source(op: Query | Mutation) -> str:
    return comment_text(f"{op.span.file}:{op.span.line}")


def render_query(q: Query, facts: Facts) -> str:
    settings = facts.settings
    # Row-independent guards as (SELECT …): a One-Time Filter, checked before any row is read.
    conditions = [f"(SELECT {g})" for g in guards(q.auth)]
    if q.row_filter is not None:
        conditions.append(f"({facts.row_filters[q.id]})")
    context = {
        "graphql_name": q.graphql_name,
        "source": _source(q),
        "relation": api_relation(q.name, settings),
        "from": qualify(q.sql_source, settings.default_schema),
        "conditions": conditions,
        "roles": settings.roles.api_idents,
    }
    if q.row_filter is not None and q.row_filter.params:
        return render("api_query_function.sql.j2", params=", ".join(param_types(q)), **context)
    return render("api_query_view.sql.j2", **context)


def render_mutation(m: Mutation, settings: Settings) -> str:
    return render(
        "api_mutation.sql.j2",
        graphql_name=m.graphql_name,
        source=_source(m),
        relation=api_relation(m.name, settings),
        target=qualify(m.function, settings.default_schema),
        guards=guards(m.auth),
        roles=settings.roles.api_idents,
    )


def user_source_grants(schema: Schema, facts: Facts) -> list[str]:
    """The API views read their source as the caller (security_invoker), so the caller needs SELECT on
    it. Generated views get it with their table; a source of the user's own gets it here, for the roles
    that can pass the guards of the queries reading it, and nobody else."""
    generated = {view.relation for view in facts.views.values()}
    roles: dict[str, set[str]] = {}
    for q in schema.queries:
        source = facts.query_sources[q.id]
        if source is not None and source.relation not in generated:
            roles.setdefault(source.relation, set()).update(facts.roles[q.id])
    idents = {r.key: r.ident for r in facts.settings.roles.api}
    return [
        f"-- {relation} is the schema's own view: it must be security_invoker so that row-level security applies\n"
        f"GRANT SELECT ON {relation} TO {', '.join(sorted(idents[k] for k in keys))};"
        for relation, keys in sorted(roles.items())
    ]


def emit_api_objects(schema: Schema, facts: Facts) -> list[str]:
    out = user_source_grants(schema, facts)
    out += [render_query(q, facts) for q in schema.queries if q.sql_source]
    out += [render_mutation(m, facts.settings) for m in schema.mutations if m.auth_flow is None]
    return out
