"""Which roles can reach each operation: the API roles that pass its guards (an auth-flow mutation: the
roles its function is granted to). The SQL grants, the manifest and the access review all read this."""

from __future__ import annotations

from fraiseql_compiler.analysis.authflows import FLOWS
from fraiseql_compiler.ir import Auth, Mutation, Query
from fraiseql_compiler.settings import Roles


def guarded_roles(auth: Auth, roles: Roles) -> tuple[str, ...]:
    """Role keys that can pass the guards ``auth`` compiles to."""
    if auth.api_key:
        return ("api_key",)
    if auth.authenticated or auth.scopes:
        return tuple(k for k in roles.api_role_keys if k != "anonymous")
    return roles.api_role_keys


def reachable_roles(op: Query | Mutation, roles: Roles) -> tuple[str, ...]:
    if isinstance(op, Mutation) and op.auth_flow is not None:
        return FLOWS[op.auth_flow].roles
    return guarded_roles(op.auth, roles)
