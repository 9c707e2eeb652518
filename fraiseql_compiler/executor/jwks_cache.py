"""A provider's keys fetched from its ``jwks_uri`` and cached in the process, as production runtimes do.

- one cache entry per URI (the resolved ``jwks_uri``), kept ``ttl`` seconds (10 minutes);
- a token naming a ``kid`` the cached keys lack triggers one refetch (the provider rotated its keys), but
  at most one fetch per URI every ``min_refetch_seconds`` (30 s): tokens with made-up kids cannot make the
  runtime hammer the provider;
- a fetch goes to the configured URI only: http(s) (http only for localhost), no redirects, a timeout for
  the whole request, a size limit, and a JSON Web Key Set of public signing keys as the answer;
- when a refresh fails the cached keys are used a while longer (``max_stale_seconds``, an hour), so a
  provider's short outage does not lock everybody out; with no usable keys the request is refused with
  503 ``JWKS_UNAVAILABLE`` (the provider is unreachable, retry later) or 500 ``MISCONFIGURED`` (the URI
  answers something that is not a JWKS: check ``jwks_uri``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fraiseql_compiler.executor.errors import ExecutionError, unauthenticated

TTL_SECONDS = 600
MIN_REFETCH_SECONDS = 30
TIMEOUT_SECONDS = 5.0
MAX_BYTES = 256 * 1024
MAX_STALE_SECONDS = 3600
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Members only private or symmetric keys have: such a key is never used to verify a provider's token.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True)
class _Entry:
    keys: dict[str | None, Any] | None  # kid → verification key, from the last good fetch
    fetched_at: float  # when ``keys`` were fetched
    attempted_at: float  # the last fetch, good or not
    error: ExecutionError | None  # why the last fetch failed


def _again(error: ExecutionError) -> ExecutionError:
    """The last fetch's error, as a new exception (raising one instance again and again grows its traceback)."""
    return ExecutionError(error.http, error.code, error.message)


def unavailable(message: str) -> ExecutionError:
    return ExecutionError(503, "JWKS_UNAVAILABLE", message)


def misconfigured(message: str) -> ExecutionError:
    return ExecutionError(500, "MISCONFIGURED", message)


def check_uri(uri: str, what: str) -> None:
    """https, or http for localhost only; a host; no credentials or fragment (the build-time rule, applied to
    the resolved value)."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        raise misconfigured(f"{what}: jwks_uri {uri[:200]!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise misconfigured(f"{what}: jwks_uri {uri[:200]!r} is not an http(s) URL such as https://host/jwks.json")
    if parts.scheme == "http" and host not in _LOCAL_HOSTS:
        raise misconfigured(f"{what}: jwks_uri {uri[:200]!r} must use https (http only for localhost)")
    if "@" in parts.netloc or parts.fragment:
        raise misconfigured(f"{what}: jwks_uri must not carry credentials or a #fragment")


class JwksCache:
    """Thread-safe; one per process (``CACHE``), or one per test."""

    def __init__(
        self,
        *,
        ttl_seconds: float = TTL_SECONDS,
        min_refetch_seconds: float = MIN_REFETCH_SECONDS,
        timeout_seconds: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_BYTES,
        max_stale_seconds: float = MAX_STALE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self.timeout_seconds = timeout_seconds
        self.max_bytes = max_bytes
        self.max_stale_seconds = max_stale_seconds
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()

    def key(self, uri: str, kid: str | None, what: str) -> Any:
        """The key that verifies a token naming ``kid`` (None: the token names none), from ``uri``'s keys."""
        check_uri(uri, what)
        with self._guard:
            lock = self._locks.setdefault(uri, threading.Lock())
        with lock:  # one fetch per URI at a time: the others wait for its result
            now = self.clock()
            entry = self._entries.get(uri)
            if entry is None or entry.keys is None or now - entry.fetched_at >= self.ttl_seconds:
                entry = self._refresh(uri, entry, now, what)
            if kid is not None and kid not in (entry.keys or {}):
                if now - entry.attempted_at >= self.min_refetch_seconds:
                    entry = self._refresh(uri, entry, now, what)  # the provider may have rotated its keys
                if kid not in (entry.keys or {}) and entry.error is not None:
                    raise _again(entry.error)  # the key may exist: the provider's current keys are unknown
            assert entry.keys is not None
            return _select(entry.keys, kid, uri, what)

    def _refresh(self, uri: str, entry: _Entry | None, now: float, what: str) -> _Entry:
        """A fresh entry, or the cached keys when a fetch fails (or is not allowed yet) while they are
        usable; else the reason there are no keys."""
        stale_ok = (
            entry is not None
            and entry.keys is not None
            and now - entry.fetched_at < self.ttl_seconds + self.max_stale_seconds
        )
        if entry is not None and now - entry.attempted_at < self.min_refetch_seconds:
            if stale_ok:
                return entry
            raise _again(entry.error) if entry.error else unavailable(f"{what}: no keys from {uri} yet; retry shortly")
        try:
            keys = self._fetch(uri, what)
        except ExecutionError as exc:
            failed = _Entry(
                entry.keys if entry else None, entry.fetched_at if entry else now, attempted_at=now, error=exc
            )
            self._entries[uri] = failed
            if stale_ok:
                return failed
            raise
        fresh = _Entry(keys, fetched_at=now, attempted_at=now, error=None)
        self._entries[uri] = fresh
        return fresh

    def _fetch(self, uri: str, what: str) -> dict[str | None, Any]:
        where = f"{what}: the keys at {uri}"
        return _parse(download(uri, where, self.timeout_seconds, self.max_bytes, "jwks_uri"), where)


def download(uri: str, where: str, timeout_seconds: float, max_bytes: int, setting: str) -> bytes:
    """The body at ``uri``: no redirects, no proxy for our own host, a deadline for the whole answer and a
    size limit; 503 when the server is unreachable or failing, 500 when it answers something else."""
    import http.client
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # urllib then raises HTTPError with the 3xx status

    handlers: list[Any] = [NoRedirect()]
    if (urlsplit(uri).hostname or "") in _LOCAL_HOSTS:
        handlers.append(urllib.request.ProxyHandler({}))  # a proxy would not reach our own host
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(
        uri, headers={"Accept": "application/json", "User-Agent": "fraiseql-reference-runtime"}
    )
    deadline = time.monotonic() + timeout_seconds
    try:
        with opener.open(request, timeout=timeout_seconds) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise misconfigured(f"{where} are {int(length)} bytes, more than the {max_bytes} allowed")
            body = b""
            while chunk := response.read(16_384):
                body += chunk
                if len(body) > max_bytes:
                    raise misconfigured(f"{where} are larger than the {max_bytes} bytes allowed")
                if time.monotonic() > deadline:
                    raise unavailable(f"{where} did not arrive within {timeout_seconds:g} s")
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
        if 300 <= status < 400:
            target = exc.headers.get("Location", "?")
            raise misconfigured(
                f"{where}: the server redirects ({status}) to {target[:200]}; redirects are not followed: "
                f"set {setting} to the final URL"
            ) from None
        if status >= 500 or status == 429:
            raise unavailable(f"{where}: the server answered HTTP {status}; retry later") from None
        raise misconfigured(f"{where}: the server answered HTTP {status}; check {setting}") from None
    except TimeoutError:
        raise unavailable(f"{where} did not arrive within {timeout_seconds:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason.strerror if isinstance(exc.reason, OSError) and exc.reason.strerror else exc.reason
        raise unavailable(f"{where} cannot be fetched: {reason}; retry later") from None
    except (OSError, http.client.HTTPException) as exc:
        raise unavailable(f"{where} cannot be fetched: {type(exc).__name__}: {exc}; retry later") from None
    return body


def _parse(body: bytes, where: str) -> dict[str | None, Any]:
    import jwt

    try:
        data = json.loads(body)
    except ValueError:
        raise misconfigured(f'{where} are not JSON: a JWKS is {{"keys": [...]}}; check jwks_uri') from None
    listed = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        raise misconfigured(f'{where} are not a JWKS: expected {{"keys": [...]}}; check jwks_uri')
    keys: dict[str | None, Any] = {}
    for jwk in listed:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig" or _PRIVATE_MEMBERS & jwk.keys():
            continue  # encryption keys and (wrongly published) private or symmetric keys never verify
        if jwk.get("kty") not in ("RSA", "EC"):
            continue
        try:
            parsed = jwt.PyJWK.from_dict(jwk)
        except jwt.PyJWTError:
            continue  # an algorithm or curve this runtime does not know
        kid = jwk.get("kid")
        keys.setdefault(kid if isinstance(kid, str) else None, parsed.key)
    if not keys:
        raise misconfigured(f"{where} hold no public signing key (RSA or EC) this runtime can use")
    return keys


def _select(keys: dict[str | None, Any], kid: str | None, uri: str, what: str) -> Any:
    if kid is None:
        if len(keys) != 1:
            raise unauthenticated("the token names no key (kid) and the provider publishes several")
        return next(iter(keys.values()))
    if kid not in keys:
        raise unauthenticated(f"the token was signed with key {kid[:100]!r}, which {what} does not publish ({uri})")
    return keys[kid]


CACHE = JwksCache()  # the process's cache, shared by every request
