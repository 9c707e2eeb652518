"""Run one manifest operation as a runtime must: authenticate, switch role, set claims, call the API
object with bound parameters (never formatted into SQL), map SQLSTATEs to the manifest's errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fraiseql_compiler.claims_proof import prove
from fraiseql_compiler.executor import static_keys
from fraiseql_compiler.executor.arguments import coerce_arguments
from fraiseql_compiler.executor.claims import link_request, normalize
from fraiseql_compiler.executor.errors import ExecutionError, from_sqlstate, unauthenticated
from fraiseql_compiler.executor.paging import Page, page_request, page_result, page_sql, split_variables
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


def bind_arguments(manifest: Manifest, op: QueryEntry | MutationEntry, variables: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments by Python name: given values (by either name) checked against their GraphQL types, input
    objects by their SDL field names and translated to Python names, else defaults; any problem → 400.
    A list query's paging arguments are checked by :func:`page_request`, apart."""
    paging = op.paging if isinstance(op, QueryEntry) else None
    if paging is not None:
        variables, _ = split_variables(paging, variables)
    try:
        values = coerce_arguments(manifest, op.arguments, variables)
    except ExecutionError as exc:
        if paging is None or exc.code != "UNKNOWN_ARGUMENT":
            raise
        takes = ", ".join(f'"{a}"' for a in paging.arguments)
        raise ExecutionError(exc.http, exc.code, f"{exc.message}; and, to page, {takes}", exc.sqlstate) from None
    if isinstance(op, QueryEntry):
        for b in op.executes.bindings:
            value = values.get(b.argument)
            if b.kind in ("limit", "offset") and isinstance(value, int | float) and value < 0:
                name = next((a.graphql_name for a in op.arguments if a.name == b.argument), b.argument)
                raise ExecutionError(
                    400, "BAD_ARGUMENT", f'argument "{name}" (the {b.kind} of rows) must be 0 or more, not {value}'
                )
    return values


def authenticate(
    conn: Any, manifest: Manifest, request: Request, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], str]:
    """(normalized claims, database role). An API key is checked first, as the guide says."""
    roles = manifest.database.roles
    if request.api_key is not None:
        keys = manifest.config.security.api_keys
        if not keys.enabled:
            raise unauthenticated("API keys are not accepted here ([security.api_keys] enabled is false)")
        if keys.storage == "env":  # static keys (tests and CI): the config holds their SHA-256 digests only
            found = static_keys.match(keys.static, request.api_key)
            if found is None:
                raise unauthenticated("invalid API key")
            return static_keys.claims(found), roles["api_key"]
        if not request.api_key.isprintable():  # a NUL or a lone surrogate: no key, and no text PostgreSQL holds
            raise unauthenticated("invalid API key")
        row = conn.execute(
            "SELECT key_id::text, subject, scopes FROM fraiseql.fn_verify_api_key(%s)", (request.api_key,)
        ).fetchone()
        if row is None:
            raise unauthenticated("invalid API key")
        return {"sub": row[1], "scopes": sorted(row[2] or []), "auth": "api_key", "key_id": row[0]}, roles["api_key"]
    if request.token is not None:
        verified = verify(request.token, manifest.config, environ)
        link = link_request(verified)
        if link is not None:  # as the authenticator, before the role switch: the function is granted to it
            conn.execute("SELECT fraiseql.fn_link_provider_identity(%s, %s, %s, %s, %s)", link)
        security = manifest.config.security
        return normalize(verified, roles, manifest.config.auth.jwt.claims, tuple(security.optional_claims))
    return {}, roles["anonymous"]


def _param(value: Any, sql_type: str | None) -> Any:
    """A bound value as psycopg sends it: a JSON argument (an object, a list, a scalar) as jsonb."""
    if sql_type in ("json", "jsonb") and value is not None:
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    return value


def query_statement(op: QueryEntry, args: dict[str, Any], page: Page | None = None) -> tuple[str, list[Any]]:
    """The statement a query runs, with its parameters: what the runtime sends, and what benchmarks time."""
    ex = op.executes
    relation = _checked(_RELATION, ex.relation, "relation")
    types = {a.name: a.type.sql_type for a in op.arguments}
    params: list[Any] = []
    if ex.kind == "function":
        by_position = sorted((b for b in ex.bindings if b.kind == "param"), key=lambda b: b.position or 0)
        casts = [_checked(_TYPE, t, "type") for t in ex.param_types]
        source = f"{relation}({', '.join(f'%s::{t}' for t in casts)})"
        params += [_param(args[b.argument], t) for b, t in zip(by_position, casts, strict=False)]
    else:
        source = relation
    where, limit, offset = [], None, None
    for b in ex.bindings:
        value = args.get(b.argument)
        if b.kind == "filter" and value is not None:
            cast = types.get(b.argument)
            column = _checked(_COLUMN, str(b.column), "column")
            where.append(f"s.{column} = %s" + (f"::{_checked(_TYPE, cast, 'type')}" if cast else ""))
            params.append(_param(value, cast))
        elif b.kind == "limit":
            limit = value
        elif b.kind == "offset":
            offset = value
    if page is not None:
        return page_sql(page, source, params, where, by_key=ex.kind == "view")
    sql = f"SELECT s.data FROM {source} AS s"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if limit is not None:
        sql += " LIMIT %s"
        params.append(int(limit))
    if offset is not None:
        sql += " OFFSET %s"
        params.append(int(offset))
    return sql, params


def _query(conn: Any, op: QueryEntry, args: dict[str, Any], page: Page | None) -> Any:
    sql, params = query_statement(op, args, page)
    rows = conn.execute(sql, params).fetchall()
    if page is not None:
        return page_result(page, rows)
    data = [r[0] for r in rows]
    if op.executes.single:
        return data[0] if data else None
    return data


def _source(path: str, args: dict[str, Any], claims: dict[str, Any], token: dict[str, Any] | None = None) -> Any:
    head, _, rest = path.partition(".")
    if head == "claims":
        return claims.get(rest)
    if head == "token" and token is not None:
        return token.get(rest)
    value = args.get(head)
    for part in rest.split(".") if rest else ():
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _token_argument(manifest: Manifest, text: Any, environ: Mapping[str, str] | None) -> dict[str, Any]:
    """The claims a revocation reads from a token given as an argument, once verified like a bearer token."""
    if not isinstance(text, str) or not text:
        raise ExecutionError(400, "BAD_ARGUMENT", "token must be a token (the JWT to revoke)")
    try:
        verified = verify(text, manifest.config, environ)
    except ExecutionError as exc:
        raise ExecutionError(422, "INVALID_ARGUMENT", f"token: {exc.message}") from None
    claims, _ = normalize(verified, manifest.database.roles)
    raw = verified.claims
    return {"jti": raw.get("jti"), "exp": raw.get("exp"), "sub": claims.get("sub"), "provider": claims.get("provider")}


def _shaped(result: str, row: Any, returns: TypeRef | None) -> Any:
    """A revocation's answer: the bare value for a scalar return type, the guide's object otherwise
    ({revoked, expiresAt} for POST /auth/revoke, {revokedCount} for POST /auth/revoke-all)."""
    obj = returns is not None and returns.kind == "object"
    if result == "revoked":  # fn_revoke_token answers (revoked, expires_at); fn_revoke_api_key a boolean
        revoked = bool(row[0]) if row is not None else False
        expires_at = row[1] if row is not None and len(row) > 1 else None
        return {"revoked": revoked, "expiresAt": expires_at.isoformat() if expires_at else None} if obj else revoked
    count = row[0] if row is not None else 0
    return {"revokedCount": count} if obj else count


def _oauth_callback(
    conn: Any,
    manifest: Manifest,
    ex: AuthFlowExecutes,
    args: dict[str, Any],
    claims: dict[str, Any],
    environ: Mapping[str, str] | None,
) -> Any:
    """Exchange the code with the provider the arguments name, then link or create the user in the
    database (fn_upsert_oauth_user, as the authenticator) and issue tokens like login."""
    import os

    from fraiseql_compiler.executor.oauth import exchange

    env = os.environ if environ is None else environ
    values = {a.param: _source(a.from_, args, claims) for a in ex.arguments}
    name, code = values.get("provider"), values.get("code")
    providers = {p.name: p for p in manifest.config.auth.oauth}
    if not isinstance(name, str) or name not in providers:
        known = ", ".join(sorted(providers)) or "none: add [auth.oauth.<name>] to fraiseql.toml"
        raise ExecutionError(400, "BAD_ARGUMENT", f"provider must be a configured OAuth provider ({known})")
    if not isinstance(code, str) or not code:
        raise ExecutionError(400, "BAD_ARGUMENT", "code must be the authorization code the provider returned")
    verifier = _source("input.code_verifier", args, claims)
    who = exchange(providers[name], code, env, verifier if isinstance(verifier, str) else None)
    function = _checked(_RELATION, ex.function, "function")
    row = conn.execute(
        f"SELECT * FROM {function}(provider => %s, subject => %s, email => %s, email_verified => %s, name => %s)",
        (name, who.subject, who.email, who.email_verified, who.name),
    ).fetchone()
    subject, scopes, refresh = row[0], list(row[1] or []), row[2]
    ttl = manifest.config.auth.jwt.access_token_ttl_seconds
    now = float(conn.execute("SELECT extract(epoch FROM pg_catalog.clock_timestamp())").fetchone()[0])
    token = mint(manifest.config, sub=subject, scopes=scopes, environ=environ, issued_at=now)
    return {"accessToken": token, "expiresIn": ttl, "tokenType": "Bearer", "refreshToken": refresh}


def _auth_flow(
    conn: Any,
    manifest: Manifest,
    ex: AuthFlowExecutes,
    args: dict[str, Any],
    claims: dict[str, Any],
    environ: Mapping[str, str] | None,
    returns: TypeRef | None = None,
) -> Any:
    flow = ex.flow
    if flow == "oauth_callback":
        return _oauth_callback(conn, manifest, ex, args, claims, environ)
    given = None
    if ex.token_argument:
        given = _token_argument(manifest, _source(ex.token_argument, args, claims), environ)
    values = {a.param: _source(a.from_, args, claims, given) for a in ex.arguments}
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
        # iat from the database's clock, which also stamps revoke-all (revoked_at >= iat): one clock, so a
        # token issued after a revoke-all is valid at once, and one issued before it is revoked
        now = float(conn.execute("SELECT extract(epoch FROM pg_catalog.clock_timestamp())").fetchone()[0])
        token = mint(manifest.config, sub=subject, scopes=scopes, environ=environ, issued_at=now)
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
    if ex.result in ("revoked", "count"):
        return _shaped(ex.result, rows[0] if rows else None, returns)
    return rows[0][0] if rows else None


def execute(conn: Any, manifest: Manifest, request: Request, environ: Mapping[str, str] | None = None) -> Any:
    """Run ``request`` in one transaction on ``conn`` (connected as the authenticator role)."""
    import psycopg

    op = find_operation(manifest, request.operation)
    args = bind_arguments(manifest, op, request.variables)
    page = None
    if isinstance(op, QueryEntry) and op.paging is not None:
        page = page_request(manifest, op.paging, split_variables(op.paging, request.variables)[1])
    try:
        result = _in_transaction(conn, manifest, request, op, args, environ, page)
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


def claims_key(manifest: Manifest, environ: Mapping[str, str] | None) -> bytes:
    """The key the runtime proves claims with, from its environment (docs/claims-proof.md)."""
    import os

    from fraiseql_compiler.claims_proof import BadKey, parse_key

    name = manifest.config.security.claims_key_env
    value = (os.environ if environ is None else environ).get(name)
    if not value:
        raise ExecutionError(
            500,
            "MISCONFIGURED",
            f"{name} is not set: the runtime proves each request's claims to the database with it (the key "
            "`fraiseql migrate` installed; docs/claims-proof.md)",
        )
    try:
        return parse_key(value)
    except BadKey as exc:
        raise ExecutionError(500, "MISCONFIGURED", f"{name} {exc}") from None


def set_claims(
    conn: Any, manifest: Manifest, role: str, claims: dict[str, Any], environ: Mapping[str, str] | None
) -> None:
    """The request's claims and their proof for database role ``role``, for this transaction."""
    text = dumps(claims)
    conn.execute(
        "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
        (
            manifest.database.claims_setting,
            text,
            manifest.database.proof_setting,
            prove(claims_key(manifest, environ), role, text),
        ),
    )


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
    page: Page | None = None,
) -> Any:
    with conn.transaction():
        flow = op.executes if isinstance(op.executes, AuthFlowExecutes) else None
        anonymous = manifest.database.roles["anonymous"]
        try:
            claims, role = authenticate(conn, manifest, request, environ)
        except ExecutionError as exc:
            # A flow anonymous callers may run (login, refreshToken) does not need the credentials the
            # client sent along: an expired access token must not stop the refresh that replaces it.
            if flow is None or exc.http != 401 or anonymous not in flow.roles:
                raise
            claims, role = {}, anonymous
        if flow is not None:
            role, claims = _flow_role(manifest, flow, role, claims)
        if role != manifest.database.roles["authenticator"]:
            conn.execute(f"SET LOCAL ROLE {_checked(_COLUMN, role, 'role')}")
        set_claims(conn, manifest, role, claims, environ)
        _check_revocation(conn, manifest, claims, role)
        if isinstance(op, QueryEntry):
            return _query(conn, op, args, page)
        if flow is not None:
            return _auth_flow(conn, manifest, flow, args, claims, environ, op.returns)
        assert isinstance(op.executes, FunctionExecutes)
        function = _checked(_RELATION, op.executes.function, "function")
        return conn.execute(f"SELECT {function}(%s::jsonb)", (json.dumps(args),)).fetchone()[0]
