"""Mutations bound to the generated auth functions: which function, as which role, which argument
feeds each parameter, and what the runtime does with the result. The manifest carries this, and the
grants of ``0002_auth.sql`` are derived from it (one statement of who may call each flow)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from fraiseql_compiler.ir import Mutation, Schema

FlowResult = Literal["issue_tokens", "return_key_once", "revoked", "count"]


@dataclass(frozen=True)
class Param:
    name: str
    sources: tuple[str, ...]  # argument or input-field names that may feed it, in order of preference
    required: bool = True
    from_claims: bool = False  # read from the caller's verified claims, never from arguments


@dataclass(frozen=True)
class Flow:
    function: str  # in schema fraiseql
    arg_types: tuple[str, ...]  # the SQL function's parameter types, for its signature in grants
    roles: tuple[str, ...]  # role keys that may call it ("authenticator": the runtime's own login role)
    params: tuple[Param, ...]
    result: FlowResult  # what the runtime does with what the function returns
    note: str = ""
    # A failure the function must record (attempt count, family revocation) comes back as no row, not
    # as an exception that would roll the record back: the runtime commits, then answers this error.
    no_row: str | None = None

    @property
    def signature(self) -> str:
        return f"{self.function}({', '.join(self.arg_types)})"


FLOWS: dict[str, Flow] = {
    "login": Flow(
        "fn_login",
        ("text", "text"),
        ("anonymous", "authenticated"),
        (Param("identifier", ("email", "username", "identifier", "login")), Param("password", ("password",))),
        "issue_tokens",
        "mint an access JWT for the returned subject and scopes; return the refresh token once",
        no_row="INVALID_CREDENTIALS",
    ),
    "refresh_token": Flow(
        "fn_refresh_token",
        ("text",),
        ("anonymous",),
        (Param("token", ("refresh_token", "token")),),
        "issue_tokens",
        "the presented token is rotated: return the new refresh token once",
        no_row="INVALID_REFRESH_TOKEN",
    ),
    "oauth_callback": Flow(
        "fn_upsert_oauth_user",
        ("text", "text", "text", "boolean", "text"),
        ("authenticator",),
        (Param("code", ("code",)), Param("provider", ("provider",))),
        "issue_tokens",
        "exchange the code at the provider's token endpoint ([auth.oauth.<provider>]), read its userinfo "
        "endpoint, then call the function with the provider's subject, email, whether the provider verified "
        "that email (email_verified), and name, as the authenticator role",
    ),
    "create_api_key": Flow(
        "fn_create_api_key",
        ("text", "text[]", "timestamp with time zone"),
        ("authenticated",),
        (Param("name", ("name",)), Param("scopes", ("scopes",)), Param("expires_at", ("expires_at",), False)),
        "return_key_once",
        "the key is in the result only this once; it is stored as a SHA-256 hash",
    ),
    "revoke_token": Flow(
        "fn_revoke_token",
        ("text", "timestamp with time zone", "text", "text"),
        ("authenticated", "api_key"),
        (
            Param("jti", ("jti",), from_claims=True),
            Param("exp", ("exp",), from_claims=True),
            Param("sub", ("sub",), from_claims=True),
            Param("provider", ("provider",), from_claims=True),
        ),
        "revoked",
        "the caller's own token; with a `token` argument (POST /auth/revoke {token}), that token once the "
        "runtime verified it: the claims parameters come from it",
    ),
    "revoke_all": Flow(
        "fn_revoke_all", ("text",), ("authenticated",), (Param("sub", ("sub", "subject", "user_id")),), "count"
    ),
    "revoke_api_key": Flow(
        "fn_revoke_api_key", ("uuid",), ("authenticated",), (Param("key_id", ("key_id", "id")),), "revoked"
    ),
}


@dataclass(frozen=True)
class FlowBinding:
    """A mutation bound to an auth flow: which argument (or input field) feeds each parameter."""

    flow: str
    arguments: Mapping[str, str]  # parameter → "arg", "arg.field", "claims.x" or "token.x"
    missing: tuple[str, ...]  # required parameters nothing feeds (FQL217)
    # The argument holding a token to verify, whose claims feed the claims parameters ("token.x") instead of
    # the caller's: revokeToken(token: String!) as the guide's POST /auth/revoke {token}.
    token_argument: str | None = None

    @property
    def spec(self) -> Flow:
        return FLOWS[self.flow]


def argument_paths(m: Mutation, schema: Schema) -> dict[str, str]:
    """Every place a value can come from: top-level arguments, and the fields of input arguments."""
    paths: dict[str, str] = {}
    for a in m.arguments:
        paths.setdefault(a.name, a.name)
    for a in m.arguments:
        input_type = schema.input_type(str(a.type.name)) if a.type.kind == "input" else None
        for f in input_type.fields if input_type is not None else ():
            paths.setdefault(f.name, f"{a.name}.{f.name}")
    return paths


def bind_flow(m: Mutation, schema: Schema) -> FlowBinding | None:
    """None unless ``m`` is bound to an auth flow. Claims-fed parameters map to ``claims.x``."""
    if m.auth_flow is None:
        return None
    flow = FLOWS[m.auth_flow]
    paths = argument_paths(m, schema)
    found: dict[str, str] = {}
    missing: list[str] = []
    token = paths.get("token") if m.auth_flow == "revoke_token" else None
    for p in flow.params:
        if p.from_claims:
            found[p.name] = f"{'token' if token else 'claims'}.{p.sources[0]}"
            continue
        source = next((paths[s] for s in p.sources if s in paths), None)
        if source is not None:
            found[p.name] = source
        elif p.required:
            missing.append(p.name)
    return FlowBinding(m.auth_flow, MappingProxyType(found), tuple(missing), token)
