"""Facts derived from the IR and the settings, computed once per build and read by the checks, the
emitters and the manifest: the relations queries read with their typed columns, the argument bindings,
the auth flows, who reaches each operation, and the predicates rendered with the right casts.

Derivation never fails on a schema the checks will reject (an unknown column simply has no type, a view
cycle is broken where it closes): the checks report those problems, with the facts in hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fraiseql_compiler.analysis.authflows import FlowBinding, bind_flow
from fraiseql_compiler.analysis.bindings import QueryBindings, bind_query
from fraiseql_compiler.analysis.paging import Paging, plan_paging
from fraiseql_compiler.analysis.reach import reachable_roles
from fraiseql_compiler.analysis.sources import Source, query_source, view_dependencies, view_order, view_sources
from fraiseql_compiler.analysis.tables import TableAccess, table_access
from fraiseql_compiler.ir import Query, Schema
from fraiseql_compiler.settings import Settings
from fraiseql_compiler.sql.predicate_render import Predicate


@dataclass(frozen=True)
class Facts:
    settings: Settings
    views: Mapping[str, Source]  # type name → its generated view (table-backed types)
    view_dependencies: Mapping[str, list[str]]  # type name → the table-backed types its view embeds
    view_order: tuple[str, ...]  # table-backed type names, each after the views it embeds
    query_sources: Mapping[str, Source | None]  # query id → the relation it reads
    bindings: Mapping[str, QueryBindings]  # query id → how its arguments reach SQL
    paging: Mapping[str, Paging]  # query id → how it pages (list queries only)
    flows: Mapping[str, FlowBinding]  # mutation id → its auth flow (bound mutations only)
    roles: Mapping[str, tuple[str, ...]]  # operation id → role keys that reach it
    row_filters: Mapping[str, str]  # query id → its row_filter as SQL
    policies: Mapping[str, str]  # policy id → its predicate as SQL
    tables: Mapping[str, TableAccess]  # qualified table → what the API roles may do to it, per column

    @property
    def needs_auth_functions(self) -> bool:
        """The auth tables and functions (0002) are emitted when something needs them: a mutation bound to
        an auth flow, API keys, token revocation, or identity providers (the helpers read the view
        fraiseql.request_identity, which maps a provider's subject through fraiseql.tb_oauth_identity)."""
        s = self.settings
        return s.revocation.enabled or s.api_keys.enabled or bool(s.providers) or bool(self.flows)


def _arg_types(q: Query) -> dict[str, str]:
    return {a.name: a.type.sql_type for a in q.arguments if a.type.kind in ("scalar", "enum") and a.type.sql_type}


class _Renderings:
    """Predicates rendered to SQL, each (predicate, types it reads) once: schemas repeat a few predicates
    over views whose columns have the same types."""

    def __init__(self, claim_names: Mapping[str, str]) -> None:
        self._done: dict[tuple[int, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]], str] = {}
        self._claim_names = claim_names

    def sql(self, predicate: Predicate, column_types: Mapping[str, str], arg_types: Mapping[str, str]) -> str:
        names, args = predicate.column_names(), predicate.arg_names()
        columns = tuple(sorted((c, t) for c, t in column_types.items() if c in names))
        key = (id(predicate), columns, tuple((a, arg_types[a]) for a in args if a in arg_types))
        found = self._done.get(key)
        if found is None:
            found = self._done[key] = predicate.to_sql(
                column_types=dict(columns), arg_types=arg_types, claim_names=self._claim_names
            )[0]
        return found


def _declared(paging: Mapping[str, Paging], query_id: str) -> tuple[str, ...]:
    return paging[query_id].declared if query_id in paging else ()


def derive(schema: Schema, settings: Settings) -> Facts:
    views = view_sources(schema, settings.default_schema)
    deps = view_dependencies(schema)
    sources = {q.id: query_source(q, schema, views, settings.default_schema) for q in schema.queries}
    claims = settings.claims
    rendered = _Renderings({a: claims.sql_name(a) for a in claims.aliases})
    row_filters: dict[str, str] = {}
    for q in schema.queries:
        source = sources[q.id]
        if q.row_filter is not None:
            types = source.view_types() if source is not None else {}
            row_filters[q.id] = rendered.sql(q.row_filter.predicate, types, _arg_types(q))
    policies: dict[str, str] = {}
    for t in schema.types:
        table_types = views[t.name].table_types() if t.name in views else {}
        for p in t.policies:
            policies[p.id] = rendered.sql(p.predicate, table_types, {})
    flows = {m.id: f for m in schema.mutations if (f := bind_flow(m, schema)) is not None}
    paging = {q.id: pg for q in schema.queries if (pg := plan_paging(q, schema, sources[q.id], settings)) is not None}
    return Facts(
        settings=settings,
        views=MappingProxyType(views),
        view_dependencies=MappingProxyType(deps),
        view_order=view_order(deps),
        query_sources=MappingProxyType(sources),
        bindings=MappingProxyType(
            {q.id: bind_query(q, sources[q.id], _declared(paging, q.id)) for q in schema.queries}
        ),
        paging=MappingProxyType(paging),
        flows=MappingProxyType(flows),
        roles=MappingProxyType({op.id: reachable_roles(op, settings.roles) for op in schema.operations()}),
        row_filters=MappingProxyType(row_filters),
        policies=MappingProxyType(policies),
        tables=MappingProxyType(table_access(schema, views, settings)),
    )


__all__ = ["Facts", "FlowBinding", "Paging", "QueryBindings", "Source", "TableAccess", "derive"]
