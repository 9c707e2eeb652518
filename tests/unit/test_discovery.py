"""OIDC discovery (fraiseql_compiler/executor/discovery.py): where the document is, what of it is used and
refused, and how it is cached (on a fake clock, with the download replaced: no network)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fraiseql_compiler.executor import discovery
from fraiseql_compiler.executor.discovery import DiscoveryCache, document_url, parse
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.jwks_cache import unavailable

AUTH0 = "https://tenant.auth0.com/"
KEYCLOAK = "https://kc.example.com/realms/app"


def doc(issuer: str, **members: Any) -> bytes:
    base = issuer.rstrip("/")
    document: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "code_challenge_methods_supported": ["S256", "plain"],
    }
    document.update(members)
    return json.dumps({k: v for k, v in document.items() if v is not None}).encode()


def refused(body: bytes, issuer: str, *words: str) -> None:
    with pytest.raises(ExecutionError) as caught:
        parse(body, issuer, "provider oidc: the discovery document")
    assert (caught.value.http, caught.value.code) == (500, "MISCONFIGURED")
    assert all(w in caught.value.message for w in words), caught.value.message


# --- where the document is -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issuer", "url"),
    [
        (AUTH0, "https://tenant.auth0.com/.well-known/openid-configuration"),  # Auth0: the trailing slash
        ("https://tenant.auth0.com", "https://tenant.auth0.com/.well-known/openid-configuration"),
        (KEYCLOAK, "https://kc.example.com/realms/app/.well-known/openid-configuration"),  # the realm path kept
        (KEYCLOAK + "/", "https://kc.example.com/realms/app/.well-known/openid-configuration"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/.well-known/openid-configuration"),
    ],
)
def test_document_url(issuer: str, url: str) -> None:
    assert document_url(issuer) == url


# --- what is read, and refused ------------------------------------------------------------------------------


def test_an_auth0_document() -> None:
    meta = parse(doc(AUTH0), AUTH0, "d")
    assert meta.issuer == AUTH0
    assert meta.jwks_uri == "https://tenant.auth0.com/.well-known/jwks.json"
    assert meta.authorization_endpoint == "https://tenant.auth0.com/authorize"
    assert meta.token_endpoint == "https://tenant.auth0.com/oauth/token"
    assert meta.code_challenge_methods == ("S256", "plain")


def test_a_keycloak_realm_document() -> None:
    body = doc(KEYCLOAK, jwks_uri=f"{KEYCLOAK}/protocol/openid-connect/certs",
               authorization_endpoint=f"{KEYCLOAK}/protocol/openid-connect/auth")
    meta = parse(body, KEYCLOAK, "d")
    assert meta.jwks_uri == "https://kc.example.com/realms/app/protocol/openid-connect/certs"
    assert meta.authorization_endpoint == "https://kc.example.com/realms/app/protocol/openid-connect/auth"


def test_optional_members() -> None:
    meta = parse(doc(AUTH0, authorization_endpoint=None, token_endpoint=None,
                     code_challenge_methods_supported=None), AUTH0, "d")
    assert (meta.authorization_endpoint, meta.token_endpoint, meta.code_challenge_methods) == (None, None, ())
    odd = parse(doc(AUTH0, code_challenge_methods_supported=["S256", 7], token_endpoint=42), AUTH0, "d")
    assert odd.code_challenge_methods == ("S256",) and odd.token_endpoint is None


@pytest.mark.parametrize(
    ("configured", "document"),
    [
        (AUTH0, AUTH0.rstrip("/")),  # the trailing slash is part of the issuer
        (AUTH0.rstrip("/"), AUTH0),
        (KEYCLOAK, "https://kc.example.com/realms/other"),  # another realm of the same server
        (AUTH0, "https://evil.example/"),
        (AUTH0, "HTTPS://TENANT.AUTH0.COM/"),  # compared exactly, not as URLs
    ],
)
def test_the_issuer_must_match_exactly(configured: str, document: str) -> None:
    refused(doc(document), configured, "names the issuer", repr(document), repr(configured), "exactly")


def test_a_document_without_an_issuer() -> None:
    body = json.dumps({k: v for k, v in json.loads(doc(AUTH0)).items() if k != "issuer"}).encode()
    refused(body, AUTH0, "lists no issuer")
    refused(body.replace(b"{", b'{"issuer": 7, ', 1), AUTH0, "lists no issuer")


def test_missing_jwks_uri() -> None:
    refused(doc(AUTH0, jwks_uri=None), AUTH0, "lists no jwks_uri")
    refused(doc(AUTH0, jwks_uri=["https://tenant.auth0.com/jwks"]), AUTH0, "lists no jwks_uri")


@pytest.mark.parametrize("body", [b"<html>", b"[]", b'"text"', b""])
def test_not_a_json_object(body: bytes) -> None:
    refused(body, AUTH0, "JSON")


@pytest.mark.parametrize(
    ("member", "url", "words"),
    [
        ("jwks_uri", "http://tenant.auth0.com/jwks", "must use https (http only for localhost)"),
        ("token_endpoint", "http://tenant.auth0.com/oauth/token", "must use https"),
        ("authorization_endpoint", "http://10.0.0.1/authorize", "must use https"),
        ("jwks_uri", "https://user:pw@tenant.auth0.com/jwks", "credentials"),
        ("jwks_uri", "ftp://tenant.auth0.com/jwks", "not an http(s) URL"),
        ("jwks_uri", "/relative/jwks", "not an http(s) URL"),
    ],
)
def test_url_rules(member: str, url: str, words: str) -> None:
    refused(doc(AUTH0, **{member: url}), AUTH0, words, f"{member} ")  # the message names the member


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_http_for_localhost_only(host: str) -> None:
    issuer = f"http://{host}:8080/"
    meta = parse(doc(issuer), issuer, "d")
    assert meta.jwks_uri == f"http://{host}:8080/.well-known/jwks.json"


def test_the_document_url_follows_the_same_rules() -> None:
    cache = DiscoveryCache(clock=lambda: 0.0)
    for issuer, words in [("http://kc.example.com/realms/app", "must use https"), ("not a url", "not an http(s)")]:
        with pytest.raises(ExecutionError) as caught:
            cache.metadata(issuer, "provider oidc")
        assert caught.value.code == "MISCONFIGURED" and words in caught.value.message, caught.value.message
        assert caught.value.message.startswith(f"provider oidc: issuer {issuer!r}"), caught.value.message


# --- caching --------------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Downloads:
    """Stands in for the HTTP download: answers ``body`` (or raises ``error``) and records each URL."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.error: ExecutionError | None = None
        self.urls: list[str] = []

    def __call__(self, url: str, where: str, timeout: float, max_bytes: int, setting: str) -> bytes:
        self.urls.append(url)
        if self.error is not None:
            raise ExecutionError(self.error.http, self.error.code, self.error.message)
        return self.body


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Downloads:
    fake = Downloads(doc(AUTH0))
    monkeypatch.setattr(discovery, "download", fake)
    return fake


def test_fetched_once_then_cached_for_the_ttl(clock: Clock, downloads: Downloads) -> None:
    cache = DiscoveryCache(clock=clock)
    assert cache.metadata(AUTH0, "p").jwks_uri == "https://tenant.auth0.com/.well-known/jwks.json"
    assert downloads.urls == ["https://tenant.auth0.com/.well-known/openid-configuration"]
    clock.now += 3599
    cache.metadata(AUTH0, "p")
    assert len(downloads.urls) == 1
    downloads.body = doc(AUTH0, jwks_uri="https://tenant.auth0.com/keys-v2")  # the provider moved its keys
    clock.now += 2
    assert cache.metadata(AUTH0, "p").jwks_uri == "https://tenant.auth0.com/keys-v2"  # the hour passed
    assert len(downloads.urls) == 2


def test_one_entry_per_issuer(clock: Clock, downloads: Downloads) -> None:
    cache = DiscoveryCache(clock=clock)
    cache.metadata(AUTH0, "p")
    downloads.body = doc(KEYCLOAK)
    assert cache.metadata(KEYCLOAK, "p").issuer == KEYCLOAK
    assert cache.metadata(AUTH0, "p").issuer == AUTH0
    assert len(downloads.urls) == 2


def test_a_failed_refresh_keeps_the_last_good_document(clock: Clock, downloads: Downloads) -> None:
    cache = DiscoveryCache(clock=clock)
    good = cache.metadata(AUTH0, "p")
    clock.now += 3600
    downloads.error = unavailable("the provider is down")
    assert cache.metadata(AUTH0, "p") == good  # stale, but usable for max_stale_seconds
    assert len(downloads.urls) == 2
    clock.now += 10
    assert cache.metadata(AUTH0, "p") == good
    assert len(downloads.urls) == 2  # no new attempt within min_refetch_seconds
    clock.now += 30
    assert cache.metadata(AUTH0, "p") == good
    assert len(downloads.urls) == 3
    clock.now += 3600  # stale for longer than max_stale_seconds: the error at last
    with pytest.raises(ExecutionError) as caught:
        cache.metadata(AUTH0, "p")
    assert caught.value.code == "JWKS_UNAVAILABLE"
    downloads.error = None
    clock.now += 30
    assert cache.metadata(AUTH0, "p") == good  # the provider is back
    assert len(downloads.urls) == 5


def test_errors_are_remembered_for_min_refetch_seconds(clock: Clock, downloads: Downloads) -> None:
    """Tokens naming a misconfigured (or unreachable) issuer cannot make the runtime hammer the provider."""
    cache = DiscoveryCache(clock=clock)
    downloads.body = doc("https://evil.example/")
    for _ in range(5):
        with pytest.raises(ExecutionError) as caught:
            cache.metadata(AUTH0, "p")
        assert caught.value.code == "MISCONFIGURED" and "names the issuer" in caught.value.message
        clock.now += 5
    assert len(downloads.urls) == 1
    clock.now += 10
    downloads.body = doc(AUTH0)  # fixed at the provider
    assert cache.metadata(AUTH0, "p").issuer == AUTH0
    assert len(downloads.urls) == 2


def test_a_mismatched_issuer_never_replaces_a_good_document(clock: Clock, downloads: Downloads) -> None:
    cache = DiscoveryCache(clock=clock)
    good = cache.metadata(AUTH0, "p")
    clock.now += 3600
    downloads.body = doc("https://evil.example/", jwks_uri="https://evil.example/jwks")
    assert cache.metadata(AUTH0, "p") == good  # the bad answer is not taken; the last good one serves
    assert cache.metadata(AUTH0, "p").jwks_uri == "https://tenant.auth0.com/.well-known/jwks.json"


def test_clear(clock: Clock, downloads: Downloads) -> None:
    cache = DiscoveryCache(clock=clock)
    cache.metadata(AUTH0, "p")
    cache.clear()
    cache.metadata(AUTH0, "p")
    assert len(downloads.urls) == 2


def test_the_module_functions_use_the_process_cache(
    clock: Clock, downloads: Downloads, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery, "CACHE", DiscoveryCache(clock=clock))
    assert discovery.jwks_uri(AUTH0, "p") == "https://tenant.auth0.com/.well-known/jwks.json"
    assert discovery.metadata(AUTH0, "p").token_endpoint == "https://tenant.auth0.com/oauth/token"
    assert len(downloads.urls) == 1
