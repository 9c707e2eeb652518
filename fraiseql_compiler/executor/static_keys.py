"""Static API keys (``[security.api_keys] storage = "env"``): fixed keys for tests and CI, of which the config
holds only the SHA-256 digest (``key_hash = "sha256:<hex>"``, as ``printf %s "$KEY" | sha256sum`` prints it).

A presented key is hashed and compared with every configured digest in constant time, without stopping at
the first match, so the time taken tells nothing about which key (or how much of a digest) matched."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from fraiseql_compiler.manifest.models import StaticKey


def digest(key: str) -> str:
    """``sha256:<hex>`` of the key's bytes, as the config writes it (``surrogateescape`` gives back the exact
    bytes of a key read from a command line that was not valid UTF-8)."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def match(keys: Sequence[StaticKey], presented: str) -> StaticKey | None:
    """The configured key whose digest is the presented key's, else None."""
    try:
        mine = digest(presented).encode("ascii")
    except UnicodeEncodeError:  # not a string any key could be
        mine = b"sha256:" + b"-" * 64
    found: StaticKey | None = None
    for key in keys:  # every key, whatever matched before
        if hmac.compare_digest(mine, key.key_hash.encode("ascii")) and found is None:
            found = key
    return found


def claims(key: StaticKey) -> dict[str, Any]:
    """The normalized claims of a static key: an API-key identity that is no user of the user table."""
    return {
        "sub": f"static:{key.name}",
        "scopes": sorted(set(key.scopes)),
        "auth": "api_key",
        "static_key": key.name,
    }
