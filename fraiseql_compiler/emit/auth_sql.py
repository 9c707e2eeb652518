"""``sql/0002_auth.sql``: the credential tables and the auth functions of the ``fraiseql`` schema.

Applied after ``0001_fraiseql_schema.sql`` (roles, schemas, claim helpers and guards) and after the user's
base tables exist (``fn_login`` reads the ``[auth.login]`` table), before the views, policies and API objects.
Everything in it is re-runnable.

What it builds (the SQL is in ``templates/auth/``, one template per kind of object):

* the view ``fraiseql.request_identity`` (the request's local subject, and whether its token is revoked),
  which the claim helpers of ``0001`` read, granted to the API roles but the anonymous one;
* tables ``fraiseql.tb_api_key``, ``tb_refresh_token``, ``tb_revoked_token``, ``tb_revoked_subject``,
  ``tb_login_attempt``, ``tb_oauth_identity``: forced row-level security, nothing granted to any API role
  or to the authenticator, one ``fqlauth_owner`` policy for the owner the ``SECURITY DEFINER`` functions
  run as;
* the pgcrypto wrappers ``bcrypt_check``, ``bcrypt_hash`` and ``random_bytes``, generated when the file is
  applied with pgcrypto's schema (wherever it is installed) qualified;
* the auth functions, each granted by name to exactly the roles in :data:`GRANTS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraiseql_compiler.analysis.authflows import FLOWS
from fraiseql_compiler.emit.objects import SqlObject
from fraiseql_compiler.emit.templates import render
from fraiseql_compiler.settings import AUTHENTICATOR, Role, Settings
from fraiseql_compiler.sql.quoting import quote_ident, quote_literal, split_qualified

# bcrypt salt characters (./A-Za-z0-9); the salt of the dummy hash is fixed, so the file is deterministic.
_DUMMY_SALT = "fraiseqlfraiseqlfraise"
API = "api"  # every API role
IDENTIFIED = "identified"  # every API role that can carry an identity: all but the anonymous role

# Who may EXECUTE each function of 0002 that is not an auth flow (role keys, and API for every API role).
# The auth flows' grants come from FLOWS, which the manifest also carries. Everything else is revoked from
# PUBLIC, the API roles and the authenticator.
_OTHER_GRANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # internal: called only by the SECURITY DEFINER functions, which run as the owner
    ("bcrypt_check(text, text)", ()),
    ("bcrypt_hash(text)", ()),
    ("random_bytes(integer)", ()),
    ("scopes_from_json(jsonb)", ()),
    ("login_scopes(text)", ()),
    ("issue_refresh_token(text, text[], uuid)", ()),
    ("create_api_key_impl(text, text[], timestamp with time zone)", ()),
    ("upsert_oauth_user_impl(text, text, text, boolean, text)", ()),
    ("link_identity_impl(text, text, text, boolean, text, boolean, boolean)", ()),
    # reads the view fraiseql.request_identity (granted alike), which every helper and guard reads for a
    # caller with claims; the anonymous role never has an identity, so it needs neither
    ("token_revoked()", (IDENTIFIED,)),
    ("fn_verify_api_key(text)", (AUTHENTICATOR,)),
    ("fn_link_provider_identity(text, text, text, boolean, boolean)", (AUTHENTICATOR,)),
    ("fn_purge_revoked()", (AUTHENTICATOR,)),
)
GRANTS: tuple[tuple[str, tuple[str, ...]], ...] = _OTHER_GRANTS + tuple(
    (flow.signature, flow.roles) for flow in FLOWS.values()
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
    def of(cls, settings: Settings) -> LoginTable:
        login = settings.login
        schema, name = split_qualified(login.table)
        table = f"{quote_ident(schema or settings.default_schema)}.{quote_ident(name)}"
        raw = (login.id_column, login.identifier_column, login.password_hash_column, login.scopes_column)
        return cls(
            table=table,
            literal=quote_literal(table),
            id=quote_ident(login.id_column),
            identifier=quote_ident(login.identifier_column),
            password_hash=quote_ident(login.password_hash_column),
            scopes=quote_ident(login.scopes_column),
            columns_literal="ARRAY[" + ", ".join(quote_literal(c) for c in raw) + "]",
            password_hash_literal=quote_literal(login.password_hash_column),
            scopes_literal=quote_literal(login.scopes_column),
            id_type=f"{table}.{quote_ident(login.id_column)}%TYPE",
            drop_owner_policy=quote_literal(f"DROP POLICY IF EXISTS fqlauth_owner ON {table}"),
            create_owner_policy=quote_literal(
                f"CREATE POLICY fqlauth_owner ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)"
            ),
        )


def grantee_roles(settings: Settings, keys: tuple[str, ...]) -> list[Role]:
    """The roles a GRANTS entry names: role keys, API (every API role) and IDENTIFIED (all but anonymous)."""
    roles: list[Role] = []
    for key in keys:
        if key == API:
            roles.extend(settings.roles.api)
        elif key == IDENTIFIED:
            roles.extend(r for r in settings.roles.api if r.key != "anonymous")
        else:
            role = settings.roles.by_key(key)
            if role is None:
                raise KeyError(f"no role {key!r}")
            roles.append(role)
    return roles


def _grantees(settings: Settings, keys: tuple[str, ...]) -> str:
    return ", ".join(r.ident for r in grantee_roles(settings, keys))


def auth_objects(settings: Settings) -> list[SqlObject]:
    """The objects of ``sql/0002_auth.sql``: the checks of the login table and pgcrypto (setup), the
    credential tables (a versioned step), then the auth functions and their grants (setup)."""
    keys = settings.api_keys
    cost = settings.login.bcrypt_cost
    common: dict[str, Any] = {
        "login": LoginTable.of(settings),
        "bcrypt_cost": cost,
        "bcrypt_cost_literal": quote_literal(f"{cost:02d}"),
        "data_schema": quote_ident(settings.default_schema),
        "keys": keys,
        "jwt": settings.jwt,
        "rate": settings.rate_limiting,
        "roles": settings.roles,
        "states": settings.states,
        "revocation": settings.revocation,
        "dummy_salt": quote_literal(f"$2a${cost:02d}${_DUMMY_SALT}"),
        "api_key_prefix": quote_literal(keys.prefix),
        "api_key_prefix_length": len(keys.prefix),
        "identified": _grantees(settings, (IDENTIFIED,)),
    }
    grants = [(signature, _grantees(settings, who)) for signature, who in GRANTS]

    def joined(*parts: str) -> str:
        return "\n\n".join(p.strip("\n") for p in parts)

    return [
        SqlObject(
            "setup",
            "setup:auth.checks",
            joined(render("auth/login_table.sql.j2", **common), render("auth/pgcrypto.sql.j2", **common)),
        ),
        SqlObject("versioned", VERSIONED_STEP, render("auth/tables.sql.j2", **common).strip("\n")),
        SqlObject(
            "setup",
            "setup:auth.functions",
            joined(
                render("auth/helpers.sql.j2", **common),
                render("auth/login.sql.j2", **common),
                render("auth/api_keys.sql.j2", **common),
                render("auth/revocation.sql.j2", **common),
                render("auth/grants.sql.j2", grants=grants, tables=TABLES, **common),
            ),
            depends_on=("setup:auth.checks", VERSIONED_STEP),
        ),
    ]


AUTH_TITLE = "Credential tables and auth functions: login, refresh tokens, API keys, revocation, OAuth users."
# The credential tables' layout; a later compiler adds "versioned:auth.0002" … (never edits this one).
VERSIONED_STEP = "versioned:auth.0001"


def emit_auth_sql(settings: Settings) -> str:
    """The content of ``sql/0002_auth.sql``."""
    return render("file.sql.j2", title=AUTH_TITLE, statements=[o.block() for o in auth_objects(settings)])
