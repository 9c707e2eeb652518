"""An identity is valid everywhere or nowhere: the helpers every policy and filter calls yield no identity for
claims the guards would refuse (revoked, incomplete, anonymous), so a caller who skips the guards, through a
table, a generated view or an unguarded query, reaches no more than an anonymous caller."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.pg.sessions import ALICE, ALICE_DRAFT, acting_as, user
from tests.pg.test_row_security import blog, titles  # noqa: F401  (the fixture)

REVOKED_JTI = "jti-revoked"


def identity_kinds() -> dict[str, tuple[str, dict[str, Any] | None]]:
    """(API role, claims) of every kind of claims that must carry no identity."""
    revoked = user(ALICE, "admin:posts", "write:posts") | {"jti": REVOKED_JTI}
    no_auth = {"sub": ALICE, "scopes": ["admin:posts"]}
    no_jti = {k: v for k, v in user(ALICE, "admin:posts").items() if k != "jti"}
    bad_method = user(ALICE, "admin:posts") | {"auth": "root"}
    return {
        "revoked jti": ("authenticated", revoked),
        "no auth method": ("authenticated", no_auth),
        "no jti": ("authenticated", no_jti),
        "unknown auth method": ("authenticated", bad_method),
        "anonymous role with claims": ("anonymous", user(ALICE, "admin:posts")),
    }


@pytest.fixture
def revoked_blog(blog: psycopg.Connection[Any]) -> psycopg.Connection[Any]:  # noqa: F811
    blog.execute(
        "INSERT INTO fraiseql.tb_revoked_token (jti, subject, exp) VALUES (%s, %s, now() + interval '1 hour')",
        (REVOKED_JTI, ALICE),
    )
    blog.commit()
    return blog


@pytest.mark.parametrize("kind", list(identity_kinds()))
def test_claims_the_guards_refuse_carry_no_identity_anywhere(revoked_blog: psycopg.Connection[Any], kind: str) -> None:
    role, claims = identity_kinds()[kind]
    with acting_as(revoked_blog, role, claims) as conn:
        helpers = conn.execute(
            "SELECT fraiseql.current_user_id(), fraiseql.claims(), fraiseql.has_scope('admin:posts'), "
            "fraiseql.is_authenticated(), fraiseql.scopes()"
        ).fetchone()
        assert helpers == (None, {}, False, False, [])
        assert titles(conn) == ["Hello"]  # published only: no draft of Alice's
        assert titles(conn, "public.v_post") == ["Hello"]
        assert conn.execute("SELECT count(*) FROM api.me").fetchone() == (0,)
        if role == "authenticated":
            assert conn.execute("UPDATE public.tb_post SET title = 'x' WHERE NOT published").rowcount == 0
            assert conn.execute("DELETE FROM public.tb_comment").rowcount == 0
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("INSERT INTO public.tb_comment (post_id, author_id, body) SELECT id, %s, 'x' "
                             "FROM public.tb_post LIMIT 1", (ALICE,))


def test_the_same_claims_with_a_live_token_are_alice(revoked_blog: psycopg.Connection[Any]) -> None:
    with acting_as(revoked_blog, "authenticated", user(ALICE, "write:posts")) as conn:
        assert conn.execute("SELECT fraiseql.current_user_id()").fetchone() == (ALICE,)
        assert titles(conn) == ["Alice draft", "Hello"]
        assert conn.execute("SELECT count(*) FROM api.me").fetchone() == (1,)
        assert conn.execute(
            "UPDATE public.tb_post SET title = 'Alice draft' WHERE id = %s", (ALICE_DRAFT,)
        ).rowcount == 1


def test_the_guards_say_why(revoked_blog: psycopg.Connection[Any]) -> None:
    expected = {
        "revoked jti": "PT402",
        "no auth method": "PT401",
        "no jti": "PT401",
        "unknown auth method": "PT401",
        "anonymous role with claims": "PT401",
    }
    for kind, (role, claims) in identity_kinds().items():
        with pytest.raises(psycopg.Error) as info, acting_as(revoked_blog, role, claims) as conn:
            conn.execute("SELECT count(*) FROM api.posts")
        assert info.value.sqlstate == expected[kind], kind


def test_revocation_state_is_revealed_to_nobody_but_the_token_itself(revoked_blog: psycopg.Connection[Any]) -> None:
    """token_revoked(jsonb) answered for any claims and every API role could call it: it is gone.
    token_revoked() answers for the caller's own claims, and the anonymous role (which has none) may not call it."""
    assert revoked_blog.execute("SELECT to_regprocedure('fraiseql.token_revoked(jsonb)')").fetchone() == (None,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), acting_as(revoked_blog, "anonymous") as conn:
        conn.execute("SELECT fraiseql.token_revoked()")
    with acting_as(revoked_blog, "authenticated", user(ALICE) | {"jti": REVOKED_JTI}) as conn:
        assert conn.execute("SELECT fraiseql.token_revoked()").fetchone() == (True,)


def test_a_static_api_key_is_authenticated_but_no_user(revoked_blog: psycopg.Connection[Any]) -> None:
    """A static key ([[security.api_keys.static]], for tests and CI) is a service, not a row of the login
    table: its `sub` ("static:<name>") never reaches a uuid cast."""
    claims = {"sub": "static:ci-readonly", "auth": "api_key", "static_key": "ci-readonly", "scopes": ["read:posts"]}
    with acting_as(revoked_blog, "api_key", claims) as conn:
        row = conn.execute(
            "SELECT fraiseql.is_authenticated(), fraiseql.current_user_id(), fraiseql.has_scope('read:posts')"
        ).fetchone()
        assert row == (True, None, True)
        assert titles(conn) == ["Hello"]  # the api_key role's rule: published AND read:posts
        assert conn.execute("SELECT count(*) FROM api.me").fetchone() == (0,)
