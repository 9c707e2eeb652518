"""``[database]`` and ``[database.roles]``: names compiled into SQL, so never environment references."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from fraiseql_compiler.config.base import RoleName, SchemaName, Section, problem

# Role *keys*: how the rest of the configuration refers to the API roles (provider role rules).
ROLE_KEYS = ("anonymous", "authenticated", "api_key")
LOGIN_ROLE_KEY = "authenticator"


class RolesSection(Section):
    """Cluster-wide PostgreSQL roles: the login role the runtime connects as, and the API roles it switches to
    per request with ``SET LOCAL ROLE``."""

    authenticator: RoleName = "fraiseql_authenticator"
    anonymous: RoleName = "fraiseql_anonymous"
    authenticated: RoleName = "fraiseql_authenticated"
    api_key: RoleName = "fraiseql_api_key"
    extra: tuple[RoleName, ...] = ()

    @field_validator("anonymous", "authenticated", "api_key")
    @classmethod
    def _distinct(cls, value: str, info: ValidationInfo) -> str:
        for other, name in info.data.items():
            if name == value:
                raise problem(f'"{value}" is already the {other} role; every role needs its own name')
        return value

    @field_validator("extra")
    @classmethod
    def _extra(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        taken = {name: key for key, name in info.data.items()}
        seen: set[str] = set()
        for i, name in enumerate(value):
            if name in (LOGIN_ROLE_KEY, *ROLE_KEYS):
                raise problem(
                    f'"{name}" is a role key; an extra role needs a name that role rules cannot confuse with it',
                    key=(i,),
                )
            if name in taken:
                raise problem(f'"{name}" is already the {taken[name]} role', key=(i,))
            if name in seen:
                raise problem(f'"{name}" is listed twice', key=(i,))
            seen.add(name)
        return value

    def api_roles(self) -> dict[str, str]:
        """Role key → PostgreSQL role name for every role a request may switch to (not the login role)."""
        return {
            "anonymous": self.anonymous,
            "authenticated": self.authenticated,
            "api_key": self.api_key,
            **{name: name for name in self.extra},
        }

    def provider_roles(self) -> dict[str, str]:
        """The roles a provider's token may be given: every API role but the API-key role."""
        return {k: v for k, v in self.api_roles().items() if k != "api_key"}


class DatabaseSection(Section):
    schema_: SchemaName = Field("public", alias="schema")
    api_schema: SchemaName = "api"
    roles: RolesSection = RolesSection()

    @field_validator("api_schema")
    @classmethod
    def _apart(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("schema_"):
            raise problem(
                f'"{value}" is also [database] schema; the API objects need a schema of their own',
                hint="API roles get USAGE on the API schema only, so base tables stay out of reach",
            )
        return value
