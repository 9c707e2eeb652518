"""One API object per operation, in the API schema: the only things the API roles may call.

A query is a view (``security_invoker``) over its source that applies the decorators' guards and the
row_filter; when the row_filter takes arguments it is a set-returning SQL function instead. No
``security_barrier``: the caller may read the source itself (it runs as the caller, who needs SELECT on
it), so the row_filter narrows what RLS already lets them see and the barrier would protect nothing, while
it keeps the planner from flattening the view: no parallel plan, and an ordered page would build every
visible row's JSON before sorting. The guards stay One-Time Filters either way.

A mutation is a function that runs the guards, then calls the user's ``fn_<name>``
with the caller's identity. Mutations bound to an auth flow call the generated auth functions
directly, so they get no API object.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.emit.objects import SqlObject
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


def render_mutation(m: Mutation, facts: Facts) -> str:
    settings = facts.settings
    target = qualify(m.function, settings.default_schema)
    signature = f"{target}(text, jsonb)"
    return render(
        "api_mutation.sql.j2",
        graphql_name=m.graphql_name,
        source=_source(m),
        relation=api_relation(m.name, settings),
        target=target,
        target_signature=signature,
        target_signature_literal=quote_literal(signature),
        target_roles=", ".join(r.ident for k in facts.roles[m.id] if (r := settings.roles.by_key(k))),
        guards=guards(m.auth),
        roles=settings.roles.api_idents,
    )


@dataclass(frozen=True)
class UserSource:
    relation: str
    literal: str
    queries_literal: str  # 'query reports' / 'queries a, b', for the messages
    role_names: tuple[str, ...]  # who may read it: the roles that can pass its queries' guards
    roles: str  # the same, as identifiers


def user_sources(schema: Schema, facts: Facts) -> list[UserSource]:
    """The relations of the user's own that queries read, with the roles that can pass the guards of the
    queries reading each (they read it as the caller: security_invoker)."""
    readers: dict[str, list[Query]] = {}
    for q in schema.queries:
        source = facts.query_sources[q.id]
        if source is not None and not source.generated:
            readers.setdefault(source.relation, []).append(q)
    out = []
    for relation, queries in sorted(readers.items()):
        keys = {k for q in queries for k in facts.roles[q.id]}
        roles = sorted((r for r in facts.settings.roles.api if r.key in keys), key=lambda r: r.name)
        names = ", ".join(q.graphql_name for q in queries)
        out.append(
            UserSource(
                relation=relation,
                literal=quote_literal(relation),
                queries_literal=quote_literal(("queries " if len(queries) > 1 else "query ") + names),
                role_names=tuple(r.name for r in roles),
                roles=", ".join(r.ident for r in roles),
            )
        )
    return out


USER_SOURCES = "user_sources:api"


def _query_object(q: Query, facts: Facts) -> SqlObject:
    settings = facts.settings
    relation = api_relation(q.name, settings)
    source = facts.query_sources[q.id]
    depends = () if source is None else ((f"view:{source.relation}",) if source.generated else (USER_SOURCES,))
    sql = render_query(q, facts).strip("\n")
    if q.row_filter is not None and q.row_filter.params:
        signature = f"{relation}({', '.join(param_types(q))})"
        return SqlObject(
            "api_function", f"api_function:{signature}", sql, f"DROP FUNCTION IF EXISTS {signature};", depends
        )
    return SqlObject("api_view", f"api_view:{relation}", sql, f"DROP VIEW IF EXISTS {relation};", depends)


def _mutation_object(m: Mutation, facts: Facts) -> SqlObject:
    settings = facts.settings
    relation = api_relation(m.name, settings)
    target = f"{qualify(m.function, settings.default_schema)}(text, jsonb)"
    roles = ", ".join(r.ident for k in facts.roles[m.id] if (r := settings.roles.by_key(k)))
    drop = render(
        "api_mutation_drop.sql.j2", relation=relation, target=target, target_literal=quote_literal(target), roles=roles
    ).strip("\n")
    return SqlObject("mutation", f"mutation:{relation}(jsonb)", render_mutation(m, facts).strip("\n"), drop)


def emit_api_objects(schema: Schema, facts: Facts) -> list[SqlObject]:
    sources = user_sources(schema, facts)
    out = []
    if sources:
        sql = render("user_sources.sql.j2", sources=sources).strip("\n")
        drop = render("user_sources_drop.sql.j2", sources=sources).strip("\n")
        out.append(SqlObject("user_sources", USER_SOURCES, sql, drop))
    out += [_query_object(q, facts) for q in schema.queries if q.sql_source]
    out += [_mutation_object(m, facts) for m in schema.mutations if m.auth_flow is None]
    return out
