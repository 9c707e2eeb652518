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
            providers=tuple(p.name for p in security.providers),
        )

    @property
    def states(self) -> dict[str, str]:
        """Stable error code → SQLSTATE, for the templates (``states.UNAUTHENTICATED``)."""
        return {s.code: s.sqlstate for s in SQLSTATES}
