"""Acting as the runtime does inside one transaction: SET LOCAL ROLE, then the request's claims."""

from __future__ import annotations

import base64
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
# The claims key of every test database (docs/claims-proof.md): tests/conftest.py puts it in the
# environment (FRAISEQL_CLAIMS_KEY) for migrate and the executor; databases built by hand install it.
CLAIMS_KEY_TEXT = "ZnJhaXNlcWwtdGVzdC1jbGFpbXMta2V5LTMyLWJ5dGVzIQ=="
CLAIMS_KEY = base64.b64decode(CLAIMS_KEY_TEXT)


def install_claims_key(conn: psycopg.Connection[Any]) -> None:
    """As the migrating role, after the generated SQL: what `fraiseql migrate` does with the key."""
    from fraiseql_compiler.claims_proof import install

    install(conn, CLAIMS_KEY)


def set_claims(conn: psycopg.Connection[Any], role: str, claims: dict[str, Any] | str) -> None:
    """The request's claims and their proof for database role ``role``, as the runtime sets them."""
    from fraiseql_compiler.claims_proof import PROOF_SETTING, prove

    text = claims if isinstance(claims, str) else json.dumps(claims)
    conn.execute(
        "SELECT set_config('request.jwt.claims', %s, true), set_config(%s, %s, true)",
        (text, PROOF_SETTING, prove(CLAIMS_KEY, role, text)),
    )


@contextmanager
def acting_as(
    conn: psycopg.Connection[Any], role: str, claims: dict[str, Any] | None = None
) -> Iterator[psycopg.Connection[Any]]:
    """A transaction as API role ``role`` with ``claims``; rolled back afterwards."""
    with conn.transaction(force_rollback=True):
        conn.execute(f"SET LOCAL ROLE {ROLES[role]}")  # type: ignore[arg-type]
        if claims is not None:
            set_claims(conn, ROLES[role], claims)
        yield conn


def user(sub: str, *scopes: str, auth: str = "jwt", **extra: Any) -> dict[str, Any]:
    return {"sub": sub, "scopes": list(scopes), "auth": auth, "jti": f"jti-{sub[-1]}", **extra}
