"""A fake OpenID Connect provider on 127.0.0.1 (an HTTP server in a thread, on a free port), close enough to
Auth0 or Keycloak for the login flow and token verification to be tried end to end:

- ``<issuer>/.well-known/openid-configuration``: the discovery document, whose ``issuer`` can be made to
  differ (``document_issuer``) and whose members can be overridden (``document``);
- ``/jwks``: the published public keys (RSA, with kids); :meth:`FakeOidc.rotate` adds a key and signs with
  it from then on (``publish=False``: a key the JWKS does not list);
- ``/authorize``: what a browser would call; answers 302 to ``redirect_uri?code=…&state=…`` after checking
  the client, the redirect URI, ``response_type=code`` and an S256 ``code_challenge`` (it remembers the
  challenge, the nonce and the audience); :meth:`FakeOidc.authorize` calls it and returns the redirect;
- ``/token``: redeems a code once (``authorization_code`` grant): the client, the redirect URI, the code's
  age on the provider's clock (``clock``, ``code_ttl``), ``S256(code_verifier) == code_challenge``, and the
  client secret when one is set; issues an ID token (iss, aud = the client, sub, email, email_verified,
  name, nonce, azp, at_hash) and a JWT access token (iss, aud = [the API audience, <issuer>userinfo], sub,
  scope, azp, iat, exp, jti), both RS256 with the current key's kid.

``tls=True`` serves https with a self-signed certificate for 127.0.0.1 (``ca_file``, for SSL_CERT_FILE).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "fraiseql-cli-client"
AUDIENCE = "https://api.yourdomain.com"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
ALICE = {"sub": "auth0|alice", "email": "alice@example.com", "email_verified": True, "name": "Alice"}


def new_rsa_key(kid: str) -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return private, jwk


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _at_hash(token: str) -> str:
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


@dataclass
class Grant:
    """What /authorize remembered for a code."""

    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    nonce: str | None
    scope: str
    audience: str | None
    user: dict[str, Any]
    issued_at: float
    extra: dict[str, Any] = field(default_factory=dict)


class FakeOidc:
    def __init__(
        self,
        *,
        client_id: str = CLIENT_ID,
        audience: str = AUDIENCE,
        redirect_uris: tuple[str, ...] = (REDIRECT_URI,),
        client_secret: str | None = None,
        trailing_slash: bool = True,
        path: str = "",
        tls: bool = False,
        keys: list[tuple[str, Any, dict[str, Any]]] | None = None,
        cert_dir: Path | None = None,
    ) -> None:
        self.client_id = client_id
        self.audience = audience
        self.redirect_uris = list(redirect_uris)
        self.client_secret = client_secret
        self.trailing_slash = trailing_slash
        self.path = path.rstrip("/")  # an issuer path, as Keycloak's /realms/<realm>
        self.user: dict[str, Any] = dict(ALICE)  # who signs in at /authorize
        self.access_claims: dict[str, Any] = {}  # added to access tokens (an Auth0 Action's claims)
        self.id_claims: dict[str, Any] = {}  # added to (or, with None, removed from) ID tokens
        self.document: dict[str, Any] = {}  # added to (None: removed from) the discovery document
        self.document_issuer: str | None = None  # the document's issuer, when it must differ
        self.code_ttl = 60.0
        self.clock: Callable[[], float] = time.time  # the provider's clock for code expiry
        self.token_ttl = 3600
        self.grants: dict[str, Grant] = {}
        self.requests: dict[str, int] = {}
        self.token_requests: list[dict[str, str]] = []
        self.authorize_requests: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self.keys: list[tuple[str, Any, dict[str, Any]]] = list(keys) if keys else []
        if not self.keys:
            private, jwk = new_rsa_key("fake-k1")
            self.keys.append(("fake-k1", private, jwk))
        self.published = {kid for kid, _, _ in self.keys}
        self.signing_kid = self.keys[0][0]
        self.ca_file: Path | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        if tls:
            self._wrap_tls(cert_dir)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    # --- addresses ---

    @property
    def base(self) -> str:
        scheme = "https" if self.ca_file is not None else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}{self.path}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def issuer(self) -> str:
        return self.base + ("/" if self.trailing_slash else "")

    @property
    def jwks_uri(self) -> str:
        return f"{self.base}/jwks"

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()

    def reset(self) -> None:
        """Forget codes and requests and undo per-test settings (the keys stay)."""
        with self._lock:
            self.user = dict(ALICE)
            self.access_claims, self.id_claims, self.document = {}, {}, {}
            self.document_issuer = None
            self.code_ttl, self.clock = 60.0, time.time
            self.grants.clear()
            self.requests.clear()
            self.token_requests.clear()
            self.authorize_requests.clear()
            self.client_secret = None

    # --- keys ---

    def rotate(self, kid: str | None = None, *, publish: bool = True) -> str:
        """A new signing key, used from now on; published in the JWKS unless ``publish`` is False."""
        kid = kid or f"fake-k{len(self.keys) + 1}"
        private, jwk = new_rsa_key(kid)
        with self._lock:
            self.keys.append((kid, private, jwk))
            if publish:
                self.published.add(kid)
            self.signing_kid = kid
        return kid

    def publish(self, kid: str) -> None:
        with self._lock:
            self.published.add(kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jwk for kid, _, jwk in self.keys if kid in self.published]}

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        kid = kid or self.signing_kid
        private = next(p for k, p, _ in self.keys if k == kid)
        return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})

    def access_token(self, sub: str | None = None, scope: str = "openid profile email read:posts", **extra: Any) -> str:
        """An access token as the provider issues it for the API (Auth0's shape)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": sub or self.user["sub"],
            "aud": [self.audience, f"{self.issuer}userinfo"],
            "azp": self.client_id,
            "scope": scope,
            "iat": now,
            "exp": now + self.token_ttl,
            "jti": uuid.uuid4().hex,
            **self.access_claims,
            **extra,
        }
        return self.sign({k: v for k, v in claims.items() if v is not None})

    def id_token(self, grant: Grant, access_token: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "azp": grant.client_id,
            "sub": grant.user["sub"],
            "iat": now,
            "exp": now + 600,
            "nonce": grant.nonce,
            "at_hash": _at_hash(access_token),
            **{k: v for k, v in grant.user.items() if k != "sub"},
            **self.id_claims,
        }
        return self.sign({k: v for k, v in claims.items() if v is not None})

    # --- the browser's side ---

    def authorize(self, url: str) -> str:
        """GET the authorization URL (as a browser would) and return where it redirects to."""
        import http.client

        parts = urlsplit(url)
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=str(self.ca_file))
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(parts.netloc, timeout=5, context=context)
        else:
            conn = http.client.HTTPConnection(parts.netloc, timeout=5)
        try:
            conn.request("GET", f"{parts.path}?{parts.query}")
            response = conn.getresponse()
            body = response.read()
            if response.status != 302:
                raise AssertionError(f"/authorize answered {response.status}: {body.decode()}")
            return response.headers["Location"]
        finally:
            conn.close()

    # --- the server ---

    def _document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "issuer": self.document_issuer or self.issuer,
            "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token",
            "userinfo_endpoint": f"{self.base}/userinfo",
            "jwks_uri": self.jwks_uri,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
        }
        doc.update(self.document)
        return {k: v for k, v in doc.items() if v is not None}

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id:
            return 400, {}, {"error": "invalid_client", "error_description": "unknown client_id"}
        redirect = query.get("redirect_uri", "")
        if redirect not in self.redirect_uris:
            return 400, {}, {"error": "invalid_request", "error_description": "redirect_uri is not registered"}

        def back(**params: str) -> tuple[int, dict[str, str], Any]:
            if "state" in query:
                params["state"] = query["state"]
            sep = "&" if "?" in redirect else "?"
            return 302, {"Location": redirect + sep + urlencode(params)}, None

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type")
        challenge, method = query.get("code_challenge", ""), query.get("code_challenge_method", "plain")
        if method != "S256" or len(challenge) != 43:
            return back(error="invalid_request", error_description="an S256 code_challenge is required")
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            client_id=query["client_id"],
            redirect_uri=redirect,
            challenge=challenge,
            method=method,
            nonce=query.get("nonce"),
            scope=query.get("scope", ""),
            audience=query.get("audience"),
            user=dict(self.user),
            issued_at=self.clock(),
        )
        return back(code=code)

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.token_requests.append(form)

        def error(code: str, description: str, status: int = 400) -> tuple[int, dict[str, str], Any]:
            return status, {}, {"error": code, "error_description": description}

        if form.get("grant_type") != "authorization_code":
            return error("unsupported_grant_type", "only authorization_code")
        if self.client_secret is not None and form.get("client_secret") != self.client_secret:
            return error("invalid_client", "client authentication failed", 401)
        grant = self.grants.pop(form.get("code", ""), None)  # a code is redeemed once, whatever the outcome
        if grant is None:
            return error("invalid_grant", "invalid authorization code (unknown, or already used)")
        if self.clock() - grant.issued_at > self.code_ttl:
            return error("invalid_grant", "the authorization code has expired")
        if form.get("client_id") != grant.client_id:
            return error("invalid_grant", "the code was issued to another client")
        if form.get("redirect_uri") != grant.redirect_uri:
            return error("invalid_grant", "redirect_uri does not match the authorization request")
        verifier = form.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128 or s256(verifier) != grant.challenge:
            return error("invalid_grant", "Failed to verify code verifier")
        scope = " ".join(s for s in grant.scope.split() if s != "offline_access")
        access = self.access_token(grant.user["sub"], scope=scope if grant.audience else "openid")
        if grant.audience is None:  # as Auth0: without an API audience, an opaque token for userinfo only
            access = secrets.token_urlsafe(24)
        body = {
            "access_token": access,
            "id_token": self.id_token(grant, access),
            "scope": scope,
            "expires_in": self.token_ttl,
            "token_type": "Bearer",
        }
        return 200, {"Cache-Control": "no-store"}, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self) -> str | None:
                path = urlsplit(self.path).path
                if fake.path and not path.startswith(fake.path + "/"):
                    return None
                route = path[len(fake.path) :]
                with fake._lock:
                    fake.requests[route] = fake.requests.get(route, 0) + 1
                return route

            def do_GET(self) -> None:
                route = self._route()
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                with fake._lock:
                    if route == "/.well-known/openid-configuration":
                        answer: tuple[int, dict[str, str], Any] = (200, {}, fake._document())
                    elif route == "/jwks":
                        answer = (200, {}, fake.jwks())
                    elif route == "/authorize":
                        answer = fake._authorize(query)
                    else:
                        answer = (404, {}, {"error": "not_found"})
                self._answer(*answer)

            def do_POST(self) -> None:
                route = self._route()
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                with fake._lock:
                    answer = fake._token(form) if route == "/token" else (404, {}, {"error": "not_found"})
                self._answer(*answer)

        return Handler

    def _wrap_tls(self, cert_dir: Path | None) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import NameOID

        if cert_dir is None:
            raise ValueError("tls=True needs cert_dir")
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        cert_file, key_file = cert_dir / "fake-oidc.crt", cert_dir / "fake-oidc.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.ca_file = cert_file
