"""A predicate comparing a claim with any column of a generated view gets that column's type, list keys
included: `post_id = {jwt:post_id}` on v_comment failed with `operator does not exist: uuid = text`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from tests.cases import REPO
from tests.pg.blogdb import build_blog
from tests.pg.sessions import ALICE, BOB, acting_as, user

POST = "00000000-0000-0000-0000-0000000000a1"  # Alice's published post, commented on by Bob

EXTRA = '''

@fraiseql.query(sql_source="v_comment", row_filter="post_id = {jwt:post_id} OR author_id = {jwt:post_id}")
@authenticated
def thread() -> list[Comment]:
    """Comments on the post a token is scoped to (a claim compared with a list key and an embedded key)."""
'''


def test_claims_compared_with_list_keys_and_embedded_keys_are_cast(tmp_path: Path, pg_url: str) -> None:
    schema = (REPO / "examples" / "blog" / "schema.py").read_text(encoding="utf-8") + EXTRA
    schema = schema.replace(
        'insert="author_id = {current_user_id}",',
        'insert="author_id = {current_user_id} AND post_id = {jwt:post_id}",',
    )
    blog = build_blog(tmp_path, pg_url, "[security]\noptional_claims = [\"post_id\"]\n", files={"schema.py": schema})
    try:
        conn: psycopg.Connection[Any] = blog.admin
        conn.autocommit = False
        with acting_as(conn, "authenticated", user(ALICE, post_id=POST)) as c:
            rows = c.execute("SELECT data ->> 'body' FROM api.thread").fetchall()
        assert rows == [("Nice post",)]
        nothing = "00000000-0000-0000-0000-00000000dead"  # no post, no author
        with acting_as(conn, "authenticated", user(ALICE, post_id=nothing)) as c:
            assert c.execute("SELECT count(*) FROM api.thread").fetchone() == (0,)
        with acting_as(conn, "authenticated", user(BOB, post_id=POST)) as c:  # the policy's cast, on write
            c.execute(
                "INSERT INTO public.tb_comment (post_id, author_id, body) VALUES (%s, %s, 'again')", (POST, BOB)
            )
    finally:
        blog.admin.close()
