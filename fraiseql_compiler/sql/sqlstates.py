"""SQLSTATEs the generated SQL raises, and what the runtime answers for each (also in the manifest).

Custom codes live in class "PT" (not used by PostgreSQL). The database raises them; the manifest maps
them to HTTP statuses and stable error codes, so a runtime never has to parse a message.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SqlState:
    sqlstate: str
    http: int
    code: str
    message: str


SQLSTATES: tuple[SqlState, ...] = (
    SqlState("PT401", 401, "UNAUTHENTICATED", "authentication required"),
    SqlState("PT402", 401, "TOKEN_REVOKED", "the token has been revoked"),
    SqlState("PT403", 403, "INSUFFICIENT_SCOPE", "a required scope is missing"),
    SqlState("PT406", 403, "API_KEY_REQUIRED", "this operation requires an API key"),
    SqlState("PT407", 403, "API_KEY_NOT_ALLOWED", "this operation cannot be performed with an API key"),
    SqlState("PT411", 401, "INVALID_CREDENTIALS", "invalid credentials"),
    SqlState("PT412", 401, "INVALID_REFRESH_TOKEN", "the refresh token is invalid, expired or reused"),
    SqlState("PT429", 429, "LOCKED_OUT", "too many failed attempts; try again later"),
    SqlState("PT422", 422, "INVALID_ARGUMENT", "an argument is invalid"),
    SqlState("PT501", 501, "REVOCATION_DISABLED", "token revocation is not enabled"),
    # For the schema's own mutation functions to raise (docs/functions.md)
    SqlState("PT404", 404, "NOT_FOUND", "not found"),
    SqlState("PT409", 409, "CONFLICT", "the request conflicts with the current state"),
    # PostgreSQL's own, when a role lacks a privilege or RLS rejects a write
    SqlState("42501", 403, "FORBIDDEN", "permission denied"),
    # ... and when a write breaks a constraint, or a value does not parse as its type
    SqlState("23505", 409, "ALREADY_EXISTS", "a row with the same unique key already exists"),
    SqlState("23503", 409, "REFERENCE_CONFLICT", "a referenced row is missing, or the row is still referenced"),
    SqlState("23502", 422, "MISSING_VALUE", "a required value is missing"),
    SqlState("23514", 422, "CHECK_VIOLATION", "a value breaks a check constraint"),
    SqlState("22P02", 422, "INVALID_INPUT", "a value does not parse as its type"),
)

BY_NAME = {s.code: s for s in SQLSTATES}


def sqlstate(code: str) -> str:
    """The SQLSTATE for a stable error code name (``sqlstate("UNAUTHENTICATED") == "PT401"``)."""
    return BY_NAME[code].sqlstate
