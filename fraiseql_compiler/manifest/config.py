"""``fraiseql.toml`` → the manifest's :class:`RuntimeConfig`: every default spelled out, ``${VAR}`` references
kept as ``{"env": …}`` objects, public keys included, no secret (only variable names). ``[schema]`` and
``[build]`` are build inputs, not runtime settings, and are left out."""

from __future__ import annotations

from typing import Any

from fraiseql_compiler.config import Config, EnvRef, Provider
from fraiseql_compiler.config.oauth import OAuthProvider, resolved
from fraiseql_compiler.manifest import models as m


def env(value: str | EnvRef) -> m.EnvValue:
    if isinstance(value, EnvRef):
        return m.EnvRef(env=value.name, default=value.default, template=value.template)
    return value


def _sorted(value: Any) -> Any:
    """Free-form JSON (a JWKS file) with sorted keys, so the manifest's keys are sorted at every level."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _provider(p: Provider, roles: dict[str, str]) -> m.ProviderConfig:
    return m.ProviderConfig(
        algorithms=list(p.algorithms),
        audience=[env(a) for a in p.audience],
        claims=dict(sorted(p.claims.items())),
        default_db_role=roles.get(p.default_role),
        default_role=p.default_role,
        discovery=p.discovery,
        email_claim=p.email_claim,
        email_verified_claim=p.email_verified_claim,
        issuer=env(p.issuer),
        jwks=_sorted(p.jwks),
        jwks_file=p.jwks_file,
        jwks_uri=env(p.jwks_uri) if p.jwks_uri is not None else None,
        kind=p.kind,
        link=p.link,
        max_token_lifetime_seconds=p.max_token_lifetime_seconds,
        name=p.name,
        role_rules=[
            m.RoleRule(
                claim=r.claim,
                db_role=roles.get(r.role),
                operator=r.operator,
                role=r.role,
                value={"equals": r.equals, "contains": r.contains, "exists": True}[r.operator],
            )
            for r in p.role_rules
        ],
        scopes_claim=p.scopes_claim,
        scopes_format=p.scopes_format,
        subject_claim=p.subject_claim,
    )


def _oauth(config: Config, callback: bool) -> dict[str, OAuthProvider]:
    """[auth.oauth.*]; with none, a schema that binds oauthCallback gets the guide's two providers, which
    read GOOGLE_CLIENT_ID/_SECRET/_REDIRECT_URI and GITHUB_… (the guide's environment variables)."""
    if config.auth.oauth or not callback:
        return dict(config.auth.oauth)
    return {"github": OAuthProvider(), "google": OAuthProvider()}


def runtime_config(config: Config, oauth_callback: bool = False) -> m.RuntimeConfig:
    """``oauth_callback``: whether the schema binds the oauthCallback flow."""
    database, jwt, login, security = config.database, config.auth.jwt, config.auth.login, config.security
    hs = jwt.algorithm_value == "HS256"
    roles = database.roles.api_roles()
    keys, revocation, pkce, rate, cors = (
        security.api_keys,
        security.token_revocation,
        security.pkce,
        security.rate_limiting,
        config.server.cors,
    )
    return m.RuntimeConfig(
        auth=m.AuthConfig(
            jwt=m.JwtConfig(
                access_token_ttl_seconds=jwt.access_token_ttl_seconds,
                algorithm=env(jwt.algorithm),
                allowed_algorithms=[jwt.algorithm_value],
                audience=[env(a) for a in jwt.audience],
                claims=dict(sorted(jwt.claims.items())),
                issuer=env(jwt.issuer),
                jwks=_sorted(jwt.jwks),
                jwks_file=jwt.jwks_file,
                leeway_seconds=jwt.leeway_seconds,
                max_token_lifetime_seconds=jwt.max_token_lifetime_seconds,
                private_key_env=None if hs else jwt.private_key_env,
                refresh_token_ttl_seconds=jwt.refresh_token_ttl_seconds,
                required_claims=list(jwt.required_claims),
                secret_env=jwt.secret_env if hs else None,
                signing_key_id=None if hs else jwt.signing_kid,
            ),
            oauth=[
                m.OAuthProviderConfig(
                    authorize_url=env(o.authorize_url) if o.authorize_url is not None else None,
                    client_id=env(o.client_id),
                    client_secret_env=o.client_secret_env,
                    emails_url=env(o.emails_url) if o.emails_url is not None else None,
                    kind=o.kind,
                    name=o.name,
                    redirect_uri=env(o.redirect_uri),
                    scopes=list(o.scopes),
                    token_url=env(o.token_url) if o.token_url is not None else None,
                    userinfo_url=env(o.userinfo_url) if o.userinfo_url is not None else None,
                )
                for o in resolved(_oauth(config, oauth_callback))
            ],
            type=list(config.auth.types),
            login=m.LoginConfig(
                id_column=login.id_column,
                identifier_column=login.identifier_column,
                password_hash_column=login.password_hash_column,
                scopes_column=login.scopes_column,
                table=login.table,
            ),
        ),
        database=m.DatabaseConfig(
            api_schema=database.api_schema,
            roles=m.RolesConfig(
                anonymous=database.roles.anonymous,
                api_key=database.roles.api_key,
                authenticated=database.roles.authenticated,
                authenticator=database.roles.authenticator,
                extra=list(database.roles.extra),
            ),
            schema_=database.schema_,
        ),
        migrate=m.MigrateConfig(
            lock_timeout_seconds=config.migrate.lock_timeout_seconds,
            migrations=config.migrate.migrations,
            statement_timeout_seconds=config.migrate.statement_timeout_seconds,
            wait_seconds=config.migrate.wait_seconds,
        ),
        project=m.ProjectConfig(name=config.project.name),
        security=m.SecurityConfig(
            api_keys=m.ApiKeysConfig(
                default_ttl_days=keys.default_ttl_days,
                enabled=keys.enabled,
                hash_algorithm=keys.hash_algorithm,
                header=keys.header,
                max_ttl_days=keys.max_ttl_days,
                prefix=keys.prefix,
                static=[m.StaticKey(key_hash=k.key_hash, name=k.name, scopes=list(k.scopes)) for k in keys.static],
                storage=keys.storage,
            ),
            claims_key_env=security.claims_key_env,
            optional_claims=list(security.optional_claims),
            pkce=(
                m.PkceConfig(
                    audience=env(pkce.audience) if pkce.audience is not None else None,
                    client_id=env(pkce.client_id),
                    client_secret_env=pkce.client_secret_env,
                    code_challenge_method=pkce.code_challenge_method,
                    issuer_url=env(pkce.issuer_url),
                    provider=pkce.name,
                    redirect_uris=[env(u) for u in pkce.redirect_uris],
                    scopes=list(pkce.scopes),
                )
                if pkce is not None
                else None
            ),
            providers=[_provider(p, roles) for p in security.all_providers],
            rate_limiting=m.RateLimitingConfig(
                lockout_seconds=rate.lockout_seconds,
                login_max_attempts=rate.login_max_attempts,
                login_window_seconds=rate.login_window_seconds,
            ),
            token_revocation=m.TokenRevocationConfig(
                backend=revocation.backend,
                enabled=revocation.enabled,
                fail_open=revocation.fail_open,
                require_jti=revocation.require_jti,
            ),
        ),
        server=m.ServerConfig(
            cookie=m.CookieConfig(
                enabled=config.server.cookie.enabled,
                http_only=True,
                max_age_seconds=jwt.access_token_ttl_seconds,
                name=config.server.cookie.name,
                path="/",
                same_site=config.server.cookie.same_site,
                secure=True,
            ),
            cors=m.CorsConfig(
                allow_credentials=cors.allow_credentials,
                headers=list(cors.headers),
                max_age_seconds=cors.max_age_seconds,
                methods=list(cors.methods),
                origins=[env(o) for o in cors.origins],
            ),
        ),
    )
