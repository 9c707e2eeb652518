"""Claims that injected SQL cannot forge (docs/claims-proof.md).

The runtime sets, next to ``request.jwt.claims``, the setting ``request.jwt.claims_proof``::

    v1.<kid>.<hex of HMAC-SHA256(key, role || "\\n" || claims)>

- ``key``: the bytes of ``FRAISEQL_CLAIMS_KEY`` (the variable ``[security] claims_key_env`` names), base64
  (standard or URL-safe, padding optional), at least 32 bytes once decoded;
- ``kid``: the first 16 hex digits of SHA-256(key), so the database picks the key (two are valid during a
  rotation);
- ``role``: the database role the request runs as (the one ``SET LOCAL ROLE`` chose; the login role when
  the runtime switches to none), as UTF-8;
- ``claims``: exactly the text the runtime set as ``request.jwt.claims``, as UTF-8 (no re-serialisation:
  whatever bytes were set are the bytes proven).

The database's helpers accept the claims only when ``fraiseql.claims_proven`` recomputes the same MAC with
the key it holds (``fraiseql.tb_claims_key``, which no API role and not the login role can read). The key is
never in the SQL files or the manifest: ``fraiseql migrate`` installs it from the same variable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Any

VERSION = "v1"
PROOF_SETTING = "request.jwt.claims_proof"
SQL_FUNCTION = "claims_proven(text, text, text)"  # in schema fraiseql; every API role and the authenticator
DEFAULT_ENV = "FRAISEQL_CLAIMS_KEY"
MIN_KEY_BYTES = 32
MAX_KEPT = 2  # the current key and, during a rotation, the previous one
_BLOCK = 64  # SHA-256's block size


# What the manifest tells a runtime server to compute (``database.claims_proof``), with two test vectors
# (tests/claims_proof_vectors.json holds more; a test keeps these among them).
SPEC = {
    "algorithm": "HMAC-SHA256",
    "key": "the bytes of the base64 value (standard or URL-safe, padding optional) of the variable "
    "config.security.claims_key_env; at least 32 bytes",
    "kid": "the first 16 lowercase hex digits of SHA-256(key)",
    "message": "role, then one line feed (0x0A), then the claims text exactly as set in database.claims_setting; UTF-8",
    "proof": "'v1.' + kid + '.' + the 64 lowercase hex digits of HMAC-SHA256(key, message), set in "
    "database.proof_setting in the same transaction as the claims (set_config(..., true))",
    "role": "the database role the request runs as: the one SET LOCAL ROLE switched to, else the login role",
}
VECTOR_INPUTS = (
    (
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "fraiseql_authenticated",
        '{"auth":"jwt","iat":1767225600,"jti":"3f2a8c1e-0b7d-4e59-9a64-2d1c8b7e5f30","scopes":["read:posts","write:posts"],"sub":"00000000-0000-0000-0000-00000000000a"}',
    ),
    ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "fraiseql_anonymous", "{}"),
)


def vectors() -> list[dict[str, str]]:
    return [{"claims": c, "key": k, "proof": prove(parse_key(k), r, c), "role": r} for k, r, c in VECTOR_INPUTS]


class BadKey(ValueError):
    """A key that is not base64 of at least 32 bytes."""


def parse_key(text: str) -> bytes:
    value = text.strip()
    if not re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", value):
        raise BadKey("is not base64 (generate one: openssl rand -base64 32)")
    bare = value.rstrip("=")
    padded = bare + "=" * (-len(bare) % 4)
    try:
        key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise BadKey("is not base64 (generate one: openssl rand -base64 32)") from None
    if len(key) < MIN_KEY_BYTES:
        raise BadKey(f"holds {len(key)} bytes; at least {MIN_KEY_BYTES} are needed (openssl rand -base64 32)")
    return key


def new_key() -> str:
    """A fresh key, as the variable holds it (what ``openssl rand -base64 32`` prints)."""
    import secrets

    return base64.b64encode(secrets.token_bytes(32)).decode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def pads(key: bytes) -> tuple[bytes, bytes]:
    """(key XOR ipad, key XOR opad), HMAC's two blocks (RFC 2104), as the database stores them."""
    block = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    block = block.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def prove(key: bytes, role: str, claims: str) -> str:
    mac = hmac.new(key, (role + "\n" + claims).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{VERSION}.{key_id(key)}.{mac}"


def install(conn: Any, key: bytes) -> tuple[str, list[str]]:
    """Store ``key`` in ``fraiseql.tb_claims_key`` (as the table's owner, in the caller's transaction) and
    drop every key but it and the newest other one: (its kid, the kids dropped).

    A key installed again becomes the newest (``added_at``): going back to the previous key and then rotating
    keeps that key, the one the runtimes use, rather than the one abandoned in between."""
    kid = key_id(key)
    inner, outer = pads(key)
    conn.execute(
        "INSERT INTO fraiseql.tb_claims_key (kid, inner_pad, outer_pad, added_at)"
        " VALUES (%s, %s, %s, pg_catalog.clock_timestamp())"
        " ON CONFLICT (kid) DO UPDATE SET added_at = excluded.added_at",
        (kid, inner, outer),
    )
    rows = conn.execute(
        "DELETE FROM fraiseql.tb_claims_key WHERE kid <> %s AND kid NOT IN ("
        " SELECT k.kid FROM fraiseql.tb_claims_key AS k WHERE k.kid <> %s ORDER BY k.added_at DESC, k.kid"
        " LIMIT %s) RETURNING kid",
        (kid, kid, MAX_KEPT - 1),
    ).fetchall()
    return kid, sorted(r[0] for r in rows)


def installed(conn: Any) -> list[str]:
    """The kids the database holds (none when the table does not exist yet)."""
    exists = conn.execute("SELECT pg_catalog.to_regclass('fraiseql.tb_claims_key') IS NOT NULL").fetchone()[0]
    if not exists:
        return []
    return [r[0] for r in conn.execute("SELECT kid FROM fraiseql.tb_claims_key ORDER BY added_at DESC").fetchall()]
