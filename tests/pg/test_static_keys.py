"""Static API keys (``[security.api_keys] storage = "env"``, the authentication guide's tests-and-CI keys), through
the reference executor and ``fraiseql query``: the right key is accepted with its own scopes, any other is 401."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from fraiseql_compiler.cli.app import app
from fraiseql_compiler.executor import static_keys
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.run import Request, authenticate
from fraiseql_compiler.manifest import MANIFEST_FILE
from fraiseql_compiler.manifest.io import dumps
from fraiseql_compiler.manifest.models import StaticKey
from tests.cases import REPO
from tests.pg.blogdb import Blog, build_blog
from tests.pg.sessions import ALICE

READER = "fql_ci_reader_5d2c9a7e41b08f36"
WRITER = "fql_ci_writer_0b7e1c94d3a26f58"


def sha256sum(key: str) -> str:
    """The digest exactly as the guide computes it: printf %s "$KEY" | sha256sum."""
    out = subprocess.run(
        ["sh", "-c", 'printf %s "$KEY" | sha256sum'],
        env={"KEY": key, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "sha256:" + out.split()[0]


def static_config() -> tuple[str, str]:
    """(fraiseql.toml with storage = "env", the static keys to append)."""
    toml = (REPO / "examples" / "blog" / "fraiseql.toml").read_text(encoding="utf-8")
    assert toml.count('storage = "postgres"') == 1
    keys = f"""
[[security.api_keys.static]]
name = "ci-readonly"
key_hash = "{sha256sum(READER)}"
scopes = ["read:*"]

[[security.api_keys.static]]
name = "ci-ingest"
key_hash = "sha256:{hashlib.sha256(WRITER.encode()).hexdigest()}"
scopes = ["write:data", "read:posts"]
"""
    return toml.replace('storage = "postgres"', 'storage = "env"'), keys


@pytest.fixture
def blog(tmp_path: Path, pg_url: str) -> Any:
    toml, keys = static_config()
    db = build_blog(tmp_path, pg_url, toml_extra=keys, toml_replace=toml)
    yield db
    db.admin.close()


def test_the_guide_hash_format_is_what_the_runtime_compares() -> None:
    assert sha256sum(READER) == static_keys.digest(READER)
    assert sha256sum("test") == "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def test_the_config_still_warns_that_static_keys_are_for_tests(tmp_path: Path) -> None:
    from fraiseql_compiler.config import load_config

    toml, keys = static_config()
    (tmp_path / "fraiseql.toml").write_text(toml + keys, encoding="utf-8")
    assert [w.code for w in load_config(tmp_path / "fraiseql.toml").warnings] == ["FQL302"]


def test_the_right_static_key_runs_an_api_key_query(blog: Blog) -> None:
    assert blog.manifest.config.security.api_keys.storage == "env"
    reports = blog.run("reports", api_key=READER)
    assert isinstance(reports, list) and reports, reports
    assert {r["authorName"] for r in reports} >= {"Alice"}


def test_a_static_key_gets_the_api_key_role_and_exactly_these_claims(blog: Blog) -> None:
    with psycopg.connect(blog.url, autocommit=True) as conn:
        claims, role = authenticate(conn, blog.manifest, Request("reports", api_key=READER))
        assert role == "fraiseql_api_key"
        assert claims == {
            "sub": "static:ci-readonly",
            "scopes": ["read:*"],
            "auth": "api_key",
            "static_key": "ci-readonly",
        }
        claims, _ = authenticate(conn, blog.manifest, Request("reports", api_key=WRITER))
        assert claims["scopes"] == ["read:posts", "write:data"]  # sorted


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(READER[:-1], id="truncated"),
        pytest.param(READER + "x", id="extended"),
        pytest.param(READER.upper(), id="case"),
        pytest.param(" " + READER, id="space"),
        pytest.param("", id="empty"),
        pytest.param(READER + "\x00", id="nul"),
        pytest.param("\ud800", id="lone-surrogate"),
        pytest.param(static_keys.digest(READER), id="the-digest-itself"),
        pytest.param(static_keys.digest(READER).removeprefix("sha256:"), id="the-hex-digest"),
    ],
)
def test_any_other_key_is_401(blog: Blog, bad: str) -> None:
    result = blog.run("reports", api_key=bad)
    assert isinstance(result, ExecutionError) and (result.http, result.code) == (401, "UNAUTHENTICATED"), result


def test_static_keys_only_have_their_scopes(blog: Blog) -> None:
    payload = {"source": "ci", "rows": ["a", "b"]}
    denied = blog.run("ingestData", api_key=READER, payload=payload)  # read:* is no write:data
    assert isinstance(denied, ExecutionError) and (denied.http, denied.code) == (403, "INSUFFICIENT_SCOPE")
    assert blog.run("ingestData", api_key=WRITER, payload=payload) is True
    # a static key is authenticated, but it is no user: it owns no row, and cannot mint keys
    assert blog.run("myPosts", api_key=READER) == []
    assert blog.run("me", api_key=READER) is None
    minting = blog.run("createApiKey", api_key=WRITER, name="child", scopes=["write:data"])
    assert isinstance(minting, ExecutionError) and minting.http in (401, 403)


def test_database_keys_are_not_accepted_with_env_storage(blog: Blog) -> None:
    """storage = "env": the configured digests are the only keys; the database's key table is not consulted."""
    created = blog.run("createApiKey", blog.token(ALICE, "read:posts"), name="db-key", scopes=["read:posts"])
    assert created["key"].startswith("fql_")
    result = blog.run("reports", api_key=created["key"])
    assert isinstance(result, ExecutionError) and result.http == 401


def test_every_key_is_compared_even_after_a_match(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    calls: list[bytes] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append(b)
        return real(a, b)

    monkeypatch.setattr(static_keys.hmac, "compare_digest", counting)
    keys = [StaticKey(name=n, key_hash=static_keys.digest(n + "-key"), scopes=[]) for n in ("a", "b", "c")]
    assert static_keys.match(keys, "a-key") == keys[0]
    assert len(calls) == 3
    calls.clear()
    assert static_keys.match(keys, "nope") is None and len(calls) == 3


def test_fraiseql_query_accepts_a_static_key(blog: Blog, tmp_path: Path) -> None:
    manifest = tmp_path / MANIFEST_FILE
    manifest.write_text(dumps(blog.manifest), encoding="utf-8")
    base = ["query", "--manifest", str(manifest), "--database", blog.url]
    ok = CliRunner().invoke(app, [*base, "reports", "--api-key", READER, "--var", "limit=1"])
    assert ok.exit_code == 0, ok.output
    assert len(json.loads(ok.stdout)["data"]) == 1
    bad = CliRunner().invoke(app, [*base, "reports", "--api-key", WRITER + "0"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["errors"][0]["http"] == 401
