"""Run one manifest operation as a runtime must: authenticate, switch role, set claims, call the API
object with bound parameters (never formatted into SQL), map SQLSTATEs to the manifest's errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fraiseql_compiler.executor.claims import normalize
from fraiseql_compiler.executor.errors import ExecutionError, from_sqlstate, unauthenticated
from fraiseql_compiler.executor.tokens import dumps, mint, verify
from fraiseql_compiler.manifest.models import (
    AuthFlowExecutes,
    FunctionExecutes,
    Manifest,
    MutationEntry,
    QueryEntry,
    TypeRef,
)

# Identifiers and type names come from the manifest; they are checked before they reach SQL.
_RELATION = re.compile(r'^("?[a-z_][a-z0-9_]*"?\.)?"?[a-z_][a-z0-9_]*"?$')
_TYPE = re.compile(r"^[a-z][a-z0-9_ ]*(\[\])?$")
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class _Refused:
    code: str  # the manifest error code to answer with once the transaction has committed


@dataclass
class Request:
    operation: str  # GraphQL or Python name of a query or mutation
    variables: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    api_key: str | None = None


def _checked(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.match(value):
        raise ExecutionError(500, "MANIFEST_INVALID", f"manifest {what} {value!r} is not a plain SQL name")
    return value


def find_operation(manifest: Manifest, name: str) -> QueryEntry | MutationEntry:
    op = manifest.operation(name)
    if op is None:
        names = sorted([q.graphql_name for q in manifest.queries] + [m.graphql_name for m in manifest.mutations])
        raise ExecutionError(400, "UNKNOWN_OPERATION", f"no operation {name!r}; known: {', '.join(names)}")
    return op


def _valid(ref: TypeRef, value: Any) -> bool:
    """Whether ``value`` (decoded JSON) fits the manifest type ``ref``; the database checks the rest."""
    if value is None:
        return ref.nullable
    if ref.kind == "list":
        return isinstance(value, list) and ref.of is not None and all(_valid(ref.of, v) for v in value)
    if ref.kind == "input":
        return isinstance(value, dict)
    name = ref.name
    if name == "Int":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "Boolean":
        return isinstance(value, bool)
    if name == "JSON":
        return True
    return isinstance(value, str)


def bind_arguments(op: QueryEntry | MutationEntry, variables: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments by Python name: given values (by either name), else defaults; unknown or missing → 400."""
    by_any = {a.name: a for a in op.arguments} | {a.graphql_name: a for a in op.arguments}
    unknown = sorted(set(variables) - set(by_any))
    if unknown:
        raise ExecutionError(400, "UNKNOWN_ARGUMENT", f"unknown argument(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for a in op.arguments:
        if a.name in variables or a.graphql_name in variables:
            values[a.name] = variables.get(a.name, variables.get(a.graphql_name))
        elif a.has_default:
            values[a.name] = a.default
        elif a.type.nullable:
            values[a.name] = None
        else:
            raise ExecutionError(400, "MISSING_ARGUMENT", f"argument {a.name!r} is required")
        if not _valid(a.type, values[a.name]):
            raise ExecutionError(400, "INVALID_ARGUMENT", f"argument {a.name!r} must be {a.type.graphql}")
    return values


def authenticate(
    conn: Any, manifest: Manifest, request: Request, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], str]:
    """(normalized claims, database role). An API key is checked first, as the guide says."""
    roles = manifest.database.roles
    if request.api_key is not None:
        row = conn.execute(
            "SELECT key_id::text, subject, scopes FROM fraiseql.fn_verify_api_key(%s)", (request.api_key,)
        ).fetchone()
        if row is None:
            raise unauthenticated("invalid API key")
        return {"sub": row[1], "scopes": sorted(row[2] or []), "auth": "api_key", "key_id": row[0]}, roles["api_key"]
    if request.token is not None:
        return normalize(verify(request.token, manifest.config, environ), roles)
    return {}, roles["anonymous"]


def _query(conn: Any, op: QueryEntry, args: dict[str, Any]) -> Any:
    ex = op.executes
    relation = _checked(_RELATION, ex.relation, "relation")
    types = {a.name: a.type.sql_type for a in op.arguments}
    params: list[Any] = []
    if ex.kind == "function":
        by_position = sorted((b for b in ex.bindings if b.kind == "param"), key=lambda b: b.position or 0)
        casts = [_checked(_TYPE, t, "type") for t in ex.param_types]
        source = f"{relation}({', '.join(f'%s::{t}' for t in casts)})"
        params += [args[b.argument] for b in by_position]
    else:
        source = relation
    where, limit, offset = [], None, None
    for b in ex.bindings:
        value = args.get(b.argument)
        if b.kind == "filter" and value is not None:
            cast = types.get(b.argument)
            column = _checked(_COLUMN, str(b.column), "column")
            where.append(f"s.{column} = %s" + (f"::{_checked(_TYPE, cast, 'type')}" if cast else ""))
            params.append(value)
        elif b.kind == "limit":
            limit = value
        elif b.kind == "offset":
            offset = value
    sql = f"SELECT s.data FROM {source} AS s"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if limit is not None:
        sql += " LIMIT %s"
        params.append(int(limit))
    if offset is not None:
        sql += " OFFSET %s"
        params.append(int(offset))
    rows = [r[0] for r in conn.execute(sql, params).fetchall()]
    if ex.single:
        return rows[0] if rows else None
    return rows


def _source(path: str, args: dict[str, Any], claims: dict[str, Any]) -> Any:
    head, _, rest = path.partition(".")
    if head == "claims":
        return claims.get(rest)
    value = args.get(head)
    for part in rest.split(".") if rest else ():
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _auth_flow(
    conn: Any,
    manifest: Manifest,
    ex: AuthFlowExecutes,
    args: dict[str, Any],
    claims: dict[str, Any],
    environ: Mapping[str, str] | None,
) -> Any:
    flow = ex.flow
    if flow == "oauth_callback":
        raise ExecutionError(
            501, "NOT_SUPPORTED_OFFLINE", "oauth_callback exchanges a code with the provider over the network"
        )
    values = {a.param: _source(a.from_, args, claims) for a in ex.arguments}
    if flow == "revoke_token" and values.get("exp") is not None:
        values["exp"] = conn.execute("SELECT to_timestamp(%s)", (values["exp"],)).fetchone()[0]
    function = _checked(_RELATION, ex.function, "function")
    names = [a.param for a in ex.arguments]
    call = f"SELECT * FROM {function}({', '.join(f'{n} => %s' for n in names)})"
    rows = conn.execute(call, [values[n] for n in names]).fetchall()
    if not rows and ex.no_row:
        # The function recorded the failure (attempt count, family revocation): commit, then refuse.
        return _Refused(ex.no_row)
    if ex.result == "issue_tokens":
        subject, scopes, refresh = rows[0][0], list(rows[0][1] or []), rows[0][2]
        ttl = manifest.config.auth.jwt.access_token_ttl_seconds
        token = mint(manifest.config, sub=subject, scopes=scopes, environ=environ)
        return {"accessToken": token, "expiresIn": ttl, "tokenType": "Bearer", "refreshToken": refresh}
    if ex.result == "return_key_once":
        key_id, key, selector, scopes, expires_at = rows[0]
        return {
            "id": str(key_id),
            "name": values.get("name"),
            "key": key,
            "scopes": list(scopes),
            "selector": selector,
            "expiresAt": expires_at.isoformat(),
        }
    return rows[0][0] if rows else None


def execute(conn: Any, manifest: Manifest, request: Request, environ: Mapping[str, str] | None = None) -> Any:
    """Run ``request`` in one transaction on ``conn`` (connected as the authenticator role)."""
    import psycopg

    op = find_operation(manifest, request.operation)
    args = bind_arguments(op, request.variables)
    try:
        result = _in_transaction(conn, manifest, request, op, args, environ)
    except psycopg.Error as exc:
        sqlstate = getattr(exc, "sqlstate", None)
        message = exc.diag.message_primary if getattr(exc, "diag", None) else str(exc)
        raise from_sqlstate(manifest, sqlstate, message or str(exc)) from None
    if isinstance(result, _Refused):
        entry = manifest.error(result.code)
        raise ExecutionError(entry.http, entry.code, entry.message, entry.sqlstate)
    return result


def _flow_role(
    manifest: Manifest, ex: AuthFlowExecutes, role: str, claims: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """An auth flow runs as the caller's role when the flow allows it; else as anonymous (no claims) when
    the flow allows that (a refresh with an expired access token); else it is refused."""
    roles = manifest.database.roles
    if role in ex.roles:
        return role, claims
    if roles["anonymous"] in ex.roles:
        return roles["anonymous"], {}
    if roles["authenticator"] in ex.roles:
        return roles["authenticator"], claims
    raise ExecutionError(401, "UNAUTHENTICATED", "authentication required")


def _check_revocation(conn: Any, manifest: Manifest, claims: dict[str, Any], role: str) -> None:
    """Every authenticated request, guarded or not: the database guards cover guarded operations, and a
    runtime must not serve even a public one to a revoked token."""
    revocation = manifest.config.security.token_revocation
    if not revocation.enabled or not claims or role == manifest.database.roles["anonymous"]:
        return  # the anonymous role carries no identity, whatever claims a token mapped to it has
    if revocation.require_jti and claims.get("auth") == "jwt" and not claims.get("jti"):
        raise unauthenticated("the token has no jti claim")
    if conn.execute("SELECT fraiseql.token_revoked()").fetchone()[0]:
        raise ExecutionError(401, "TOKEN_REVOKED", "the token has been revoked", "PT402")


def _in_transaction(
    conn: Any,
    manifest: Manifest,
    request: Request,
    op: QueryEntry | MutationEntry,
    args: dict[str, Any],
    environ: Mapping[str, str] | None,
) -> Any:
    with conn.transaction():
        claims, role = authenticate(conn, manifest, request, environ)
        flow = op.executes if isinstance(op.executes, AuthFlowExecutes) else None
        if flow is not None:
            role, claims = _flow_role(manifest, flow, role, claims)
        if role != manifest.database.roles["authenticator"]:
            conn.execute(f"SET LOCAL ROLE {_checked(_COLUMN, role, 'role')}")
        conn.execute("SELECT set_config(%s, %s, true)", (manifest.database.claims_setting, dumps(claims)))
        _check_revocation(conn, manifest, claims, role)
        if isinstance(op, QueryEntry):
            return _query(conn, op, args)
        if flow is not None:
            return _auth_flow(conn, manifest, flow, args, claims, environ)
        assert isinstance(op.executes, FunctionExecutes)
        function = _checked(_RELATION, op.executes.function, "function")
        return conn.execute(f"SELECT {function}(%s::jsonb)", (json.dumps(args),)).fetchone()[0]
