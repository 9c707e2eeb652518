"""Issue 8: rotating the first-party RS256 key without downtime, walked step by step as docs/configuration.md
describes it, with tokens minted by `fraiseql token` and by the login flow, verified by the executor."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fraiseql_compiler.api import analyze, emit
from fraiseql_compiler.cli.app import app
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.run import Request, execute
from fraiseql_compiler.manifest import MANIFEST_FILE, Manifest
from fraiseql_compiler.manifest.io import dumps
from fraiseql_compiler.project import resolve_project
from tests.cases import REPO
from tests.pg.blogdb import Blog, build_blog
from tests.pg.sessions import ALICE, CLAIMS_KEY_TEXT

OLD, NEW = "2025-01", "2025-07"  # kids as people name them: when the key was made


def _key() -> tuple[Any, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, pem


def _jwk(private: Any, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return jwk


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    (old, old_pem), (new, new_pem) = _key(), _key()
    return {"old": _jwk(old, OLD), "new": _jwk(new, NEW), "old_pem": old_pem, "new_pem": new_pem}


def _toml(signing_key_id: str | None) -> str:
    toml = (REPO / "examples" / "blog" / "fraiseql.toml").read_text()
    toml = toml.replace('algorithm = "HS256"', 'algorithm = "RS256"')
    line = 'jwks_file = "jwks.json"' + (f'\nsigning_key_id = "{signing_key_id}"' if signing_key_id else "")
    return toml.replace('secret_env = "JWT_SECRET"', line)


@pytest.fixture
def blog(tmp_path: Path, pg_url: str, keys: dict[str, Any]) -> Iterator[Blog]:
    files = {"jwks.json": json.dumps({"keys": [keys["old"]]})}
    db = build_blog(tmp_path, pg_url, files=files, toml_replace=_toml(None))
    yield db
    db.admin.close()


def deploy(blog: Blog, jwks: list[dict[str, Any]], signing_key_id: str | None) -> dict[str, str]:
    """A new build of the same project with other keys: only the manifest changes, never the SQL."""
    (blog.project / "jwks.json").write_text(json.dumps({"keys": jwks}), encoding="utf-8")
    (blog.project / "fraiseql.toml").write_text(_toml(signing_key_id), encoding="utf-8")
    artifacts = {a.path: a.content for a in emit(analyze(resolve_project(blog.project)))}
    blog.manifest = Manifest.model_validate_json(artifacts[MANIFEST_FILE])
    return {path: text for path, text in artifacts.items() if path.startswith("sql/")}


def run(blog: Blog, operation: str, token: str | None, env: Mapping[str, str], **variables: Any) -> Any:
    env = {"FRAISEQL_CLAIMS_KEY": CLAIMS_KEY_TEXT, **env}  # the runtime always holds the claims key
    with psycopg.connect(blog.url, autocommit=True) as conn:
        try:
            return execute(conn, blog.manifest, Request(operation, variables, token), env)
        except ExecutionError as exc:
            return exc


def cli_token(blog: Blog, tmp_path: Path, pem: str) -> str:
    """`fraiseql token` with the private key in a file, against the current manifest."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(dumps(blog.manifest), encoding="utf-8")
    key_file = tmp_path / "signing.pem"  # outside the project: a private key never sits next to the config
    key_file.write_text(pem, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["token", "--sub", ALICE, "--scope", "write:posts", "--key-file", str(key_file), "--manifest", str(manifest)],
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def login(blog: Blog, pem: str) -> str:
    payload = run(blog, "login", None, {"JWT_PRIVATE_KEY": pem}, input={"email": "alice@example.com",
                                                                      "password": "alice-password"})
    assert not isinstance(payload, ExecutionError), payload.message
    return str(payload["accessToken"])


def accepted(blog: Blog, token: str) -> bool:
    result = run(blog, "myPosts", token, {})
    if isinstance(result, ExecutionError):
        assert result.http == 401, result.message
        return False
    assert [p["title"] for p in result] == ["Hello"]
    return True


def kid(token: str) -> str | None:
    return jwt.get_unverified_header(token).get("kid")  # type: ignore[no-any-return]


def test_zero_downtime_rotation(blog: Blog, keys: dict[str, Any], tmp_path: Path) -> None:
    # before: one key, whose kid every minted token carries (the only key's kid, by default)
    assert blog.manifest.config.auth.jwt.signing_key_id == OLD
    before = [cli_token(blog, tmp_path, keys["old_pem"]), login(blog, keys["old_pem"])]
    assert [kid(t) for t in before] == [OLD, OLD] and all(accepted(blog, t) for t in before)

    # step 1: publish the new public key next to the old one; the old key still signs
    sql = deploy(blog, [keys["old"], keys["new"]], OLD)
    assert blog.manifest.config.auth.jwt.signing_key_id == OLD
    step1 = cli_token(blog, tmp_path, keys["old_pem"])
    assert kid(step1) == OLD and all(accepted(blog, t) for t in [*before, step1])

    # step 2: switch signing_key_id and the private key together
    assert deploy(blog, [keys["old"], keys["new"]], NEW) == sql  # no migration: the keys live in the manifest
    step2 = [cli_token(blog, tmp_path, keys["new_pem"]), login(blog, keys["new_pem"])]
    assert [kid(t) for t in step2] == [NEW, NEW]
    assert all(accepted(blog, t) for t in [*before, step1, *step2])  # the old tokens live out their lifetime

    # step 3, after the longest token lifetime: retire the old public key
    deploy(blog, [keys["new"]], None)
    assert blog.manifest.config.auth.jwt.signing_key_id == NEW
    assert all(accepted(blog, t) for t in step2)
    for old in [*before, step1]:
        refused = run(blog, "myPosts", old, {})
        assert isinstance(refused, ExecutionError) and refused.http == 401
        assert f"signed with key '{OLD}'" in refused.message


def test_a_private_key_that_does_not_match_signing_key_id_is_refused(blog: Blog, keys: dict[str, Any]) -> None:
    """Switching signing_key_id but not the private key (or the reverse) would mint tokens every request
    refuses: the mint refuses instead, and says which key is expected."""
    deploy(blog, [keys["old"], keys["new"]], NEW)
    refused = run(blog, "login", None, {"JWT_PRIVATE_KEY": keys["old_pem"]},
                  input={"email": "alice@example.com", "password": "alice-password"})
    assert isinstance(refused, ExecutionError) and (refused.http, refused.code) == (500, "MISCONFIGURED")
    assert f"not the private half of key '{NEW}'" in refused.message and "JWT_PRIVATE_KEY" in refused.message


def test_a_token_without_kid_is_refused_while_several_keys_are_published(blog: Blog, keys: dict[str, Any]) -> None:
    legacy = jwt.encode(
        jwt.decode(login(blog, keys["old_pem"]), options={"verify_signature": False}),
        serialization.load_pem_private_key(keys["old_pem"].encode(), None),  # type: ignore[arg-type]
        algorithm="RS256",
    )  # as minted before tokens carried a kid
    assert kid(legacy) is None and accepted(blog, legacy)  # one key: it is that one
    deploy(blog, [keys["old"], keys["new"]], OLD)
    refused = run(blog, "myPosts", legacy, {})
    assert isinstance(refused, ExecutionError) and refused.http == 401
    assert "names no key (kid) and several keys are configured" in refused.message


def test_token_without_a_private_key_names_the_variable(blog: Blog, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(dumps(blog.manifest), encoding="utf-8")
    result = CliRunner().invoke(app, ["token", "--sub", ALICE, "--manifest", str(manifest)],
                                env={"JWT_PRIVATE_KEY": None, "JWT_ALGORITHM": None})
    assert result.exit_code == 2 and "FQL162" in result.output
    assert "set JWT_PRIVATE_KEY (named by [auth.jwt] private_key_env)" in result.output and "None" not in result.output
    assert "--key-file" in result.output
