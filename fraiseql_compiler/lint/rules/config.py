"""Configuration: how tokens are verified, what the browser may send, how long credentials live."""

from __future__ import annotations

from collections.abc import Iterator

from fraiseql_compiler.diagnostics import Diagnostic
from fraiseql_compiler.lint.rule import Context, Rule

MIN_SECRET_BYTES = 32
MAX_ACCESS_TTL = 3600  # s
MAX_REFRESH_TTL = 30 * 86_400
MAX_PROVIDER_LIFETIME = 86_400


def _hs(ctx: Context) -> bool:
    from fraiseql_compiler.config.envref import static_value

    algorithm = static_value(ctx.analysis.config.auth.jwt.algorithm) or ""
    return algorithm.upper().startswith("HS")


class ShortJwtSecret(Rule):
    """The HS256 secret in the environment is shorter than 32 bytes.

    HS256 tokens are only as strong as the shared secret: a short one can be brute-forced offline from a
    single token, and then anyone mints tokens for anyone. The reference runtime refuses secrets under 32
    bytes at startup; this rule says so before deploying. It reads the variable named by ``[auth.jwt]
    secret_env`` only when it is set where lint runs (CI secrets, a developer's shell), and never prints it.

    *Anti-pattern*: ``JWT_SECRET=changeme``.

    *Best practice*: ``python -c "import secrets; print(secrets.token_urlsafe(48))"``, kept in a secret store.
    """

    code = "FQL313"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        jwt = ctx.analysis.config.auth.jwt
        value = ctx.environ.get(jwt.secret_env)
        if not _hs(ctx) or not value:
            return
        size = len(value.encode())
        if size < MIN_SECRET_BYTES:
            yield self.diag(
                f"${jwt.secret_env} holds {size} bytes: an HS256 secret needs at least {MIN_SECRET_BYTES}",
                ctx.config_span("auth", "jwt", "secret_env"),
                'generate one: python -c "import secrets; print(secrets.token_urlsafe(48))"',
            )


class TokenAudienceUnchecked(Rule):
    """Tokens of an OIDC issuer are accepted for any audience.

    ``[security.pkce]`` without ``audience`` accepts the tokens the issuer made for the login client itself
    (``aud`` = ``client_id``): ID tokens, meant to tell the client who signed in, then work as API access
    tokens, and an API of the same tenant cannot be told apart from this one.

    *Anti-pattern*: ``[security.pkce] issuer_url = "https://tenant.auth0.com/"`` and no ``audience``.

    *Best practice*: ``audience = "https://api.example.com"`` (the API identifier the tokens are issued for).
    """

    code = "FQL314"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        pkce = ctx.analysis.config.security.pkce
        if pkce is not None and pkce.audience is None:
            yield self.diag(
                "[security.pkce] has no audience: tokens issued for the login client (its ID tokens) are accepted as "
                "API tokens",
                ctx.config_span("security", "pkce"),
                'set audience = "<your API identifier>"',
            )


class JwtAlgorithmNotPinned(Rule):
    """The JWT algorithm comes from the environment.

    ``algorithm = "${JWT_ALGORITHM:-HS256}"`` lets a deployment's environment decide how tokens are verified,
    while the build (which keys are required, what the manifest says) assumed the default. Pin it in the
    file that is reviewed.

    *Anti-pattern*: ``algorithm = "${JWT_ALGORITHM:-HS256}"`` (the default when ``[auth.jwt]`` is not written).

    *Best practice*: ``algorithm = "RS256"`` (or ``"HS256"``), written in ``fraiseql.toml``.
    """

    code = "FQL315"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        from fraiseql_compiler.config.envref import EnvRef

        algorithm = ctx.analysis.config.auth.jwt.algorithm
        if isinstance(algorithm, EnvRef):
            yield self.diag(
                f"the JWT algorithm is read from ${algorithm.name} (default {algorithm.default}): the environment "
                "decides how tokens are verified",
                ctx.config_span("auth", "jwt", "algorithm"),
                f'write algorithm = "{algorithm.default}" in [auth.jwt]',
            )


class RevocationFailsOpen(Rule):
    """Token revocation fails open.

    With ``fail_open = true``, a token whose revocation cannot be checked (the revocation store unreachable)
    is accepted: logging out, or revoking a stolen token, stops working exactly when something is wrong.

    *Anti-pattern*: ``[security.token_revocation] fail_open = true``.

    *Best practice*: ``fail_open = false`` (the default): an unverifiable token is refused.
    """

    code = "FQL316"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        revocation = ctx.analysis.config.security.token_revocation
        if revocation.enabled and revocation.fail_open:
            yield self.diag(
                "token revocation fails open: when revocations cannot be read, revoked tokens are accepted",
                ctx.config_span("security", "token_revocation", "fail_open"),
                "set fail_open = false",
            )


class CorsWildcard(Rule):
    """CORS allows every origin.

    ``origins = ["*"]`` lets any website's scripts call the API from a visitor's browser. With bearer tokens
    that is only as safe as the token storage of every page; it is rarely what an API with users means.

    *Anti-pattern*: ``[server.cors] origins = ["*"]``.

    *Best practice*: list the frontends: ``origins = ["https://app.example.com"]``.
    """

    code = "FQL317"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        if "*" in ctx.analysis.config.server.cors.origins:
            yield self.diag(
                'CORS allows every origin ("*"): any website may call the API from its visitors\' browsers',
                ctx.config_span("server", "cors", "origins"),
                'list your frontends: origins = ["https://app.example.com"]',
            )


class LongTokenLifetime(Rule):
    """A token lifetime well beyond common practice.

    Access tokens longer than an hour, refresh tokens longer than 30 days, or provider tokens accepted for
    longer than a day: a leaked token stays useful for that long, and without revocation nothing ends it.

    *Anti-pattern*: ``access_token_ttl_seconds = 86400``.

    *Best practice*: short access tokens (15 min to 1 h) renewed with refresh tokens (days to weeks).
    """

    code = "FQL318"

    def check(self, ctx: Context) -> Iterator[Diagnostic]:
        config = ctx.analysis.config
        jwt = config.auth.jwt
        limits = (
            ("access_token_ttl_seconds", jwt.access_token_ttl_seconds, MAX_ACCESS_TTL, "access tokens"),
            ("refresh_token_ttl_seconds", jwt.refresh_token_ttl_seconds, MAX_REFRESH_TTL, "refresh tokens"),
        )
        for key, value, limit, what in limits:
            if value > limit:
                yield self.diag(
                    f"{what} live {_human(value)} (over {_human(limit)}): a leaked one stays useful that long",
                    ctx.config_span("auth", "jwt", key),
                    f"lower [auth.jwt] {key}",
                )
        for i, provider in enumerate(config.security.providers):
            if provider.max_token_lifetime_seconds > MAX_PROVIDER_LIFETIME:
                yield self.diag(
                    f'provider "{provider.name}" tokens are accepted for {_human(provider.max_token_lifetime_seconds)}'
                    f" (over {_human(MAX_PROVIDER_LIFETIME)})",
                    ctx.config_span("security", "providers", i, "max_token_lifetime_seconds"),
                    "lower max_token_lifetime_seconds",
                )


def _human(seconds: int) -> str:
    for size, unit in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} s"


RULES = (
    ShortJwtSecret,
    TokenAudienceUnchecked,
    JwtAlgorithmNotPinned,
    RevocationFailsOpen,
    CorsWildcard,
    LongTokenLifetime,
)
