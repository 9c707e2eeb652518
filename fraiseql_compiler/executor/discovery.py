"""OIDC discovery (OpenID Connect Discovery 1.0, section 4): a provider's metadata read from
``<issuer>/.well-known/openid-configuration`` and cached in the process, as production runtimes do.

- the document's ``issuer`` must equal the configured issuer exactly (Auth0's trailing slash included):
  otherwise another issuer's metadata (a mix-up, or a spoofed document) would choose the keys;
- its ``jwks_uri``, ``authorization_endpoint`` and ``token_endpoint`` follow the rules of any URL the runtime
  fetches (https, http only for localhost, no credentials);
- kept ``ttl`` seconds (an hour); a failed refresh keeps the last good document a while longer, like the
  keys; with none, 503 ``JWKS_UNAVAILABLE`` (unreachable) or 500 ``MISCONFIGURED`` (a wrong document).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.jwks_cache import check_uri, download, misconfigured

TTL_SECONDS = 3600
MIN_REFETCH_SECONDS = 30
MAX_STALE_SECONDS = 3600
MAX_BYTES = 64 * 1024
WELL_KNOWN = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Metadata:
    issuer: str
    jwks_uri: str
    authorization_endpoint: str | None
    token_endpoint: str | None
    code_challenge_methods: tuple[str, ...]


def document_url(issuer: str) -> str:
    """``https://tenant.auth0.com/`` → ``https://tenant.auth0.com/.well-known/openid-configuration`` (the
    issuer's path is kept: ``https://kc.example/realms/app`` → ``…/realms/app/.well-known/…``)."""
    return issuer.rstrip("/") + WELL_KNOWN


def _check(uri: str, what: str, setting: str) -> None:
    """``check_uri``'s rules, its message naming the setting the URL came from (it names jwks_uri)."""
    try:
        check_uri(uri, what)
    except ExecutionError as exc:
        message = exc.message.replace(f"{what}: jwks_uri", f"{what}: {setting}", 1)
        raise ExecutionError(exc.http, exc.code, message) from None


def parse(body: bytes, issuer: str, where: str) -> Metadata:
    try:
        doc = json.loads(body)
    except ValueError:
        raise misconfigured(f"{where} is not JSON") from None
    if not isinstance(doc, dict):
        raise misconfigured(f"{where} is not a JSON object")
    if not isinstance(doc.get("issuer"), str):
        raise misconfigured(f"{where} lists no issuer: it is not an OpenID Provider's metadata")
    if doc.get("issuer") != issuer:
        raise misconfigured(
            f"{where} names the issuer {str(doc.get('issuer'))[:200]!r}, not {issuer!r}: the configured issuer must "
            "equal the provider's exactly (a trailing slash included)"
        )
    jwks_uri = doc.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise misconfigured(f"{where} lists no jwks_uri")
    _check(jwks_uri, where, "jwks_uri")
    endpoints: dict[str, str | None] = {}
    for name in ("authorization_endpoint", "token_endpoint"):
        value = doc.get(name)
        if isinstance(value, str):
            _check(value, where, name)
        endpoints[name] = value if isinstance(value, str) else None
    methods = doc.get("code_challenge_methods_supported")
    return Metadata(
        issuer=issuer,
        jwks_uri=jwks_uri,
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        code_challenge_methods=tuple(m for m in methods if isinstance(m, str)) if isinstance(methods, list) else (),
    )


@dataclass(frozen=True)
class _Entry:
    metadata: Metadata | None
    fetched_at: float
    attempted_at: float
    error: ExecutionError | None


class DiscoveryCache:
    def __init__(
        self,
        *,
        ttl_seconds: float = TTL_SECONDS,
        min_refetch_seconds: float = MIN_REFETCH_SECONDS,
        max_stale_seconds: float = MAX_STALE_SECONDS,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self.max_stale_seconds = max_stale_seconds
        self.timeout_seconds = timeout_seconds
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()

    def metadata(self, issuer: str, what: str) -> Metadata:
        _check(issuer, what, "issuer")
        url = document_url(issuer)
        with self._guard:  # one fetch per issuer at a time; a slow issuer does not hold up the others
            lock = self._locks.setdefault(issuer, threading.Lock())
        with lock:
            now = self.clock()
            entry = self._entries.get(issuer)
            if entry is not None and entry.metadata is not None and now - entry.fetched_at < self.ttl_seconds:
                return entry.metadata
            stale = (
                entry is not None
                and entry.metadata is not None
                and (now - entry.fetched_at < self.ttl_seconds + self.max_stale_seconds)
            )
            if entry is not None and now - entry.attempted_at < self.min_refetch_seconds:
                if stale and entry.metadata is not None:
                    return entry.metadata
                if entry.error is not None:
                    raise ExecutionError(entry.error.http, entry.error.code, entry.error.message)
            where = f"{what}: the discovery document {url}"
            try:
                found = parse(download(url, where, self.timeout_seconds, MAX_BYTES, "the issuer"), issuer, where)
            except ExecutionError as exc:
                keep = entry.metadata if entry is not None else None
                self._entries[issuer] = _Entry(keep, entry.fetched_at if entry else now, now, exc)
                if stale and keep is not None:
                    return keep
                raise
            self._entries[issuer] = _Entry(found, now, now, None)
            return found


CACHE = DiscoveryCache()


def jwks_uri(issuer: str, what: str) -> str:
    return CACHE.metadata(issuer, what).jwks_uri


def metadata(issuer: str, what: str) -> Metadata:
    return CACHE.metadata(issuer, what)


__all__ = ["CACHE", "DiscoveryCache", "Metadata", "document_url", "jwks_uri", "metadata"]
