"""docs/providers.md's worked Auth0 and Clerk examples, executed as written (issue 8 §7): the TOML and the
token claims are read from the page; only the provider's key is a test key, served on 127.0.0.1 in place of
the provider's JWKS endpoint, and the times are now."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from fraiseql_compiler.executor.errors import ExecutionError
from tests.cases import REPO
from tests.pg.blogdb import Blog, build_blog
from tests.pg.sessions import ALICE, BOB
from tests.pg.test_jwks_uri import Provider, _key
from tests.pg.test_providers import pem

PAGE = (REPO / "docs" / "providers.md").read_text(encoding="utf-8")


def block(name: str) -> str:
    """The fenced block right after ``<!-- test: <name> -->``."""
    found = re.search(rf"<!-- test: {re.escape(name)} -->\n```[a-z]*\n(.*?)```", PAGE, re.S)
    assert found, f"docs/providers.md has no block marked {name!r}"
    return found.group(1)


def served(toml: str, provider: Provider) -> str:
    """The page's TOML with its jwks_uri pointing at the test's key server."""
    return re.sub(r'jwks_uri = "[^"]+"', f'jwks_uri = "{provider.uri}"', toml)


@pytest.fixture
def key_server() -> Iterator[tuple[Provider, Any]]:
    provider = Provider()
    private, jwk = _key("docs-1")
    provider.jwks = {"keys": [jwk]}
    yield provider, private
    provider.stop()


def token(claims_json: str, private: Any, lifetime: int = 60) -> str:
    claims = json.loads(claims_json)
    now = int(time.time())
    claims.update({"iat": now, "exp": now + lifetime, "jti": f"docs-{now}-{claims['sub']}"})
    return jwt.encode(claims, pem(private), algorithm="RS256", headers={"kid": "docs-1"})


def test_the_auth0_example(tmp_path: Path, pg_url: str, key_server: tuple[Provider, Any]) -> None:
    provider, private = key_server
    blog: Blog = build_blog(tmp_path, pg_url, served(block("auth0 fraiseql.toml"), provider))
    try:
        bearer = token(block("auth0 token"), private)
        assert [p["title"] for p in blog.run("myPosts", bearer)] == ["Hello"]  # linked to Alice by her email
        created = blog.run("createPost", bearer, input={"title": "from Auth0", "body": "b"})
        assert not isinstance(created, ExecutionError), created.message
        assert created["author"]["id"] == ALICE
        link = blog.admin.execute("SELECT provider, provider_subject, subject FROM fraiseql.tb_oauth_identity")
        assert link.fetchall() == [("auth0", "auth0|5f7c8ec7c33c6c004bbafe82", ALICE)]
    finally:
        blog.admin.close()


def test_the_clerk_example(tmp_path: Path, pg_url: str, key_server: tuple[Provider, Any]) -> None:
    provider, private = key_server
    blog: Blog = build_blog(tmp_path, pg_url, served(block("clerk fraiseql.toml"), provider))
    try:
        bearer = token(block("clerk token"), private)
        assert blog.run("myPosts", bearer) == [] and blog.run("me", bearer) is None  # not linked yet
        link = re.search(r"```sql\n(INSERT INTO fraiseql\.tb_oauth_identity.*?)```", PAGE, re.S)
        assert link is not None
        blog.admin.execute(link.group(1))  # type: ignore[arg-type]  (the operator's INSERT, from the page)
        assert [p["title"] for p in blog.run("myPosts", bearer)] == ["Bob here"]
        assert blog.run("me", bearer)["id"] == BOB
        too_long = blog.run("me", token(block("clerk token"), private, lifetime=3600))
        assert isinstance(too_long, ExecutionError) and too_long.http == 401  # max_token_lifetime_seconds
    finally:
        blog.admin.close()
