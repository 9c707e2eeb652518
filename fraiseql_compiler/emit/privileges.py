"""Everything the generated SQL grants the API roles and the authenticator, as data.

Each entry comes from the fact that decides it: a table's columns from its access rules
(``analysis/tables.py``), an operation's function or source from the roles that can pass its guards
(``analysis/reach.py``), an auth function from :data:`~fraiseql_compiler.emit.auth_sql.GRANTS`. The SQL
emitters grant from the same facts; the adversarial tests compare what PostgreSQL then allows each role with
this, in both directions (nothing missing, nothing more), and ``fraiseql lint``'s access matrix can print it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fraiseql_compiler import claims_proof
from fraiseql_compiler.analysis import Facts
from fraiseql_compiler.analysis.tables import TableAccess
from fraiseql_compiler.emit.api_objects import api_relation, param_types, user_sources
from fraiseql_compiler.emit.auth_sql import GRANTS, IDENTIFIED, grantee_roles
from fraiseql_compiler.emit.sql import HELPER_FUNCTIONS
from fraiseql_compiler.ir import Schema
from fraiseql_compiler.sql.quoting import qualify


@dataclass(frozen=True)
class Privileges:
    functions: Mapping[str, frozenset[str]]  # signature (qualified, as SQL reads it) → role names with EXECUTE
    relations: Mapping[str, frozenset[str]]  # views and the user's sources (qualified) → role names with SELECT
    tables: Mapping[str, TableAccess]  # base tables (qualified) → per-column privileges, by role key
    role_names: Mapping[str, str]  # role key → role name, for the tables' role keys
    sources: Mapping[str, str]  # API object (view, or function signature) → the relation it reads as the caller

    def column_privileges(self, table: str, role: str) -> dict[str, frozenset[str]]:
        """column → the privileges (SELECT, INSERT, UPDATE) role name ``role`` has on it."""
        access = self.tables[table]
        key = next((k for k, n in self.role_names.items() if n == role), None)
        if key is None or key not in self.api_keys:
            return {}
        out: dict[str, set[str]] = {c: {"SELECT"} for c in access.readable}
        for action, columns in (("insert", access.insertable), ("update", access.updatable)):
            if key in access.roles_for(action):
                for c in columns:
                    out.setdefault(c, set()).add(action.upper())
        return {c: frozenset(p) for c, p in out.items()}

    def can_delete(self, table: str, role: str) -> bool:
        return any(self.role_names.get(k) == role for k in self.tables[table].roles_for("delete"))

    @property
    def api_keys(self) -> tuple[str, ...]:
        return tuple(k for k in self.role_names if k != "authenticator")


def privileges(schema: Schema, facts: Facts) -> Privileges:
    settings = facts.settings
    roles = settings.roles
    api = frozenset(r.name for r in roles.api)
    names = {r.key: r.name for r in (*roles.api, roles.authenticator)}

    functions: dict[str, frozenset[str]] = {f"fraiseql.{sig}": api for sig in HELPER_FUNCTIONS}
    # the helpers check the claims' proof through it, as their caller, the authenticator's auth flows included
    functions[f"fraiseql.{claims_proof.SQL_FUNCTION}"] = api | {roles.authenticator.name}
    relations: dict[str, frozenset[str]] = {view.relation: api for view in facts.views.values()}
    if facts.needs_auth_functions:
        for sig, keys in GRANTS:
            functions[f"fraiseql.{sig}"] = frozenset(r.name for r in grantee_roles(settings, keys))
        relations["fraiseql.request_identity"] = frozenset(r.name for r in grantee_roles(settings, (IDENTIFIED,)))
    sources: dict[str, str] = {}
    for q in schema.queries:
        source = facts.query_sources.get(q.id)
        if source is None:
            continue
        relation = api_relation(q.name, settings)
        if q.row_filter is not None and q.row_filter.params:
            relation = f"{relation}({', '.join(param_types(q))})"
            functions[relation] = api
        else:
            relations[relation] = api
        sources[relation] = source.relation
    for m in schema.mutations:
        if m.auth_flow is not None:
            continue
        functions[f"{api_relation(m.name, settings)}(jsonb)"] = api
        target = f"{qualify(m.function, settings.default_schema)}(text, jsonb)"
        reach = frozenset(names[k] for k in facts.roles[m.id])
        functions[target] = functions.get(target, frozenset()) | reach
    for own in user_sources(schema, facts):
        relations[own.relation] = frozenset(own.role_names)
    return Privileges(functions, relations, facts.tables, names, sources)
