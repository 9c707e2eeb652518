"""The generated row-level security, exercised as each API role on a real PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.cases import cases, sql_files
from tests.pg.sessions import ALICE, ALICE_DRAFT, BOB, acting_as, install_claims_key, user

BLOG = next(c for c in cases() if c.name == "examples/blog")


@pytest.fixture
def blog(pg_conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    assert BLOG.ddl is not None
    pg_conn.execute(BLOG.ddl.read_text(encoding="utf-8"))  # type: ignore[arg-type]
    pg_conn.execute(  # a draft of Alice's, next to Bob's draft from the seed
        "INSERT INTO public.tb_post (id, author_id, title, published) VALUES (%s, %s, 'Alice draft', false)",
        (ALICE_DRAFT, ALICE),
    )
    for _, sql in sql_files(BLOG):
        pg_conn.execute(sql)  # type: ignore[arg-type]
    install_claims_key(pg_conn)  # what `fraiseql migrate` does after the SQL
    pg_conn.commit()
    return pg_conn


def titles(conn: psycopg.Connection[Any], relation: str = "public.tb_post") -> list[str]:
    return sorted(r[0] for r in conn.execute(f"SELECT title FROM {relation}").fetchall())  # type: ignore[arg-type]


def test_rls_is_enabled_and_forced_on_every_table(blog: psycopg.Connection[Any]) -> None:
    rows = blog.execute(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE relname IN ('tb_user', 'tb_post', 'tb_comment')"
    ).fetchall()
    assert sorted(rows) == [("tb_comment", True, True), ("tb_post", True, True), ("tb_user", True, True)]


def test_anonymous_sees_published_posts_only(blog: psycopg.Connection[Any]) -> None:
    with acting_as(blog, "anonymous") as conn:
        assert titles(conn) == ["Hello"]
        assert titles(conn, "public.v_post") == ["Hello"]
        assert conn.execute("SELECT count(*) FROM public.tb_user").fetchone() == (0,)


def test_users_see_published_and_their_own_drafts_never_others(blog: psycopg.Connection[Any]) -> None:
    with acting_as(blog, "authenticated", user(ALICE)) as conn:
        assert titles(conn) == ["Alice draft", "Hello"]
    with acting_as(blog, "authenticated", user(BOB)) as conn:
        assert titles(conn) == ["Bob here", "Hello"]
        assert ALICE_DRAFT not in [r[0] for r in conn.execute("SELECT id::text FROM public.v_post").fetchall()]


def test_claims_without_the_role_grant_nothing(blog: psycopg.Connection[Any]) -> None:
    # An anonymous session that sets Alice's claims itself still gets anonymous rows only.
    with acting_as(blog, "anonymous", user(ALICE, "admin:posts")) as conn:
        assert titles(conn) == ["Hello"]


def test_a_user_cannot_change_or_delete_anothers_post(blog: psycopg.Connection[Any]) -> None:
    with acting_as(blog, "authenticated", user(BOB, "admin:posts")) as conn:
        updated = conn.execute("UPDATE public.tb_post SET title = 'pwned' WHERE id = %s", (ALICE_DRAFT,))
        assert updated.rowcount == 0  # invisible, so untouched
    with acting_as(blog, "authenticated", user(BOB)) as conn:
        deleted = conn.execute("DELETE FROM public.tb_post WHERE author_id = %s", (ALICE,))
        assert deleted.rowcount == 0
    with acting_as(blog, "authenticated", user(ALICE)) as conn:
        # the owner may update, but not hand the post to someone else (WITH CHECK)
        assert conn.execute("UPDATE public.tb_post SET title = 'mine' WHERE id = %s", (ALICE_DRAFT,)).rowcount == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE public.tb_post SET author_id = %s WHERE id = %s", (BOB, ALICE_DRAFT))


def test_insert_needs_the_scope_and_ones_own_id(blog: psycopg.Connection[Any]) -> None:
    insert = "INSERT INTO public.tb_post (author_id, title) VALUES (%s, 'new')"
    with acting_as(blog, "authenticated", user(ALICE)) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(insert, (ALICE,))  # no write:posts
    with acting_as(blog, "authenticated", user(ALICE, "write:posts")) as conn:
        conn.execute(insert, (ALICE,))
    with (
        acting_as(blog, "authenticated", user(ALICE, "write:posts")) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(insert, (BOB,))  # as someone else
    with acting_as(blog, "anonymous") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(insert, (ALICE,))  # no INSERT privilege at all


def test_api_keys_read_published_posts_with_the_scope(blog: psycopg.Connection[Any]) -> None:
    with acting_as(blog, "api_key", user(ALICE, "read:posts", auth="api_key")) as conn:
        assert titles(conn) == ["Hello"]
    with acting_as(blog, "api_key", user(ALICE, auth="api_key")) as conn:
        assert titles(conn) == []


def test_granted_wildcard_scope_covers_the_action(blog: psycopg.Connection[Any]) -> None:
    with acting_as(blog, "api_key", user(ALICE, "read:*", auth="api_key")) as conn:
        assert titles(conn) == ["Hello"]
    with acting_as(blog, "api_key", user(ALICE, "write:*", auth="api_key")) as conn:
        assert titles(conn) == []


def without_subselects(text: str) -> str:
    """``text`` with every parenthesized ``( SELECT … )`` removed (balanced parentheses)."""
    import re

    out, i = [], 0
    for match in re.finditer(r"\(\s*SELECT\b", text):
        if match.start() < i:
            continue  # inside a subselect already removed
        out.append(text[i : match.start()])
        depth, j = 0, match.start()
        while j < len(text):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        i = j
    out.append(text[i:])
    return "".join(out)


def test_policies_call_helpers_only_as_initplans(blog: psycopg.Connection[Any]) -> None:
    rows = blog.execute(
        "SELECT policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') FROM pg_policies "
        "WHERE policyname LIKE 'fql\\_%'"
    ).fetchall()
    assert len(rows) >= 10
    for name, text in rows:
        assert "fraiseql." not in without_subselects(text), f"{name}: bare helper call in {text}"
    assert "fraiseql." not in without_subselects("a = ( SELECT (fraiseql.x())::uuid AS x)")
    assert "fraiseql." in without_subselects("a = fraiseql.x() OR b = (SELECT fraiseql.y())")
