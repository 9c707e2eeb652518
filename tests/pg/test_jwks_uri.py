"""Issue 8: providers configured with a jwks_uri. The executor fetches the provider's keys and caches them as
production runtimes do; here the provider is an HTTP server on 127.0.0.1 that the test starts, and the
cache's clock is the test's (tokens are still checked against the real time)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fraiseql_compiler.executor import jwks_cache
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.run import Request, execute
from tests.pg.blogdb import ENV, Blog, build_blog

AUTH0 = "https://example-tenant.auth0.com/"
PATH = "/.well-known/jwks.json"


class Provider:
    """The provider's JWKS endpoint: what it serves can be changed, and its requests are counted."""

    def __init__(self) -> None:
        self.jwks: dict[str, Any] = {"keys": []}
        self.requests = 0
        self.status = 200
        self.headers: dict[str, str] = {}
        self.body: bytes | None = None  # instead of the JWKS
        self.delay = 0.0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests += 1
                time.sleep(provider.delay)
                body = provider.body if provider.body is not None else json.dumps(provider.jwks).encode()
                self.send_response(provider.status)
                for name, value in provider.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{PATH}"

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()


def _key(kid: str) -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return private, jwk


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[Any, dict[str, Any]]]:
    return {"k1": _key("k1"), "k2": _key("k2")}


@pytest.fixture
def provider(keys: dict[str, Any]) -> Iterator[Provider]:
    server = Provider()
    server.jwks = {"keys": [keys["k1"][1]]}
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A fresh process-wide cache (as after a restart) on the test's clock, with the production limits."""
    fake = Clock()
    monkeypatch.setattr(jwks_cache, "CACHE", jwks_cache.JwksCache(clock=fake))
    return fake


@pytest.fixture
def blog(tmp_path: Path, pg_url: str, provider: Provider, clock: Clock) -> Iterator[Blog]:
    toml = f"""
[[security.providers]]
name = "auth0"
kind = "auth0"
issuer = "{AUTH0}"
jwks_uri = "${{AUTH0_JWKS_URI:-{provider.uri}}}"
audience = "https://api.example.com"
"""
    db = build_blog(tmp_path, pg_url, toml)
    yield db
    db.admin.close()


def auth0_token(keys: dict[str, Any], kid: str, signer: str | None = None) -> str:
    now = int(time.time())
    claims = {
        "iss": AUTH0,
        "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
        "aud": ["https://api.example.com", f"{AUTH0}userinfo"],
        "iat": now,
        "exp": now + 600,
        "scope": "openid read:posts",
        "https://example.com/roles": ["editor"],
        "jti": f"a0-{kid}-{time.monotonic_ns()}",
    }
    private = keys[signer or kid][0]
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


def run(blog: Blog, token: str, env: Mapping[str, str] = ENV) -> Any:
    with psycopg.connect(blog.url, autocommit=True) as conn:
        try:
            return execute(conn, blog.manifest, Request("posts", {}, token), env)
        except ExecutionError as exc:
            return exc


def accepted(blog: Blog, token: str) -> bool:
    result = run(blog, token)
    if isinstance(result, ExecutionError):
        return False
    assert isinstance(result, list)
    return True


def refused(blog: Blog, token: str, http: int, code: str, *words: str) -> None:
    result = run(blog, token)
    assert isinstance(result, ExecutionError), result
    assert (result.http, result.code) == (http, code), result.message
    assert all(w in result.message for w in words), result.message


def test_first_fetch_then_the_cache_until_the_ttl(blog: Blog, provider: Provider, clock: Clock, keys: Any) -> None:
    assert provider.requests == 0  # nothing is fetched at start
    assert accepted(blog, auth0_token(keys, "k1"))
    assert provider.requests == 1
    for _ in range(3):
        clock.now += 60
        assert accepted(blog, auth0_token(keys, "k1"))
    assert provider.requests == 1  # cache hits
    clock.now += 600
    assert accepted(blog, auth0_token(keys, "k1"))
    assert provider.requests == 2  # the TTL (10 minutes) passed: fetched again


def test_rotation_at_the_provider_and_the_refetch_rate_limit(
    blog: Blog, provider: Provider, clock: Clock, keys: Any
) -> None:
    assert accepted(blog, auth0_token(keys, "k1")) and provider.requests == 1
    # the provider publishes k2 and signs with it: an unknown kid fetches the keys again, once
    provider.jwks = {"keys": [keys["k1"][1], keys["k2"][1]]}
    clock.now += 45
    assert accepted(blog, auth0_token(keys, "k2"))
    assert provider.requests == 2
    assert accepted(blog, auth0_token(keys, "k2")) and accepted(blog, auth0_token(keys, "k1"))
    assert provider.requests == 2
    # made-up kids: at most one fetch per 30 s, whatever the number of tokens
    for _ in range(5):
        clock.now += 5
        refused(blog, auth0_token(keys, "forged", signer="k1"), 401, "UNAUTHENTICATED", "'forged'", provider.uri)
    assert provider.requests == 2
    clock.now += 10
    refused(blog, auth0_token(keys, "forged", signer="k1"), 401, "UNAUTHENTICATED", "does not publish")
    refused(blog, auth0_token(keys, "forged-2", signer="k1"), 401, "UNAUTHENTICATED")
    assert provider.requests == 3
    # a known kid with the wrong key is a forgery, and fetches nothing
    refused(blog, auth0_token(keys, "k1", signer="k2"), 401, "UNAUTHENTICATED", "Signature verification failed")
    assert provider.requests == 3


def test_the_provider_unreachable(blog: Blog, provider: Provider, clock: Clock, keys: Any) -> None:
    provider.status = 503
    refused(blog, auth0_token(keys, "k1"), 503, "JWKS_UNAVAILABLE", provider.uri, "HTTP 503", "retry later")
    clock.now += 10
    refused(blog, auth0_token(keys, "k1"), 503, "JWKS_UNAVAILABLE", "HTTP 503")
    assert provider.requests == 1  # a failing provider is not asked again within 30 s
    provider.status = 200
    clock.now += 30
    assert accepted(blog, auth0_token(keys, "k1")) and provider.requests == 2
    # down after the TTL: the cached keys serve a while longer (one attempt per 30 s), then no more
    provider.status = 500
    clock.now += 601
    assert accepted(blog, auth0_token(keys, "k1")) and provider.requests == 3
    clock.now += 20
    assert accepted(blog, auth0_token(keys, "k1")) and provider.requests == 3
    # a new key cannot be fetched: that is the provider's outage, not a bad token
    clock.now += 30
    refused(blog, auth0_token(keys, "k2"), 503, "JWKS_UNAVAILABLE", "HTTP 500")
    assert provider.requests == 4
    clock.now += 3600
    refused(blog, auth0_token(keys, "k1"), 503, "JWKS_UNAVAILABLE", "HTTP 500")
    # the server gone altogether
    provider.stop()
    clock.now += 30
    refused(blog, auth0_token(keys, "k1"), 503, "JWKS_UNAVAILABLE", provider.uri, "refused")


@pytest.mark.parametrize(
    ("setup", "http", "code", "words"),
    [
        pytest.param({"status": 404}, 500, "MISCONFIGURED", ["HTTP 404", "check jwks_uri"], id="not-found"),
        pytest.param({"status": 302, "headers": {"Location": "https://evil.example/jwks.json"}}, 500, "MISCONFIGURED",
                     ["redirects (302)", "https://evil.example/jwks.json", "not followed"], id="redirect"),
        pytest.param({"body": b"<html>maintenance</html>"}, 500, "MISCONFIGURED", ["not JSON"], id="not-json"),
        pytest.param({"body": b'{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}'}, 500, "MISCONFIGURED",
                     ["no public signing key"], id="symmetric-key-only"),
        pytest.param({"body": b'{"keys": []}' + b" " * 300_000}, 500, "MISCONFIGURED", ["bytes", "allowed"],
                     id="too-large"),
        pytest.param({"delay": 1.0}, 503, "JWKS_UNAVAILABLE", ["did not arrive within 0.3 s"], id="too-slow"),
    ],
)
def test_what_a_jwks_uri_may_answer(
    blog: Blog, provider: Provider, keys: Any, monkeypatch: pytest.MonkeyPatch, setup: dict[str, Any], http: int,
    code: str, words: list[str]
) -> None:
    for name, value in setup.items():
        setattr(provider, name, value)
    monkeypatch.setattr(jwks_cache.CACHE, "timeout_seconds", 0.3)
    refused(blog, auth0_token(keys, "k1"), http, code, *words)


def test_the_uri_comes_from_the_environment_and_must_be_https(blog: Blog, provider: Provider, keys: Any) -> None:
    token = auth0_token(keys, "k1")
    local = run(blog, token, {**ENV, "AUTH0_JWKS_URI": provider.uri.replace("127.0.0.1", "localhost")})
    assert isinstance(local, list) and provider.requests == 1
    for uri in ("http://keys.example.com/jwks.json", "file:///etc/passwd", "ftp://example.com/jwks.json"):
        result = run(blog, token, {**ENV, "AUTH0_JWKS_URI": uri})
        assert isinstance(result, ExecutionError) and (result.http, result.code) == (500, "MISCONFIGURED")
        assert "jwks_uri" in result.message and ("https" in result.message or "http(s)" in result.message)
    assert provider.requests == 1
