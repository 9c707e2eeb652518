"""What the emitters need from ``fraiseql.toml``, resolved once from the validated :class:`Config`.

The configuration models own every default and every bound; this module restates none of them. It only
gathers the sections the SQL needs and derives the role names as SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fraiseql_compiler.sql.quoting import quote_ident, quote_literal
from fraiseql_compiler.sql.sqlstates import SQLSTATES

if TYPE_CHECKING:
    from fraiseql_compiler.config import (
        ApiKeysSection,
        Config,
        JwtSection,
        LoginSection,
        RateLimitingSection,
        RolesSection,
        TokenRevocationSection,
    )
    from fraiseql_compiler.config.model import PagingSection

AUTHENTICATOR = "authenticator"  # the key of the login role the runtime connects as (not an API role)


@dataclass(frozen=True)
class Role:
    key: str  # "anonymous", "authenticated", "api_key", "authenticator" or an extra role's name
    name: str

    @property
    def ident(self) -> str:
        return quote_ident(self.name)

    @property
    def literal(self) -> str:
        return quote_literal(self.name)


@dataclass(frozen=True)
class Roles:
    authenticator: Role
    anonymous: Role
    authenticated: Role
    api_key: Role
    extra: tuple[Role, ...] = ()

    @classmethod
    def from_config(cls, section: RolesSection) -> Roles:
        return cls(
            authenticator=Role(AUTHENTICATOR, section.authenticator),
            anonymous=Role("anonymous", section.anonymous),
            authenticated=Role("authenticated", section.authenticated),
            api_key=Role("api_key", section.api_key),
            extra=tuple(Role(name, name) for name in section.extra),
        )

    @property
    def api(self) -> tuple[Role, ...]:
        """The roles a request may switch to, in a fixed order."""
        return (self.anonymous, self.authenticated, self.api_key, *self.extra)

    @property
    def api_role_keys(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.api)

    @property
    def api_idents(self) -> str:
        return ", ".join(r.ident for r in self.api)

    @property
    def all_idents(self) -> str:
        return ", ".join(r.ident for r in (*self.api, self.authenticator))

    def by_key(self, key: str) -> Role | None:
        if key == AUTHENTICATOR:
            return self.authenticator
        return next((r for r in self.api if r.key == key), None)

    def name_of(self, key: str) -> str:
        role = self.by_key(key)
        if role is None:
            raise KeyError(f"no role {key!r}")
        return role.name


# Claims every identity's normalized claims may carry (the runtime sets them; see executor/claims.py).
STANDARD_CLAIMS = ("sub", "scopes", "auth", "jti", "iat", "exp", "provider", "key_id", "static_key")


@dataclass(frozen=True)
class ClaimSources:
    """What a predicate's ``{jwt:<claim>}`` can read: the standard claims, the claims mapped for first-party
    tokens (``[auth.jwt] claims``) and for each provider (``[[security.providers]] claims``), and the
    ``[security] optional_claims``. A mapped claim may also be written as the token names it
    (``{jwt:https://example.com/org_id}``): ``aliases`` leads it to its mapped name."""

    supplied_by: dict[str, tuple[str, ...]]  # mapped name → who supplies it ("[auth.jwt]", "provider auth0")
    aliases: dict[str, tuple[str, ...]]  # the token's own claim name → the mapped names taken from it
    optional: tuple[str, ...]

    @classmethod
    def from_config(cls, config: Config) -> ClaimSources:
        sources = [("[auth.jwt] claims", config.auth.jwt.claims)] + [
            (f"provider {p.name}", p.claims) for p in config.security.all_providers
        ]
        supplied: dict[str, list[str]] = {}
        aliases: dict[str, set[str]] = {}
        for who, mapping in sources:
            for name, source in mapping.items():
                supplied.setdefault(name, []).append(who)
                if source != name:
                    aliases.setdefault(source, set()).add(name)
        return cls(
            supplied_by={k: tuple(v) for k, v in sorted(supplied.items())},
            aliases={k: tuple(sorted(v)) for k, v in sorted(aliases.items())},
            optional=tuple(config.security.optional_claims),
        )

    def known(self) -> tuple[str, ...]:
        """Every name a predicate may use as it is."""
        return tuple(sorted({*STANDARD_CLAIMS, *self.supplied_by, *self.optional}))

    def sql_name(self, name: str) -> str:
        """The normalized claim a ``{jwt:name}`` reads (a namespaced source → its one mapped name)."""
        if name in STANDARD_CLAIMS or name in self.supplied_by or name in self.optional:
            return name
        mapped = self.aliases.get(name, ())
        return mapped[0] if len(mapped) == 1 else name


@dataclass(frozen=True)
class Settings:
    default_schema: str
    api_schema: str
    roles: Roles
    jwt: JwtSection
    login: LoginSection
    api_keys: ApiKeysSection
    revocation: TokenRevocationSection
    rate_limiting: RateLimitingSection
    providers: tuple[str, ...]  # the names of [[security.providers]]: the only ones claims may name
    claims: ClaimSources
    paging: PagingSection

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        database, security = config.database, config.security
        return cls(
            default_schema=database.schema_,
            api_schema=database.api_schema,
            roles=Roles.from_config(database.roles),
            jwt=config.auth.jwt,
            login=config.auth.login,
            api_keys=security.api_keys,
            revocation=security.token_revocation,
            rate_limiting=security.rate_limiting,
            providers=tuple(p.name for p in security.all_providers),
            claims=ClaimSources.from_config(config),
            paging=config.paging,
        )

    @property
    def states(self) -> dict[str, str]:
        """Stable error code → SQLSTATE, for the templates (``states.UNAUTHENTICATED``)."""
        return {s.code: s.sqlstate for s in SQLSTATES}
