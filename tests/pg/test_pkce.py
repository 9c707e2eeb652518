"""Issue 14: the authentication guide's ``[security.pkce]`` block (Auth0 as an OIDC provider) against a fake
OIDC provider on 127.0.0.1 (tests/oidc_fake.py): the provider's access tokens work through ``fraiseql
query``, and the login flow of the reference runtime (``fraiseql login-url`` → the provider's /authorize →
``fraiseql login-callback``) signs Alice in end to end; then each way a login must fail."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from click.testing import CliRunner, Result

from fraiseql_compiler.api import analyze, emit
from fraiseql_compiler.cli.app import app
from fraiseql_compiler.config import ConfigError, load_config
from fraiseql_compiler.executor import discovery, jwks_cache, pkce
from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.executor.run import Request, execute
from fraiseql_compiler.executor.tokens import verify
from fraiseql_compiler.manifest import MANIFEST_FILE, Manifest
from fraiseql_compiler.manifest.io import dumps
from fraiseql_compiler.manifest.models import EnvRef
from fraiseql_compiler.project import resolve_project
from tests.cases import REPO
from tests.oidc_fake import ALICE as ALICE_AT_PROVIDER
from tests.oidc_fake import AUDIENCE, CLIENT_ID, REDIRECT_URI, FakeOidc, new_rsa_key, s256
from tests.pg.blogdb import SECRET, Blog, build_blog
from tests.pg.sessions import ALICE, ALICE_DRAFT, CLAIMS_KEY_TEXT
from tests.pgserver import PgServer

# The guide's block, with the issuer in the environment (the fake provider's port changes every run).
GUIDE_BLOCK = """
[security.pkce]
issuer_url = "${OIDC_ISSUER}"
client_id = "${AUTH0_CLIENT_ID}"
audience = "https://api.yourdomain.com" # your Auth0 API audience
"""


@pytest.fixture(scope="module")
def signing_key() -> tuple[str, Any, dict[str, Any]]:
    private, jwk = new_rsa_key("fake-k1")
    return "fake-k1", private, jwk


@pytest.fixture(scope="module")
def blog(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Blog]:
    """One blog database for the module (built once: the tests link and unlink identities only)."""
    url = pg_server.create_database()
    try:
        db = build_blog(tmp_path_factory.mktemp("pkce"), url, GUIDE_BLOCK)
        db.admin.execute(  # a draft of Alice's, which only she sees
            "INSERT INTO public.tb_post (id, author_id, title, published) VALUES (%s, %s, 'Alice draft', false)",
            (ALICE_DRAFT, ALICE),
        )
        (db.project / "build").mkdir()
        (db.project / "build" / MANIFEST_FILE).write_text(dumps(db.manifest), encoding="utf-8")
        try:
            yield db
        finally:
            db.admin.close()
    finally:
        pg_server.drop_database(url)


@pytest.fixture
def fake(signing_key: tuple[str, Any, dict[str, Any]]) -> Iterator[FakeOidc]:
    server = FakeOidc(keys=[signing_key])
    yield server
    server.stop()


@pytest.fixture
def env(blog: Blog, fake: FakeOidc, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The runtime's environment for the fake provider, fresh caches (as after a restart), no links."""
    values = {"JWT_SECRET": SECRET, "OIDC_ISSUER": fake.issuer, "AUTH0_CLIENT_ID": CLIENT_ID,
              "FRAISEQL_CLAIMS_KEY": CLAIMS_KEY_TEXT}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OIDC_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # never the user's own cache
    monkeypatch.setattr(discovery, "CACHE", discovery.DiscoveryCache())
    monkeypatch.setattr(jwks_cache, "CACHE", jwks_cache.JwksCache(min_refetch_seconds=0))
    blog.admin.execute("DELETE FROM fraiseql.tb_oauth_identity")
    return values


def manifest_file(blog: Blog) -> str:
    return str(blog.project / "build" / MANIFEST_FILE)


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def query(blog: Blog, token: str) -> Result:
    return cli("query", "posts", "--token", token, "--manifest", manifest_file(blog),
               "--database", blog.url)


def titles(blog: Blog, token: str, env: dict[str, str]) -> list[str] | ExecutionError:
    with psycopg.connect(blog.url, autocommit=True) as conn:
        try:
            return sorted(p["title"] for p in execute(conn, blog.manifest, Request("posts", {}, token), env))
        except ExecutionError as exc:
            return exc


def login_url(blog: Blog, state_dir: Path, *extra: str) -> dict[str, Any]:
    result = cli("login-url", str(blog.project), "--redirect-uri", REDIRECT_URI, "--state-dir", str(state_dir),
                 "--json", *extra)  # the manifest of the project at PATH: build/fraiseql.manifest.json
    assert result.exit_code == 0, result.output
    started: dict[str, Any] = json.loads(result.stdout)
    return started


def callback(blog: Blog, state_dir: Path, *args: str) -> Result:
    return cli("login-callback", "--manifest", manifest_file(blog), "--state-dir", str(state_dir),
               *args)


def refused(result: Result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stdout == "", result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr  # a one-liner
    assert lines[0].startswith("login refused: " if code == 1 else "error: "), lines[0]
    assert all(w in lines[0] for w in words), lines[0]


def started_login(blog: Blog, fake: FakeOidc, state_dir: Path) -> tuple[dict[str, Any], str]:
    started = login_url(blog, state_dir)
    return started, fake.authorize(started["authorization_url"])


# --- the guide's block: the provider's access tokens ----------------------------------------------------------


def test_the_guides_block_accepts_the_providers_tokens(blog: Blog, fake: FakeOidc, env: dict[str, str]) -> None:
    oidc = next(p for p in blog.manifest.config.security.providers if p.name == "oidc")
    assert oidc.discovery and oidc.issuer == EnvRef(env="OIDC_ISSUER") and oidc.link == "email"
    assert oidc.audience == ["https://api.yourdomain.com"] and oidc.jwks_uri is None
    pkce_cfg = blog.manifest.config.security.pkce
    assert pkce_cfg is not None and pkce_cfg.provider == "oidc" and pkce_cfg.client_id == EnvRef(env="AUTH0_CLIENT_ID")
    # an Auth0 Action adds the verified email: Alice's identity is linked to her account on first sight
    fake.access_claims = {"email": "alice@example.com", "email_verified": True}
    token = fake.access_token()
    assert titles(blog, token, env) == ["Alice draft", "Hello"]
    linked = blog.admin.execute("SELECT provider, provider_subject, subject::text FROM fraiseql.tb_oauth_identity")
    assert linked.fetchall() == [("oidc", "auth0|alice", ALICE)]
    assert fake.requests == {"/.well-known/openid-configuration": 1, "/jwks": 1}  # discovery, then the keys
    # the CLI, exactly the same
    result = query(blog, fake.access_token())
    assert result.exit_code == 0, result.output
    assert sorted(p["title"] for p in json.loads(result.stdout)["data"]) == ["Alice draft", "Hello"]
    # an unverified email links nobody: authenticated, owning nothing
    fake.access_claims = {"email": "bob@example.com", "email_verified": False}
    assert titles(blog, fake.access_token(sub="auth0|mallory"), env) == ["Hello"]
    # another API's token is refused (the audience is the guide's)
    other = fake.access_token(aud="https://other-api.example.com")
    refusal = titles(blog, other, env)
    assert isinstance(refusal, ExecutionError) and refusal.http == 401 and "audience" in refusal.message.lower()


# --- the login flow, end to end --------------------------------------------------------------------------------


def test_login_flow_end_to_end(blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path) -> None:
    state_dir = tmp_path / "pkce"
    started = login_url(blog, state_dir)
    # the authorization URL: the discovered endpoint, S256 (never plain), and the API audience for Auth0
    url = urlsplit(started["authorization_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake.base}/authorize"
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert params == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email",
        "state": started["state"],
        "nonce": started["nonce"],
        "code_challenge": started["code_challenge"],
        "code_challenge_method": "S256",
        "audience": AUDIENCE,
    }
    assert len(started["state"]) >= 22 and len(started["nonce"]) >= 22 and started["state"] != started["nonce"]
    # the pending login: private, named by a hash of the state, holding an RFC 7636 verifier
    state_file = Path(started["state_file"])
    assert state_file.parent == state_dir and started["state"] not in state_file.name
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600 and stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    pending = json.loads(state_file.read_text())
    verifier = pending["code_verifier"]
    assert 43 <= len(verifier) <= 128 and set(verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
    assert s256(verifier) == started["code_challenge"] == params["code_challenge"]
    assert {pending["issuer"], pending["client_id"], pending["redirect_uri"]} == {fake.issuer, CLIENT_ID, REDIRECT_URI}
    # the browser signs in at the provider, which sends it back with a code
    redirect = fake.authorize(started["authorization_url"])
    assert redirect.startswith(REDIRECT_URI + "?")
    result = callback(blog, state_dir, "--url", redirect, "--database", blog.url)
    assert result.exit_code == 0, result.output
    login = json.loads(result.stdout)
    assert login["token_type"] == "Bearer" and login["expires_in"] == 3600 and login["provider"] == "oidc"
    assert login["id_token_claims"] == {
        "sub": "auth0|alice", "email": "alice@example.com", "email_verified": True, "name": "Alice"
    }
    assert login["user_id"] == ALICE  # linked by the ID token's verified email
    assert not state_file.exists()
    (form,) = fake.token_requests
    assert form["code_verifier"] == verifier and form["redirect_uri"] == REDIRECT_URI and "client_secret" not in form
    # the access token carries no email (Auth0's default); the identity is linked: Alice sees her draft
    assert "email" not in verify(login["access_token"], blog.manifest.config, env).claims
    answer = query(blog, login["access_token"])
    assert answer.exit_code == 0, answer.output
    assert sorted(p["title"] for p in json.loads(answer.stdout)["data"]) == ["Alice draft", "Hello"]


def test_login_flow_of_a_confidential_client_without_database(
    blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default state directory ($XDG_CACHE_HOME/fraiseql/pkce), --code/--state, and the client secret
    read from OIDC_CLIENT_SECRET (client_secret_env) when it is set."""
    fake.client_secret = "s3cret-of-the-client"
    started = json.loads(cli("login-url", "--manifest", manifest_file(blog), "--redirect-uri",
                             REDIRECT_URI, "--json").stdout)
    assert Path(started["state_file"]).parent == tmp_path / "xdg" / "fraiseql" / "pkce"
    code = parse_qs(urlsplit(fake.authorize(started["authorization_url"])).query)["code"][0]
    without = cli("login-callback", "--manifest", manifest_file(blog), "--code", code,
                  "--state", started["state"])
    refused(without, 2, "invalid_client", "OIDC_CLIENT_SECRET")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "s3cret-of-the-client")
    started, redirect = started_login(blog, fake, tmp_path / "xdg" / "fraiseql" / "pkce")
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    result = cli("login-callback", "--manifest", manifest_file(blog), "--code", code,
                 "--state", started["state"])
    assert result.exit_code == 0, result.output
    assert "user_id" not in json.loads(result.stdout)  # no --database: nothing linked
    assert fake.token_requests[-1]["client_secret"] == "s3cret-of-the-client"


# --- each way a login must fail --------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["trailing slash", "another issuer"])
def test_wrong_issuer_in_discovery_is_refused(
    blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path, given: str
) -> None:
    fake.document_issuer = fake.issuer.rstrip("/") if given == "trailing slash" else "https://evil.example/"
    shown = repr(fake.document_issuer)
    result = cli("login-url", "--manifest", manifest_file(blog), "--redirect-uri", REDIRECT_URI,
                 "--state-dir", str(tmp_path / "s"))
    refused(result, 2, "names the issuer", shown, repr(fake.issuer), "exactly")
    assert not list((tmp_path / "s").glob("*"))  # no login was started
    # and the runtime accepts none of its tokens: the keys it would name are not trusted
    answer = query(blog, fake.access_token())
    assert answer.exit_code == 1
    (error,) = json.loads(answer.stdout)["errors"]
    assert error["code"] == "MISCONFIGURED" and "names the issuer" in error["message"] and shown in error["message"]
    assert fake.requests.get("/jwks") is None


def test_unknown_kid_then_key_rotation(blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path) -> None:
    fake.access_claims = {"email": "alice@example.com", "email_verified": True}
    assert titles(blog, fake.access_token(), env) == ["Alice draft", "Hello"]
    assert fake.requests["/jwks"] == 1
    # a key the provider does not publish: refused after one refetch (the provider might have rotated)
    fake.rotate("fake-unpublished", publish=False)
    refusal = titles(blog, fake.access_token(), env)
    assert isinstance(refusal, ExecutionError) and refusal.http == 401
    assert "'fake-unpublished'" in refusal.message and "does not publish" in refusal.message
    assert fake.requests["/jwks"] == 2
    # the provider rotates: publishes a new key and signs with it; the unknown kid fetches the keys again
    fake.rotate("fake-k2")
    assert titles(blog, fake.access_token(), env) == ["Alice draft", "Hello"]
    assert fake.requests["/jwks"] == 3
    assert titles(blog, fake.access_token(), env) == ["Alice draft", "Hello"]
    assert fake.requests["/jwks"] == 3  # cached now
    # the login flow's ID token (signed with the new key) verifies as well
    _, redirect = started_login(blog, fake, tmp_path)
    result = callback(blog, tmp_path, "--url", redirect)
    assert result.exit_code == 0, result.output
    assert fake.requests["/.well-known/openid-configuration"] == 1  # discovery is cached for an hour


def test_a_replayed_state_is_refused(blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path) -> None:
    _, redirect = started_login(blog, fake, tmp_path)
    first = callback(blog, tmp_path, "--url", redirect)
    assert first.exit_code == 0, first.output
    again = callback(blog, tmp_path, "--url", redirect)
    refused(again, 1, "unknown state", "already used")
    assert len(fake.token_requests) == 1  # the replay never reached the provider
    # a state nobody started, likewise
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    refused(callback(blog, tmp_path, "--code", code, "--state", "made-up-state"), 1, "unknown state")


def test_an_expired_login_is_refused(blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path) -> None:
    started, redirect = started_login(blog, fake, tmp_path)
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    later = time.time() + pkce.STATE_TTL_SECONDS + 5
    with pytest.raises(pkce.LoginError) as caught:
        pkce.finish(blog.manifest, state=started["state"], code=code, state_dir=tmp_path, clock=lambda: later)
    assert caught.value.refused and "expired" in caught.value.message and "10 minutes" in caught.value.message
    assert not Path(started["state_file"]).exists() and fake.token_requests == []


def test_an_at_hash_that_does_not_match_is_refused(
    blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path
) -> None:
    fake.id_claims = {"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}  # the ID token of another access token
    _, redirect = started_login(blog, fake, tmp_path)
    refused(callback(blog, tmp_path, "--url", redirect), 1, "ID token is refused", "at_hash")


def test_without_an_audience_the_access_token_is_opaque(
    blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path
) -> None:
    """Auth0 issues a JWT access token for an API only when the login names its audience: without one, the
    login says what to set."""
    assert blog.manifest.config.security.pkce is not None
    pkce_cfg = blog.manifest.config.security.pkce.model_copy(update={"audience": None})
    security = blog.manifest.config.security.model_copy(update={"pkce": pkce_cfg})
    manifest = blog.manifest.model_copy(
        update={"config": blog.manifest.config.model_copy(update={"security": security})}
    )
    started = pkce.begin(manifest, redirect_uri=REDIRECT_URI, state_dir=tmp_path)
    assert "audience" not in parse_qs(urlsplit(started.url).query)
    code = parse_qs(urlsplit(fake.authorize(started.url)).query)["code"][0]
    with pytest.raises(pkce.LoginError) as caught:
        pkce.finish(manifest, state=started.state, code=code, state_dir=tmp_path)
    assert caught.value.refused and "opaque access token" in caught.value.message
    assert "set audience in [security.pkce]" in caught.value.message


@pytest.mark.parametrize("nonce", ["someone-elses-nonce", None])
def test_a_wrong_nonce_is_refused(
    blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path, nonce: str | None
) -> None:
    fake.id_claims = {"nonce": nonce}
    _, redirect = started_login(blog, fake, tmp_path)
    result = callback(blog, tmp_path, "--url", redirect, "--database", blog.url)
    refused(result, 1, "ID token is refused", "nonce")
    assert blog.admin.execute("SELECT count(*) FROM fraiseql.tb_oauth_identity").fetchone() == (0,)


def test_a_verifier_that_does_not_match_the_challenge(
    blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path
) -> None:
    started, redirect = started_login(blog, fake, tmp_path)
    state_file = Path(started["state_file"])
    pending = json.loads(state_file.read_text())
    pending["code_verifier"] = pkce.new_verifier()  # a well-formed verifier of another login
    state_file.write_text(json.dumps(pending))
    result = callback(blog, tmp_path, "--url", redirect)
    refused(result, 1, "the provider refused the authorization code", "invalid_grant", "verify code verifier")


def test_an_expired_code_is_reported(blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path) -> None:
    _, redirect = started_login(blog, fake, tmp_path)
    fake.clock = lambda: time.time() + 120  # the code lived 60 s on the provider's clock
    refused(callback(blog, tmp_path, "--url", redirect), 1, "invalid_grant", "expired")


def test_an_error_redirect_and_a_mixed_up_issuer(
    blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path
) -> None:
    started = login_url(blog, tmp_path)
    denied = f"{REDIRECT_URI}?error=access_denied&error_description=User+cancelled&state={started['state']}"
    refused(callback(blog, tmp_path, "--url", denied), 1, "access_denied", "User cancelled")
    started, redirect = started_login(blog, fake, tmp_path)
    refused(callback(blog, tmp_path, "--url", redirect + "&iss=https%3A%2F%2Fevil.example%2F"), 1, "mix-up")
    assert fake.token_requests == []


def test_plain_is_never_used(blog: Blog, fake: FakeOidc, env: dict[str, str], tmp_path: Path) -> None:
    toml = (blog.project / "fraiseql.toml").read_text() + 'code_challenge_method = "plain"\n'
    (tmp_path / "fraiseql.toml").write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "fraiseql.toml")
    (problem,) = caught.value.diagnostics
    assert 'must be "S256"' in problem.message and "plain" in problem.message
    # a provider that offers plain only: the login is not started
    fake.document = {"code_challenge_methods_supported": ["plain"]}
    result = cli("login-url", "--manifest", manifest_file(blog), "--redirect-uri", REDIRECT_URI,
                 "--state-dir", str(tmp_path / "s"))
    refused(result, 2, "not S256", "never uses plain")


def test_login_url_needs_the_pkce_block(blog: Blog, tmp_path: Path) -> None:
    security = blog.manifest.config.security.model_copy(update={"pkce": None})
    config = blog.manifest.config.model_copy(update={"security": security})
    (tmp_path / MANIFEST_FILE).write_text(dumps(blog.manifest.model_copy(update={"config": config})))
    result = cli("login-url", "--manifest", str(tmp_path / MANIFEST_FILE), "--state-dir", str(tmp_path))
    refused(result, 2, "no [security.pkce]")
    refused(cli("login-callback", "--url", "https://app.example/cb?code=x&state=y", "--code", "x",
                "--state-dir", str(tmp_path)), 2, "not both")


# --- the guide's own form: "https://${AUTH0_DOMAIN}/" ---------------------------------------------------------


def test_a_template_issuer_resolved_from_the_environment(
    tmp_path: Path, signing_key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issuer_url = "https://${AUTH0_DOMAIN}/", as the guide's environment (AUTH0_DOMAIN) suggests: the
    provider here serves https with a certificate the test trusts (SSL_CERT_FILE)."""
    fake = FakeOidc(keys=[signing_key], tls=True, cert_dir=tmp_path)
    try:
        project = tmp_path / "blog"
        shutil.copytree(REPO / "examples" / "blog", project, ignore=shutil.ignore_patterns("build"))
        block = GUIDE_BLOCK.replace('"${OIDC_ISSUER}"', '"https://${AUTH0_DOMAIN}/"')
        block += f'redirect_uris = ["{REDIRECT_URI}"]\n'
        with (project / "fraiseql.toml").open("a", encoding="utf-8") as fh:
            fh.write(block)
        artifacts = {a.path: a.content for a in emit(analyze(resolve_project(project)))}
        manifest = Manifest.model_validate_json(artifacts[MANIFEST_FILE])
        oidc = next(p for p in manifest.config.security.providers if p.name == "oidc")
        assert oidc.issuer == EnvRef(env="AUTH0_DOMAIN", template="https://${AUTH0_DOMAIN}/")
        monkeypatch.setattr(discovery, "CACHE", discovery.DiscoveryCache())
        monkeypatch.setattr(jwks_cache, "CACHE", jwks_cache.JwksCache(min_refetch_seconds=0))
        monkeypatch.setenv("SSL_CERT_FILE", str(fake.ca_file))
        env = {"AUTH0_CLIENT_ID": CLIENT_ID, "JWT_SECRET": SECRET}
        # unset: refused with the variable's name
        with pytest.raises(pkce.LoginError) as caught:
            pkce.begin(manifest, state_dir=tmp_path / "s", environ=env)
        assert not caught.value.refused and "AUTH0_DOMAIN is not set" in caught.value.message
        env["AUTH0_DOMAIN"] = fake.host
        assert fake.issuer == f"https://{fake.host}/"
        assert verify(fake.access_token(), manifest.config, env).provider == oidc
        started = pkce.begin(manifest, state_dir=tmp_path / "s", environ=env)
        assert started.redirect_uri == REDIRECT_URI  # the first of redirect_uris
        assert started.url.startswith(f"https://{fake.host}/authorize?")
        callback = pkce.parse_redirect(fake.authorize(started.url))
        login = pkce.finish(manifest, state=started.state, code=callback.code, state_dir=tmp_path / "s", environ=env)
        assert login.id_claims["sub"] == ALICE_AT_PROVIDER["sub"] and login.user_id is None
        assert verify(login.access_token, manifest.config, env).claims["sub"] == "auth0|alice"
    finally:
        fake.stop()
    assert os.environ.get("AUTH0_DOMAIN") is None


def test_pkce_challenge_is_rfc_7636s() -> None:
    # RFC 7636 Appendix B
    verifier, expected = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce.challenge(verifier) == expected == s256(verifier)
    verifiers = {pkce.new_verifier() for _ in range(20)}
    assert len(verifiers) == 20 and all(len(v) == 64 for v in verifiers)
    with pytest.raises(ValueError):
        pkce.challenge("too-short")
