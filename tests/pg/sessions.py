"""Acting as the runtime does inside one transaction: SET LOCAL ROLE, then the request's claims."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

ALICE = "00000000-0000-0000-0000-00000000000a"
BOB = "00000000-0000-0000-0000-00000000000b"
ALICE_DRAFT = "00000000-0000-0000-0000-0000000000a2"
BOB_DRAFT = "00000000-0000-0000-0000-0000000000b1"
ROLES = {
    "anonymous": "fraiseql_anonymous",
    "authenticated": "fraiseql_authenticated",
    "api_key": "fraiseql_api_key",
}


@contextmanager
def acting_as(
    conn: psycopg.Connection[Any], role: str, claims: dict[str, Any] | None = None
) -> Iterator[psycopg.Connection[Any]]:
    """A transaction as API role ``role`` with ``claims``; rolled back afterwards."""
    with conn.transaction(force_rollback=True):
        conn.execute(f"SET LOCAL ROLE {ROLES[role]}")  # type: ignore[arg-type]
        if claims is not None:
            conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        yield conn


def user(sub: str, *scopes: str, auth: str = "jwt", **extra: Any) -> dict[str, Any]:
    return {"sub": sub, "scopes": list(scopes), "auth": auth, "jti": f"jti-{sub[-1]}", **extra}
