"""Secrets never go in fraiseql.toml: a scan of the raw TOML before the models see it (FQL133).

Two rules, over every key, known or not:

- a key *named* like a secret (``secret``, ``password``, ``client_secret``, ``*_token`` …) holding a literal
  (or a ``${VAR:-default}`` whose default is the literal);
- a value *shaped* like a secret in any key: a JWT, a PEM private key, or a long high-entropy string.

Findings carry the offending value only so that the renderer can mask it; messages never contain it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticCustomError

from fraiseql_compiler.config.envref import EnvRef, parse_env_str
from fraiseql_compiler.config.lines import Loc, dotted

SECRET_KEYS = frozenset(
    {
        "secret", "jwt_secret", "secret_key", "password", "passwd", "passphrase", "client_secret",
        "private_key", "signing_key", "api_key", "api_secret", "key", "token", "access_token",
        "refresh_token", "auth_token", "bearer_token", "credentials", "database_url", "dsn",
    }
)  # fmt: skip
SECRET_SUFFIXES = ("_secret", "_password", "_passphrase", "_private_key", "_signing_key", "_api_key", "_token")
# Keys whose name looks secret but whose value is not: [database.roles] api_key is a role *name*.
NOT_SECRET = frozenset({("database", "roles", "api_key")})
# Public identifiers that are random-looking by design: the entropy rule skips them.
# Role-rule operands are claim values (user and organisation ids), not secrets.
RANDOM_BY_DESIGN = frozenset(
    {"client_id", "key_hash", "kid", "signing_key_id", "jwks_uri", "issuer", "issuer_url", "audience", "equals",
     "contains"}
)  # fmt: skip
# Where a secret-named key has a matching setting that names an environment variable instead.
ENV_KEYS = {
    ("auth", "jwt", "secret"): 'secret_env = "JWT_SECRET"',
    ("auth", "jwt", "jwt_secret"): 'secret_env = "JWT_SECRET"',
    ("auth", "jwt", "private_key"): 'private_key_env = "JWT_PRIVATE_KEY"',
    ("auth", "jwt", "signing_key"): 'private_key_env = "JWT_PRIVATE_KEY"',
}

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_\-.~]+$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")


@dataclass(frozen=True)
class SecretFinding:
    loc: Loc
    message: str
    hint: str
    value: str  # for masking only; never put into a message


def find_secrets(data: dict[str, Any]) -> list[SecretFinding]:
    found: list[SecretFinding] = []
    _walk(data, (), None, found)
    return found


def _walk(value: Any, loc: Loc, key: str | None, found: list[SecretFinding]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _walk(v, (*loc, k), k, found)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _walk(v, (*loc, i), key, found)
    elif isinstance(value, str) and key is not None:
        finding = _check(value, loc, key)
        if finding:
            found.append(finding)


def _check(value: str, loc: Loc, key: str) -> SecretFinding | None:
    try:
        parsed = parse_env_str(value)
    except PydanticCustomError:  # malformed references are reported by the models
        parsed = value
    literal = parsed.default if isinstance(parsed, EnvRef) else parsed
    if not literal:
        return None
    where = dotted(loc)
    if _secret_named(key) and tuple(loc) not in NOT_SECRET:
        what = "the default of its environment reference" if isinstance(parsed, EnvRef) else "a literal value"
        return SecretFinding(
            loc, f'"{where}" holds a secret ({what}); secrets never go in fraiseql.toml', _hint(loc, key), literal
        )
    shape = _shape(literal, key)
    if shape:
        return SecretFinding(
            loc,
            f'"{where}" holds what looks like {shape}; secrets never go in fraiseql.toml',
            'keep it in the runtime\'s environment, reference it as "${VAR}" where the setting allows, '
            "and rotate it if it was ever committed",
            literal,
        )
    return None


def _secret_named(key: str) -> bool:
    k = key.lower()
    return not k.endswith("_env") and (k in SECRET_KEYS or k.endswith(SECRET_SUFFIXES))


def _shape(value: str, key: str) -> str | None:
    if _JWT.search(value):
        return "a JWT"
    if _PEM.search(value):
        return "a PEM private key"
    if key not in RANDOM_BY_DESIGN and _looks_random(value):
        return "a key or token (a long random string)"
    return None


def _looks_random(value: str) -> bool:
    if len(value) < 32 or not _TOKEN_CHARS.match(value):
        return False
    if _HEX.match(value):
        return len(value) >= 40
    classes = sum(bool(re.search(p, value)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
    return classes == 3 and _entropy(value) >= 4.2


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _hint(loc: Loc, key: str) -> str:
    setting = ENV_KEYS.get(tuple(loc))  # type: ignore[arg-type]
    if setting:
        return (
            f"set the secret in the runtime's environment and name the variable in [auth.jwt]: {setting}; "
            "rotate the secret if it was ever committed"
        )
    if key == "client_secret" and "pkce" in loc:
        return "a PKCE client is public and needs no client secret: remove it (and rotate it if it was ever committed)"
    if key == "key" and "api_keys" in loc:
        return (
            'store only the key\'s digest: key_hash = "sha256:<64 hex digits>" '
            '(printf %s "$KEY" | sha256sum); the key itself stays with the client'
        )
    return (
        "set the secret in the runtime's environment and reference it: the matching *_env setting names "
        'the variable, or write "${VAR}"; rotate the secret if it was ever committed'
    )
