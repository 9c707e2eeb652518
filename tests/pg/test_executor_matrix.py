"""The adversarial matrix, through the reference executor on a real PostgreSQL: a runtime that applies
the manifest this way leaks nothing, and the database refuses what the runtime might forget."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from fraiseql_compiler.executor.errors import ExecutionError
from tests.pg.blogdb import Blog, build_blog
from tests.pg.sessions import ALICE, BOB, BOB_DRAFT, acting_as, set_claims, user


@pytest.fixture
def blog(tmp_path: Path, pg_url: str) -> Any:
    db = build_blog(tmp_path, pg_url)
    yield db
    db.admin.close()


def refused(result: Any, http: int, code: str | None = None) -> bool:
    return isinstance(result, ExecutionError) and result.http == http and (code is None or result.code == code)


# --- tokens -----------------------------------------------------------------------------------------


def test_valid_token_reads_own_posts(blog: Blog) -> None:
    posts = blog.run("myPosts", blog.token(ALICE))
    assert [p["title"] for p in posts] == ["Hello"]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, id="expired"),
        pytest.param({"aud": "someone-else"}, id="wrong-aud"),
        pytest.param({"iss": "evil"}, id="wrong-iss"),
        pytest.param({"key": "not-the-secret-0123456789abcdef0123456789"}, id="bad-signature"),
        pytest.param({"alg": "HS512"}, id="wrong-algorithm"),
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"iat": int(time.time()), "exp": int(time.time()) + 400_000}, id="lifetime-too-long"),
    ],
)
def test_bad_tokens_are_rejected(blog: Blog, overrides: dict[str, Any]) -> None:
    assert refused(blog.run("myPosts", blog.token(ALICE, **overrides)), 401, "UNAUTHENTICATED")


def test_alg_none_is_rejected(blog: Blog) -> None:
    now = int(time.time())
    unsigned = jwt.encode(
        {"sub": ALICE, "iss": "your-app", "aud": "your-api", "iat": now, "exp": now + 60}, None, algorithm="none"
    )
    assert refused(blog.run("myPosts", unsigned), 401)


def test_garbage_token_is_rejected(blog: Blog) -> None:
    assert refused(blog.run("myPosts", "not.a.jwt"), 401)


def test_no_token_gets_401_not_an_empty_list(blog: Blog) -> None:
    assert refused(blog.run("posts"), 401, "UNAUTHENTICATED")
    assert refused(blog.run("myPosts"), 401, "UNAUTHENTICATED")
    assert blog.run("me") is None  # a public query: anonymous is simply nobody


# --- isolation between users --------------------------------------------------------------------------


def test_a_never_sees_bs_draft_through_any_query(blog: Blog) -> None:
    token = blog.token(ALICE, "write:posts", "admin:posts")
    for op in ("posts", "myPosts"):
        ids = [p["id"] for p in blog.run(op, token)]
        assert BOB_DRAFT not in ids, op
    assert blog.run("me", token)["id"] == ALICE


def test_a_cannot_delete_bs_post_even_with_the_scope_check_passed(blog: Blog) -> None:
    token = blog.token(ALICE, "admin:posts")
    # invisible to A, so nothing deleted: the function reports it as not found (docs/functions.md)
    assert refused(blog.run("deletePost", token, id=BOB_DRAFT), 404, "NOT_FOUND")
    assert blog.admin.execute("SELECT count(*) FROM public.tb_post WHERE id = %s", (BOB_DRAFT,)).fetchone() == (1,)


def test_user_function_errors_map_to_their_statuses_not_500(blog: Blog) -> None:
    """docs/functions.md: PT404/PT409 and constraint violations map to 404/409/422 (every one was a 500)."""
    token = blog.token(ALICE, "write:posts", "admin:posts")
    assert refused(blog.run("deletePost", token, id="00000000-0000-0000-0000-0000000000ff"), 404, "NOT_FOUND")
    blog.admin.execute("ALTER TABLE public.tb_post ADD CONSTRAINT title_short CHECK (length(title) < 100)")
    assert refused(blog.run("createPost", token, input={"title": "x" * 200, "body": "b"}), 422, "CHECK_VIOLATION")
    blog.admin.execute("CREATE UNIQUE INDEX tb_post_title_key ON public.tb_post (title)")
    assert not isinstance(blog.run("createPost", token, input={"title": "once", "body": "b"}), ExecutionError)
    assert refused(blog.run("createPost", token, input={"title": "once", "body": "b"}), 409, "ALREADY_EXISTS")


def test_missing_scope_is_403(blog: Blog) -> None:
    result = blog.run("createPost", blog.token(ALICE), input={"title": "x", "body": "y"})
    assert refused(result, 403, "INSUFFICIENT_SCOPE")


def test_create_post_is_attributed_to_the_caller_not_the_arguments(blog: Blog) -> None:
    import json

    import psycopg

    token = blog.token(BOB, "write:posts")
    # CreatePostInput declares no authorId: the runtime refuses the field before any SQL runs
    forged = blog.run("createPost", token, input={"title": "mine", "body": "b", "author_id": ALICE})
    assert refused(forged, 400, "UNKNOWN_ARGUMENT") and '"author_id"' in forged.message
    assert blog.run("createPost", token, input={"title": "mine", "body": "b"})["author"]["id"] == BOB
    # and a runtime that forwarded it anyway: the database attributes the post to the caller all the same
    with psycopg.connect(blog.url, autocommit=True) as conn, acting_as(conn, "authenticated", user(BOB, "write:posts")):
        args = json.dumps({"input": {"title": "forged", "body": "b", "author_id": ALICE}})
        post = conn.execute("SELECT api.create_post(%s::jsonb)", (args,)).fetchone()[0]  # type: ignore[index]
        assert post["author"]["id"] == BOB


def test_api_key_operations_refuse_jwt_callers(blog: Blog) -> None:
    assert refused(blog.run("reports", blog.token(ALICE, "read:reports")), 403)
    assert refused(blog.run("ingestData", blog.token(ALICE, "write:data"), payload={"source": "s", "rows": []}), 403)


# --- SQL in arguments is inert --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "'; DROP TABLE tb_post; --",
        "1 OR 1=1",
        "00000000-0000-0000-0000-00000000000b' OR '1'='1",
        "$$; SELECT 1; $$",
        "\\x00",
        "nul\x00byte",
        "x'||(SELECT password_hash FROM tb_user LIMIT 1)||'",
    ],
)
def test_sql_in_arguments_is_inert(blog: Blog, hostile: str) -> None:
    token = blog.token(ALICE, "write:posts", "admin:posts")
    created = blog.run("createPost", token, input={"title": hostile, "body": hostile})
    if not isinstance(created, ExecutionError):
        assert created["title"] == hostile  # stored as data, verbatim
    result = blog.run("deletePost", token, id=hostile)
    assert refused(result, 400, "BAD_ARGUMENT")  # not a UUID: refused before any SQL runs
    limit = blog.run("posts", token, limit=hostile)
    assert isinstance(limit, ExecutionError | list)
    assert blog.admin.execute("SELECT count(*) FROM public.tb_post WHERE id = %s", (BOB_DRAFT,)).fetchone() == (1,)
    assert blog.admin.execute("SELECT to_regclass('public.tb_post') IS NOT NULL").fetchone() == (True,)


# --- the database, without the runtime ------------------------------------------------------------------


def test_api_roles_cannot_touch_what_is_not_theirs(blog: Blog) -> None:
    import psycopg

    with psycopg.connect(blog.url, autocommit=True) as conn:
        conn.execute("BEGIN")
        conn.execute("SET LOCAL ROLE fraiseql_authenticated")
        set_claims(conn, "fraiseql_authenticated", f'{{"sub": "{ALICE}", "auth": "jwt", "jti": "j1"}}')
        direct = sorted(r[0] for r in conn.execute("SELECT id::text FROM public.tb_post").fetchall())
        through_api = sorted(r[0] for r in conn.execute("SELECT id::text FROM api.posts").fetchall())
        assert direct == through_api  # the base table shows no more than the API
        conn.execute("ROLLBACK")
        for sql in ("SELECT * FROM public.tb_user_secret_does_not_exist",):
            conn.execute("BEGIN")
            conn.execute("SET LOCAL ROLE fraiseql_anonymous")
            with pytest.raises(psycopg.Error):
                conn.execute(sql)  # type: ignore[arg-type]
            conn.execute("ROLLBACK")


def test_postgresqls_own_refusals_name_no_table_view_or_constraint(blog: Blog) -> None:
    """A privilege PostgreSQL refuses (anonymous on reports: its view is granted to the API-key role only) or
    a constraint it enforces answer the manifest's message: its own message names the relation."""
    refused = blog.run("reports")
    assert isinstance(refused, ExecutionError)
    assert (refused.http, refused.code, refused.message) == (403, "FORBIDDEN", "permission denied")
    assert "v_report" not in str(refused.as_json())
