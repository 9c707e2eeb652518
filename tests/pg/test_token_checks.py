"""Issue 8: what the reference runtime checks in a token before the database sees it, and what it refuses
to mint: HS secrets of 32 bytes or more, an algorithm the manifest allows, the issuer (named in the
message), a lifetime cap for every token, a size cap, no duplicate JSON members; and an exact revoke-all
boundary for first-party tokens. Through the executor (as `fraiseql query`) and `fraiseql token`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa

from fraiseql_compiler.cli.app import app
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.run import Request, execute
from fraiseql_compiler.manifest.io import dumps
from tests.cases import REPO
from tests.pg.blogdb import ENV, SECRET, Blog, build_blog
from tests.pg.sessions import ALICE

AUTH0 = "https://example-tenant.auth0.com/"
CLERK = "https://clerk.example.dev"
API = "https://api.example.com"


def _keypair(kid: str) -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return private, jwk


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {"auth0": _keypair("auth0-1"), "clerk": _keypair("ins_2abc")}


@pytest.fixture
def blog(tmp_path: Path, pg_url: str, keys: dict[str, Any]) -> Iterator[Blog]:
    """The example, its algorithm an environment reference (as the default config has it), with an Auth0
    provider and a Clerk one whose tokens may live 5 minutes at most."""
    toml = (REPO / "examples" / "blog" / "fraiseql.toml").read_text()
    toml = toml.replace('algorithm = "HS256"', 'algorithm = "${JWT_ALGORITHM:-HS256}"')
    toml += f"""
[[security.providers]]
name = "auth0"
kind = "auth0"
issuer = "{AUTH0}"
jwks_file = "auth0.json"
audience = "{API}"

[[security.providers]]
name = "clerk"
kind = "clerk"
issuer = "{CLERK}"
jwks_file = "clerk.json"
audience = "{API}"
max_token_lifetime_seconds = 300
"""
    files = {name: json.dumps({"keys": [keys[name][1]]}) for name in ("auth0", "clerk")}
    files = {f"{name}.json": text for name, text in files.items()}
    db = build_blog(tmp_path, pg_url, files=files, toml_replace=toml)
    yield db
    db.admin.close()


def run(blog: Blog, operation: str, token: str | None = None, env: Mapping[str, str] = ENV, **variables: Any) -> Any:
    with psycopg.connect(blog.url, autocommit=True) as conn:
        try:
            return execute(conn, blog.manifest, Request(operation, variables, token), env)
        except ExecutionError as exc:
            return exc


def refused(result: Any, http: int, code: str, *words: str) -> str:
    assert isinstance(result, ExecutionError), result
    assert (result.http, result.code) == (http, code), result.message
    assert all(w in result.message for w in words), result.message
    return result.message


def cli_token(blog: Blog, tmp_path: Path, env: dict[str, str | None], *args: str) -> Any:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(dumps(blog.manifest), encoding="utf-8")
    defaults: dict[str, str | None] = {"JWT_SECRET": SECRET, "JWT_ALGORITHM": None, "JWT_PRIVATE_KEY": None}
    return CliRunner().invoke(app, ["token", "--sub", ALICE, *args, "--manifest", str(manifest)],
                              env={**defaults, **env})


def auth0_token(keys: dict[str, Any], **overrides: Any) -> str:
    """Shaped like Auth0's access tokens: issuer with its trailing slash, aud a list, scope a string."""
    now = int(time.time())
    claims = {"iss": AUTH0, "sub": "auth0|5f7c8ec7c33c6c004bbafe82", "aud": [API, f"{AUTH0}userinfo"], "iat": now,
              "exp": now + 86_400, "scope": "openid profile read:posts", "azp": "zk5uPqUnGNJqiCxjKH3ADaRB1bHpV6rO",
              "https://example.com/roles": ["editor"], "jti": f"a0-{time.monotonic_ns()}", **overrides}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, keys["auth0"][0], algorithm="RS256", headers={"kid": "auth0-1"})


def clerk_token(keys: dict[str, Any], lifetime: int) -> str:
    """Shaped like Clerk's session tokens: issuer without a slash, a user_… subject, a short life."""
    now = int(time.time())
    claims = {"iss": CLERK, "sub": "user_2abcDEF", "aud": API, "azp": "https://app.example.com", "iat": now,
              "nbf": now - 10, "exp": now + lifetime, "sid": "sess_2xyz", "scopes": [], "jti": f"ck-{now}-{lifetime}"}
    return jwt.encode(claims, keys["clerk"][0], algorithm="RS256", headers={"kid": "ins_2abc"})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(header: str, payload: str, secret: str = SECRET) -> str:
    """A token signed over exactly these JSON texts (duplicate members and all)."""
    signing_input = f"{b64(header.encode())}.{b64(payload.encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def first_party_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": ALICE, "scopes": ["read:posts"], "iss": "your-app", "aud": "your-api", "iat": now,
            "exp": now + 600, "jti": f"t-{time.monotonic_ns()}", **overrides}


# -- HS secrets ----------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:The HMAC key")
def test_a_short_hs_secret_is_refused_at_verify_and_mint(blog: Blog, tmp_path: Path) -> None:
    short = {**ENV, "JWT_SECRET": "hunter"}
    token = jwt.encode(first_party_claims(), "hunter", algorithm="HS256")
    verify = refused(run(blog, "posts", token, short), 500, "MISCONFIGURED", "JWT_SECRET is 6 bytes", "at least 32")
    assert "openssl rand -base64 32" in verify and "hunter" not in verify
    login = run(blog, "login", None, short, input={"email": "alice@example.com", "password": "alice-password"})
    assert refused(login, 500, "MISCONFIGURED", "JWT_SECRET is 6 bytes") == verify
    minted = cli_token(blog, tmp_path, short)
    assert minted.exit_code == 2 and "FQL162" in minted.output and "openssl rand -base64 32" in minted.output
    named = cli_token(blog, tmp_path, {"MY_DEV_SECRET": "hunter"}, "--secret-env", "MY_DEV_SECRET")
    assert named.exit_code == 2 and "MY_DEV_SECRET is 6 bytes" in named.output  # the variable the user named
    # the boundary: 32 bytes pass, 31 do not
    for size, ok in ((31, False), (32, True)):
        secret = "s" * size
        token = jwt.encode(first_party_claims(), secret, algorithm="HS256")
        result = run(blog, "posts", token, {**ENV, "JWT_SECRET": secret})
        assert isinstance(result, list) == ok, result


# -- the algorithm -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RS256", "HS512"])
def test_mint_refuses_an_algorithm_the_verifier_refuses(blog: Blog, tmp_path: Path, algorithm: str) -> None:
    env = {**ENV, "JWT_ALGORITHM": algorithm}
    token = jwt.encode(first_party_claims(), SECRET, algorithm="HS256")
    message = refused(run(blog, "posts", token, env), 500, "MISCONFIGURED", f"JWT_ALGORITHM is '{algorithm}'",
                      "accepts only HS256", "unset JWT_ALGORITHM")
    minted = cli_token(blog, tmp_path, {"JWT_ALGORITHM": algorithm})
    assert minted.exit_code == 2 and not minted.stdout
    assert message in " ".join(minted.output.split()) and "None" not in minted.output
    login = run(blog, "login", None, env, input={"email": "alice@example.com", "password": "alice-password"})
    assert refused(login, 500, "MISCONFIGURED") == message


# -- the issuer ----------------------------------------------------------------------------------------------


def test_an_unknown_issuer_is_named_with_the_expected_ones(blog: Blog, keys: dict[str, Any]) -> None:
    # an RS256 token from an issuer nobody configured used to be "algorithm 'RS256' is not accepted"
    other = refused(run(blog, "posts", auth0_token(keys, iss="https://other.eu.auth0.com/")), 401, "UNAUTHENTICATED",
                    "issuer 'https://other.eu.auth0.com/' is not accepted", "'your-app' (first-party tokens)",
                    f"'{AUTH0}' (provider auth0)", f"'{CLERK}' (provider clerk)")
    assert "algorithm" not in other
    slash = refused(run(blog, "posts", auth0_token(keys, iss=AUTH0.rstrip("/"))), 401, "UNAUTHENTICATED",
                    f"issuer '{AUTH0.rstrip('/')}' is not accepted", f"'{AUTH0}' differs only by its trailing slash")
    assert "compared exactly" in slash
    missing = jwt.encode({k: v for k, v in first_party_claims().items() if k != "iss"}, SECRET, algorithm="HS256")
    refused(run(blog, "posts", missing), 401, "UNAUTHENTICATED", "no issuer (iss)", "'your-app'")


def test_a_first_party_issuer_with_another_algorithm_names_the_algorithm(blog: Blog, keys: dict[str, Any]) -> None:
    token = jwt.encode(first_party_claims(), keys["auth0"][0], algorithm="RS256")
    refused(run(blog, "posts", token), 401, "UNAUTHENTICATED", "signed with 'RS256'", "own tokens use HS256")


# -- lifetimes -----------------------------------------------------------------------------------------------


def test_provider_token_lifetimes_are_capped(blog: Blog, keys: dict[str, Any]) -> None:
    now = int(time.time())
    assert isinstance(run(blog, "posts", auth0_token(keys)), list)  # Auth0's default: 24 hours
    year = auth0_token(keys, iat=None, exp=now + 365 * 86_400)
    refused(run(blog, "posts", year), 401, "UNAUTHENTICATED", "no iat and expires in",
            "max_token_lifetime_seconds of provider auth0 (86400)")
    two_days = auth0_token(keys, iat=now, exp=now + 2 * 86_400)
    refused(run(blog, "posts", two_days), 401, "UNAUTHENTICATED", "lives 172800 s (exp - iat)")
    # without iat, measured from now: a token issued 23 hours ago for 24 hours passes
    assert isinstance(run(blog, "posts", auth0_token(keys, iat=None, exp=now + 3600)), list)
    # Clerk's session tokens live a minute; this Clerk provider accepts 5 minutes at most
    assert isinstance(run(blog, "posts", clerk_token(keys, 60)), list)
    refused(run(blog, "posts", clerk_token(keys, 600)), 401, "UNAUTHENTICATED",
            "max_token_lifetime_seconds of provider clerk (300)")


def test_first_party_lifetime_cap_at_verify_and_mint(blog: Blog, tmp_path: Path) -> None:
    now = int(time.time())
    long = jwt.encode(first_party_claims(exp=now + 2 * 86_400), SECRET, algorithm="HS256")
    refused(run(blog, "posts", long), 401, "UNAUTHENTICATED", "[auth.jwt] max_token_lifetime_seconds (86400)")
    minted = cli_token(blog, tmp_path, {}, "--exp", "2d")
    assert minted.exit_code == 2 and "exceeds [auth.jwt] max_token_lifetime_seconds (86400)" in minted.output
    assert cli_token(blog, tmp_path, {}, "--exp", "1d").exit_code == 0


# -- the token's form ----------------------------------------------------------------------------------------


def test_an_oversized_token_is_refused_before_decoding(blog: Blog, keys: dict[str, Any]) -> None:
    big = auth0_token(keys, permissions=[f"read:resource-{i}" for i in range(400)])
    assert len(big) > 8192
    refused(run(blog, "posts", big), 401, "UNAUTHENTICATED", f"the token is {len(big)} bytes", "over 8192")
    refused(run(blog, "posts", "x" * 10_000), 401, "UNAUTHENTICATED", "over 8192")  # not even a JWT
    assert isinstance(run(blog, "posts", auth0_token(keys, permissions=["read:posts"] * 10)), list)


def test_duplicate_members_are_refused(blog: Blog) -> None:
    claims = first_party_claims()
    body = json.dumps(claims)[1:-1]
    header = '{"alg": "HS256", "typ": "JWT"}'
    assert isinstance(run(blog, "posts", hs256(header, "{" + body + "}")), list)  # the same, without a twin
    # which "sub" counts? PyJWT (like Python's json) took the last; another parser takes the first
    twice = hs256(header, '{"sub": "00000000-0000-0000-0000-00000000000b", ' + body + "}")
    refused(run(blog, "posts", twice), 401, "UNAUTHENTICATED", "payload has the member 'sub' twice")
    nested = hs256(header, "{" + body + ', "ctx": {"org": "a", "org": "b"}}')
    refused(run(blog, "posts", nested), 401, "UNAUTHENTICATED", "member 'org' twice")
    header_twice = hs256('{"alg": "HS256", "typ": "JWT", "alg": "HS256"}', "{" + body + "}")
    refused(run(blog, "posts", header_twice), 401, "UNAUTHENTICATED", "header has the member 'alg' twice")
    nan = hs256(header, "{" + body + ', "nbf": NaN}')
    refused(run(blog, "posts", nan), 401, "UNAUTHENTICATED", "malformed token")


# -- the revoke-all boundary ---------------------------------------------------------------------------------


def _login(blog: Blog) -> str:
    payload = run(blog, "login", input={"email": "alice@example.com", "password": "alice-password"})
    assert not isinstance(payload, ExecutionError), payload.message
    return str(payload["accessToken"])


def _iat(token: str) -> Any:
    return jwt.decode(token, options={"verify_signature": False})["iat"]


def test_revoke_all_revokes_what_was_issued_before_it_and_nothing_after(blog: Blog, tmp_path: Path) -> None:
    """The database revokes tokens with iat <= revoked_at. With whole-second iat, a token minted in the same
    second as a revoke-all stayed revoked for its whole life; first-party tokens now carry milliseconds."""
    same_second = False
    for _ in range(3):
        time.sleep(1 - time.time() % 1 + 0.01)  # at the start of a second: all of this fits in it
        before = _login(blog)
        assert isinstance(run(blog, "myPosts", before), list)
        revoked = run(blog, "revokeAll", before, sub=ALICE)
        assert not isinstance(revoked, ExecutionError), revoked.message
        after = _login(blog)  # the login flow: iat from the database's clock
        minted = cli_token(blog, tmp_path, {}, "--scope", "read:posts").stdout.strip()  # the tool: this clock
        whole = blog.token(ALICE, "read:posts", iat=int(time.time()))  # integer iat, as providers write it
        refused(run(blog, "myPosts", before), 401, "TOKEN_REVOKED")
        assert [p["title"] for p in run(blog, "myPosts", after)] == ["Hello"]
        assert isinstance(run(blog, "myPosts", minted), list)
        refused(run(blog, "myPosts", whole), 401, "TOKEN_REVOKED")  # fail closed within the revoke's second
        assert all(isinstance(_iat(t), float) and round(_iat(t), 3) == _iat(t) for t in (after, minted))  # ms
        same_second = int(_iat(before)) == int(_iat(after)) == int(_iat(minted))
        if same_second:
            break
    assert same_second, "the three tokens were never minted within one second"
