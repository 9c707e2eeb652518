"""The OIDC authorization-code flow with PKCE (RFC 7636, OpenID Connect Core 3.1) in the reference runtime:
the login that ``[security.pkce]`` configures, so that a setup such as the authentication guide's can be
tried end to end (``fraiseql login-url``, then ``fraiseql login-callback``).

- :func:`begin` finds the provider's endpoints by discovery, makes a fresh ``code_verifier`` (64 characters of
  the unreserved set), its S256 ``code_challenge`` (``plain`` is never used), a ``state`` and a ``nonce``
  (256 random bits each), and keeps the pending login in a file of its own (mode 0600, named by a hash of the
  state) for ten minutes; it answers the authorization URL to open in a browser;
- :func:`finish` takes the pending login of the state the provider sent back (once: the file is removed
  first, so a replayed state finds nothing), redeems the code at the token endpoint with the verifier,
  verifies the ID token (the discovered keys, the exact issuer, the client as audience, its lifetime, the
  nonce of this login, ``at_hash`` when present), then the access token exactly as a request's
  (:func:`fraiseql_compiler.executor.tokens.verify`), and can link the identity as the runtime does
  (``fraiseql.fn_link_provider_identity``, as the authenticator).

A login that is refused (an unknown, used or expired state, the provider refusing the code, a token that
fails a check) raises :class:`LoginError` with ``refused = True``; a configuration or input problem (no
``[security.pkce]``, an unset variable, a provider that cannot be reached or answers nonsense) with
``refused = False``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fraiseql_compiler.executor import discovery, jwks_cache
from fraiseql_compiler.executor.envref import resolve
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.manifest.models import Manifest, ProviderConfig

if TYPE_CHECKING:
    from fraiseql_compiler.executor.tokens import Verified

STATE_TTL_SECONDS = 600  # a pending login is valid ten minutes
VERIFIER_BYTES = 48  # 64 base64url characters: RFC 7636 asks for 43 to 128 of the unreserved set
TIMEOUT_SECONDS = 10.0
MAX_BYTES = 256 * 1024
_VERIFIER_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class LoginError(Exception):
    """A login that cannot go on: ``refused`` (exit 1) or a configuration or input problem (exit 2)."""

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.message = message
        self.refused = refused

    @property
    def exit_code(self) -> int:
        return 1 if self.refused else 2


def refused(message: str) -> LoginError:
    return LoginError(message, refused=True)


def invalid(message: str) -> LoginError:
    return LoginError(message, refused=False)


def _from_execution(exc: ExecutionError, context: str = "") -> LoginError:
    """A runtime error as a login error: 401 (a token or a code refused) is a refused login; the rest (500
    misconfigured, 503 unreachable) is for the operator to fix."""
    return LoginError(context + exc.message, refused=exc.http == 401)


# --- PKCE -------------------------------------------------------------------------------------------------


def new_verifier() -> str:
    """A fresh code_verifier: 64 characters of [A-Za-z0-9_-] from 384 random bits."""
    return secrets.token_urlsafe(VERIFIER_BYTES)


def challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` without padding (RFC 7636 4.2, method S256)."""
    if not _VERIFIER_RE.match(verifier):
        raise ValueError("a code_verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- The client: [security.pkce] resolved in this environment ----------------------------------------------


@dataclass(frozen=True)
class Client:
    issuer: str
    client_id: str
    audience: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    client_secret_env: str
    provider: ProviderConfig
    leeway_seconds: int


def client(manifest: Manifest, environ: Mapping[str, str]) -> Client:
    pkce = manifest.config.security.pkce
    if pkce is None:
        raise invalid(
            "the manifest has no [security.pkce]: add one (issuer_url, client_id, audience) to fraiseql.toml "
            "and rebuild"
        )
    provider = next((p for p in manifest.config.security.providers if p.name == pkce.provider), None)
    if provider is None:
        raise invalid(f"the manifest lists no provider {pkce.provider!r} for [security.pkce]: rebuild it")
    try:
        issuer = resolve(pkce.issuer_url, environ, what="[security.pkce] issuer_url")
        client_id = resolve(pkce.client_id, environ, what="[security.pkce] client_id")
        audience = resolve(pkce.audience, environ, what="[security.pkce] audience") if pkce.audience else None
        redirects = tuple(resolve(u, environ, what="[security.pkce] redirect_uris") for u in pkce.redirect_uris)
    except ExecutionError as exc:
        raise _from_execution(exc) from None
    if "openid" not in pkce.scopes:
        raise invalid('[security.pkce] scopes must include "openid": the login verifies the ID token it brings')
    return Client(
        issuer=issuer,
        client_id=client_id,
        audience=audience,
        redirect_uris=redirects,
        scopes=tuple(pkce.scopes),
        client_secret_env=pkce.client_secret_env,
        provider=provider,
        leeway_seconds=manifest.config.auth.jwt.leeway_seconds,
    )


def _metadata(issuer: str, what: str) -> discovery.Metadata:
    try:
        return discovery.metadata(issuer, what)
    except ExecutionError as exc:
        raise _from_execution(exc) from None


def _check_redirect_uri(uri: str) -> str:
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise invalid(f"the redirect URI {uri[:200]!r} is not a URL") from None
    if not parts.scheme or not (parts.netloc or parts.path) or any(c.isspace() for c in uri):
        raise invalid(f"the redirect URI {uri[:200]!r} is not an absolute URL")
    if parts.fragment:
        raise invalid("a redirect URI must not have a #fragment (RFC 6749 3.1.2)")
    if parts.scheme == "http" and (parts.hostname or "") not in _LOCAL_HOSTS:
        raise invalid(f"the redirect URI {uri[:200]!r} must use https (http only for localhost)")
    return uri


# --- Pending logins: one file per state ---------------------------------------------------------------------


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/fraiseql/pkce``, or ``~/.cache/fraiseql/pkce``."""
    env = os.environ if environ is None else environ
    cache = env.get("XDG_CACHE_HOME", "")
    base = Path(cache) if cache and Path(cache).is_absolute() else Path.home() / ".cache"
    return base / "fraiseql" / "pkce"


def _state_file(directory: Path, state: str) -> Path:
    return directory / f"{hashlib.sha256(state.encode('utf-8')).hexdigest()}.json"


def _private_dir(directory: Path) -> Path:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = directory.stat().st_mode
    except OSError as exc:
        raise invalid(f"the state directory {directory} cannot be used: {exc.strerror or exc}") from None
    if mode & 0o022:
        raise invalid(
            f"the state directory {directory} is writable by other users: pending logins (their code verifiers) "
            "must stay private; pass another --state-dir, or chmod 700 it"
        )
    return directory


def _sweep(directory: Path, now: float) -> None:
    """Remove pending logins that expired (a login that was never finished)."""
    for path in [*directory.glob("*.json"), *directory.glob("*.claimed")]:
        try:
            if now - path.stat().st_mtime > STATE_TTL_SECONDS:
                path.unlink()
        except OSError:
            pass


def save_pending(directory: Path, state: str, pending: dict[str, Any]) -> Path:
    _private_dir(directory)
    _sweep(directory, time.time())
    path = _state_file(directory, state)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise invalid(f"cannot write the pending login in {directory}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(pending, fh, sort_keys=True)
    return path


def take_pending(directory: Path, state: str, now: float) -> dict[str, Any]:
    """The pending login of ``state``, removed before it is read: a state is redeemed once."""
    if not state or len(state) > 512:
        raise refused("the state is missing or malformed: start again with `fraiseql login-url`")
    path = _state_file(directory, state)
    claimed = path.with_name(f"{path.stem}.{secrets.token_hex(8)}.claimed")
    try:
        os.rename(path, claimed)  # atomic: of two callbacks with one state, one gets the login
    except FileNotFoundError:
        raise refused(
            "unknown state: no login is pending for it (it was already used, expired and was removed, or was "
            "started with another --state-dir); start again with `fraiseql login-url`"
        ) from None
    except OSError as exc:
        raise invalid(f"cannot read the pending login in {directory}: {exc.strerror or exc}") from None
    try:
        data = json.loads(claimed.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise refused("the pending login of this state is unreadable: start again with `fraiseql login-url`") from None
    finally:
        claimed.unlink(missing_ok=True)
    fields = ("code_verifier", "nonce", "redirect_uri", "issuer", "client_id")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in fields):
        raise refused("the pending login of this state is malformed: start again with `fraiseql login-url`")
    created = data.get("created_at")
    if not isinstance(created, int | float) or isinstance(created, bool):
        raise refused("the pending login of this state is malformed: start again with `fraiseql login-url`")
    age = now - float(created)
    if age > STATE_TTL_SECONDS or age < -60:
        raise refused(
            f"the login expired: it was started {age:.0f} s ago and a login is valid {STATE_TTL_SECONDS // 60} "
            "minutes; start again with `fraiseql login-url`"
        )
    return data


# --- login-url ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    url: str
    state: str
    nonce: str
    code_challenge: str
    redirect_uri: str
    expires_at: float
    state_file: Path


def begin(
    manifest: Manifest,
    *,
    redirect_uri: str | None = None,
    state_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> Authorization:
    """Start a login: the URL to open, with the pending login saved under ``state_dir``."""
    env = os.environ if environ is None else environ
    cfg = client(manifest, env)
    what = f"provider {cfg.provider.name}"
    if redirect_uri is None:
        if not cfg.redirect_uris:
            raise invalid("no redirect URI: pass --redirect-uri, or list redirect_uris in [security.pkce]")
        redirect_uri = cfg.redirect_uris[0]
    _check_redirect_uri(redirect_uri)
    meta = _metadata(cfg.issuer, what)
    if meta.authorization_endpoint is None:
        raise invalid(f"{what}: the discovery document of {cfg.issuer} lists no authorization_endpoint")
    if meta.code_challenge_methods and "S256" not in meta.code_challenge_methods:
        listed = ", ".join(meta.code_challenge_methods)
        raise invalid(
            f"{what}: the provider supports the PKCE methods {listed}, not S256; FraiseQL never uses plain (it "
            "sends the verifier itself): enable S256 at the provider"
        )
    verifier, state, nonce = new_verifier(), secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    code_challenge = challenge(verifier)
    now = clock()
    directory = state_dir if state_dir is not None else default_state_dir(env)
    path = save_pending(
        directory,
        state,
        {
            "version": 1,
            "code_verifier": verifier,
            "nonce": nonce,
            "redirect_uri": redirect_uri,
            "created_at": now,
            "issuer": cfg.issuer,
            "client_id": cfg.client_id,
        },
    )
    params = {
        "response_type": "code",
        "client_id": cfg.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(cfg.scopes),
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if cfg.audience is not None:
        params["audience"] = cfg.audience  # Auth0 issues a JWT access token for the API only when asked
    endpoint = meta.authorization_endpoint
    separator = "&" if urlsplit(endpoint).query else ("" if endpoint.endswith("?") else "?")
    url = endpoint + separator + urlencode(params)  # application/x-www-form-urlencoded (RFC 6749 B)
    return Authorization(url, state, nonce, code_challenge, redirect_uri, now + STATE_TTL_SECONDS, path)


# --- login-callback ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Callback:
    code: str | None
    state: str | None
    error: str | None = None
    error_description: str | None = None
    iss: str | None = None


def parse_redirect(url: str) -> Callback:
    """The parameters the provider sent to the redirect URI (RFC 6749 4.1.2; ``iss`` of RFC 9207)."""
    try:
        query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        raise invalid("--url is not a URL") from None

    def one(name: str) -> str | None:
        values = query.get(name)
        if values is not None and len(values) > 1:
            raise refused(f"the redirect URL carries {name} more than once")
        return values[0] if values else None

    callback = Callback(one("code"), one("state"), one("error"), one("error_description"), one("iss"))
    if callback.state is None:
        raise invalid("the redirect URL carries no state: pass the whole URL the browser was sent to")
    if callback.code is None and callback.error is None:
        raise invalid("the redirect URL carries no code (and no error)")
    return callback


def _post_form(url: str, form: Mapping[str, str], what: str) -> tuple[int, Any]:
    """(status, JSON answer) of a form POST: no redirects, no proxy for our own host, a timeout and a size
    limit. A 4xx answer is returned (its OAuth error is the caller's to report); 5xx and failures raise."""
    import http.client
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    handlers: list[Any] = [NoRedirect()]
    if (urlsplit(url).hostname or "") in _LOCAL_HOSTS:
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(
        url,
        data=urlencode(form).encode("ascii"),
        headers={
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "fraiseql-reference-runtime",
        },
        method="POST",
    )
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status, body = response.status, response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(MAX_BYTES + 1)
        exc.close()
        if 300 <= status < 400:
            raise invalid(
                f"{what}: the token endpoint {url} redirects ({status}); redirects are not followed"
            ) from None
        if status >= 500 or status == 429:
            raise invalid(f"{what}: the token endpoint {url} answered HTTP {status}; retry later") from None
    except (TimeoutError, urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise invalid(f"{what}: the token endpoint {url} cannot be reached: {reason}") from None
    if len(body) > MAX_BYTES:
        raise invalid(f"{what}: the token endpoint's answer is larger than {MAX_BYTES} bytes")
    try:
        return status, json.loads(body)
    except ValueError:
        if status >= 400:
            return status, {"error": f"HTTP {status}", "error_description": body[:200].decode("utf-8", "replace")}
        raise invalid(f"{what}: the token endpoint's answer is not JSON") from None


def _oauth_error(answer: Any) -> str:
    if not isinstance(answer, dict):
        return "no error given"
    error, description = answer.get("error"), answer.get("error_description")
    text = str(error) if error is not None else "no error given"
    if description:
        text += f" ({str(description)[:300]})"
    return text


def redeem(cfg: Client, meta: discovery.Metadata, code: str, pending: dict[str, Any], env: Mapping[str, str]) -> Any:
    """The token endpoint's answer for ``code``: the verifier proves this client started the login; a
    confidential client also sends its secret (client_secret_post)."""
    what = f"provider {cfg.provider.name}"
    if meta.token_endpoint is None:
        raise invalid(f"{what}: the discovery document of {cfg.issuer} lists no token_endpoint")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": pending["redirect_uri"],
        "client_id": cfg.client_id,
        "code_verifier": pending["code_verifier"],
    }
    secret = env.get(cfg.client_secret_env)
    if secret:
        form["client_secret"] = secret
    status, answer = _post_form(meta.token_endpoint, form, what)
    if status >= 400:
        error = answer.get("error") if isinstance(answer, dict) else None
        if error in ("invalid_client", "unauthorized_client"):
            hint = f"is {cfg.client_secret_env} set" if not secret else f"check {cfg.client_secret_env}"
            raise invalid(f"{what}: the provider does not accept this client: {_oauth_error(answer)}; {hint}?")
        raise refused(f"the provider refused the authorization code: {_oauth_error(answer)}")
    if not isinstance(answer, dict):
        raise invalid(f"{what}: the token endpoint's answer is not a JSON object")
    return answer


def _hash_half(value: str, algorithm: str) -> str:
    digest = _HASHES.get(algorithm[-3:], hashlib.sha256)(value.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def verify_id_token(
    id_token: str, cfg: Client, meta: discovery.Metadata, nonce: str, access_token: str | None = None
) -> dict[str, Any]:
    """The ID token's claims, once its signature (the discovered keys), issuer (exactly), audience (this
    client), lifetime, nonce (this login's) and, when present, ``at_hash`` check out (OIDC Core 3.1.3.7)."""
    import jwt

    from fraiseql_compiler.executor.tokens import unverified_parts

    provider = cfg.provider
    what = f"provider {provider.name}"
    try:
        header, _ = unverified_parts(id_token)
    except ExecutionError as exc:
        raise refused(f"the ID token is refused: {exc.message}") from None
    algorithm = header.get("alg")
    if algorithm not in provider.algorithms:
        raise refused(
            f"the ID token is signed with {str(algorithm)[:20]!r}; {what} allows {', '.join(provider.algorithms)}"
        )
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise refused("the ID token is refused: its kid is not a string")
    try:
        key = jwks_cache.CACHE.key(meta.jwks_uri, kid, what)
    except ExecutionError as exc:
        raise _from_execution(exc, "the ID token is refused: " if exc.http == 401 else "") from None
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=list(provider.algorithms),
            audience=cfg.client_id,
            issuer=cfg.issuer,
            leeway=cfg.leeway_seconds,
            options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_iat": True},
        )
    except jwt.PyJWTError as exc:
        raise refused(f"the ID token is refused: {exc}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (azp is not None or len(audiences) > 1) and azp != cfg.client_id:
        raise refused(f"the ID token is refused: it was issued to {str(azp)[:100]!r} (azp), not to this client")
    given = claims.get("nonce")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), nonce.encode()):
        raise refused(
            "the ID token is refused: its nonce is not the one this login sent"
            + (" (it has none)" if given is None else "")
            + ": it may have been issued for another login (a replay)"
        )
    at_hash = claims.get("at_hash")
    if (
        at_hash is not None
        and access_token is not None
        and (not isinstance(at_hash, str) or not hmac.compare_digest(at_hash, _hash_half(access_token, algorithm)))
    ):
        raise refused("the ID token is refused: its at_hash does not match the access token")
    return claims


def _verify_access_token(access_token: str, manifest: Manifest, cfg: Client, env: Mapping[str, str]) -> Verified:
    from fraiseql_compiler.executor.tokens import verify

    if access_token.count(".") != 2:
        raise refused(
            "the provider issued an opaque access token, not a JWT: set audience in [security.pkce] to the API's "
            "identifier (Auth0 issues a JWT access token only for an API audience)"
        )
    try:
        verified = verify(access_token, manifest.config, env)
    except ExecutionError as exc:
        raise _from_execution(exc, "the access token is refused: " if exc.http == 401 else "") from None
    # The runtime takes the first provider with the token's issuer: [security.pkce]'s, or a [[security.providers]]
    # entry for the same issuer, whose settings (audience, link) then apply, here as on every request.
    if verified.provider is None or verified.claims.get("iss") != cfg.issuer:
        raise refused(
            f"the access token is refused: it was not issued by {cfg.issuer!r} but is "
            + (f"provider {verified.provider.name}'s" if verified.provider else "a first-party token")
        )
    return verified


def link(database: str, verified: Verified, id_claims: dict[str, Any]) -> str | None:
    """Link the identity as the runtime does for each request (as the authenticator): by the verified email
    the ID token carries (or the access token's, without one). The linked local user's id, or None."""
    import psycopg

    from fraiseql_compiler.executor.claims import link_request
    from fraiseql_compiler.executor.tokens import Verified

    provider = verified.provider
    if provider is None:  # a first-party token has no identity to link
        return None
    claims = dict(verified.claims)
    if isinstance(id_claims.get("email"), str):
        claims[provider.email_claim] = id_claims["email"]
        claims[provider.email_verified_claim] = id_claims.get("email_verified")
    request = link_request(Verified(claims, provider))
    if request is None:
        return None
    try:
        with psycopg.connect(database, autocommit=True) as conn, conn.transaction():
            row = conn.execute("SELECT fraiseql.fn_link_provider_identity(%s, %s, %s, %s, %s)", request).fetchone()
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split()).removeprefix("connection failed: ")
        raise invalid(f"cannot connect to the database: {reason}") from None
    except psycopg.Error as exc:
        message = exc.diag.message_primary if getattr(exc, "diag", None) else None
        raise invalid(f"the database refused to link the identity: {message or exc}") from None
    return row[0] if row is not None else None


@dataclass(frozen=True)
class Login:
    access_token: str
    token_type: str
    expires_in: int | None
    scope: str | None
    id_claims: dict[str, Any]
    provider: str
    link: str  # the provider's link mode: explicit, email or provision
    user_id: str | None = None

    def as_json(self, linked: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "id_token_claims": {k: self.id_claims.get(k) for k in ("sub", "email", "email_verified", "name")},
            "provider": self.provider,
            "scope": self.scope,
            "token_type": self.token_type,
        }
        if linked:
            out["user_id"] = self.user_id
        return out


def finish(
    manifest: Manifest,
    *,
    state: str,
    code: str | None,
    error: str | None = None,
    error_description: str | None = None,
    iss: str | None = None,
    state_dir: Path | None = None,
    database: str | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> Login:
    """Finish the login ``state`` names: redeem ``code``, verify both tokens, and with ``database`` link
    the identity."""
    env = os.environ if environ is None else environ
    directory = state_dir if state_dir is not None else default_state_dir(env)
    pending = take_pending(directory, state, clock())  # first: whatever happens next, the state is spent
    cfg = client(manifest, env)
    if (pending["issuer"], pending["client_id"]) != (cfg.issuer, cfg.client_id):
        raise refused(
            f"this login was started for client {pending['client_id']!r} of {pending['issuer']!r}; the manifest "
            f"now names client {cfg.client_id!r} of {cfg.issuer!r}: start again with `fraiseql login-url`"
        )
    if error is not None:
        detail = f" ({error_description[:300]})" if error_description else ""
        raise refused(f"the provider refused the login: {error[:100]}{detail}")
    if iss is not None and iss != cfg.issuer:  # RFC 9207: the answer comes from another issuer (a mix-up)
        raise refused(f"the redirect names the issuer {iss[:200]!r}, not {cfg.issuer!r}: refused (a mix-up attack?)")
    if not code:
        raise invalid("no authorization code: pass --code, or the whole redirect URL with --url")
    what = f"provider {cfg.provider.name}"
    meta = _metadata(cfg.issuer, what)
    answer = redeem(cfg, meta, code, pending, env)
    access_token, id_token = answer.get("access_token"), answer.get("id_token")
    token_type = answer.get("token_type")
    if not isinstance(access_token, str) or not access_token:
        raise refused(f"the provider issued no access token: {_oauth_error(answer)}")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise refused(f"the provider issued a {str(token_type)[:40]!r} token, not a Bearer token")
    if not isinstance(id_token, str) or not id_token:
        raise refused('the provider issued no ID token: is "openid" among the scopes the client may ask for?')
    id_claims = verify_id_token(id_token, cfg, meta, pending["nonce"], access_token)
    verified = _verify_access_token(access_token, manifest, cfg, env)
    provider = verified.provider  # the provider entry the runtime verifies these tokens with
    assert provider is not None
    subject = verified.claims.get(provider.subject_claim)
    if str(subject) != str(id_claims["sub"]):
        raise refused(
            f"the access token's subject {str(subject)[:100]!r} is not the ID token's {str(id_claims['sub'])[:100]!r}"
        )
    expires_in = answer.get("expires_in")
    if not isinstance(expires_in, int) or isinstance(expires_in, bool):
        exp = verified.claims.get("exp")
        expires_in = max(0, int(exp - time.time())) if isinstance(exp, int | float) else None
    scope = answer.get("scope") if isinstance(answer.get("scope"), str) else verified.claims.get("scope")
    login = Login(
        access_token=access_token,
        token_type="Bearer",
        expires_in=expires_in,
        scope=scope if isinstance(scope, str) else None,
        id_claims=id_claims,
        provider=provider.name,
        link=provider.link,
    )
    if database:
        from dataclasses import replace

        login = replace(login, user_id=link(database, verified, id_claims))
    return login


__all__ = [
    "STATE_TTL_SECONDS",
    "Authorization",
    "Callback",
    "Client",
    "Login",
    "LoginError",
    "begin",
    "challenge",
    "default_state_dir",
    "finish",
    "new_verifier",
    "parse_redirect",
]
