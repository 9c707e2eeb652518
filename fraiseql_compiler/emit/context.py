"""What the SQL templates need from the configuration, resolved once: role names, schemas, switches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraiseql_compiler.sql.quoting import quote_ident, quote_literal
from fraiseql_compiler.sql.sqlstates import SQLSTATES


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

    @property
    def api(self) -> tuple[Role, ...]:
        return (self.anonymous, self.authenticated, self.api_key, *self.extra)

    @property
    def api_idents(self) -> str:
        return ", ".join(r.ident for r in self.api)

    @property
    def all_idents(self) -> str:
        return ", ".join(r.ident for r in (*self.api, self.authenticator))

    def by_key(self, key: str) -> Role | None:
        return next((r for r in self.api if r.key == key), None)


@dataclass(frozen=True)
class Revocation:
    enabled: bool = False
    require_jti: bool = True


@dataclass(frozen=True)
class SqlContext:
    default_schema: str
    api_schema: str
    roles: Roles
    revocation: Revocation
    config: Any  # the full Config, for the auth functions

    @property
    def states(self) -> dict[str, str]:
        return {s.code: s.sqlstate for s in SQLSTATES}


def sql_context(config: Any) -> SqlContext:
    database = config.database
    roles_cfg = getattr(database, "roles", None)

    def role(key: str, default: str) -> Role:
        return Role(key, getattr(roles_cfg, key, None) or default)

    extra = tuple(Role(name, name) for name in getattr(roles_cfg, "extra", ()) or ())
    roles = Roles(
        authenticator=role("authenticator", "fraiseql_authenticator"),
        anonymous=role("anonymous", "fraiseql_anonymous"),
        authenticated=role("authenticated", "fraiseql_authenticated"),
        api_key=role("api_key", "fraiseql_api_key"),
        extra=extra,
    )
    security = getattr(config, "security", None)
    revocation_cfg = getattr(security, "token_revocation", None)
    revocation = Revocation(
        enabled=bool(getattr(revocation_cfg, "enabled", False)),
        require_jti=bool(getattr(revocation_cfg, "require_jti", True)),
    )
    return SqlContext(
        default_schema=database.schema_,
        api_schema=getattr(database, "api_schema", "api"),
        roles=roles,
        revocation=revocation,
        config=config,
    )
