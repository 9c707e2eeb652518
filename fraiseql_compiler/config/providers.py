"""``[[security.providers]]``: third-party identity providers (Auth0, Clerk, any OIDC issuer).

Their tokens are verified with public keys only (JWKS), against an exact issuer and an audience, and a
verified token is mapped to an API role by the provider's role rules (first match wins).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    Field,
    PlainValidator,
    PrivateAttr,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fraiseql_compiler.config.auth import Audience, nonempty_audience
from fraiseql_compiler.config.base import ClaimName, RelPath, Section, check_url, one_of, problem, unique
from fraiseql_compiler.config.envref import EnvRef, EnvStr, static_value
from fraiseql_compiler.config.jwks import config_root, load_jwks
from fraiseql_compiler.diagnostics import did_you_mean

PROVIDER_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
ProviderKind = Literal["auth0", "clerk", "oidc"]
ScopesFormat = Literal["space_separated", "array"]
IdentityLink = Literal["explicit", "email", "provision"]
# Where each kind of provider puts the granted scopes (see docs/configuration.md).
KIND_DEFAULTS: dict[str, tuple[str, str]] = {
    "auth0": ("scope", "space_separated"),  # Auth0 access tokens: "scope": "read:posts write:posts"
    "clerk": ("scopes", "array"),  # Clerk: a JWT template adds "scopes": [...]
    "oidc": ("scope", "space_separated"),  # RFC 9068 JWT access tokens
}
# Normalized claims the runtime computes itself; a provider claim mapping cannot overwrite them.
RESERVED_CLAIMS = frozenset({"sub", "scopes", "auth", "jti", "iat", "exp", "nbf", "iss", "aud", "role"})
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Where each kind of provider publishes its keys, for the hint when a provider has none.
JWKS_URI_EXAMPLES: dict[str, str] = {
    "auth0": "https://<tenant>.auth0.com/.well-known/jwks.json",
    "clerk": "https://<your-clerk-frontend-api>/.well-known/jwks.json",
    "oidc": "https://<issuer-host>/.well-known/jwks.json",
}


def provider_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise problem(f'"{value}" is not a lowercase identifier (letters, digits, underscores)')
    return value


def role_key(value: str, info: ValidationInfo) -> str:
    """A role a provider's token may take: anonymous, authenticated, or a [database.roles] extra name."""
    if value == "api_key":
        raise problem(
            "the api_key role is reserved for requests that present an API key; a provider's token cannot take it"
        )
    if value == "authenticator":
        raise problem("authenticator is the login role the runtime connects as, never an API role")
    roles = info.context.get("roles") if isinstance(info.context, dict) else None
    if isinstance(roles, dict) and value not in roles:
        by_name = {name: key for key, name in roles.items()}
        hint = (
            f'write the role key "{by_name[value]}"'
            if value in by_name
            else did_you_mean(value, roles) or "list the role in [database.roles] extra"
        )
        allowed = ", ".join(f'"{k}"' for k in roles)
        raise problem(f'unknown role "{value}" (known: {allowed})', hint=hint)
    return value


def rule_value(value: Any) -> str | int | bool:
    if isinstance(value, str | int | bool):
        return value
    raise problem("equals takes a string, an integer or a boolean")


def provider_algorithm(value: Any) -> str:
    if isinstance(value, str) and (value.upper().startswith("HS") or value.lower() == "none"):
        raise problem(
            f'"{value}" is refused for a third-party provider: its tokens are verified with public keys only '
            "(with a shared secret, anyone holding it could mint tokens)",
            hint="use the provider's signing algorithm, usually RS256",
        )
    one_of(value, PROVIDER_ALGORITHMS)
    return str(value)


RoleKey = Annotated[StrictStr, AfterValidator(role_key)]
ProviderAlgorithm = Annotated[str, PlainValidator(provider_algorithm)]


class RoleRule(Section):
    """``{ role = "editor", claim = "https://example.com/roles", contains = "editor" }``."""

    role: RoleKey
    claim: ClaimName
    equals: Annotated[str | int | bool, PlainValidator(rule_value)] | None = None
    contains: StrictStr | None = None
    exists: Literal[True] | None = None

    @field_validator("exists", mode="before")
    @classmethod
    def _exists(cls, value: Any) -> Any:
        if value is False:
            raise problem("only exists = true is meaningful: a rule matches when the claim is present")
        return value

    @model_validator(mode="after")
    def _one_operator(self) -> Self:
        given = [op for op in ("equals", "contains", "exists") if getattr(self, op) is not None]
        if len(given) != 1:
            raise problem(
                "a role rule needs exactly one of equals, contains, exists"
                + (f" (it has {', '.join(given)})" if given else ""),
                hint='e.g. { role = "editor", claim = "org_role", equals = "editor" }',
            )
        return self

    @property
    def operator(self) -> Literal["equals", "contains", "exists"]:
        if self.equals is not None:
            return "equals"
        return "contains" if self.contains is not None else "exists"


class Provider(Section):
    name: Annotated[StrictStr, AfterValidator(provider_name)]
    kind: ProviderKind
    issuer: EnvStr
    audience: Audience
    algorithms: tuple[ProviderAlgorithm, ...] = ("RS256",)
    jwks_uri: EnvStr | None = None
    jwks_file: RelPath | None = None
    # OIDC discovery: the runtime reads jwks_uri (and, for the login flow, the authorization and token
    # endpoints) from <issuer>/.well-known/openid-configuration, whose "issuer" must equal issuer exactly.
    discovery: bool = False
    subject_claim: ClaimName = "sub"
    scopes_claim: ClaimName = "scope"
    scopes_format: ScopesFormat = "space_separated"
    claims: dict[str, ClaimName] = {}
    role_rules: tuple[RoleRule, ...] = ()
    default_role: RoleKey = "authenticated"
    # The longest exp - iat (or, without iat, now to exp) accepted from this provider.
    max_token_lifetime_seconds: Annotated[StrictInt, Field(ge=60, le=31_536_000)] = 86_400
    # How a token's (issuer, sub) becomes a local user (a row of [auth.login]): "explicit" (linked by
    # oauthCallback or by the operator; until then authenticated, owning nothing), "email" (on first sight, to
    # the account holding the token's verified email), "provision" (that, or a new account).
    link: IdentityLink = "explicit"
    email_claim: ClaimName = "email"
    email_verified_claim: ClaimName = "email_verified"

    _jwks: dict[str, Any] | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("kind"), str):
            claim, form = KIND_DEFAULTS.get(data["kind"], KIND_DEFAULTS["oidc"])
            data = {"scopes_claim": claim, "scopes_format": form, **data}
        return data

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str | EnvRef) -> str | EnvRef:
        check_url(static_value(value), what="issuer")
        return value

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: tuple[str | EnvRef, ...]) -> tuple[str | EnvRef, ...]:
        return nonempty_audience(value)

    @field_validator("algorithms")
    @classmethod
    def _algorithms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise problem("needs at least one algorithm")
        unique(value, "algorithm")
        return value

    @field_validator("jwks_uri")
    @classmethod
    def _jwks_uri(cls, value: str | EnvRef | None) -> str | EnvRef | None:
        if value is not None:
            check_url(static_value(value), what="jwks_uri")
        return value

    @field_validator("jwks_file")
    @classmethod
    def _jwks_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        algorithms = info.data.get("algorithms")
        if value is not None and algorithms:
            load_jwks(config_root(info), value, algorithms)
        return value

    @field_validator("claims")
    @classmethod
    def _claims(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _NAME_RE.match(name):
                raise problem(f'"{name}" is not a lowercase claim name (letters, digits, underscores)', key=(name,))
            if name in RESERVED_CLAIMS:
                raise problem(
                    f'"{name}" is a claim the runtime sets itself',
                    hint="use subject_claim and scopes_claim for sub and scopes; pick another name",
                    key=(name,),
                )
        return value

    @model_validator(mode="after")
    def _keys(self, info: ValidationInfo) -> Self:
        if self.discovery and (self.jwks_uri is not None or self.jwks_file is not None):
            raise problem(
                "discovery = true finds the keys itself: drop jwks_uri and jwks_file, or discovery",
                key=("discovery",),
            )
        if not self.discovery and (self.jwks_uri is None) == (self.jwks_file is None):
            both = self.jwks_uri is not None
            raise problem(
                "set only one of jwks_uri and jwks_file" if both else "needs jwks_uri or jwks_file",
                hint=f'e.g. jwks_uri = "{JWKS_URI_EXAMPLES.get(self.kind, JWKS_URI_EXAMPLES["oidc"])}"'
                + (
                    " (the one <issuer>/.well-known/openid-configuration lists), or discovery = true"
                    if self.kind == "oidc"
                    else ""
                ),
                key=("jwks_file",) if both else (),
            )
        if self.jwks_file is not None:
            self._jwks = load_jwks(config_root(info), self.jwks_file, self.algorithms)
        return self

    @property
    def jwks(self) -> dict[str, Any] | None:
        return self._jwks
