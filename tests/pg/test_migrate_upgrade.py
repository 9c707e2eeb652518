"""A database built by the previous release's output upgrades with ``fraiseql migrate``, nothing lost.

The previous release (tests/pg/fixtures/previous_release, from git commit 135fc7e) was applied by hand, file by
file, as its README said: ``db/schema.sql`` then ``build/sql/*.sql``. Its runtime then put credentials in the
database through the functions of that release: API keys, refresh tokens from ``fn_login``, a revoked token,
a user's revoke-all, a failed login, an OAuth identity linked by email, a post. Today's ``fraiseql migrate``
runs on a copy of today's examples/blog (whose ``db/migrations/0001_base.sql`` is the old ``db/schema.sql``,
already applied but never recorded: it runs again, and is idempotent), and afterwards every row is still
there, every old credential behaves as it did, and the schema equals that of a database migrated from scratch.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from fraiseql_compiler.claims_proof import key_id
from fraiseql_compiler.cli.app import app
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.manifest import MANIFEST_FILE, Manifest
from tests.cases import REPO
from tests.pg.blogdb import Blog
from tests.pg.sessions import ALICE, BOB, CLAIMS_KEY, CLAIMS_KEY_TEXT
from tests.pgserver import PgServer

PREVIOUS = Path(__file__).parent / "fixtures" / "previous_release"
# In the order the release's README applied them, with their sha256 (see the folder's README.md).
FILES = {
    "db/schema.sql": "6e4c8c79821ff0824e7e988be5767378b7e7492eab8f3eb4d58dfe79eb97534a",
    "build/sql/0001_fraiseql_schema.sql": "448517294d54b2f6e1f01a540aca013ad326942f15e0332cbe1d21a926be18f5",
    "build/sql/0002_auth.sql": "ad4ef51fec0187abac00ec7fbc1e0db5e4c79b1d442ce9bf6d574d024d6b3dfc",
    "build/sql/0003_views.sql": "96c7b322c41e82519f4dcf13e144b86c015ae0a06065e1dbc7ee8e358566c6ef",
    "build/sql/0004_row_security.sql": "0299063c21b4b4f37b199a57bbe76ba3ff70a6f83b758c6664a592394f8f5b75",
    "build/sql/0005_api.sql": "4aae8871b292d2ead54d34f44afc8d288b4793383f177f1ae8406da8395e2676",
}
MIGRATE_TABLES = {"fraiseql.tb_migration", "fraiseql.tb_schema_object"}  # new with migrate: not counted
REVOKED_JTI = "old-release-alice-1"
Conn = psycopg.Connection[Any]


@dataclass
class Old:
    """What the previous release's runtime left in the database."""

    alice_key: str
    alice_key_id: Any
    bob_key: str
    alice_refresh: str
    bob_refresh: str
    bob_revoked_at: float  # epoch seconds


# --- the previous release, as it was used ------------------------------------------------------------------


def apply_previous_release(url: str) -> None:
    """psql -f, file by file: each file's statements in one implicit transaction, autocommit between files."""
    with psycopg.connect(url, autocommit=True) as conn:
        for name, digest in FILES.items():
            text = (PREVIOUS / name).read_text(encoding="utf-8")
            assert hashlib.sha256(text.encode()).hexdigest() == digest, f"{name} was edited: see README.md"
            conn.execute(text)  # type: ignore[arg-type]


def request(conn: Conn, role: str, claims: dict[str, Any] | None, query: str, params: tuple[Any, ...] = ()) -> Any:
    """One request as that release's runtime made it: SET LOCAL ROLE, the claims, the call; committed."""
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        conn.execute(
            "SELECT pg_catalog.set_config('request.jwt.claims', %s, true)",
            ("" if claims is None else json.dumps(claims),),
        )
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def jwt_claims(sub: str, *scopes: str, jti: str) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "auth": "jwt", "scopes": list(scopes), "iat": now - 60, "exp": now + 3600, "jti": jti}


def use_previous_release(url: str) -> Old:
    alice = jwt_claims(ALICE, "read:posts", "write:posts", jti=REVOKED_JTI)
    bob = jwt_claims(BOB, "read:posts", jti="old-release-bob-1")
    with psycopg.connect(url, autocommit=True) as conn:
        authed, anon = "fraiseql_authenticated", "fraiseql_anonymous"
        create_key = "SELECT id, key FROM fraiseql.fn_create_api_key(%s, %s)"
        [(alice_key_id, alice_key)] = request(conn, authed, alice, create_key, ("ci", ["read:posts"]))
        [(_, bob_key)] = request(conn, authed, bob, create_key, ("bob's", ["read:posts"]))
        login = "SELECT subject, scopes, refresh_token FROM fraiseql.fn_login(%s, %s)"
        [(subject, scopes, alice_refresh)] = request(conn, anon, None, login, ("alice@example.com", "alice-password"))
        assert (subject, scopes) == (ALICE, ["read:posts", "write:posts"])
        [(_, _, bob_refresh)] = request(conn, anon, None, login, ("bob@example.com", "bob-password"))
        assert request(conn, anon, None, login, ("mallory@example.com", "guess")) == []  # a failed attempt, counted
        created = request(
            conn, authed, alice, "SELECT api.create_post(%s::jsonb)", (json.dumps({"input": {"title": "Old one"}}),)
        )
        assert created[0][0]["title"] == "Old one"
        revoke = "SELECT fraiseql.fn_revoke_token(%s, pg_catalog.now() + interval '1 hour')"
        assert request(conn, authed, alice, revoke, (REVOKED_JTI,)) == [(True,)]  # her own token
        assert request(conn, authed, bob, "SELECT fraiseql.fn_revoke_all(%s)", (BOB,)) == [(2,)]  # refresh + key
        [(linked, _, _)] = request(
            conn,
            "fraiseql_authenticator",
            None,
            "SELECT * FROM fraiseql.fn_upsert_oauth_user('github', 'gh-alice', 'alice@example.com', 'Alice')",
        )
        assert linked == ALICE  # linked by email to her account
        [(revoked_at,)] = conn.execute(
            "SELECT extract(epoch FROM revoked_at)::float8 FROM fraiseql.tb_revoked_subject WHERE subject = %s", (BOB,)
        ).fetchall()
    return Old(alice_key, alice_key_id, bob_key, alice_refresh, bob_refresh, revoked_at)


def row_counts(url: str) -> dict[str, int]:
    """Every table of public and fraiseql but migrate's own, as the superuser (which row security does not
    filter, FORCE or not)."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            f"{s}.{t}"
            for s, t in conn.execute(
                "SELECT n.nspname, c.relname FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n"
                " ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname IN ('public', 'fraiseql')"
                " ORDER BY 1, 2"
            ).fetchall()
        ]
        return {
            t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(*t.split(".")))).fetchone()[0]
            for t in tables
            if t not in MIGRATE_TABLES
        }


# --- today ----------------------------------------------------------------------------------------------------


def migrate(root: Path, url: str, *args: str, key: str | None = CLAIMS_KEY_TEXT) -> Result:
    """`fraiseql migrate`, with the claims key in its environment (the runtime's, tests/pg/blogdb.py's ENV)."""
    return CliRunner().invoke(app, ["migrate", str(root), "--database", url, *args], env={"FRAISEQL_CLAIMS_KEY": key})


def dump(url: str) -> str:
    binary = Path("/usr/lib/postgresql/15/bin/pg_dump")
    if shutil.which("pg_config"):
        binary = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip())
        binary /= "pg_dump"
    out = subprocess.run(
        [str(binary if binary.exists() else "pg_dump"), "--schema-only", "--no-owner", f"--dbname={url}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    # pg_dump draws a random key for \restrict / \unrestrict in every dump: the only lines normalised
    return "\n".join(
        line.split(" ")[0] + " KEY" if line.startswith(("\\restrict ", "\\unrestrict ")) else line
        for line in out.splitlines()
    )


@pytest.fixture
def databases(pg_server: PgServer) -> Iterator[tuple[str, str]]:
    urls = (pg_server.create_database(), pg_server.create_database())
    try:
        yield urls
    finally:
        for url in urls:
            pg_server.drop_database(url)


def refused(result: Any, code: str) -> bool:
    return isinstance(result, ExecutionError) and result.code == code


def test_a_previous_release_database_upgrades_with_every_row_and_credential_intact(
    tmp_path: Path, databases: tuple[str, str]
) -> None:
    url, scratch = databases
    apply_previous_release(url)
    old = use_previous_release(url)
    before = row_counts(url)
    assert before["fraiseql.tb_api_key"] == 2 and before["fraiseql.tb_refresh_token"] == 3  # 2 logins, 1 OAuth
    assert before["fraiseql.tb_revoked_token"] == before["fraiseql.tb_revoked_subject"] == 1
    assert before["fraiseql.tb_login_attempt"] == before["fraiseql.tb_oauth_identity"] == 1
    assert (before["public.tb_user"], before["public.tb_post"], before["public.tb_comment"]) == (2, 3, 1)

    root = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", root)  # today's project, its committed build
    # the old database holds no claims key: without one in the environment, nothing is applied (FQL409)
    keyless = migrate(root, url, key=None)
    assert keyless.exit_code != 0 and "FQL409" in keyless.output, keyless.output
    assert row_counts(url) == before
    first = migrate(root, url)
    assert first.exit_code == 0, first.output
    assert f"claims key {key_id(CLAIMS_KEY)} installed" in first.output, first.output
    # the old objects are adopted (dropped and created again from today's build); 0001_base.sql runs again
    assert "(adopted)" in first.output and "apply     0001_base.sql" in first.output
    assert migrate(root, url, "--check").exit_code == 0
    again = migrate(root, url)
    assert again.exit_code == 0 and "up to date" in again.output

    # every table, every row (0001_base.sql's seed inserted nothing twice), and the claims key, from the
    # environment: the old runtime's requests (claims without a proof) are now no identity
    assert row_counts(url) == before | {"fraiseql.tb_claims_key": 1}
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT kid FROM fraiseql.tb_claims_key").fetchall() == [(key_id(CLAIMS_KEY),)]
        unproven = jwt_claims(ALICE, "read:posts", jti="old-runtime")
        assert request(admin, "fraiseql_authenticated", unproven, "SELECT fraiseql.current_user_id()") == [(None,)]
        titles = [r[0] for r in admin.execute("SELECT title FROM public.tb_post ORDER BY title").fetchall()]
        assert titles == ["Bob here", "Hello", "Old one"]
        # re-running 0001_base.sql replaced the user's functions with today's text (CREATE OR REPLACE)
        body = admin.execute("SELECT prosrc FROM pg_proc WHERE oid = 'public.fn_delete_post(text,jsonb)'::regprocedure")
        assert "require_scope('admin:posts')" in body.fetchone()[0]  # type: ignore[index]
        history = admin.execute("SELECT kind, name FROM fraiseql.tb_migration WHERE kind <> 'object' ORDER BY id")
        assert history.fetchall() == [("user", "0001_base.sql"), ("versioned", "versioned:auth.0001")]

        manifest = Manifest.model_validate_json((root / "build" / MANIFEST_FILE).read_text(encoding="utf-8"))
        blog = Blog(psycopg.conninfo.make_conninfo(url, user="fraiseql_authenticator"), admin, manifest, root)
        check_old_credentials(blog, old)

    fresh = migrate(root, scratch)  # today's build on an empty database: the same schema
    assert fresh.exit_code == 0, fresh.output
    upgraded, from_scratch = dump(url), dump(scratch)
    assert upgraded == from_scratch, "\n".join(
        difflib.unified_diff(upgraded.splitlines(), from_scratch.splitlines(), "upgraded", "from scratch", lineterm="")
    )


def check_old_credentials(blog: Blog, old: Old) -> None:
    # alice signs in with her password (bcrypt hash of the old release, cost 8)
    login = blog.run("login", input={"email": "alice@example.com", "password": "alice-password"})
    assert not isinstance(login, ExecutionError), login
    assert [p["title"] for p in blog.run("myPosts", login["accessToken"])] == ["Hello", "Old one"]

    # the old API key verifies, with its scopes, and is accepted by the executor; bob's was revoked with him
    verify = "SELECT key_id, subject, scopes FROM fraiseql.fn_verify_api_key(%s)"
    with psycopg.connect(blog.url, autocommit=True) as authenticator:
        assert authenticator.execute(verify, (old.alice_key,)).fetchall() == [(old.alice_key_id, ALICE, ["read:posts"])]
        assert authenticator.execute(verify, (old.bob_key,)).fetchall() == []
    assert isinstance(blog.run("reports", api_key=old.alice_key), list)
    bobs = blog.run("reports", api_key=old.bob_key)
    assert isinstance(bobs, ExecutionError) and bobs.http == 401, bobs

    # alice's refresh token still rotates, once
    rotated = blog.run("refreshToken", input={"refreshToken": old.alice_refresh})
    assert not isinstance(rotated, ExecutionError), rotated
    assert rotated["refreshToken"] != old.alice_refresh
    assert blog.run("myPosts", rotated["accessToken"]) == blog.run("myPosts", login["accessToken"])
    assert refused(blog.run("refreshToken", input={"refreshToken": old.alice_refresh}), "INVALID_REFRESH_TOKEN")
    # bob's was revoked by his revoke-all
    assert refused(blog.run("refreshToken", input={"refreshToken": old.bob_refresh}), "INVALID_REFRESH_TOKEN")

    # the revoked jti stays revoked; another token of alice's is fine
    assert refused(blog.run("myPosts", blog.token(ALICE, jti=REVOKED_JTI)), "TOKEN_REVOKED")
    assert isinstance(blog.run("myPosts", blog.token(ALICE, jti="a-new-one")), list)

    # bob's revoke-all holds for tokens issued before it, and only for those
    issued_before = blog.token(BOB, iat=int(old.bob_revoked_at) - 60, jti="bob-before")
    assert refused(blog.run("myPosts", issued_before), "TOKEN_REVOKED")
    while time.time() < old.bob_revoked_at + 1.05:  # an iat (whole seconds) after the revocation
        time.sleep(0.05)
    assert isinstance(blog.run("myPosts", blog.token(BOB, jti="bob-after")), list)
    bob_login = blog.run("login", input={"email": "bob@example.com", "password": "bob-password"})
    assert isinstance(blog.run("myPosts", bob_login["accessToken"]), list)

    # the identity an OAuth login of the old release linked is still alice's
    linked = blog.admin.execute(
        "SELECT i.subject, u.email FROM fraiseql.tb_oauth_identity AS i JOIN public.tb_user AS u"
        " ON u.id::text = i.subject WHERE i.provider = 'github' AND i.provider_subject = 'gh-alice'"
    ).fetchall()
    assert linked == [(ALICE, "alice@example.com")]
