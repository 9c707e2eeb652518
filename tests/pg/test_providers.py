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


ALICE_AUTH0 = "auth0|5f7c8ec7c33c6c004bbafe82"  # Auth0 subjects: "<connection>|<id>"
BOB_CLERK = "user_2NNEqL2nrIRdJ194ndJqAHwEfxC"  # Clerk subjects: "user_…"


def link(blog: Blog, provider: str, subject: str, local: str) -> None:
    """An explicit link, as an operator makes one (provider identities are never matched by their text)."""
    blog.admin.execute(
        "INSERT INTO fraiseql.tb_oauth_identity (provider, provider_subject, subject) VALUES (%s, %s, %s)",
        (provider, subject, local),
    )


def test_auth0_token_with_aud_list_and_scope_string(blog: Blog, keys: dict[str, Any]) -> None:
    link(blog, "auth0", ALICE_AUTH0, ALICE)
    token = auth0_token(keys, ALICE_AUTH0, "openid profile write:posts")
    assert [p["title"] for p in blog.run("myPosts", token)] == ["Hello"]
    created = blog.run("createPost", token, input={"title": "via auth0", "body": "b"})
    assert created["author"]["id"] == ALICE  # scope string normalized; the subject mapped through the link


def test_auth0_token_without_the_scope_is_403(blog: Blog, keys: dict[str, Any]) -> None:
    link(blog, "auth0", ALICE_AUTH0, ALICE)
    result = blog.run("createPost", auth0_token(keys, ALICE_AUTH0, "openid profile"), input={"title": "t", "body": "b"})
    assert isinstance(result, ExecutionError) and result.http == 403


def test_clerk_token_with_scopes_array(blog: Blog, keys: dict[str, Any]) -> None:
    link(blog, "clerk", BOB_CLERK, BOB)
    result = blog.run("myPosts", clerk_token(keys, BOB_CLERK, []))
    assert not isinstance(result, ExecutionError), result.message
    assert [p["title"] for p in result] == ["Bob here"]


@pytest.mark.parametrize("sub", ["user_2abc", "auth0|123", "google-oauth2|1098", "", "x" * 300])
def test_an_unlinked_provider_subject_is_authenticated_but_owns_nothing(
    blog: Blog, keys: dict[str, Any], sub: str
) -> None:
    """Issue 8: a Clerk `user_2abc` or an Auth0 `auth0|123` made every query a 500 (invalid input syntax
    for type uuid). An unlinked identity passes @authenticated and sees what any signed-in caller sees."""
    clerk = sub.startswith("user_")
    token = clerk_token(keys, sub, ["write:posts"]) if clerk else auth0_token(keys, sub, "write:posts")
    if sub == "":
        assert isinstance(blog.run("posts", token), ExecutionError)  # no subject: refused (401), not a 500
        return
    assert blog.run("myPosts", token) == []
    assert [p["title"] for p in blog.run("posts", token)] == ["Hello"]  # published only
    assert blog.run("me", token) is None


def test_a_provider_subject_equal_to_a_local_id_is_not_that_user(blog: Blog, keys: dict[str, Any]) -> None:
    """Issue 8: a Clerk token whose sub was Alice's local uuid acted as Alice. Subjects mean something only
    with their issuer: (clerk, <alice's uuid>) is linked to nobody."""
    token = clerk_token(keys, ALICE, ["write:posts"])
    assert blog.run("me", token) is None
    assert blog.run("myPosts", token) == []
    link(blog, "auth0", ALICE, BOB)  # linked in another provider's namespace: still not the clerk identity
    assert blog.run("me", token) is None
    assert blog.run("me", auth0_token(keys, ALICE, "openid"))["id"] == BOB


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


def _linking_blog(tmp_path: Path, pg_url: str, keys: dict[str, Any], mode: str) -> Blog:
    toml = f"""
[[security.providers]]
name = "clerk"
kind = "clerk"
issuer = "{CLERK}"
jwks_file = "clerk-jwks.json"
audience = "https://api.example.com"
link = "{mode}"
"""
    return build_blog(tmp_path, pg_url, toml, {"clerk-jwks.json": json.dumps(keys["clerk_jwks"])})


def clerk_with_email(keys: dict[str, Any], sub: str, email: str | None, verified: Any) -> str:
    now = int(time.time())
    claims = {"iss": CLERK, "sub": sub, "aud": "https://api.example.com", "iat": now, "exp": now + 60,
              "scopes": [], "jti": f"ck-{sub}-{now}-{email}", "email": email, "email_verified": verified}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, pem(keys["clerk"]), algorithm="RS256", headers={"kid": "clerk-1"})


def test_link_by_verified_email_on_first_sight(tmp_path: Path, pg_url: str, keys: dict[str, Any]) -> None:
    db = _linking_blog(tmp_path, pg_url, keys, "email")
    try:
        # unverified: stays unlinked, and nothing is recorded
        assert db.run("me", clerk_with_email(keys, "user_2alice", "alice@example.com", False)) is None
        assert db.run("me", clerk_with_email(keys, "user_2alice", "alice@example.com", None)) is None
        assert db.admin.execute("SELECT count(*) FROM fraiseql.tb_oauth_identity").fetchone() == (0,)
        # verified: linked to the account holding the email, from then on whatever the email says
        assert db.run("me", clerk_with_email(keys, "user_2alice", "alice@example.com", True))["id"] == ALICE
        assert db.run("me", clerk_with_email(keys, "user_2alice", "bob@example.com", True))["id"] == ALICE
        # another Clerk identity with Alice's verified email does not take her account over
        assert db.run("me", clerk_with_email(keys, "user_2evil", "alice@example.com", True)) is None
        # "email" links only: an email nobody has creates nothing
        assert db.run("me", clerk_with_email(keys, "user_2new", "new@example.com", True)) is None
        assert db.admin.execute("SELECT count(*) FROM public.tb_user").fetchone() == (2,)
    finally:
        db.admin.close()


def test_provision_creates_the_account_on_first_sight(tmp_path: Path, pg_url: str, keys: dict[str, Any]) -> None:
    db = _linking_blog(tmp_path, pg_url, keys, "provision")
    try:
        # the login table must accept a row with only the identifier set (documented)
        db.admin.execute("ALTER TABLE public.tb_user ALTER COLUMN name SET DEFAULT ''")
        me = db.run("me", clerk_with_email(keys, "user_2carol", "carol@example.com", True))
        assert me["email"] == "carol@example.com"
        again = db.run("me", clerk_with_email(keys, "user_2carol", "carol@example.com", True))
        assert again["id"] == me["id"]
        assert db.run("me", clerk_with_email(keys, "user_2bob", "bob@example.com", True))["id"] == BOB
        assert db.admin.execute("SELECT count(*) FROM public.tb_user").fetchone() == (3,)
    finally:
        db.admin.close()


def test_an_unknown_issuer_is_401_when_first_party_tokens_are_off(
    tmp_path: Path, pg_url: str, keys: dict[str, Any]
) -> None:
    """A provider-only deployment (JWT_ISSUER unset): a token from anyone else was a 500 MISCONFIGURED."""
    toml = f"""
[auth.login]
bcrypt_cost = 8

[[security.providers]]
name = "auth0"
kind = "auth0"
issuer = "{AUTH0}"
jwks_file = "auth0-jwks.json"
audience = "https://api.example.com"
"""
    db = build_blog(tmp_path, pg_url, files={"auth0-jwks.json": json.dumps(keys["auth0_jwks"])}, toml_replace=toml)
    try:
        stranger = auth0_token(keys, "auth0|1", "openid", iss="https://evil.example/")
        refused = db.run("posts", stranger)
        assert isinstance(refused, ExecutionError) and refused.http == 401 and "JWT_ISSUER" in refused.message
        assert db.run("me", auth0_token(keys, "auth0|1", "openid")) is None  # the provider still works
    finally:
        db.admin.close()
