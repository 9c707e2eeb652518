"""``[auth.oauth.<provider>]``: OAuth 2.0 providers whose authorization codes ``oauthCallback`` exchanges.

The guide configures them through environment variables (``GOOGLE_CLIENT_ID``, ``GOOGLE_CLIENT_SECRET``,
``GITHUB_…``); a section names them, so an empty ``[auth.oauth.google]`` means exactly that. The client secret
is only ever named (``client_secret_env``): secrets never go in the file. Google and GitHub have built-in
endpoints; any other provider (``kind = "oidc"``) gives its token and userinfo URLs.
"""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import StrictStr, model_validator

from fraiseql_compiler.config.base import Section, check_url, problem
from fraiseql_compiler.config.envref import EnvName, EnvRef, EnvStr, static_value

OAuthKind = Literal["google", "github", "oidc"]
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

# (authorize, token, userinfo, emails) of the providers FraiseQL knows.
BUILT_IN: dict[str, tuple[str, str, str, str | None]] = {
    "google": (
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        "https://openidconnect.googleapis.com/v1/userinfo",
        None,
    ),
    "github": (
        "https://github.com/login/oauth/authorize",
        "https://github.com/login/oauth/access_token",
        "https://api.github.com/user",
        "https://api.github.com/user/emails",  # GitHub's /user has no verified flag: the emails list has
    ),
}
DEFAULT_SCOPES = {"google": ("openid", "email", "profile"), "github": ("read:user", "user:email")}


class OAuthProvider(Section):
    kind: OAuthKind | None = None  # default: the section's name when it is google or github
    client_id: EnvStr | None = None  # default: "${<NAME>_CLIENT_ID}"
    client_secret_env: EnvName | None = None  # default: "<NAME>_CLIENT_SECRET"
    redirect_uri: EnvStr | None = None  # default: "${<NAME>_REDIRECT_URI}"
    authorize_url: EnvStr | None = None
    token_url: EnvStr | None = None
    userinfo_url: EnvStr | None = None
    emails_url: EnvStr | None = None  # github: where verified emails are listed
    scopes: tuple[StrictStr, ...] | None = None

    @model_validator(mode="after")
    def _urls(self) -> Self:
        for key in ("redirect_uri", "authorize_url", "token_url", "userinfo_url", "emails_url"):
            value = getattr(self, key)
            if value is not None:
                check_url(static_value(value), what=key, key=(key,))
        if self.kind == "oidc" and (self.token_url is None or self.userinfo_url is None):
            raise problem(
                'kind = "oidc" needs token_url and userinfo_url (Google and GitHub have built-in ones)',
                hint='e.g. token_url = "https://idp.example.com/oauth/token", '
                'userinfo_url = "https://idp.example.com/userinfo"',
            )
        return self


def oauth_names(value: dict[str, OAuthProvider]) -> dict[str, OAuthProvider]:
    """``[auth.oauth.<name>]``: one table per provider, named as ``OAuthCallbackInput.provider`` names it."""
    for name, provider in value.items():
        if not _NAME_RE.match(name):
            raise problem(f'"{name}" is not a lowercase provider name (letters, digits, underscores)', key=(name,))
        if (provider.kind or (name if name in BUILT_IN else None)) is None:
            raise problem(
                f'[auth.oauth.{name}] needs kind = "oidc" with its token_url and userinfo_url '
                "(google and github are built in)",
                key=(name,),
            )
    return value


def resolved(providers: dict[str, OAuthProvider]) -> list[ResolvedOAuth]:
    """Every provider with its defaults filled in: variables named after it, built-in endpoints."""
    out = []
    for name, p in sorted(providers.items()):
        kind: str = p.kind or name
        built = BUILT_IN.get(kind, (None, None, None, None))
        upper = name.upper()
        out.append(
            ResolvedOAuth(
                name=name,
                kind=kind,
                client_id=p.client_id or EnvRef(f"{upper}_CLIENT_ID"),
                client_secret_env=p.client_secret_env or f"{upper}_CLIENT_SECRET",
                redirect_uri=p.redirect_uri or EnvRef(f"{upper}_REDIRECT_URI"),
                authorize_url=p.authorize_url or built[0],
                token_url=p.token_url or built[1],
                userinfo_url=p.userinfo_url or built[2],
                emails_url=p.emails_url or built[3],
                scopes=p.scopes if p.scopes is not None else DEFAULT_SCOPES.get(kind, ("openid", "email")),
            )
        )
    return out


class ResolvedOAuth(Section):
    """A provider with every default filled in, as the manifest carries it."""

    name: str
    kind: str
    client_id: EnvStr
    client_secret_env: str
    redirect_uri: EnvStr
    authorize_url: EnvStr | None
    token_url: EnvStr | None
    userinfo_url: EnvStr | None
    emails_url: EnvStr | None
    scopes: tuple[str, ...]


AuthType = Literal["jwt", "api_key", "oauth2", "saml"]
