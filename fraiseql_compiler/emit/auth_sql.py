"""``sql/0002_auth.sql``: the credential tables and the auth functions of the ``fraiseql`` schema.

Applied after ``0001_fraiseql_schema.sql`` (roles, schemas, claim helpers and guards) and after the user's
base tables exist (``fn_login`` reads the ``[auth.login]`` table), before the views, policies and API objects.
Everything in it is re-runnable.

What it builds (the SQL is in ``templates/auth/``, one template per kind of object):

* tables ``fraiseql.tb_api_key``, ``tb_refresh_token``, ``tb_revoked_token``, ``tb_revoked_subject``,
  ``tb_login_attempt``, ``tb_oauth_identity``: forced row-level security, nothing granted to any API role
  or to the authenticator, one ``fqlauth_owner`` policy for the owner the ``SECURITY DEFINER`` functions
  run as;
* the pgcrypto wrappers ``bcrypt_check``, ``bcrypt_hash`` and ``random_bytes``, generated when the file is
  applied with pgcrypto's schema (wherever it is installed) qualified;
* the auth functions, each granted by name to exactly the roles in :data:`GRANTS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fraiseql_compiler.emit.context import Role, SqlContext
from fraiseql_compiler.emit.templates import render
from fraiseql_compiler.sql.quoting import quote_ident, quote_literal, split_qualified

_PREFIX_RE = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
# bcrypt salt characters (./A-Za-z0-9); the salt of the dummy hash is fixed, so the file is deterministic.
_DUMMY_SALT = "fraiseqlfraiseqlfraise"

# Who may EXECUTE each function of 0002 (role keys: anonymous, authenticated, api_key, authenticator, and
# "api" for every API role). Everything else is revoked from PUBLIC, the API roles and the authenticator.
GRANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # internal: called only by the SECURITY DEFINER functions, which run as the owner
    ("bcrypt_check(text, text)", ()),
    ("bcrypt_hash(text)", ()),
    ("random_bytes(integer)", ()),
    ("scopes_from_json(jsonb)", ()),
    ("login_scopes(text)", ()),
    ("issue_refresh_token(text, text[], uuid)", ()),
    ("create_api_key_impl(text, text[], timestamp with time zone)", ()),
    ("upsert_oauth_user_impl(text, text, text, text)", ()),
    # require_authenticated() (granted to every API role, SECURITY INVOKER) calls it
    ("token_revoked()", ("api",)),
    ("token_revoked(jsonb)", ("api",)),
    ("fn_login(text, text)", ("anonymous", "authenticated")),
    ("fn_refresh_token(text)", ("anonymous",)),
    ("fn_upsert_oauth_user(text, text, text, text)", ("authenticator",)),
    ("fn_create_api_key(text, text[], timestamp with time zone)", ("authenticated",)),
    ("fn_verify_api_key(text)", ("authenticator",)),
    ("fn_revoke_api_key(uuid)", ("authenticated",)),
    ("fn_revoke_token(text, timestamp with time zone)", ("authenticated", "api_key")),
    ("fn_revoke_all(text)", ("authenticated",)),
    ("fn_purge_revoked()", ("authenticator",)),
)

TABLES = (
    "tb_api_key",
    "tb_refresh_token",
    "tb_revoked_token",
    "tb_revoked_subject",
    "tb_login_attempt",
    "tb_oauth_identity",
)


@dataclass(frozen=True)
class AuthSettings:
    """The settings 0002 compiles in, read from the config with defaults (see :func:`auth_settings`)."""

    login_table: str = "tb_user"
    id_column: str = "id"
    identifier_column: str = "email"
    password_hash_column: str = "password_hash"
    scopes_column: str = "scopes"
    # Cost of the hashes fraiseql.bcrypt_hash() makes and of the dummy hash an unknown user is checked
    # against: set it to the cost of the hashes in the login table, so both paths take the same time.
    bcrypt_cost: int = 12
    login_max_attempts: int = 5
    login_window_seconds: int = 900
    lockout_seconds: int = 900
    api_key_prefix: str = "fql_"
    api_key_default_ttl_days: int = 90
    api_key_max_ttl_days: int = 365
    refresh_token_ttl_seconds: int = 1_209_600

    def __post_init__(self) -> None:
        # The config layer validates these; here they are checked again because they are compiled into SQL.
        for name in ("login_table", "id_column", "identifier_column", "password_hash_column", "scopes_column"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or "\x00" in value:
                raise ValueError(f"auth setting {name} must be a non-empty identifier, not {value!r}")
        if len(self.login_table.split(".")) > 2:
            raise ValueError(f"auth setting login_table must be table or schema.table, not {self.login_table!r}")
        if not _PREFIX_RE.match(self.api_key_prefix):
            raise ValueError(f"API key prefix {self.api_key_prefix!r} must match {_PREFIX_RE.pattern}")
        bounds = {
            "bcrypt_cost": (4, 31),
            "login_max_attempts": (1, 1000),
            "login_window_seconds": (1, 31_536_000),
            "lockout_seconds": (1, 31_536_000),
            "api_key_default_ttl_days": (1, 36_500),
            "api_key_max_ttl_days": (1, 36_500),
            "refresh_token_ttl_seconds": (1, 315_360_000),
        }
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if type(value) is not int or not low <= value <= high:
                raise ValueError(f"auth setting {name} must be an integer in [{low}, {high}], not {value!r}")
        if self.api_key_max_ttl_days < self.api_key_default_ttl_days:
            raise ValueError("api_key_max_ttl_days must be at least api_key_default_ttl_days")


def _get(obj: Any, path: str, default: Any) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return default
    return obj


def auth_settings(config: Any) -> AuthSettings:
    """:class:`AuthSettings` from ``config`` (``[auth.login]``, ``[auth.jwt]``, ``[security.*]``), with defaults."""
    d = AuthSettings()
    return AuthSettings(
        login_table=_get(config, "auth.login.table", d.login_table),
        id_column=_get(config, "auth.login.id_column", d.id_column),
        identifier_column=_get(config, "auth.login.identifier_column", d.identifier_column),
        password_hash_column=_get(config, "auth.login.password_hash_column", d.password_hash_column),
        scopes_column=_get(config, "auth.login.scopes_column", d.scopes_column),
        bcrypt_cost=_get(config, "auth.login.bcrypt_cost", d.bcrypt_cost),
        login_max_attempts=_get(config, "security.rate_limiting.login_max_attempts", d.login_max_attempts),
        login_window_seconds=_get(config, "security.rate_limiting.login_window_seconds", d.login_window_seconds),
        lockout_seconds=_get(config, "security.rate_limiting.lockout_seconds", d.lockout_seconds),
        api_key_prefix=_get(config, "security.api_keys.prefix", d.api_key_prefix),
        api_key_default_ttl_days=_get(config, "security.api_keys.default_ttl_days", d.api_key_default_ttl_days),
        api_key_max_ttl_days=_get(config, "security.api_keys.max_ttl_days", d.api_key_max_ttl_days),
        refresh_token_ttl_seconds=_get(config, "auth.jwt.refresh_token_ttl_seconds", d.refresh_token_ttl_seconds),
    )


@dataclass(frozen=True)
class LoginTable:
    """The ``[auth.login]`` table as SQL text: quoted identifiers and string literals."""

    table: str  # schema.table, quoted
    literal: str  # the same, as a string literal (for to_regclass and messages)
    id: str
    identifier: str
    password_hash: str
    scopes: str
    columns_literal: str  # ARRAY['id', 'email', ...] of the raw names, for the apply-time check
    password_hash_literal: str  # the raw column names as string literals
    scopes_literal: str
    id_type: str  # schema.table.id%TYPE
    drop_owner_policy: str  # statements run by EXECUTE, as string literals
    create_owner_policy: str

    @classmethod
    def of(cls, settings: AuthSettings, default_schema: str) -> LoginTable:
        schema, name = split_qualified(settings.login_table)
        table = f"{quote_ident(schema or default_schema)}.{quote_ident(name)}"
        raw = (
            settings.id_column,
            settings.identifier_column,
            settings.password_hash_column,
            settings.scopes_column,
        )
        return cls(
            table=table,
            literal=quote_literal(table),
            id=quote_ident(settings.id_column),
            identifier=quote_ident(settings.identifier_column),
            password_hash=quote_ident(settings.password_hash_column),
            scopes=quote_ident(settings.scopes_column),
            columns_literal="ARRAY[" + ", ".join(quote_literal(c) for c in raw) + "]",
            password_hash_literal=quote_literal(settings.password_hash_column),
            scopes_literal=quote_literal(settings.scopes_column),
            id_type=f"{table}.{quote_ident(settings.id_column)}%TYPE",
            drop_owner_policy=quote_literal(f"DROP POLICY IF EXISTS fqlauth_owner ON {table}"),
            create_owner_policy=quote_literal(
                f"CREATE POLICY fqlauth_owner ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)"
            ),
        )


def _grantees(ctx: SqlContext, keys: tuple[str, ...]) -> str:
    roles: list[Role] = []
    for key in keys:
        if key == "api":
            roles.extend(ctx.roles.api)
        elif key == "authenticator":
            roles.append(ctx.roles.authenticator)
        else:
            role = ctx.roles.by_key(key)
            if role is None:
                raise KeyError(f"no API role {key!r}")
            roles.append(role)
    return ", ".join(r.ident for r in roles)


def emit_auth_sql(ctx: SqlContext) -> str:
    """The content of ``sql/0002_auth.sql``."""
    settings = auth_settings(ctx.config)
    login = LoginTable.of(settings, ctx.default_schema)
    common: dict[str, Any] = {
        "s": settings,
        "login": login,
        "roles": ctx.roles,
        "states": ctx.states,
        "revocation": ctx.revocation,
        "dummy_salt": quote_literal(f"$2a${settings.bcrypt_cost:02d}${_DUMMY_SALT}"),
        "api_key_prefix": quote_literal(settings.api_key_prefix),
        "api_key_prefix_length": len(settings.api_key_prefix),
    }
    grants = [(signature, _grantees(ctx, keys)) for signature, keys in GRANTS]
    parts = [
        render("auth/login_table.sql.j2", **common),
        render("auth/pgcrypto.sql.j2", **common),
        render("auth/tables.sql.j2", **common),
        render("auth/helpers.sql.j2", **common),
        render("auth/login.sql.j2", **common),
        render("auth/api_keys.sql.j2", **common),
        render("auth/revocation.sql.j2", **common),
        render("auth/grants.sql.j2", grants=grants, **common),
    ]
    title = "Credential tables and auth functions: login, refresh tokens, API keys, revocation, OAuth users."
    return render("file.sql.j2", title=title, statements=[p.strip("\n") for p in parts])
