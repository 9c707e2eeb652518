"""The auth mutations through the executor, as a runtime serves them: login, refresh with rotation and
reuse detection, logout and revocation, API keys."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from fraiseql_compiler.executor.errors import ExecutionError
from tests.pg.blogdb import SECRET, Blog, build_blog
from tests.pg.sessions import ALICE, BOB


@pytest.fixture
def blog(tmp_path: Path, pg_url: str) -> Any:
    db = build_blog(tmp_path, pg_url)
    yield db
    db.admin.close()


def login(blog: Blog, email: str, password: str) -> Any:
    return blog.run("login", input={"email": email, "password": password})


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, SECRET, algorithms=["HS256"], audience="your-api", issuer="your-app")


def test_login_mints_a_token_the_database_accepts(blog: Blog) -> None:
    payload = login(blog, "alice@example.com", "alice-password")
    claims = claims_of(payload["accessToken"])
    assert claims["sub"] == ALICE and claims["scopes"] == ["read:posts", "write:posts"] and claims["jti"]
    assert payload["tokenType"] == "Bearer" and payload["refreshToken"]
    assert [p["title"] for p in blog.run("myPosts", payload["accessToken"])] == ["Hello"]


def test_bad_password_and_unknown_user_look_the_same(blog: Blog) -> None:
    wrong = login(blog, "alice@example.com", "nope")
    unknown = login(blog, "mallory@example.com", "nope")
    assert isinstance(wrong, ExecutionError) and isinstance(unknown, ExecutionError)
    assert (
        (wrong.http, wrong.code, wrong.message)
        == (unknown.http, unknown.code, unknown.message)
        == (401, "INVALID_CREDENTIALS", "invalid credentials")
    )


def test_lockout_after_repeated_failures_even_with_the_right_password(blog: Blog) -> None:
    for _ in range(5):
        assert isinstance(login(blog, "bob@example.com", "guess"), ExecutionError)
    locked = login(blog, "bob@example.com", "bob-password")
    assert isinstance(locked, ExecutionError) and (locked.http, locked.code) == (429, "LOCKED_OUT")


def test_refresh_rotates_and_reuse_revokes_the_family(blog: Blog) -> None:
    first = login(blog, "alice@example.com", "alice-password")["refreshToken"]
    second = blog.run("refreshToken", input={"refreshToken": first})
    assert claims_of(second["accessToken"])["sub"] == ALICE and second["refreshToken"] != first
    reused = blog.run("refreshToken", input={"refreshToken": first})  # an attacker replays the old one
    assert isinstance(reused, ExecutionError) and reused.code == "INVALID_REFRESH_TOKEN"
    after = blog.run("refreshToken", input={"refreshToken": second["refreshToken"]})
    assert isinstance(after, ExecutionError) and after.code == "INVALID_REFRESH_TOKEN"  # family revoked


def test_logout_revokes_the_token_for_every_later_request(blog: Blog) -> None:
    token = login(blog, "alice@example.com", "alice-password")["accessToken"]
    assert blog.run("logout", token) is True
    after = blog.run("myPosts", token)
    assert isinstance(after, ExecutionError) and (after.http, after.code) == (401, "TOKEN_REVOKED")
    fresh = login(blog, "alice@example.com", "alice-password")["accessToken"]
    assert isinstance(blog.run("myPosts", fresh), list)  # only that token


def test_revoke_all_is_for_oneself_or_an_admin(blog: Blog) -> None:
    bobs = login(blog, "bob@example.com", "bob-password")["accessToken"]
    alices = login(blog, "alice@example.com", "alice-password")["accessToken"]
    refused = blog.run("revokeAll", alices, sub=BOB)  # not hers to revoke
    assert isinstance(refused, ExecutionError) and refused.http == 403
    assert isinstance(blog.run("myPosts", bobs), list)
    admin = blog.token(ALICE, "admin:revoke")
    assert blog.run("revokeAll", admin, sub=BOB) == {"revokedCount": 1}  # Bob's refresh token (the guide's shape)
    revoked = blog.run("myPosts", bobs)
    assert isinstance(revoked, ExecutionError) and revoked.code == "TOKEN_REVOKED"


def revoke(blog: Blog, caller: str, token: str) -> Any:
    """revokeToken(token: …) as the caller: the argument is named like Blog.run's own token parameter."""
    import psycopg

    from fraiseql_compiler.executor.run import Request, execute
    from tests.pg.blogdb import ENV

    with psycopg.connect(blog.url, autocommit=True) as conn:
        try:
            return execute(conn, blog.manifest, Request("revokeToken", {"token": token}, caller), ENV)
        except ExecutionError as exc:
            return exc


def test_revoke_token_takes_the_token_and_answers_the_guides_shape(blog: Blog) -> None:
    """The guide's POST /auth/revoke {"token": …} → {"revoked": true, "expires_at": "…"}; the manifest names
    the endpoints a runtime may serve."""
    endpoints = {(e.method, e.path): e.operation for e in blog.manifest.endpoints}
    assert endpoints == {("POST", "/auth/revoke"): "revokeToken", ("POST", "/auth/revoke-all"): "revokeAll"}
    first = login(blog, "alice@example.com", "alice-password")["accessToken"]
    second = login(blog, "alice@example.com", "alice-password")["accessToken"]
    answer = revoke(blog, second, first)  # another token of her own: allowed
    assert answer["revoked"] is True and answer["expiresAt"].startswith(str(time.gmtime().tm_year))
    gone = blog.run("myPosts", first)
    assert isinstance(gone, ExecutionError) and gone.code == "TOKEN_REVOKED"
    assert isinstance(blog.run("myPosts", second), list)
    bobs = login(blog, "bob@example.com", "bob-password")["accessToken"]
    refused = revoke(blog, second, bobs)  # someone else's: needs admin:revoke
    assert isinstance(refused, ExecutionError) and refused.http == 403
    assert revoke(blog, blog.token(ALICE, "admin:revoke"), bobs)["revoked"] is True
    forged = revoke(blog, second, bobs[:-4] + "AAAA")
    assert isinstance(forged, ExecutionError) and forged.http == 422  # a token is verified before it counts


def test_revoked_jtis_disappear_after_their_exp_with_no_scheduler(blog: Blog) -> None:
    blog.admin.execute(
        "INSERT INTO fraiseql.tb_revoked_token (jti, exp) SELECT 'old-' || g, now() - interval '1 hour' "
        "FROM generate_series(1, 150) AS g"
    )
    token = login(blog, "alice@example.com", "alice-password")["accessToken"]
    blog.run("logout", token)
    left = blog.admin.execute("SELECT count(*) FROM fraiseql.tb_revoked_token WHERE exp < now()").fetchone()
    assert left == (50,)  # at most 100 expired rows per revocation: bounded work for the caller
    blog.run("logout", login(blog, "alice@example.com", "alice-password")["accessToken"])
    assert blog.admin.execute("SELECT count(*) FROM fraiseql.tb_revoked_token WHERE exp < now()").fetchone() == (0,)


def test_api_keys_never_exceed_their_creator(blog: Blog) -> None:
    token = login(blog, "alice@example.com", "alice-password")["accessToken"]
    too_much = blog.run("createApiKey", token, name="ci", scopes=["write:data"])
    assert isinstance(too_much, ExecutionError) and too_much.code == "INSUFFICIENT_SCOPE"
    key = blog.run("createApiKey", token, name="ci", scopes=["read:posts"])
    assert key["key"].startswith("fql_") and key["scopes"] == ["read:posts"]
    stored = blog.admin.execute(
        "SELECT count(*) FROM fraiseql.tb_api_key WHERE key_hash = sha256(%s::bytea)", (key["key"].encode(),)
    ).fetchone()
    assert stored == (1,)
    assert blog.admin.execute(
        "SELECT count(*) FROM fraiseql.tb_api_key WHERE key_hash::text LIKE %s", (f"%{key['key']}%",)
    ).fetchone() == (0,)


def test_an_api_key_with_read_scopes_cannot_write(blog: Blog) -> None:
    alice = blog.token(ALICE, "read:*", "write:posts")
    # read:* is in her token but not in her account ({read:posts, write:posts}): keys follow the account
    refused = blog.run("createApiKey", alice, name="reader", scopes=["read:*"])
    assert isinstance(refused, ExecutionError) and refused.code == "INSUFFICIENT_SCOPE"
    key = blog.run("createApiKey", alice, name="reader", scopes=["read:posts"])["key"]
    assert isinstance(blog.run("reports", api_key=key), list)  # read-only report over its API-key view
    denied = blog.run("ingestData", api_key=key, payload={"source": "s", "rows": []})
    assert isinstance(denied, ExecutionError) and (denied.http, denied.code) == (403, "INSUFFICIENT_SCOPE")
    minting = blog.run("createApiKey", api_key=key, name="child", scopes=["read:posts"])
    assert isinstance(minting, ExecutionError) and minting.http in (401, 403)


def test_a_tampered_or_unknown_api_key_is_401(blog: Blog) -> None:
    key = blog.run("createApiKey", blog.token(ALICE, "read:posts"), name="k", scopes=["read:posts"])["key"]
    for bad in (key[:-1] + ("0" if key[-1] != "0" else "1"), "fql_0000_0000", "", "'; SELECT 1; --"):
        result = blog.run("reports", api_key=bad)
        assert isinstance(result, ExecutionError) and result.http == 401, bad


@pytest.mark.parametrize(
    "hostile", ["' OR '1'='1", "alice@example.com'--", "'; UPDATE tb_user SET scopes = '{admin:*}'; --"]
)
def test_sql_in_login_arguments_is_inert(blog: Blog, hostile: str) -> None:
    for email, password in ((hostile, "x"), ("alice@example.com", hostile)):
        result = login(blog, email, password)
        assert isinstance(result, ExecutionError) and result.code in ("INVALID_CREDENTIALS", "LOCKED_OUT")
    key = blog.run("createApiKey", blog.token(ALICE, "read:posts"), name=hostile, scopes=["read:posts"])
    assert key["name"] == hostile
    assert blog.admin.execute("SELECT scopes FROM public.tb_user WHERE id = %s", (ALICE,)).fetchone() == (
        ["read:posts", "write:posts"],
    )


def test_a_revoked_token_cannot_call_even_a_public_query(blog: Blog) -> None:
    token = login(blog, "alice@example.com", "alice-password")["accessToken"]
    assert blog.run("me", token)["id"] == ALICE
    assert blog.run("logout", token) is True
    after = blog.run("me", token)  # `me` has no guard: the runtime's own revocation check refuses it
    assert isinstance(after, ExecutionError) and after.code == "TOKEN_REVOKED"
    no_jti = blog.token(ALICE, jti=None)
    refused = blog.run("me", no_jti)
    assert isinstance(refused, ExecutionError) and refused.http == 401


def test_refresh_works_with_the_expired_access_token_it_replaces(blog: Blog) -> None:
    """Clients send their (expired) access token along with the refresh: that must not be a 401."""
    payload = login(blog, "alice@example.com", "alice-password")
    expired = blog.token(ALICE, exp=int(time.time()) - 120, iat=int(time.time()) - 600)
    assert isinstance(blog.run("myPosts", expired), ExecutionError)
    fresh = blog.run("refreshToken", expired, input={"refreshToken": payload["refreshToken"]})
    assert not isinstance(fresh, ExecutionError), fresh.message
    assert isinstance(blog.run("myPosts", fresh["accessToken"]), list)


def test_revoke_api_key_answers_a_boolean(tmp_path: Path, pg_url: str) -> None:
    """fn_revoke_api_key returns one boolean (the executor read a second column it does not have)."""
    schema = (Path(__file__).resolve().parents[2] / "examples" / "blog" / "schema.py").read_text()
    schema += '''

@fraiseql.mutation
@authenticated
def revoke_api_key(info, key_id: ID) -> bool:
    """Revoke one of the caller's API keys."""
'''
    db = build_blog(tmp_path / "variant", pg_url, files={"schema.py": schema})
    try:
        alice = db.token(ALICE, "read:posts")
        key = db.run("createApiKey", alice, name="k", scopes=["read:posts"])
        assert db.run("revokeApiKey", alice, keyId=key["id"]) is True
        assert db.run("revokeApiKey", alice, keyId=key["id"]) is False  # already revoked
        refused = db.run("reports", api_key=key["key"])
        assert isinstance(refused, ExecutionError) and refused.http == 401
    finally:
        db.admin.close()
