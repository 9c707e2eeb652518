"""The root of ``fraiseql.toml``. A setting that nothing enforces is refused, so only what is built is accepted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

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


class PagingSection(Section):
    """List queries: the page size callers get when they ask for none, the largest they may ask for (a
    larger one is refused, never clamped), and bounds on a ``where`` so one request cannot be made to plan
    forever."""

    default_limit: Annotated[StrictInt, Field(ge=1, le=10_000)] = 20
    max_limit: Annotated[StrictInt, Field(ge=1, le=10_000)] = 100
    max_in: Annotated[StrictInt, Field(ge=1, le=10_000)] = 100  # values in one `in` list
    max_depth: Annotated[StrictInt, Field(ge=1, le=32)] = 5  # levels of objects: where itself is 1
    max_conditions: Annotated[StrictInt, Field(ge=1, le=1_000)] = 50  # field conditions in one where

    @model_validator(mode="after")
    def _default_within_max(self) -> PagingSection:
        if self.default_limit > self.max_limit:
            raise problem(
                f"default_limit ({self.default_limit}) is larger than max_limit ({self.max_limit})",
                hint="a caller who asks for no limit would get a page larger than anyone may ask for",
                key=("default_limit",),
            )
        return self


class TestSection(Section):
    """``fraiseql test``: where the access cases are (``*.toml`` files, searched recursively)."""

    cases: RelPath = "access_tests"


_SELECTOR = re.compile(r"^(FQL\d{1,3}|squawk(:[a-z0-9-]+)?)$")


def rule_selector(value: str) -> str:
    """A lint rule or warning code (``FQL304``, ``FQL220``), a prefix of codes (``FQL3``, ``FQL31``),
    ``squawk`` (all of squawk's rules) or one squawk rule (``squawk:prefer-robust-stmts``)."""
    from fraiseql_compiler.diagnostics.registry import CODES

    if not _SELECTOR.match(value):
        raise problem(
            f'"{value}" is not a lint rule',
            hint="write a code (FQL304), a prefix (FQL31), squawk, or squawk:<rule>; `fraiseql lint --list-rules` "
            "lists them",
        )
    if value.startswith("FQL") and not any(c.startswith(value) and CODES[c].suppressible for c in CODES):
        raise problem(
            f'no lint rule or warning starts with "{value}"',
            hint="errors of the build cannot be selected or ignored; `fraiseql lint --list-rules` lists the rules",
        )
    return value


RuleSelector = Annotated[StrictStr, AfterValidator(rule_selector)]
Level = Literal["error", "warning"]


class LintSection(Section):
    """``fraiseql lint``: which rules run, how severe each is, and the access changes a reviewer accepted."""

    select: tuple[RuleSelector, ...] = ()  # empty: every rule but the SQL ones (squawk)
    extend_select: tuple[RuleSelector, ...] = ()  # added to select (or to the default set): ["squawk"]
    ignore: tuple[RuleSelector, ...] = ()
    severity: dict[str, Level] = {}  # code → level
    fail_level: Level = "error"  # exit 1 for findings at or above it
    baseline: RelPath | None = None  # a manifest to compare access with (FQL323); --baseline overrides it
    acknowledge: tuple[PlainStr, ...] = ()  # access widenings a reviewer accepted, by the id FQL323 prints

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: dict[str, str]) -> dict[str, str]:
        for code in value:
            rule_selector(code)
        return value


class Config(Section):
    project: ProjectSection = ProjectSection()
    schema_: SchemaSection = Field(SchemaSection(), alias="schema")
    build: BuildSection = BuildSection()
    migrate: MigrateSection = MigrateSection()
    database: DatabaseSection = DatabaseSection()
    auth: AuthSection = AuthSection()
    security: SecuritySection = SecuritySection()
    server: ServerSection = ServerSection()
    lint: LintSection = LintSection()
    paging: PagingSection = PagingSection()
    test: TestSection = TestSection()

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
                self.security.pkce is not None or bool(self.security.providers),
                '"saml": FraiseQL is no SAML service provider; an identity proxy (Keycloak, Dex, Auth0, Okta) '
                "turns SAML assertions into JWTs",
                "write [security.pkce] (issuer_url, client_id) pointing at the proxy's OIDC endpoint (or a "
                "[[security.providers]] entry that verifies the JWTs it issues)",
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
