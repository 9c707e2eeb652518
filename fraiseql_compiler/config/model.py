"""The root of ``fraiseql.toml``. A setting that nothing enforces is refused, so only what is built is accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PrivateAttr, StrictInt, ValidationError, ValidationInfo, model_validator

from fraiseql_compiler.config.auth import AuthSection
from fraiseql_compiler.config.base import PlainStr, RelPath, Section, problem
from fraiseql_compiler.config.database import DatabaseSection, RolesSection
from fraiseql_compiler.config.security import SecuritySection
from fraiseql_compiler.config.server import ServerSection
from fraiseql_compiler.diagnostics import Diagnostic

CONFIG_FILE = "fraiseql.toml"


class ProjectSection(Section):
    name: PlainStr | None = None


class SchemaSection(Section):
    modules: list[PlainStr] = Field(default_factory=list)


class BuildSection(Section):
    out: PlainStr = "build"


class MigrateSection(Section):
    """``fraiseql migrate``: your own migrations folder (applied once each, in order, before the generated
    objects) and how long it waits."""

    migrations: RelPath = "db/migrations"
    wait_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 60  # for another migrate (--lock-timeout)
    lock_timeout_seconds: Annotated[StrictInt, Field(ge=1, le=600)] = 5  # a statement waiting for a table lock
    statement_timeout_seconds: Annotated[StrictInt, Field(ge=1, le=86_400)] = 300


class Config(Section):
    project: ProjectSection = ProjectSection()
    schema_: SchemaSection = Field(SchemaSection(), alias="schema")
    build: BuildSection = BuildSection()
    migrate: MigrateSection = MigrateSection()
    database: DatabaseSection = DatabaseSection()
    auth: AuthSection = AuthSection()
    security: SecuritySection = SecuritySection()
    server: ServerSection = ServerSection()

    # Not settings: where the file was found, and the lint findings of loading it.
    _path: Path | None = PrivateAttr(None)
    _warnings: tuple[Diagnostic, ...] = PrivateAttr(())

    @model_validator(mode="before")
    @classmethod
    def _role_context(cls, data: Any, info: ValidationInfo) -> Any:
        """Provider role rules name roles from [database.roles], a sibling section validated later: read
        the roles first (when they are valid) so that the rules can be checked in the same pass."""
        if isinstance(info.context, dict) and isinstance(data, dict):
            database = data.get("database", {})
            roles = database.get("roles", {}) if isinstance(database, dict) else {}
            try:
                info.context["roles"] = RolesSection.model_validate(roles).provider_roles()
            except ValidationError:
                info.context.pop("roles", None)  # reported under database.roles; skip the cross-check
        return data

    @model_validator(mode="after")
    def _auth_types(self) -> Config:
        """``[auth] type`` as the guide's table means it: a strategy, which needs its sections."""
        needs = {
            "api_key": (
                self.security.api_keys.enabled,
                '"api_key" needs [security.api_keys] enabled = true',
                "write [security.api_keys] with enabled = true (and header, storage …)",
            ),
            "oauth2": (
                bool(self.auth.oauth),
                '"oauth2" needs an OAuth provider to exchange codes with',
                "write [auth.oauth.google] (it reads GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET), "
                '[auth.oauth.github], or a kind = "oidc" provider with its URLs',
            ),
            "saml": (
                self.security.pkce is not None and bool(self.security.providers),
                '"saml": FraiseQL is no SAML service provider; an identity proxy (Keycloak, Dex, Auth0, Okta) '
                "turns SAML assertions into JWTs",
                "write [security.pkce] (issuer_url, client_id) pointing at the proxy, and a "
                "[[security.providers]] entry that verifies the JWTs it issues",
            ),
        }
        for kind in self.auth.types:
            if kind in needs and not needs[kind][0]:
                _, message, hint = needs[kind]
                raise problem(message, hint=hint, key=("auth", "type"))
        return self

    @property
    def path(self) -> Path | None:
        """The fraiseql.toml this was read from (None: no file, all defaults)."""
        return self._path

    @property
    def root(self) -> Path:
        return self._path.parent if self._path else Path.cwd()

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """Lint-style findings (severity "warning", FQL3xx) from loading the file."""
        return self._warnings

    def with_source(self, path: Path | None, warnings: tuple[Diagnostic, ...] = ()) -> Config:
        copy = self.model_copy()
        copy._path = path
        copy._warnings = warnings
        return copy
