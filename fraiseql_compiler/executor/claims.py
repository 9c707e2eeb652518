"""Normalized claims: ``sub``, ``scopes`` (always a JSON array), ``auth``, and ``jti``/``iat``/``exp``
where present, plus a provider's mapped claims. And which API role a caller gets."""

from __future__ import annotations

from typing import Any

from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.tokens import Verified
from fraiseql_compiler.manifest.models import RoleRule

PASS_THROUGH = ("jti", "iat", "exp")


def _scopes(value: Any, fmt: str = "auto") -> list[str]:
    if isinstance(value, str) and fmt != "array":
        return sorted(set(value.split()))
    if isinstance(value, list) and fmt != "space_separated":
        return sorted({str(v) for v in value})
    return []


def _rule_matches(rule: RoleRule, claims: dict[str, Any]) -> bool:
    value = claims.get(rule.claim)
    if rule.operator == "exists":
        return value is not None
    if rule.operator == "equals":
        return bool(value == rule.value)
    # contains: an element of an array, or a whole word of a space-separated string, never a substring
    if isinstance(value, list):
        return rule.value in value
    return isinstance(value, str) and isinstance(rule.value, str) and rule.value in value.split()


def normalize(
    verified: Verified, roles: dict[str, str], jwt_claims: dict[str, str] | None = None, optional: tuple[str, ...] = ()
) -> tuple[dict[str, Any], str]:
    """(normalized claims, database role) for a verified token. ``jwt_claims``: the first-party mapping
    ([auth.jwt] claims); ``optional``: [security] optional_claims, passed through by name when present."""
    raw, provider = verified.claims, verified.provider
    if provider is None:
        scopes = raw.get("scopes") if isinstance(raw.get("scopes"), list) else raw.get("scope", "")
        claims: dict[str, Any] = {"sub": str(raw["sub"]), "scopes": _scopes(scopes), "auth": "jwt"}
        for name, source in sorted((jwt_claims or {}).items()):
            if source in raw:
                claims[name] = raw[source]
        role = roles["authenticated"]
    else:
        claims = {
            "sub": str(raw[provider.subject_claim]),
            "scopes": _scopes(raw.get(provider.scopes_claim), provider.scopes_format),
            "auth": "jwt",
            "provider": provider.name,
        }
        for name, source in sorted(provider.claims.items()):
            if source in raw:
                claims[name] = raw[source]
        rule = next((r for r in provider.role_rules if _rule_matches(r, raw)), None)
        db_role = rule.db_role if rule else provider.default_db_role
        if db_role is None:  # the config validates role rules against [database.roles]: a stale manifest
            raise ExecutionError(500, "MISCONFIGURED", f"provider {provider.name}: a role rule names no database role")
        role = db_role
    for key in (*PASS_THROUGH, *optional):
        if key in raw and key not in claims:
            claims[key] = raw[key]
    return claims, role


def link_request(verified: Verified) -> tuple[str, str, str | None, bool, bool] | None:
    """The arguments of ``fraiseql.fn_link_provider_identity`` for a provider token whose provider links
    identities on first sight (``link = "email"`` or ``"provision"``), else None. The database maps a
    provider's subject to a local user only through a link; an unlinked identity is authenticated but owns
    nothing."""
    provider = verified.provider
    if provider is None or provider.link == "explicit":
        return None
    raw = verified.claims
    email = raw.get(provider.email_claim)
    verified_flag = raw.get(provider.email_verified_claim)
    return (
        provider.name,
        str(raw[provider.subject_claim]),
        email if isinstance(email, str) and email else None,
        verified_flag is True or verified_flag == "true",
        provider.link == "provision",
    )
