"""``oauthCallback`` in the reference runtime: exchange an authorization code with the provider named in
``[auth.oauth.<name>]``, read who the user is, and hand that to ``fraiseql.fn_upsert_oauth_user``.

Only the URLs of the manifest are called (the built-in Google and GitHub endpoints, or the ones configured),
with a timeout and a size limit. The client secret is read from the variable the configuration names. What
reaches the database is normalized: the provider's subject, the email and whether the provider verified it
(GitHub: from its emails list, where only a verified primary address counts), and a display name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fraiseql_compiler.executor.envref import resolve
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.manifest.models import OAuthProviderConfig

TIMEOUT_SECONDS = 10
MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class OAuthIdentity:
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def _call(url: str, *, data: bytes | None = None, headers: Mapping[str, str]) -> Any:
    import urllib.error
    import urllib.request

    if not url.startswith(("https://", "http://")):
        raise ExecutionError(500, "MISCONFIGURED", f"OAuth endpoint {url!r} is not an http(s) URL")
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        detail = exc.read(4096).decode("utf-8", "replace")
        raise ExecutionError(401, "OAUTH_REFUSED", f"the provider refused ({exc.code}): {_error_of(detail)}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ExecutionError(502, "OAUTH_UNAVAILABLE", f"the OAuth provider could not be reached: {exc}") from None
    if len(body) > MAX_BYTES:
        raise ExecutionError(502, "OAUTH_UNAVAILABLE", "the OAuth provider's answer is too large")
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        raise ExecutionError(502, "OAUTH_UNAVAILABLE", "the OAuth provider's answer is not JSON") from None


def _error_of(text: str) -> str:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return text[:200]
    if isinstance(data, dict):
        return str(data.get("error_description") or data.get("error") or data.get("message") or data)[:200]
    return str(data)[:200]


def _url(value: Any, environ: Mapping[str, str], what: str) -> str:
    if value is None:
        raise ExecutionError(500, "MISCONFIGURED", f"OAuth provider has no {what}")
    return resolve(value, environ, what=f"OAuth {what}")


def exchange(
    provider: OAuthProviderConfig, code: str, environ: Mapping[str, str], code_verifier: str | None = None
) -> OAuthIdentity:
    """The identity behind ``code``: one token request, one userinfo request (and GitHub's emails)."""
    secret = environ.get(provider.client_secret_env)
    if not secret:
        raise ExecutionError(500, "MISCONFIGURED", f"{provider.client_secret_env} is not set")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": resolve(provider.redirect_uri, environ, what="OAuth redirect_uri"),
        "client_id": resolve(provider.client_id, environ, what="OAuth client_id"),
        "client_secret": secret,
    }
    if code_verifier:
        form["code_verifier"] = code_verifier
    answer = _call(
        _url(provider.token_url, environ, "token_url"),
        data=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    access = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(access, str) or not access:
        error = _error_of(json.dumps(answer)) if isinstance(answer, dict) else "no access_token"
        raise ExecutionError(401, "OAUTH_REFUSED", f"the provider issued no access token: {error}")
    bearer = {"Authorization": f"Bearer {access}"}
    info = _call(_url(provider.userinfo_url, environ, "userinfo_url"), headers=bearer)
    if not isinstance(info, dict):
        raise ExecutionError(502, "OAUTH_UNAVAILABLE", "the provider's userinfo is not an object")
    if provider.kind == "github":
        return _github(provider, info, bearer, environ)
    subject = info.get("sub")
    if subject is None or str(subject) == "":
        raise ExecutionError(502, "OAUTH_UNAVAILABLE", "the provider's userinfo has no sub")
    verified = info.get("email_verified")
    email = info.get("email")
    return OAuthIdentity(
        subject=str(subject),
        email=email if isinstance(email, str) and email else None,
        email_verified=verified is True or verified == "true",
        name=info.get("name") if isinstance(info.get("name"), str) else None,
    )


def _github(
    provider: OAuthProviderConfig, user: dict[str, Any], bearer: dict[str, str], environ: Mapping[str, str]
) -> OAuthIdentity:
    """GitHub's /user carries no verified flag: the email counts only as the verified primary address of
    /user/emails."""
    if user.get("id") is None:
        raise ExecutionError(502, "OAUTH_UNAVAILABLE", "GitHub's user has no id")
    email, verified = None, False
    if provider.emails_url is not None:
        emails = _call(_url(provider.emails_url, environ, "emails_url"), headers=bearer)
        primary = next(
            (e for e in emails if isinstance(e, dict) and e.get("primary")) if isinstance(emails, list) else iter(()),
            None,
        )
        if primary is not None and isinstance(primary.get("email"), str):
            email, verified = primary["email"], primary.get("verified") is True
    name = user.get("name") or user.get("login")
    return OAuthIdentity(str(user["id"]), email, verified, name if isinstance(name, str) else None)
