"""Verifying bearer tokens (first-party and third-party) and minting first-party ones, per the manifest."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fraiseql_compiler.executor.envref import resolve
from fraiseql_compiler.executor.errors import ExecutionError, unauthenticated
from fraiseql_compiler.manifest.models import EnvValue, ProviderConfig, RuntimeConfig


@dataclass(frozen=True)
class Verified:
    claims: dict[str, Any]
    provider: ProviderConfig | None  # None: a first-party token


def _key_from_jwks(jwks: dict[str, Any] | None, header: dict[str, Any], what: str) -> Any:
    import jwt

    if not jwks or not jwks.get("keys"):
        raise ExecutionError(500, "MISCONFIGURED", f"{what}: no public keys (jwks) in the manifest")
    keyset = jwt.PyJWKSet.from_dict(jwks)
    kid = header.get("kid")
    if kid is None:
        if len(keyset.keys) != 1:
            raise unauthenticated("the token names no key (kid) and several keys are configured")
        return keyset.keys[0].key
    for key in keyset.keys:
        if key.key_id == kid:
            return key.key
    raise unauthenticated("the token was signed with an unknown key")


def _issuer(provider: ProviderConfig, environ: Mapping[str, str]) -> str | None:
    try:
        return resolve(provider.issuer, environ, what="provider issuer")
    except ExecutionError:
        return None  # a provider whose issuer is not configured in this environment matches no token


def _audiences(values: list[EnvValue], environ: Mapping[str, str]) -> list[str]:
    return [resolve(v, environ, what="audience") for v in values]


def verify(token: str, config: RuntimeConfig, environ: Mapping[str, str] | None = None) -> Verified:
    """Verify signature, algorithm, issuer, audience, expiry and lifetime; raise 401 on any doubt."""
    import jwt

    env = os.environ if environ is None else environ
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise unauthenticated(f"malformed token: {exc}") from None
    issuer = unverified.get("iss")
    provider = next((p for p in config.security.providers if _issuer(p, env) == issuer), None)
    jwt_cfg = config.auth.jwt
    if provider is not None:
        algorithms = list(provider.algorithms)
        if header.get("alg") not in algorithms:
            raise unauthenticated(f"algorithm {header.get('alg')!r} is not allowed for {provider.name}")
        key = _key_from_jwks(provider.jwks, header, f"provider {provider.name}")
        audience = _audiences(provider.audience, env)
        expected_issuer = resolve(provider.issuer, env, what="provider issuer")
        required = [provider.subject_claim, "exp"]
    else:
        algorithm = resolve(jwt_cfg.algorithm, env, what="JWT algorithm")
        if algorithm not in jwt_cfg.allowed_algorithms or header.get("alg") != algorithm:
            raise unauthenticated(f"algorithm {header.get('alg')!r} is not accepted")
        algorithms = [algorithm]
        if algorithm.startswith("HS"):
            secret = env.get(jwt_cfg.secret_env or "")
            if not secret:
                raise ExecutionError(500, "MISCONFIGURED", f"{jwt_cfg.secret_env} is not set")
            key = secret
        else:
            key = _key_from_jwks(jwt_cfg.jwks, header, "JWT")
        audience = _audiences(jwt_cfg.audience, env)
        expected_issuer = resolve(jwt_cfg.issuer, env, what="JWT issuer")
        required = list(jwt_cfg.required_claims)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=audience,
            issuer=expected_issuer,
            leeway=jwt_cfg.leeway_seconds,
            options={"require": required, "verify_iat": True},
        )
    except jwt.PyJWTError as exc:
        raise unauthenticated(f"invalid token: {exc}") from None
    lifetime = float(claims.get("exp", 0)) - float(claims.get("iat", claims.get("exp", 0)))
    if provider is None and lifetime > jwt_cfg.max_token_lifetime_seconds:
        raise unauthenticated("the token's lifetime exceeds max_token_lifetime_seconds")
    return Verified(claims, provider)


def mint(
    config: RuntimeConfig,
    *,
    sub: str,
    scopes: list[str],
    ttl_seconds: int | None = None,
    environ: Mapping[str, str] | None = None,
    private_key: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A first-party access token, as the runtime's login mints it (and `fraiseql token` for development)."""
    import jwt

    env = os.environ if environ is None else environ
    jwt_cfg = config.auth.jwt
    algorithm = resolve(jwt_cfg.algorithm, env, what="JWT algorithm")
    now = int(time.time())
    ttl = ttl_seconds if ttl_seconds is not None else jwt_cfg.access_token_ttl_seconds
    payload: dict[str, Any] = {
        "sub": sub,
        "scopes": sorted(set(scopes)),
        "iss": resolve(jwt_cfg.issuer, env, what="JWT issuer"),
        "aud": _audiences(jwt_cfg.audience, env)[0],
        "iat": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
        **(extra or {}),
    }
    headers: dict[str, Any] = {}
    if algorithm.startswith("HS"):
        key: Any = env.get(jwt_cfg.secret_env or "")
        if not key:
            raise ExecutionError(500, "MISCONFIGURED", f"{jwt_cfg.secret_env} is not set")
    else:
        key = private_key or env.get(jwt_cfg.private_key_env or "")
        if not key:
            raise ExecutionError(500, "MISCONFIGURED", f"no signing key: set {jwt_cfg.private_key_env} or --key-file")
        keys = (jwt_cfg.jwks or {}).get("keys") or []
        if len(keys) == 1 and keys[0].get("kid"):
            headers["kid"] = keys[0]["kid"]
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers or None)


def dumps(claims: dict[str, Any]) -> str:
    return json.dumps(claims, sort_keys=True, separators=(",", ":"))
