"""Verifying bearer tokens (first-party and third-party) and minting first-party ones, per the manifest."""

from __future__ import annotations

import base64
import json
import math
import os
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fraiseql_compiler.executor import jwks_cache
from fraiseql_compiler.executor.envref import resolve
from fraiseql_compiler.executor.errors import ExecutionError, unauthenticated
from fraiseql_compiler.manifest.models import EnvRef, EnvValue, JwtConfig, ProviderConfig, RuntimeConfig

MAX_TOKEN_BYTES = 8192  # what HTTP servers accept in a header line; a larger token is refused before decoding
HS_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}  # RFC 7518 3.2: a key at least as long as the hash
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")


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
    raise unauthenticated(f"the token was signed with key {str(kid)[:100]!r}, which {what} does not list")


def _issuer(provider: ProviderConfig, environ: Mapping[str, str]) -> str | None:
    try:
        return resolve(provider.issuer, environ, what="provider issuer")
    except ExecutionError:
        return None  # a provider whose issuer is not configured in this environment matches no token


def _audiences(values: list[EnvValue], environ: Mapping[str, str]) -> list[str]:
    return [resolve(v, environ, what="audience") for v in values]


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _segment(segment: str, what: str) -> dict[str, Any]:
    """One base64url segment of a JWT as a JSON object; a key twice is refused (JSON parsers disagree on which
    one wins, so the signer and a verifier could read different claims)."""
    if not _SEGMENT.match(segment):
        raise unauthenticated(f"malformed token: its {what} is not base64url")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _Duplicate as exc:
        raise unauthenticated(f"the token's {what} has the member {str(exc)[:100]!r} twice: refused") from None
    except ValueError:
        raise unauthenticated(f"malformed token: its {what} is not a base64url-encoded JSON object") from None
    if not isinstance(value, dict):
        raise unauthenticated(f"malformed token: its {what} is not a JSON object")
    return value


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload), parsed strictly and not yet verified: what picks the issuer's keys."""
    if len(token) > MAX_TOKEN_BYTES:
        raise unauthenticated(f"the token is {len(token)} bytes; tokens over {MAX_TOKEN_BYTES} bytes are refused")
    parts = token.split(".")
    if len(parts) != 3:
        raise unauthenticated("malformed token: a JWT is three base64url parts separated by dots")
    return _segment(parts[0], "header"), _segment(parts[1], "payload")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def signing_algorithm(jwt_cfg: JwtConfig, env: Mapping[str, str]) -> str:
    """The first-party algorithm in this environment; one the manifest does not allow is a misconfiguration
    (the algorithm is pinned at build time), refused the same way when minting and when verifying."""
    algorithm = resolve(jwt_cfg.algorithm, env, what="JWT algorithm")
    if algorithm not in jwt_cfg.allowed_algorithms:
        allowed = ", ".join(jwt_cfg.allowed_algorithms)
        source = jwt_cfg.algorithm.env if isinstance(jwt_cfg.algorithm, EnvRef) else "[auth.jwt] algorithm"
        raise ExecutionError(
            500,
            "MISCONFIGURED",
            f"{source} is {algorithm!r}, but this manifest accepts only {allowed} (the algorithm is pinned at "
            f"build time): unset {source}, or set algorithm = {json.dumps(algorithm)} in fraiseql.toml, with its "
            "keys, and rebuild",
        )
    return algorithm


def _hs_secret(jwt_cfg: JwtConfig, env: Mapping[str, str], algorithm: str) -> str:
    name = jwt_cfg.secret_env or "JWT_SECRET"
    minimum = HS_MIN_BYTES.get(algorithm, 32)
    make = f"`openssl rand -base64 {minimum}`"
    secret = env.get(name)
    if not secret:
        raise ExecutionError(500, "MISCONFIGURED", f"{name} is not set: set it to a random secret (make one: {make})")
    size = len(secret.encode("utf-8"))
    if size < minimum:
        raise ExecutionError(
            500,
            "MISCONFIGURED",
            f"{name} is {size} bytes; an {algorithm} secret needs at least {minimum} random bytes (a short one can "
            f"be guessed offline from any token): make one with {make}",
        )
    return secret


def _provider_key(provider: ProviderConfig, header: dict[str, Any], env: Mapping[str, str]) -> Any:
    what = f"provider {provider.name}"
    if provider.discovery:
        from fraiseql_compiler.executor import discovery

        uri = discovery.jwks_uri(resolve(provider.issuer, env, what=f"{what} issuer"), what)
    elif provider.jwks_uri is None:
        return _key_from_jwks(provider.jwks, header, what)
    else:
        uri = resolve(provider.jwks_uri, env, what=f"{what} jwks_uri")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise unauthenticated("malformed token: its kid is not a string")
    return jwks_cache.CACHE.key(uri, kid, what)


def _issuer_refused(issuer: Any, first_party: str, config: RuntimeConfig, env: Mapping[str, str]) -> ExecutionError:
    expected = [(first_party, "first-party tokens")] + [
        (i, f"provider {p.name}") for p in config.security.providers if (i := _issuer(p, env)) is not None
    ]
    listed = ", ".join(f"{_shown(value)} ({who})" for value, who in expected)
    received = "the token has no issuer (iss)" if issuer is None else f"the token's issuer {_shown(issuer)}"
    message = f"{received} is not accepted: expected {listed}"
    if isinstance(issuer, str):
        near = next((value for value, _ in expected if value.rstrip("/") == issuer.rstrip("/")), None)
        if near is not None:
            message += f"; {_shown(near)} differs only by its trailing slash, and issuers are compared exactly"
    return unauthenticated(message)


def _check_lifetime(claims: dict[str, Any], maximum: int, leeway: int, now: float, setting: str) -> None:
    """A token lives at most ``maximum`` seconds: exp - iat, or, without iat, from now to exp."""
    if claims.get("exp") is None:  # required_claims always includes exp; a hand-made manifest might not
        raise unauthenticated("the token has no expiry (exp)")
    exp = float(claims["exp"])
    if "iat" in claims:
        lifetime = exp - float(claims["iat"])
        if lifetime > maximum:
            raise unauthenticated(f"the token lives {lifetime:.0f} s (exp - iat), more than {setting} ({maximum})")
    elif exp - now > maximum + leeway:
        raise unauthenticated(f"the token has no iat and expires in {exp - now:.0f} s, more than {setting} ({maximum})")


def verify(token: str, config: RuntimeConfig, environ: Mapping[str, str] | None = None) -> Verified:
    """Verify size, form, signature, algorithm, issuer, audience, expiry and lifetime; raise 401 on any doubt
    (500 when this runtime is misconfigured, 503 when a provider's keys cannot be fetched)."""
    import jwt

    env = os.environ if environ is None else environ
    now = time.time()
    header, unverified = unverified_parts(token)
    issuer = unverified.get("iss")
    provider = next((p for p in config.security.providers if _issuer(p, env) == issuer), None)
    jwt_cfg = config.auth.jwt
    if provider is not None:
        algorithms = list(provider.algorithms)
        if header.get("alg") not in algorithms:
            raise unauthenticated(
                f"algorithm {_shown(header.get('alg'))} is not allowed for provider {provider.name} "
                f"(allowed: {', '.join(algorithms)})"
            )
        key = _provider_key(provider, header, env)
        audience = _audiences(provider.audience, env)
        expected_issuer = resolve(provider.issuer, env, what="provider issuer")
        required = [provider.subject_claim, "exp"]
        max_lifetime = provider.max_token_lifetime_seconds
        setting = f"max_token_lifetime_seconds of provider {provider.name}"
    else:
        try:
            expected_issuer = resolve(jwt_cfg.issuer, env, what="JWT issuer")
        except ExecutionError:
            if config.security.providers:  # first-party tokens are not set up here: the issuer is just unknown
                raise unauthenticated(
                    f"the token's issuer {_shown(issuer)} is neither a configured provider's nor this API's "
                    "(first-party tokens are off: JWT_ISSUER is not set)"
                ) from None
            raise
        if issuer != expected_issuer:
            raise _issuer_refused(issuer, expected_issuer, config, env)
        algorithm = signing_algorithm(jwt_cfg, env)
        if header.get("alg") != algorithm:
            raise unauthenticated(
                f"the token is signed with {_shown(header.get('alg'))}; this API's own tokens use {algorithm}"
            )
        algorithms = [algorithm]
        key = (
            _hs_secret(jwt_cfg, env, algorithm)
            if algorithm.startswith("HS")
            else _key_from_jwks(jwt_cfg.jwks, header, "the [auth.jwt] jwks_file")
        )
        audience = _audiences(jwt_cfg.audience, env)
        required = list(jwt_cfg.required_claims)
        max_lifetime = jwt_cfg.max_token_lifetime_seconds
        setting = "[auth.jwt] max_token_lifetime_seconds"
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
    _check_lifetime(claims, max_lifetime, jwt_cfg.leeway_seconds, now, setting)
    return Verified(claims, provider)


def _signing_key(jwt_cfg: JwtConfig, pem: str) -> tuple[Any, str | None]:
    """(the private key, the kid to write): the key must be the private half of the manifest's signing key,
    or every token it signs would be refused."""
    import jwt
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    var = jwt_cfg.private_key_env or "JWT_PRIVATE_KEY"
    try:
        private = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ExecutionError(
            500, "MISCONFIGURED", f"the signing key ({var} or --key-file) is not an unencrypted PEM private key"
        ) from None
    keys: list[dict[str, Any]] = (jwt_cfg.jwks or {}).get("keys") or []
    kid = jwt_cfg.signing_key_id
    if kid is None and len(keys) == 1:
        kid = keys[0].get("kid") if isinstance(keys[0].get("kid"), str) else None
        jwk = keys[0]
    else:
        found = next((k for k in keys if kid is not None and k.get("kid") == kid), None)
        if found is None:
            raise ExecutionError(
                500, "MISCONFIGURED", f"the manifest's signing_key_id {kid!r} names no key of its jwks: rebuild it"
            )
        jwk = found
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        public = jwt.PyJWK.from_dict(jwk).key
        matches = public.public_bytes(*der) == private.public_key().public_bytes(*der)
    except (jwt.PyJWTError, AttributeError, TypeError, ValueError):
        matches = False
    if not matches:
        named = f"key {kid!r}" if kid else "the key"
        raise ExecutionError(
            500,
            "MISCONFIGURED",
            f"the signing key ({var} or --key-file) is not the private half of {named} in jwks_file, so tokens it "
            f"signs would be refused: set {var} to that key's private half, or signing_key_id to this key's kid "
            "(publish its public half in jwks_file first) and rebuild",
        )
    return private, kid


def mint(
    config: RuntimeConfig,
    *,
    sub: str,
    scopes: list[str],
    ttl_seconds: int | None = None,
    environ: Mapping[str, str] | None = None,
    private_key: str | None = None,
    extra: dict[str, Any] | None = None,
    issued_at: float | None = None,
) -> str:
    """A first-party access token, as the runtime's login mints it (and `fraiseql token` for development).

    ``iat`` has millisecond precision, rounded down (RFC 7519 allows a fraction), so that a revoke-all
    (``revoked_at >= iat``) revokes the tokens issued before it and none issued after it, even within
    the same second; pass ``issued_at`` from the database's clock to compare on one clock."""
    import jwt

    env = os.environ if environ is None else environ
    jwt_cfg = config.auth.jwt
    algorithm = signing_algorithm(jwt_cfg, env)
    ttl = ttl_seconds if ttl_seconds is not None else jwt_cfg.access_token_ttl_seconds
    if ttl > jwt_cfg.max_token_lifetime_seconds:
        raise ExecutionError(
            400,
            "INVALID_LIFETIME",
            f"a lifetime of {ttl} s exceeds [auth.jwt] max_token_lifetime_seconds "
            f"({jwt_cfg.max_token_lifetime_seconds}): the runtime would refuse the token",
        )
    headers: dict[str, Any] = {}
    if algorithm.startswith("HS"):
        key: Any = _hs_secret(jwt_cfg, env, algorithm)
    else:
        var = jwt_cfg.private_key_env or "JWT_PRIVATE_KEY"
        pem = private_key or env.get(var)
        if not pem:
            raise ExecutionError(
                500,
                "MISCONFIGURED",
                f"no signing key: set {var} (named by [auth.jwt] private_key_env) to the PEM private key; "
                "`fraiseql token` also takes --key-file",
            )
        key, kid = _signing_key(jwt_cfg, pem)
        if kid:
            headers["kid"] = kid
    iat = math.floor((time.time() if issued_at is None else issued_at) * 1000) / 1000
    payload: dict[str, Any] = {
        "sub": sub,
        "scopes": sorted(set(scopes)),
        "iss": resolve(jwt_cfg.issuer, env, what="JWT issuer"),
        "aud": _audiences(jwt_cfg.audience, env)[0],
        "iat": iat,
        "exp": int(iat) + ttl,
        "jti": str(uuid.uuid4()),
        **(extra or {}),
    }
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers or None)


def dumps(claims: dict[str, Any]) -> str:
    return json.dumps(claims, sort_keys=True, separators=(",", ":"))
