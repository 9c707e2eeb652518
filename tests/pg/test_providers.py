"""Third-party tokens (Auth0-style and Clerk-style) verified by the executor against the providers
declared in fraiseql.toml, then enforced by the database like first-party ones."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fraiseql_compiler.executor.errors import ExecutionError
from tests.pg.blogdb import Blog, build_blog
from tests.pg.sessions import ALICE, BOB

AUTH0 = "https://example-tenant.auth0.com/"
CLERK = "https://clerk.example.dev"


def _keypair(kid: str) -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    public_jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return private, public_jwk


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    auth0_key, auth0_jwk = _keypair("auth0-1")
    clerk_key, clerk_jwk = _keypair("clerk-1")
    stranger, _ = _keypair("auth0-1")  # same kid, different key: a forgery
    return {
        "auth0": auth0_key,
        "clerk": clerk_key,
        "stranger": stranger,
        "auth0_jwks": {"keys": [auth0_jwk]},
        "clerk_jwks": {"keys": [clerk_jwk]},
    }


@pytest.fixture
def blog(tmp_path: Path, pg_url: str, keys: dict[str, Any]) -> Any:
    toml = f"""
[[security.providers]]
name = "auth0"
kind = "auth0"
issuer = "{AUTH0}"
jwks_file = "auth0-jwks.json"
audience = "https://api.example.com"
algorithms = ["RS256"]

[security.providers.claims]
roles = "https://example.com/roles"

[[security.providers]]
name = "clerk"
kind = "clerk"
issuer = "{CLERK}"
jwks_file = "clerk-jwks.json"
audience = "https://api.example.com"
"""
    files = {"auth0-jwks.json": json.dumps(keys["auth0_jwks"]), "clerk-jwks.json": json.dumps(keys["clerk_jwks"])}
    db = build_blog(tmp_path, pg_url, toml, files)
    yield db
    db.admin.close()


def pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def auth0_token(keys: dict[str, Any], sub: str, scope: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": AUTH0,
        "sub": sub,
        "aud": ["https://api.example.com", f"{AUTH0}userinfo"],
        "iat": now,
        "exp": now + 600,
        "scope": scope,
        "https://example.com/roles": ["editor"],
        "jti": f"a0-{sub}-{now}-{scope}",
    }
    claims.update(overrides)
    key = overrides.pop("_key", None) or keys["auth0"]
    claims = {k: v for k, v in claims.items() if k != "_key" and v is not None}
    return jwt.encode(claims, pem(key), algorithm="RS256", headers={"kid": "auth0-1"})


def clerk_token(keys: dict[str, Any], sub: str, scopes: list[str]) -> str:
    now = int(time.time())
    claims = {
        "iss": CLERK,
        "sub": sub,
        "aud": "https://api.example.com",
        "iat": now,
        "exp": now + 600,
        "scopes": scopes,
        "jti": f"ck-{sub}-{now}",
    }
    return jwt.encode(claims, pem(keys["clerk"]), algorithm="RS256", headers={"kid": "clerk-1"})


def test_auth0_token_with_aud_list_and_scope_string(blog: Blog, keys: dict[str, Any]) -> None:
    token = auth0_token(keys, ALICE, "openid profile write:posts")
    assert [p["title"] for p in blog.run("myPosts", token)] == ["Hello"]
    created = blog.run("createPost", token, input={"title": "via auth0", "body": "b"})
    assert created["author"]["id"] == ALICE  # scope string normalized to a scopes array


def test_auth0_token_without_the_scope_is_403(blog: Blog, keys: dict[str, Any]) -> None:
    result = blog.run("createPost", auth0_token(keys, ALICE, "openid profile"), input={"title": "t", "body": "b"})
    assert isinstance(result, ExecutionError) and result.http == 403


def test_clerk_token_with_scopes_array(blog: Blog, keys: dict[str, Any]) -> None:
    result = blog.run("myPosts", clerk_token(keys, BOB, []))
    assert not isinstance(result, ExecutionError), result.message
    assert [p["title"] for p in result] == ["Bob here"]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"aud": "https://other-api.example.com"}, id="wrong-audience"),
        pytest.param({"iss": AUTH0.rstrip("/")}, id="issuer-without-trailing-slash"),
        pytest.param({"exp": int(time.time()) - 60}, id="expired"),
    ],
)
def test_bad_provider_tokens_are_rejected(blog: Blog, keys: dict[str, Any], overrides: dict[str, Any]) -> None:
    result = blog.run("myPosts", auth0_token(keys, ALICE, "write:posts", **overrides))
    assert isinstance(result, ExecutionError) and result.http == 401


def test_forged_provider_token_is_rejected(blog: Blog, keys: dict[str, Any]) -> None:
    result = blog.run("myPosts", auth0_token(keys, ALICE, "write:posts", _key=keys["stranger"]))
    assert isinstance(result, ExecutionError) and result.http == 401


def test_hs256_token_claiming_a_provider_issuer_is_rejected(blog: Blog) -> None:
    # algorithm confusion: an HS256 token signed with a guessable secret but the provider's issuer
    now = int(time.time())
    token = jwt.encode(
        {"iss": AUTH0, "sub": ALICE, "aud": "https://api.example.com", "iat": now, "exp": now + 60},
        "guessable-secret-0123456789abcdef0123456789",
        algorithm="HS256",
    )
    result = blog.run("myPosts", token)
    assert isinstance(result, ExecutionError) and result.http == 401


def test_provider_token_without_jti_is_rejected_when_revocation_requires_it(blog: Blog, keys: dict[str, Any]) -> None:
    result = blog.run("myPosts", auth0_token(keys, ALICE, "write:posts", jti=None))
    assert isinstance(result, ExecutionError) and result.http == 401


def test_role_rules_choose_the_api_role(tmp_path: Path, pg_url: str, keys: dict[str, Any]) -> None:
    # A token whose namespaced roles claim contains "auditor" gets the extra role fraiseql_auditor, which
    # the schema grants read access to every post (drafts included); other tokens stay "authenticated".
    toml = f"""
[database.roles]
extra = ["fraiseql_auditor"]

[[security.providers]]
name = "auth0"
kind = "auth0"
issuer = "{AUTH0}"
jwks_file = "auth0-jwks.json"
audience = "https://api.example.com"
role_rules = [{{ role = "fraiseql_auditor", claim = "https://example.com/roles", contains = "auditor" }}]
"""
    schema = (Path(__file__).resolve().parents[2] / "examples" / "blog" / "schema.py").read_text()
    schema = schema.replace(
        '"api_key": fraiseql.access(read="published AND {scope:read:posts}"),',
        '"api_key": fraiseql.access(read="published AND {scope:read:posts}"),\n'
        '        "fraiseql_auditor": fraiseql.access(read="true"),',
    )
    files = {"auth0-jwks.json": json.dumps(keys["auth0_jwks"]), "schema.py": schema}
    db = build_blog(tmp_path, pg_url, toml, files)
    try:
        auditor = auth0_token(keys, ALICE, "read:posts", **{"https://example.com/roles": ["auditor", "x"]})
        editor = auth0_token(keys, ALICE, "read:posts")
        all_posts = sorted(p["title"] for p in db.run("posts", auditor))
        assert all_posts == ["Bob here", "Hello"]  # Bob's draft too: the auditor role's policy
        assert sorted(p["title"] for p in db.run("posts", editor)) == ["Hello"]
    finally:
        db.admin.close()
