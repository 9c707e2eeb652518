"""oauthCallback in the reference runtime (issue 8 §6): the code exchange and the userinfo call against the
endpoints [auth.oauth.<name>] configures (here a fake provider on 127.0.0.1), then fn_upsert_oauth_user
links or creates the user, and the runtime issues tokens the database accepts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import psycopg
import pytest

from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.run import Request, execute
from tests.pg.blogdb import ENV, Blog, build_blog
from tests.pg.sessions import ALICE, BOB

CLIENT_ID, SECRET, REDIRECT = "fake-client", "fake-secret-0123456789", "https://app.example.com/auth/callback"
USERS = {  # code → (userinfo, emails)
    "code-alice": ({"sub": "g-alice", "email": "alice@example.com", "email_verified": True, "name": "A"}, None),
    "code-unverified": ({"sub": "g-mallory", "email": "bob@example.com", "email_verified": False}, None),
    "code-bob-gh": ({"id": 4242, "login": "bobby", "email": None}, [
        {"email": "bob@old.example", "primary": False, "verified": True},
        {"email": "bob@example.com", "primary": True, "verified": True},
    ]),
}


class Fake(BaseHTTPRequestHandler):
    tokens: dict[str, str] = {}

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        good = (form.get("client_id"), form.get("client_secret"), form.get("redirect_uri")) == (
            CLIENT_ID, SECRET, REDIRECT,
        )
        if self.path != "/token" or not good or form.get("grant_type") != "authorization_code":
            self._json(400, {"error": "invalid_client"})
        elif form.get("code") not in USERS:
            self._json(400, {"error": "invalid_grant", "error_description": "the code is unknown or used"})
        else:
            access = f"at-{form['code']}"
            Fake.tokens[access] = form["code"]
            self._json(200, {"access_token": access, "token_type": "Bearer"})

    def do_GET(self) -> None:
        code = Fake.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
        if code is None:
            self._json(401, {"error": "invalid_token"})
            return
        info, emails = USERS[code]
        self._json(200, emails if self.path == "/emails" else info)


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


TOML = """
[auth]
type = ["jwt", "oauth2"]

[auth.oauth.google]
token_url = "${FAKE_TOKEN_URL}"
userinfo_url = "${FAKE_USERINFO_URL}"

[auth.oauth.github]
token_url = "${FAKE_TOKEN_URL}"
userinfo_url = "${FAKE_USERINFO_URL}"
emails_url = "${FAKE_EMAILS_URL}"
"""


@pytest.fixture
def blog(tmp_path: Path, pg_url: str) -> Iterator[Blog]:
    db = build_blog(tmp_path, pg_url, TOML)
    yield db
    db.admin.close()


def callback(blog: Blog, base: str, provider_name: str, code: str) -> Any:
    env = {
        **ENV,
        "FAKE_TOKEN_URL": f"{base}/token", "FAKE_USERINFO_URL": f"{base}/userinfo", "FAKE_EMAILS_URL": f"{base}/emails",
        "GOOGLE_CLIENT_ID": CLIENT_ID, "GOOGLE_CLIENT_SECRET": SECRET, "GOOGLE_REDIRECT_URI": REDIRECT,
        "GITHUB_CLIENT_ID": CLIENT_ID, "GITHUB_CLIENT_SECRET": SECRET, "GITHUB_REDIRECT_URI": REDIRECT,
    }
    variables = {"input": {"code": code, "provider": provider_name}}
    with psycopg.connect(blog.url, autocommit=True) as conn:
        try:
            return execute(conn, blog.manifest, Request("oauthCallback", variables), env)
        except ExecutionError as exc:
            return exc


def test_the_manifest_carries_the_providers_and_the_variables_they_read(blog: Blog) -> None:
    oauth = {p.name: p for p in blog.manifest.config.auth.oauth}
    assert oauth["google"].client_secret_env == "GOOGLE_CLIENT_SECRET"
    assert oauth["google"].client_id.model_dump(exclude_none=True) == {"env": "GOOGLE_CLIENT_ID"}
    assert oauth["github"].emails_url is not None and blog.manifest.config.auth.type == ["jwt", "oauth2"]


def test_google_code_signs_in_the_user_with_that_verified_email(blog: Blog, provider: str) -> None:
    payload = callback(blog, provider, "google", "code-alice")
    assert not isinstance(payload, ExecutionError), payload.message
    assert blog.run("me", payload["accessToken"])["id"] == ALICE
    assert payload["refreshToken"] and payload["tokenType"] == "Bearer"
    row = blog.admin.execute("SELECT provider, provider_subject, subject FROM fraiseql.tb_oauth_identity").fetchone()
    assert row == ("google", "g-alice", ALICE)


def test_github_counts_only_the_verified_primary_email(blog: Blog, provider: str) -> None:
    payload = callback(blog, provider, "github", "code-bob-gh")
    assert not isinstance(payload, ExecutionError), payload.message
    assert blog.run("me", payload["accessToken"])["id"] == BOB


def test_an_unverified_email_links_nothing(blog: Blog, provider: str) -> None:
    refused = callback(blog, provider, "google", "code-unverified")
    assert isinstance(refused, ExecutionError) and (refused.http, refused.code) == (422, "INVALID_ARGUMENT")


def test_a_code_the_provider_refuses_is_401_and_an_unknown_provider_400(blog: Blog, provider: str) -> None:
    refused = callback(blog, provider, "google", "code-stolen")
    assert isinstance(refused, ExecutionError) and refused.http == 401 and "unknown or used" in refused.message
    unknown = callback(blog, provider, "okta", "code-alice")
    assert isinstance(unknown, ExecutionError) and unknown.http == 400 and "github, google" in unknown.message


def test_an_unreachable_provider_is_502(blog: Blog) -> None:
    down = callback(blog, "http://127.0.0.1:9", "google", "code-alice")
    assert isinstance(down, ExecutionError) and down.http == 502


def test_without_a_section_the_guides_variables_are_read(tmp_path: Path, pg_url: str) -> None:
    """The guide configures Google and GitHub with GOOGLE_CLIENT_ID/_SECRET and GITHUB_…: a schema binding
    oauthCallback gets both, reading those variables, when fraiseql.toml declares no [auth.oauth.*]."""
    db = build_blog(tmp_path, pg_url)
    try:
        oauth = {p.name: p for p in db.manifest.config.auth.oauth}
        assert sorted(oauth) == ["github", "google"]
        assert (oauth["github"].client_secret_env, oauth["google"].client_secret_env) == (
            "GITHUB_CLIENT_SECRET", "GOOGLE_CLIENT_SECRET",
        )
        assert str(oauth["google"].token_url) == "https://oauth2.googleapis.com/token"
    finally:
        db.admin.close()
