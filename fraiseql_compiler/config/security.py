"""``[security]``: providers, API keys, token revocation, PKCE and login rate limiting."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from fraiseql_compiler.config.base import (
    RESERVED_CLAIMS,
    ClaimName,
    Section,
    check_url,
    no_reference,
    problem,
    refused,
    unique,
    validate_also,
)
from fraiseql_compiler.config.envref import EnvName, EnvStr, static_value
from fraiseql_compiler.config.providers import IdentityLink, Provider, provider_name
from fraiseql_compiler.naming import SCOPE_RE

_HEADER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_KEY_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
_KEY_HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# Headers the runtime reads for other purposes: an API key there would be confused with them.
_TAKEN_HEADERS = frozenset({"authorization", "cookie", "host", "content-type", "content-length", "origin"})


def header_name(value: str) -> str:
    no_reference(value)
    if not _HEADER_RE.match(value):
        raise problem(f'"{value}" is not an HTTP header name (letters, digits, hyphens)')
    return value


def scope(value: str) -> str:
    if not SCOPE_RE.match(value):
        raise problem(f'"{value}" is not a scope of the form action:resource (e.g. "read:posts", "read:*")')
    return value


HeaderName = Annotated[StrictStr, AfterValidator(header_name)]
Scope = Annotated[StrictStr, AfterValidator(scope)]


class StaticKey(Section):
    """A fixed API key for tests and CI: only its SHA-256 digest is written down."""

    name: StrictStr
    key_hash: StrictStr
    scopes: tuple[Scope, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _KEY_NAME_RE.match(value):
            raise problem(f'"{value}" is not a key name (lowercase letters, digits, "_", "-", ".")')
        return value

    @field_validator("key_hash")
    @classmethod
    def _key_hash(cls, value: str) -> str:
        if not _KEY_HASH_RE.match(value):
            raise problem(
                'must be "sha256:" followed by the 64 lowercase hex digits of the key\'s SHA-256 digest '
                '(a value like "sha256:abc123..." is a documentation placeholder)',
                hint='compute it with: printf %s "$KEY" | sha256sum',
            )
        return value


class ApiKeysSection(Section):
    enabled: StrictBool = False
    header: HeaderName = "X-API-Key"
    hash_algorithm: Literal["sha256"] = "sha256"
    storage: Literal["postgres", "env"] = "postgres"
    prefix: Annotated[StrictStr, AfterValidator(no_reference)] = "fql_"
    default_ttl_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 90
    max_ttl_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 365
    static: tuple[StaticKey, ...] = ()

    @field_validator("header")
    @classmethod
    def _header(cls, value: str) -> str:
        if value.lower() in _TAKEN_HEADERS:
            raise problem(f'"{value}" is a header the runtime reads for something else', hint='use "X-API-Key"')
        return value

    @field_validator("hash_algorithm", mode="before")
    @classmethod
    def _hash_algorithm(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() == "argon2":
            raise refused(
                'hash_algorithm "argon2" is refused: API keys are high-entropy random values, and the database '
                "verifies them by their SHA-256 digest (fn_verify_api_key), so a slow password hash would add "
                "nothing that is enforced",
                hint='remove hash_algorithm or write "sha256"',
            )
        if value != "sha256":
            raise problem('must be "sha256": the database stores and verifies API keys by their SHA-256 digest')
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _PREFIX_RE.match(value):
            raise problem(f'"{value}" is not a key prefix (a lowercase letter, then up to 15 of a-z, 0-9, "_")')
        return value

    @field_validator("max_ttl_days")
    @classmethod
    def _max_ttl(cls, value: int, info: ValidationInfo) -> int:
        default = info.data.get("default_ttl_days")
        if isinstance(default, int) and value < default:
            raise problem(f"must be at least default_ttl_days ({default})")
        return value

    @field_validator("static", mode="wrap")
    @classmethod
    def _storage(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        extra = []
        if value and info.data.get("storage", "env") != "env":
            extra.append(
                problem(
                    'static keys need storage = "env"; with storage = "postgres" keys live in the database',
                    hint='create keys with fn_create_api_key, or set storage = "env" for tests and CI',
                )
            )
        return validate_also(value, handler, extra)

    @field_validator("static")
    @classmethod
    def _static(cls, value: tuple[StaticKey, ...]) -> tuple[StaticKey, ...]:
        names: set[str] = set()
        for i, key in enumerate(value):
            if key.name in names:
                raise problem(f'the key name "{key.name}" is used twice', key=(i, "name"))
            names.add(key.name)
        return value


class TokenRevocationSection(Section):
    enabled: StrictBool = False
    backend: Literal["postgres"] = "postgres"
    require_jti: StrictBool = True
    fail_open_acknowledged: StrictBool = False
    fail_open: StrictBool = False

    @field_validator("backend", mode="before")
    @classmethod
    def _backend(cls, value: Any) -> Any:
        if value == "redis":
            raise refused(
                'backend "redis" is refused for now: revocation is enforced by the database guards, which read '
                "the revoked token ids from PostgreSQL; only the postgres backend is enforced there",
                hint='write backend = "postgres"',
            )
        if value != "postgres":
            raise problem('must be "postgres"')
        return value

    @field_validator("fail_open")
    @classmethod
    def _fail_open(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not info.data.get("fail_open_acknowledged"):
            raise problem(
                "fail_open = true needs fail_open_acknowledged = true",
                hint="failing open means that while the revocation store is unreachable, revoked tokens "
                "(logged-out sessions, stolen tokens) are accepted again; if that is intended, also set "
                "fail_open_acknowledged = true",
            )
        return value


class PkceSection(Section):
    """An OIDC issuer (Auth0, Keycloak, any OIDC provider, or an identity proxy in front of SAML): its tokens
    are accepted like a ``[[security.providers]]`` entry's, with keys found by OIDC discovery, and the
    reference runtime's login flow (authorization code with PKCE) signs users in through it."""

    issuer_url: EnvStr
    client_id: EnvStr
    audience: EnvStr | None = None
    redirect_uris: tuple[EnvStr, ...] = ()
    code_challenge_method: Literal["S256"] = "S256"
    # The provider entry it stands for (see as_provider); the defaults suit Auth0 and Keycloak.
    name: Annotated[StrictStr, AfterValidator(provider_name)] = "oidc"
    scopes: tuple[StrictStr, ...] = ("openid", "profile", "email")  # asked for at login
    link: IdentityLink = "email"  # the login flow links a verified email to its account
    client_secret_env: EnvName = "OIDC_CLIENT_SECRET"  # read when set: a confidential client

    def as_provider(self) -> Provider:
        """The ``[[security.providers]]`` entry this block means: the issuer, its audience (the API's, else
        the client's own id), RS256, keys by discovery."""
        issuer = static_value(self.issuer_url) or ""
        kind = "auth0" if ".auth0.com" in issuer else "oidc"
        audience = self.audience if self.audience is not None else self.client_id
        return Provider.model_validate(
            {
                "name": self.name,
                "kind": kind,
                "issuer": self.issuer_url,
                "audience": audience,
                "discovery": True,
                "link": self.link,
            }
        )

    @field_validator("issuer_url")
    @classmethod
    def _issuer_url(cls, value: Any) -> Any:
        check_url(static_value(value), what="issuer_url")
        return value

    @field_validator("redirect_uris")
    @classmethod
    def _redirect_uris(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        for i, uri in enumerate(value):
            check_url(static_value(uri), what="a redirect URI", key=(i,))
        return value

    @field_validator("code_challenge_method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> Any:
        if value != "S256":
            raise problem(
                'must be "S256"'
                + (
                    ': "plain" sends the verifier itself, so an intercepted authorization code can be redeemed'
                    if value == "plain"
                    else ""
                ),
            )
        return value


class RateLimitingSection(Section):
    login_max_attempts: Annotated[StrictInt, Field(ge=1, le=100)] = 5
    login_window_seconds: Annotated[StrictInt, Field(ge=60, le=86_400)] = 900
    lockout_seconds: Annotated[StrictInt, Field(ge=60, le=86_400)] = 900


class SecuritySection(Section):
    providers: tuple[Provider, ...] = ()
    api_keys: ApiKeysSection = ApiKeysSection()
    token_revocation: TokenRevocationSection = TokenRevocationSection()
    pkce: PkceSection | None = None
    rate_limiting: RateLimitingSection = RateLimitingSection()
    # Claims predicates may read although no token source is declared to supply them: passed through, by
    # this exact name, when a token carries one; NULL otherwise.
    optional_claims: tuple[ClaimName, ...] = ()
    # The scopes the API defines. When listed, `fraiseql lint` reports a scope used in code that is not
    # (FQL307), and the access matrix has a column for each.
    scopes: tuple[Scope, ...] = ()
    # The variable holding the key the runtime proves each request's claims with (docs/claims-proof.md);
    # `fraiseql migrate` installs the same key in the database.
    claims_key_env: EnvName = "FRAISEQL_CLAIMS_KEY"

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unique(value, "scope")
        return value

    @field_validator("optional_claims")
    @classmethod
    def _optional_claims(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for i, name in enumerate(value):
            if name in RESERVED_CLAIMS:
                raise problem(f'"{name}" is a claim the runtime always sets: it is never optional', key=(i,))
            if name in value[:i]:
                raise problem(f'"{name}" is listed twice', key=(i,))
        return value

    @property
    def all_providers(self) -> tuple[Provider, ...]:
        """The ``[[security.providers]]`` entries, and the one ``[security.pkce]`` stands for."""
        return self.providers + ((self.pkce.as_provider(),) if self.pkce is not None else ())

    @model_validator(mode="after")
    def _pkce_name(self) -> SecuritySection:
        if self.pkce is not None and any(p.name == self.pkce.name for p in self.providers):
            raise problem(
                f'provider name "{self.pkce.name}" is used by [security.pkce] too',
                hint='give [security.pkce] another name = "…", or the provider entry',
                key=("pkce", "name"),
            )
        # A token is verified by the provider its iss names: two with one issuer would make one of them dead.
        seen: dict[str, str] = {}
        for i, p in enumerate(self.all_providers):
            issuer = str(p.issuer)
            if issuer in seen:
                where = ("pkce", "issuer_url") if i == len(self.providers) else ("providers", i, "issuer")
                raise problem(
                    f'issuer {issuer} is declared twice (providers "{seen[issuer]}" and "{p.name}"): tokens name '
                    "their issuer, so only one entry could ever verify them",
                    hint="keep one entry per issuer ([security.pkce] is one)",
                    key=where,
                )
            seen[issuer] = p.name
        return self

    @field_validator("providers")
    @classmethod
    def _unique_names(cls, value: tuple[Provider, ...]) -> tuple[Provider, ...]:
        seen: set[str] = set()
        for i, provider in enumerate(value):
            if provider.name in seen:
                raise problem(f'provider name "{provider.name}" is used twice', key=(i, "name"))
            seen.add(provider.name)
        return value
