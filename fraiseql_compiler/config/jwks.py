"""JWKS files: public verification keys, read and checked at build time, carried in the manifest."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationInfo

from fraiseql_compiler.config.base import problem

# Members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


def config_root(info: ValidationInfo) -> Path:
    context = info.context if isinstance(info.context, dict) else {}
    root = context.get("root")
    return root if isinstance(root, Path) else Path.cwd()


def usable(key: dict[str, Any], algorithm: str) -> bool:
    if key.get("use", "sig") != "sig" or key.get("alg", algorithm) != algorithm:
        return False
    if algorithm.startswith(("RS", "PS")):
        return key.get("kty") == "RSA" and isinstance(key.get("n"), str) and isinstance(key.get("e"), str)
    if algorithm in _CURVES:
        return (
            key.get("kty") == "EC"
            and key.get("crv") == _CURVES[algorithm]
            and isinstance(key.get("x"), str)
            and isinstance(key.get("y"), str)
        )
    return False


def load_jwks(root: Path, relative: str, algorithms: Iterable[str]) -> dict[str, Any]:
    """The JWKS at ``root / relative``: JSON, public keys only, at least one key for one of ``algorithms``."""
    path = root / relative
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise problem(
            f'"{relative}" does not exist (paths are relative to fraiseql.toml)',
            hint="export the provider's or your own public keys as a JWKS file and commit it",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise problem(f'"{relative}" cannot be read: {type(exc).__name__}') from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise problem(f'"{relative}" is not valid JSON (line {exc.lineno}): a JWKS is {{"keys": [...]}}') from None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) and "kty" in k for k in keys):
        raise problem(f'"{relative}" is not a JWKS: expected {{"keys": [{{"kty": ...}}, ...]}} with at least one key')
    for key in keys:
        if key.get("kty") == "oct" or _PRIVATE_MEMBERS & key.keys():
            raise problem(
                f'"{relative}" holds private or symmetric key material; a JWKS file carries public keys only',
                code="FQL133",
                hint="export the public part only (no d, p, q, dp, dq, qi or k members), remove the private "
                "key from the project, and rotate it if it was ever committed",
            )
    wanted = list(algorithms)
    if not any(usable(key, alg) for key in keys for alg in wanted):
        raise problem(
            f'"{relative}" has no signing key for {" or ".join(wanted)}',
            hint="RS*/PS* need an RSA key (n, e); ES256/ES384 need an EC key on P-256/P-384 (x, y); "
            'a key with "use" other than "sig" or a different "alg" does not count',
        )
    return {"keys": keys}
