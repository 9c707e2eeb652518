"""fraiseql.toml: defaults, the authentication guide's snippets, refusals, secrets, lines, normalized form."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from fraiseql_compiler.config import CONFIG_FILE, Config, ConfigError, EnvRef, load_config
from fraiseql_compiler.config.lines import LineIndex
from fraiseql_compiler.diagnostics import Diagnostic, FraiseQLError
from fraiseql_compiler.manifest.config import runtime_config

REPO = Path(__file__).resolve().parents[2]

RSA_JWKS = {"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWh"
                      "M78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W", "e": "AQAB"}]}
EC_JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                     "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}
SHA256_OF_SECRET = "sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
FILES = {"keys/jwks.json": RSA_JWKS, "keys/ec.json": EC_JWKS}



def normalized(config: Config) -> dict[str, Any]:
    """The configuration as the manifest records it (its "config" member)."""
    return runtime_config(config).model_dump(mode="json")

def write(tmp_path: Path, toml: str, files: dict[str, Any] | None = None) -> Path:
    for name, content in {**FILES, **(files or {})}.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    path = tmp_path / CONFIG_FILE
    path.write_text(textwrap.dedent(toml).lstrip("\n"), encoding="utf-8")
    return path


def load(tmp_path: Path, toml: str, files: dict[str, Any] | None = None) -> Config:
    return load_config(write(tmp_path, toml, files))


def problems(tmp_path: Path, toml: str, files: dict[str, Any] | None = None) -> list[Diagnostic]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, toml, files)
    assert isinstance(caught.value, FraiseQLError)
    return caught.value.diagnostics


def only(tmp_path: Path, toml: str, files: dict[str, Any] | None = None) -> Diagnostic:
    found = problems(tmp_path, toml, files)
    assert len(found) == 1, [f"{d.span}: {d.code} {d.message}" for d in found]
    return found[0]


# -- defaults ----------------------------------------------------------------------------------------------

DEFAULTS = [
    ("database.schema_", "public"),
    ("database.api_schema", "api"),
    ("database.roles.authenticator", "fraiseql_authenticator"),
    ("database.roles.anonymous", "fraiseql_anonymous"),
    ("database.roles.authenticated", "fraiseql_authenticated"),
    ("database.roles.api_key", "fraiseql_api_key"),
    ("database.roles.extra", ()),
    ("auth.jwt.algorithm", EnvRef("JWT_ALGORITHM", "HS256")),
    ("auth.jwt.algorithm_value", "HS256"),
    ("auth.jwt.issuer", EnvRef("JWT_ISSUER")),
    ("auth.jwt.audience", (EnvRef("JWT_AUDIENCE"),)),
    ("auth.jwt.secret_env", "JWT_SECRET"),
    ("auth.jwt.jwks_file", None),
    ("auth.jwt.private_key_env", "JWT_PRIVATE_KEY"),
    ("auth.jwt.leeway_seconds", 30),
    ("auth.jwt.required_claims", ("sub", "exp", "iat")),
    ("auth.jwt.access_token_ttl_seconds", 3600),
    ("auth.jwt.max_token_lifetime_seconds", 86400),
    ("auth.jwt.refresh_token_ttl_seconds", 1209600),
    ("auth.login.table", "tb_user"),
    ("auth.login.id_column", "id"),
    ("auth.login.identifier_column", "email"),
    ("auth.login.password_hash_column", "password_hash"),
    ("auth.login.scopes_column", "scopes"),
    ("security.providers", ()),
    ("security.api_keys.enabled", False),
    ("security.api_keys.header", "X-API-Key"),
    ("security.api_keys.hash_algorithm", "sha256"),
    ("security.api_keys.storage", "postgres"),
    ("security.api_keys.prefix", "fql_"),
    ("security.api_keys.default_ttl_days", 90),
    ("security.api_keys.max_ttl_days", 365),
    ("security.api_keys.static", ()),
    ("security.token_revocation.enabled", False),
    ("security.token_revocation.backend", "postgres"),
    ("security.token_revocation.require_jti", True),
    ("security.token_revocation.fail_open", False),
    ("security.pkce", None),
    ("security.rate_limiting.login_max_attempts", 5),
    ("security.rate_limiting.login_window_seconds", 900),
    ("security.rate_limiting.lockout_seconds", 900),
    ("server.cors.origins", ()),
    ("server.cors.allow_credentials", False),
    ("server.cors.methods", ("GET", "POST")),
    ("server.cors.headers", ("Authorization", "Content-Type")),
    ("server.cors.max_age_seconds", 600),
    ("build.out", "build"),
]


def attr(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(("setting", "expected"), DEFAULTS, ids=[d[0] for d in DEFAULTS])
def test_defaults(tmp_path: Path, setting: str, expected: Any) -> None:
    assert attr(Config(), setting) == expected
    assert attr(load(tmp_path, "[project]\nname = 'x'\n"), setting) == expected  # a file without the section


PROVIDER = """
[[security.providers]]
name = "auth0"
kind = "{kind}"
issuer = "{issuer}"
jwks_uri = "https://example.auth0.com/.well-known/jwks.json"
audience = "https://api.example.com"
"""


@pytest.mark.parametrize(
    ("kind", "issuer", "claim", "form"),
    [
        ("auth0", "https://example.auth0.com/", "scope", "space_separated"),
        ("clerk", "https://example.clerk.accounts.dev", "scopes", "array"),
        ("oidc", "https://id.example.com", "scope", "space_separated"),
    ],
)
def test_provider_defaults_per_kind(tmp_path: Path, kind: str, issuer: str, claim: str, form: str) -> None:
    config = load(tmp_path, PROVIDER.format(kind=kind, issuer=issuer))
    (provider,) = config.security.providers
    assert (provider.scopes_claim, provider.scopes_format) == (claim, form)
    assert provider.algorithms == ("RS256",)
    assert (provider.subject_claim, provider.default_role, provider.role_rules) == ("sub", "authenticated", ())
    assert provider.audience == ("https://api.example.com",)
    assert config.warnings == ()


def test_normalized_defaults_keep_env_references() -> None:
    data = normalized(Config())
    assert data["database"] == {
        "schema": "public",
        "api_schema": "api",
        "roles": {"authenticator": "fraiseql_authenticator", "anonymous": "fraiseql_anonymous",
                  "authenticated": "fraiseql_authenticated", "api_key": "fraiseql_api_key", "extra": []},
    }
    jwt = data["auth"]["jwt"]
    assert jwt["algorithm"] == {"env": "JWT_ALGORITHM", "default": "HS256"}
    assert jwt["allowed_algorithms"] == ["HS256"]
    assert jwt["issuer"] == {"env": "JWT_ISSUER"}
    assert jwt["audience"] == [{"env": "JWT_AUDIENCE"}]
    assert (jwt["secret_env"], jwt["private_key_env"], jwt["jwks"]) == ("JWT_SECRET", None, None)
    assert data["security"]["pkce"] is None
    assert set(data) == {"project", "database", "auth", "migrate", "security", "server"}
    assert json.loads(json.dumps(data)) == data


# -- the authentication guide's snippets -------------------------------------------------------------------

GUIDE_ACCEPTED = {
    "token_revocation (postgres)": """
        [security.token_revocation]
        enabled = true
        backend = "postgres" # or "postgres"
        require_jti = true # reject JWTs without a jti claim
        fail_open = false # if store unreachable, deny (not allow) the request
    """,
    "api_keys (postgres)": """
        [security.api_keys]
        enabled = true
        header = "X-API-Key"
        hash_algorithm = "sha256" # "sha256" (fast, CI use) or "argon2" (production)
        storage = "postgres" # or "env" for static keys (testing/CI only)
    """,
    "pkce": """
        [security.pkce]
        issuer_url = "https://{your-auth0-domain}.auth0.com/"
        client_id = "${AUTH0_CLIENT_ID}"
        audience = "https://api.yourdomain.com" # your Auth0 API audience
    """,
    "cors and rate limiting": """
        [server.cors]
        origins = ["https://app.yourdomain.com"]

        [security.rate_limiting]
        login_max_attempts = 5
    """,
}


@pytest.mark.parametrize("toml", GUIDE_ACCEPTED.values(), ids=GUIDE_ACCEPTED.keys())
def test_guide_snippets_are_accepted(tmp_path: Path, toml: str) -> None:
    config = load(tmp_path, toml)
    assert config.warnings == ()
    json.dumps(normalized(config))


def test_references_inside_a_value_are_a_template(tmp_path: Path) -> None:
    """The guide writes issuer URLs as "https://${AUTH0_DOMAIN}/": the runtime fills the reference in."""
    from fraiseql_compiler.executor.envref import resolve
    from fraiseql_compiler.executor.errors import ExecutionError
    from fraiseql_compiler.manifest.config import env

    config = load(tmp_path, '[auth.jwt]\nissuer = "https://${AUTH0_DOMAIN}/"\naudience = "x"\n')
    value = env(config.auth.jwt.issuer)
    assert value.model_dump() == {"env": "AUTH0_DOMAIN", "template": "https://${AUTH0_DOMAIN}/"}
    assert resolve(value, {"AUTH0_DOMAIN": "tenant.auth0.com"}) == "https://tenant.auth0.com/"
    with pytest.raises(ExecutionError, match="AUTH0_DOMAIN is not set"):
        resolve(value, {})


def test_guide_pkce_normalized(tmp_path: Path) -> None:
    pkce = normalized(load(tmp_path, GUIDE_ACCEPTED["pkce"]))["security"]["pkce"]
    assert pkce == {
        "issuer_url": "https://{your-auth0-domain}.auth0.com/",
        "client_id": {"env": "AUTH0_CLIENT_ID"},
        "audience": "https://api.yourdomain.com",
        "redirect_uris": [],
        "code_challenge_method": "S256",
        # what the block stands for, with the defaults (issue 14): a provider named oidc found by discovery
        "provider": "oidc",
        "scopes": ["openid", "profile", "email"],
        "client_secret_env": "OIDC_CLIENT_SECRET",
    }


GUIDE_API_KEYS = """
[security.api_keys]
enabled = true
header = "X-API-Key"
hash_algorithm = "sha256" # "sha256" (fast, CI use) or "argon2" (production)
storage = "postgres" # or "env" for static keys (testing/CI only)

# Static keys — testing and CI only. Never in production.
[[security.api_keys.static]]
key_hash = "sha256:abc123..." # echo -n "secret" | sha256sum
scopes = ["read:*"]
name = "ci-readonly"
"""

# (snippet, code, line, words in the message) — the documented refusals of the guide as written
GUIDE_REFUSED = {
    "redis backend": (
        """
        [security.token_revocation]
        enabled = true
        backend = "redis" # or "postgres"
        require_jti = true
        fail_open = false
        """, "FQL134", 3, "only the postgres backend is enforced"),
    "argon2": (
        """
        [security.api_keys]
        enabled = true
        hash_algorithm = "argon2"
        """, "FQL134", 3, "SHA-256 digest"),
    "placeholder key_hash": (
        f"""
        [security.api_keys]
        storage = "env"

        [[security.api_keys.static]]
        name = "ok"
        key_hash = "{SHA256_OF_SECRET}"

        [[security.api_keys.static]]
        key_hash = "sha256:abc123..." # echo -n "secret" | sha256sum
        scopes = ["read:*"]
        name = "ci-readonly"
        """, "FQL132", 9, "placeholder"),
}


@pytest.mark.parametrize(("toml", "code", "line", "words"), GUIDE_REFUSED.values(), ids=GUIDE_REFUSED.keys())
def test_guide_refusals(tmp_path: Path, toml: str, code: str, line: int, words: str) -> None:
    d = only(tmp_path, toml)
    assert (d.code, d.span.line if d.span else None) == (code, line)
    assert words in d.message


def test_guide_api_keys_as_written_gives_both_problems(tmp_path: Path) -> None:
    found = problems(tmp_path, GUIDE_API_KEYS)
    assert [(d.code, d.span.line if d.span else 0) for d in found] == [("FQL132", 8), ("FQL132", 9)]
    assert 'storage = "env"' in found[0].message
    assert "placeholder" in found[1].message


def test_static_keys_with_env_storage_warn(tmp_path: Path) -> None:
    config = load(tmp_path, f"""
        [security.api_keys]
        enabled = true
        storage = "env"

        [[security.api_keys.static]]
        name = "ci-readonly"
        key_hash = "{SHA256_OF_SECRET}"
        scopes = ["read:*"]
    """)
    assert [(w.code, w.severity, w.span.line if w.span else 0) for w in config.warnings] == [("FQL302", "warning", 5)]
    assert normalized(config)["security"]["api_keys"]["static"] == [
        {"name": "ci-readonly", "key_hash": SHA256_OF_SECRET, "scopes": ["read:*"]}
    ]


# -- refusals ------------------------------------------------------------------------------------------------

# (toml, code, line, words in the message)
REFUSED = {
    "algorithm none": ('[auth.jwt]\nalgorithm = "none"\n', "FQL132", 2, '"none" (unsigned tokens) is never'),
    "algorithm None": ('[auth.jwt]\nalgorithm = "None"\n', "FQL132", 2, "never accepted"),
    "env algorithm none": ('[auth.jwt]\nalgorithm = "${JWT_ALGORITHM:-none}"\n', "FQL132", 2, "never accepted"),
    "env algorithm HS512": ('[auth.jwt]\nalgorithm = "${JWT_ALGORITHM:-HS512}"\n', "FQL132", 2, "must be one of"),
    "env algorithm without default": ('[auth.jwt]\nalgorithm = "${JWT_ALGORITHM}"\n', "FQL132", 2, "needs a default"),
    "HS256 jwks_file": ('[auth.jwt]\njwks_file = "keys/jwks.json"\n', "FQL134", 2, "refused with HS256"),
    "RS256 without jwks": ('[auth.jwt]\nalgorithm = "RS256"\n', "FQL132", 1, "needs jwks_file"),
    "RS256 secret_env": ('[auth.jwt]\nalgorithm = "RS256"\nsecret_env = "X"\njwks_file = "keys/jwks.json"\n',
                         "FQL134", 3, "not used with RS256"),
    "HS256 private_key_env": ('[auth.jwt]\nprivate_key_env = "K"\n', "FQL134", 2, "not used with HS256"),
    "RS256 with an EC JWKS": ('[auth.jwt]\nalgorithm = "RS256"\njwks_file = "keys/ec.json"\n', "FQL132", 3,
                              "no signing key for RS256"),
    "missing JWKS": ('[auth.jwt]\nalgorithm = "ES256"\njwks_file = "keys/nope.json"\n', "FQL132", 3,
                     "does not exist"),
    "absolute JWKS": ('[auth.jwt]\nalgorithm = "ES256"\njwks_file = "/etc/jwks.json"\n', "FQL132", 3, "relative"),
    "no exp": ('[auth.jwt]\nrequired_claims = ["sub"]\n', "FQL132", 2, '"exp"'),
    "leeway": ("[auth.jwt]\nleeway_seconds = 301\n", "FQL132", 2, "300"),
    "lifetime below ttl": ("[auth.jwt]\naccess_token_ttl_seconds = 7200\nmax_token_lifetime_seconds = 3600\n",
                           "FQL132", 3, "at least access_token_ttl_seconds"),
    "string for int": ('[auth.jwt]\nleeway_seconds = "30"\n', "FQL132", 2, "integer"),
    "malformed reference": ('[auth.jwt]\nissuer = "${jwt_issuer}"\n', "FQL132", 2, "malformed environment"),
    "pkce issuer twice": (
        '[security.pkce]\nissuer_url = "https://t.auth0.com/"\nclient_id = "c"\n\n[[security.providers]]\n'
        'name = "a0"\nkind = "auth0"\nissuer = "https://t.auth0.com/"\naudience = "x"\ndiscovery = true\n',
        "FQL132", 2, "declared twice",
    ),
    "half a reference": ('[auth.jwt]\nissuer = "https://${HOST/"\n', "FQL132", 2, "malformed environment"),
    "reference in SQL name": ('[database]\nschema = "${SCHEMA}"\n', "FQL132", 2, "cannot be an environment"),
    "wildcard with credentials": ('[server.cors]\norigins = ["*"]\nallow_credentials = true\n', "FQL132", 3,
                                  "wildcard"),
    "origin with path": ('[server.cors]\norigins = ["https://a.example.com",\n "https://b.example.com/app"]\n',
                         "FQL132", 3, "no path"),
    "cors PUT": ('[server.cors]\nmethods = ["GET", "PUT"]\n', "FQL132", 2, "GET and POST only"),
    "fail_open": ("[security.token_revocation]\nenabled = true\nfail_open = true\n", "FQL132", 3,
                  "fail_open_acknowledged"),
    "pkce plain": ('[security.pkce]\nissuer_url = "https://id.example.com/"\nclient_id = "abc"\n'
                   'code_challenge_method = "plain"\n', "FQL132", 4, "plain"),
    "pkce http": ('[security.pkce]\nissuer_url = "http://id.example.com/"\nclient_id = "abc"\n', "FQL132", 2,
                  "https"),
    "role postgres": ('[database.roles]\nanonymous = "postgres"\n', "FQL132", 2, "cannot be an API role"),
    "role pg_": ('[database.roles]\nextra = ["pg_monitor"]\n', "FQL132", 2, "cannot be an API role"),
    "role twice": ('[database.roles]\nanonymous = "app"\nauthenticated = "app"\n', "FQL132", 3, "already"),
    "role uppercase": ('[database.roles]\napi_key = "Service"\n', "FQL132", 2, "lowercase SQL identifier"),
    "api schema = schema": ('[database]\nschema = "app"\napi_schema = "app"\n', "FQL132", 3, "schema of their own"),
    "login table": ('[auth.login]\ntable = "Users"\n', "FQL132", 2, "lowercase SQL identifier"),
    "rate limit": ("[security.rate_limiting]\nlogin_max_attempts = 0\n", "FQL132", 2, "greater than or equal"),
    "api key header": ('[security.api_keys]\nheader = "Authorization"\n', "FQL132", 2, "something else"),
    "max ttl below default": ("[security.api_keys]\ndefault_ttl_days = 30\nmax_ttl_days = 7\n", "FQL132", 3,
                              "at least default_ttl_days"),
}


@pytest.mark.parametrize(("toml", "code", "line", "words"), REFUSED.values(), ids=REFUSED.keys())
def test_refusals(tmp_path: Path, toml: str, code: str, line: int, words: str) -> None:
    d = only(tmp_path, toml)
    assert (d.code, d.span.line if d.span else None) == (code, line), d.message
    assert words in d.message
    assert d.span is not None and d.span.file == CONFIG_FILE


PROVIDER_REFUSED = {
    "HS256": ('algorithms = ["HS256"]', "FQL132", 7, "public keys only"),
    "none": ('algorithms = ["RS256", "none"]', "FQL132", 7, "public keys only"),
    "no audience": ("", "FQL132", 1, "required"),  # replaced below: audience removed
    "both key sources": ('jwks_file = "keys/jwks.json"', "FQL132", 7, "only one of"),
    "http jwks_uri": (None, "FQL132", 4, "https"),
    "unknown kind": (None, "FQL132", 3, "'auth0', 'clerk' or 'oidc'"),
    "reserved claim": ('claims = { sub = "user_id" }', "FQL132", 7, "sets itself"),
    "two operators": ('role_rules = [{ role = "authenticated", claim = "x", equals = "a", exists = true }]',
                      "FQL132", 7, "exactly one of"),
    "no operator": ('role_rules = [{ role = "authenticated", claim = "x" }]', "FQL132", 7, "exactly one of"),
    "exists false": ('role_rules = [{ role = "authenticated", claim = "x", exists = false }]', "FQL132", 7,
                     "exists = true"),
}

PROVIDER_BASE = """[[security.providers]]
name = "main"
kind = "oidc"
jwks_uri = "https://id.example.com/jwks.json"
issuer = "https://id.example.com"
audience = "api"
"""


@pytest.mark.parametrize(("extra", "code", "line", "words"), PROVIDER_REFUSED.values(), ids=PROVIDER_REFUSED.keys())
def test_provider_refusals(tmp_path: Path, extra: str | None, code: str, line: int, words: str) -> None:
    toml = PROVIDER_BASE + (extra or "") + "\n"
    if words == "required":
        toml = PROVIDER_BASE.replace('audience = "api"\n', "")
    elif words == "https":
        toml = PROVIDER_BASE.replace("https://id.example.com/jwks", "http://id.example.com/jwks")
    elif "oidc" in words:
        toml = PROVIDER_BASE.replace('"oidc"', '"okta"')
    d = only(tmp_path, toml)
    assert (d.code, d.span.line if d.span else None) == (code, line), d.message
    assert words in d.message


def test_localhost_http_is_allowed_for_development(tmp_path: Path) -> None:
    config = load(tmp_path, PROVIDER_BASE.replace("https://id.example.com", "http://localhost:8080"))
    assert config.security.providers[0].jwks_uri == "http://localhost:8080/jwks.json"


def test_provider_with_jwks_file_carries_the_keys(tmp_path: Path) -> None:
    toml = PROVIDER_BASE.replace('jwks_uri = "https://id.example.com/jwks.json"', 'jwks_file = "keys/ec.json"')
    config = load(tmp_path, toml + 'algorithms = ["ES256"]\n')
    provider = normalized(config)["security"]["providers"][0]
    assert (provider["jwks_file"], provider["jwks_uri"], provider["jwks"]) == ("keys/ec.json", None, EC_JWKS)


def test_rs256_jwt_normalized(tmp_path: Path) -> None:
    config = load(tmp_path, '[auth.jwt]\nalgorithm = "RS256"\njwks_file = "keys/jwks.json"\nissuer = "app"\n'
                            'audience = ["a", "${EXTRA_AUD}"]\n')
    jwt = normalized(config)["auth"]["jwt"]
    assert jwt["algorithm"] == "RS256" and jwt["allowed_algorithms"] == ["RS256"]
    assert (jwt["secret_env"], jwt["private_key_env"]) == (None, "JWT_PRIVATE_KEY")
    assert jwt["jwks"] == RSA_JWKS
    assert jwt["audience"] == ["a", {"env": "EXTRA_AUD"}]


# -- roles in provider rules -------------------------------------------------------------------------------

ROLES = """
[database.roles]
authenticated = "app_user"
extra = ["app_editor"]
"""


@pytest.mark.parametrize(
    ("role", "words", "hint"),
    [
        ("admin", 'unknown role "admin"', "extra"),
        ("app_editr", 'unknown role "app_editr"', 'did you mean "app_editor"?'),
        ("app_user", 'unknown role "app_user"', 'write the role key "authenticated"'),
        ("api_key", "reserved for requests that present an API key", None),
        ("authenticator", "login role", None),
    ],
)
def test_role_rules_refer_to_known_roles(tmp_path: Path, role: str, words: str, hint: str | None) -> None:
    toml = ROLES + PROVIDER_BASE + f'role_rules = [{{ role = "{role}", claim = "org_role", equals = "x" }}]\n'
    d = only(tmp_path, toml)
    assert d.code == "FQL132" and d.span is not None and d.span.line == 10
    assert words in d.message and "security.providers[0].role_rules[0].role" in d.message
    if hint:
        assert d.hint is not None and hint in d.hint


def test_role_rules_resolve_to_database_roles(tmp_path: Path) -> None:
    toml = ROLES + PROVIDER_BASE + textwrap.dedent("""
        default_role = "anonymous"
        role_rules = [
          { role = "app_editor", claim = "https://example.com/roles", contains = "editor" },
          { role = "authenticated", claim = "email_verified", equals = true },
          { role = "authenticated", claim = "org_id", exists = true },
        ]
    """)
    provider = normalized(load(tmp_path, toml))["security"]["providers"][0]
    assert provider["role_rules"] == [
        {"role": "app_editor", "db_role": "app_editor", "claim": "https://example.com/roles",
         "operator": "contains", "value": "editor"},
        {"role": "authenticated", "db_role": "app_user", "claim": "email_verified", "operator": "equals",
         "value": True},
        {"role": "authenticated", "db_role": "app_user", "claim": "org_id", "operator": "exists", "value": True},
    ]
    assert (provider["default_role"], provider["default_db_role"]) == ("anonymous", "fraiseql_anonymous")


def test_unknown_default_role(tmp_path: Path) -> None:
    d = only(tmp_path, PROVIDER_BASE + 'default_role = "editor"\n')
    assert d.span is not None and d.span.line == 7 and 'unknown role "editor"' in d.message


# -- secrets -------------------------------------------------------------------------------------------------

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
RANDOM = "Zq8xW3vT9mK2pL7nB4cR6yH1sD5fG0jQ"
PEM = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----"

# (toml, the secret, line, words in the hint)
SECRETS = {
    "jwt_secret": ('[auth.jwt]\njwt_secret = "hunter2-but-longer"\n', "hunter2-but-longer", 2, "secret_env"),
    "secret": ('[auth.jwt]\nalgorithm = "HS256"\nsecret = "correct horse battery"\n', "correct horse battery", 3,
               "secret_env"),
    "private_key": (f'[auth.jwt]\nprivate_key = "{PEM}"\n', "MIIEvQIBADANBg", 2, "private_key_env"),
    "client_secret": ('[security.pkce]\nissuer_url = "https://a.example.com/"\nclient_id = "x"\n'
                      'client_secret = "s3cr3t!"\n', "s3cr3t!", 4, "no client secret"),
    "password default": ('[project]\nname = "x"\npassword = "${DB_PASSWORD:-letmein1}"\n', "letmein1", 3,
                         "environment"),
    "static key": ('[security.api_keys]\nstorage = "env"\n[[security.api_keys.static]]\nname = "ci"\n'
                   'key = "fql_live_key_value"\n', "fql_live_key_value", 5, "key_hash"),
    "secret_env holding the secret": ('[auth.jwt]\nsecret_env = "this is the actual secret"\n',
                                      "this is the actual secret", 2, "name the variable"),
    "JWT in another key": (f'[project]\nname = "{JWT}"\n', JWT, 2, "environment"),
    "random string": (f'[project]\nname = "blog"\n\n[server.cors]\nheaders = ["X-Id", "{RANDOM}"]\n', RANDOM, 5,
                      "environment"),
}


@pytest.mark.parametrize(("toml", "secret", "line", "hint"), SECRETS.values(), ids=SECRETS.keys())
def test_secrets_in_the_file_are_refused_without_echo(
    tmp_path: Path, toml: str, secret: str, line: int, hint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, toml)
    found = [d for d in caught.value.diagnostics if d.code == "FQL133"]
    assert [d.span.line if d.span else 0 for d in found] == [line]
    assert found[0].hint is not None and hint in found[0].hint
    for d in caught.value.diagnostics:  # no message or hint, not only the FQL133 one, repeats the value
        assert secret not in d.message and secret not in (d.hint or "")
        assert "hunter2" not in str(caught.value)
    assert any(secret in s for s in caught.value.secrets)  # the renderer masks it in the source excerpt


def test_secret_names_holding_references_are_fine(tmp_path: Path) -> None:
    # [database.roles] api_key is a role name, and a reference to a variable is no secret
    config = load(tmp_path, '[database.roles]\napi_key = "app_service"\n[security.pkce]\n'
                            'issuer_url = "https://a.example.com/"\nclient_id = "Zq8xW3vT9mK2pL7nB4cR6yH1sD5fG0jQ"\n')
    assert config.database.roles.api_key == "app_service"


def test_private_keys_in_a_jwks_file(tmp_path: Path) -> None:
    private = {"keys": [{**RSA_JWKS["keys"][0], "d": "private-exponent"}]}
    d = only(tmp_path, '[auth.jwt]\nalgorithm = "RS256"\njwks_file = "keys/private.json"\n',
             {"keys/private.json": private})
    assert (d.code, d.span.line if d.span else 0) == ("FQL133", 3)
    assert "private-exponent" not in d.message


# -- environment references ----------------------------------------------------------------------------------

def test_env_references_are_never_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH0_CLIENT_ID", "canary-client-id-value")
    monkeypatch.setenv("JWT_ISSUER", "canary-issuer-value")
    monkeypatch.setenv("APP_ORIGIN", "https://canary.example.com")
    config = load(tmp_path, """
        [auth.jwt]
        issuer = "${JWT_ISSUER}"
        audience = "${JWT_AUDIENCE:-my-api}"

        [security.pkce]
        issuer_url = "${PKCE_ISSUER:-https://id.example.com/}"
        client_id = "${AUTH0_CLIENT_ID}"

        [server.cors]
        origins = ["${APP_ORIGIN}"]
    """)
    data = normalized(config)
    assert data["auth"]["jwt"]["issuer"] == {"env": "JWT_ISSUER"}
    assert data["auth"]["jwt"]["audience"] == [{"env": "JWT_AUDIENCE", "default": "my-api"}]
    assert data["security"]["pkce"]["client_id"] == {"env": "AUTH0_CLIENT_ID"}
    assert data["security"]["pkce"]["issuer_url"] == {"env": "PKCE_ISSUER", "default": "https://id.example.com/"}
    assert data["server"]["cors"]["origins"] == [{"env": "APP_ORIGIN"}]
    text = json.dumps(data)
    assert "canary" not in text


def test_env_default_is_checked(tmp_path: Path) -> None:
    d = only(tmp_path, '[security.pkce]\nissuer_url = "${ISSUER:-http://id.example.com}"\nclient_id = "x"\n')
    assert d.span is not None and d.span.line == 2 and "https" in d.message


# -- unknown keys and lines ----------------------------------------------------------------------------------

def test_unknown_key_in_a_nested_table(tmp_path: Path) -> None:
    d = only(tmp_path, '[project]\nname = "x"\n\n[auth.jwt]\nalgorithim = "HS256"\n')
    assert (d.code, d.message, d.span.line if d.span else 0) == ("FQL131", 'unknown setting "auth.jwt.algorithim"', 5)
    assert d.hint == 'did you mean "algorithm"?'


def test_unknown_key_in_the_second_provider(tmp_path: Path) -> None:
    second = PROVIDER_BASE.replace('"main"', '"second"').replace('audience = "api"', 'audiance = "api"')
    found = problems(tmp_path, PROVIDER_BASE + "\n" + second)
    assert [(d.code, d.message, d.span.line if d.span else 0) for d in found] == [
        ("FQL132", 'invalid setting "security.providers[1].audience": required, but missing', 8),
        ("FQL131", 'unknown setting "security.providers[1].audiance"', 13),
    ]


def test_unknown_key_in_an_inline_rule_on_its_own_line(tmp_path: Path) -> None:
    toml = PROVIDER_BASE + textwrap.dedent("""
        role_rules = [
          { role = "authenticated", claim = "a", exists = true },
          { role = "authenticated", claim = "b", exists = true, when = "x" },
        ]
    """)
    d = only(tmp_path, toml)
    assert (d.code, d.span.line if d.span else 0) == ("FQL131", 10)
    assert d.message == 'unknown setting "security.providers[0].role_rules[1].when"'


def test_unknown_sections_and_internal_names(tmp_path: Path) -> None:
    found = problems(tmp_path, 'path = "/etc"\nwarnings = []\n[security.cors]\norigins = []\n')
    assert [(d.code, d.span.line if d.span else 0) for d in found] == [("FQL131", 1), ("FQL131", 2), ("FQL131", 3)]


def test_line_index_skips_multiline_strings() -> None:
    index = LineIndex('a = """\nb = 1\n"""\n[t]\nb = [\n  1,\n  2,\n]\n')
    assert index.line_of(("b",)) == 1  # not the text inside the string: falls back to the first line
    assert index.line_of(("t", "b", 1)) == 7
    assert index.line_of(("t", "c")) == 4


# -- warnings --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kind", "issuer", "words"),
    [
        ("auth0", "https://example.auth0.com", "trailing slash"),
        ("clerk", "https://example.clerk.accounts.dev/", "ends with a slash"),
        ("auth0", "${AUTH0_ISSUER:-https://example.auth0.com}", "trailing slash"),
    ],
)
def test_issuer_slash_conventions(tmp_path: Path, kind: str, issuer: str, words: str) -> None:
    config = load(tmp_path, PROVIDER.format(kind=kind, issuer=issuer))
    (w,) = config.warnings
    assert (w.code, w.severity, w.span.line if w.span else 0) == ("FQL301", "warning", 4)
    assert words in w.message
    assert "warnings" not in json.dumps(normalized(config))


# -- all at once, and the examples ---------------------------------------------------------------------------

def test_every_problem_is_reported_in_one_raise(tmp_path: Path) -> None:
    found = problems(tmp_path, """
        [auth.jwt]
        algorithm = "none"
        jwt_secret = "hunter2-but-longer"

        [security.token_revocation]
        backend = "redis"
        fail_open = true

        [security.api_keys]
        hash_algorithm = "argon2"

        [server.cors]
        origins = ["*"]
        allow_credentials = true
        colour = "blue"
    """)
    assert [(d.code, d.span.line if d.span else 0) for d in found] == [
        ("FQL132", 2), ("FQL133", 3), ("FQL134", 6), ("FQL132", 7), ("FQL134", 10), ("FQL132", 14), ("FQL131", 15),
    ]


def test_invalid_toml(tmp_path: Path) -> None:
    d = only(tmp_path, "[project\nname = 1\n")
    assert d.code == "FQL130" and d.span is not None and d.span.line == 1


def test_no_file_means_defaults() -> None:
    config = load_config(None)
    assert (config.path, config.warnings) == (None, ())
    assert normalized(config) == normalized(Config())


@pytest.mark.parametrize("example", sorted(p.parent.name for p in (REPO / "examples").glob("*/fraiseql.toml")))
def test_examples_load(example: str) -> None:
    path = REPO / "examples" / example / CONFIG_FILE
    config = load_config(path)
    assert config.path == path and config.root == path.parent
    assert config.warnings == ()
    first = json.dumps(normalized(config), sort_keys=True)
    assert first == json.dumps(normalized(load_config(path)), sort_keys=True)  # deterministic


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[auth]\ntype = "api_key"\n', "[security.api_keys] enabled = true"),
        ('[auth]\ntype = ["jwt", "oauth2"]\n', "[auth.oauth.google]"),
        ('[auth]\ntype = "saml"\n', "[security.pkce]"),
        ('[auth]\ntype = "ldap"\n', "'jwt', 'api_key', 'oauth2' or 'saml'"),
        ("[auth.oauth.okta]\n", 'kind = "oidc"'),
        ('[auth.oauth.google]\nclient_secret = "s3cr3t-value-0123456789"\n', "client_secret"),
        ('[server.cookie]\nname = "access_token"\n', "__Host-"),
        ('[server.cookie]\ndomain = "example.com"\n', "no Domain"),
        ('[server.cookie]\nsame_site = "none"\n', "cross-site"),
    ],
)
def test_the_guides_auth_settings_are_refused_with_the_sections_to_write(tmp_path: Path, toml: str, says: str) -> None:
    """Issue 8 §6: [auth] type, [auth.oauth.*] and [server.cookie] as the guide means them."""
    (tmp_path / CONFIG_FILE).write_text(toml, encoding="utf-8")
    with pytest.raises((ConfigError, FraiseQLError)) as info:
        load_config(tmp_path / CONFIG_FILE)
    text = " ".join(f"{d.message} {d.hint}" for d in info.value.diagnostics)
    assert says in text, text


def test_the_guides_auth_settings_reach_the_manifest(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text(
        '[auth]\ntype = ["jwt", "api_key", "oauth2"]\n[security.api_keys]\nenabled = true\n'
        '[auth.oauth.github]\n[server.cookie]\nenabled = true\nsame_site = "strict"\n',
        encoding="utf-8",
    )
    runtime = runtime_config(load_config(tmp_path / CONFIG_FILE))
    assert runtime.auth.type == ["jwt", "api_key", "oauth2"]
    [github] = runtime.auth.oauth
    assert (github.client_secret_env, github.emails_url) == ("GITHUB_CLIENT_SECRET", "https://api.github.com/user/emails")
    cookie = runtime.server.cookie
    assert (cookie.name, cookie.same_site, cookie.http_only, cookie.secure, cookie.path) == (
        "__Host-access_token", "strict", True, True, "/",
    )
