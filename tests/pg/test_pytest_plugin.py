"""The pytest plugin (fraiseql_compiler/testing/plugin.py, entry point ``pytest11``), run as a team runs it: a
pytest session of its own (``pytester``, in a subprocess, so the installed entry point is what loads it), on a
copy of examples/blog, against this session's PostgreSQL server."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.pgserver import PgServer

pytest_plugins = ["pytester"]

BLOG = Path(__file__).resolve().parents[2] / "examples" / "blog"
CLERK_PROVIDER = """
[[security.providers]]
name = "clerk"
kind = "clerk"
issuer = "https://clerk.example.dev"
jwks_uri = "https://clerk.example.dev/.well-known/jwks.json"
audience = "https://api.example.com"
"""

INNER_TESTS = """
from pathlib import Path

import pytest

from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.testing.plugin import identity

ALICE = "00000000-0000-0000-0000-00000000000a"
BOB_ID = "00000000-0000-0000-0000-00000000000b"
BOB = identity(sub=BOB_ID, scopes=["read:posts"])
BOB_CLERK = "user_2NNEqL2nrIRdJ194ndJqAHwEfxC"
WRITTEN = "written by test_a_write"


def titles(rows):
    return sorted(r["title"] for r in rows)


def test_the_database(fraiseql_database):
    Path("database.txt").write_text(fraiseql_database.name)  # for the outer test: is it dropped?
    assert fraiseql_database.name.startswith("fqltest_")
    assert fraiseql_database.root == Path.cwd()  # the rootdir holds fraiseql.toml: the default project
    assert not (Path.cwd() / "build").exists()  # built in memory


def test_anonymous_gets_401_on_posts(fraiseql_client):
    anonymous = fraiseql_client.as_identity("anonymous")
    error = anonymous.try_run("posts")
    assert isinstance(error, ExecutionError) and error.http == 401, error
    with pytest.raises(ExecutionError) as raised:
        anonymous.run("posts")
    assert raised.value.http == 401


def test_bob_sees_published_posts_and_his_draft_never_alices(fraiseql_client):
    fraiseql_client.sql(
        "INSERT INTO public.tb_post (author_id, title, body, published) VALUES (%s, %s, '', false)",
        [ALICE, "Alice's draft"],
    )
    assert titles(fraiseql_client.as_identity(BOB).run("posts")) == ["Bob here", "Hello"]
    drafts = fraiseql_client.as_identity(BOB).run("posts", where={"published": {"eq": False}})
    assert titles(drafts) == ["Bob here"]
    alice = fraiseql_client.as_identity(sub=ALICE, scopes=["read:posts"])
    assert titles(alice.run("myPosts")) == ["Alice's draft", "Hello"]  # the draft is there, for its author


def test_bob_may_not_create_a_post(fraiseql_client):
    error = fraiseql_client.as_identity(BOB).try_run("createPost", input={"title": "Hi", "body": "x"})
    assert error.http == 403, error


def test_a_write(fraiseql_client):
    alice = fraiseql_client.as_identity(sub=ALICE, scopes=["read:posts", "write:posts"])
    created = alice.run("createPost", {"input": {"title": WRITTEN, "body": "x"}})
    assert created["title"] == WRITTEN and created["published"] is False
    assert WRITTEN in titles(alice.run("myPosts"))  # within a test, a write is kept, as a runtime commits it
    assert fraiseql_client.sql("SELECT count(*) FROM public.tb_post WHERE title = %s", [WRITTEN]) == [(1,)]


def test_b_the_write_is_gone(fraiseql_client):
    assert fraiseql_client.sql("SELECT count(*) FROM public.tb_post WHERE title = %s", [WRITTEN]) == [(0,)]
    alice = fraiseql_client.as_identity(sub=ALICE, scopes=["read:posts"])
    assert WRITTEN not in titles(alice.run("myPosts"))


def test_a_provider_identity(fraiseql_client):
    fraiseql_client.sql(
        "INSERT INTO fraiseql.tb_oauth_identity (provider, provider_subject, subject) VALUES ('clerk', %s, %s)",
        [BOB_CLERK, BOB_ID],
    )
    bob = fraiseql_client.as_identity(provider="clerk", claims={"sub": BOB_CLERK, "scopes": ["read:posts"]})
    assert titles(bob.run("myPosts")) == ["Bob here"]
    stranger = fraiseql_client.as_identity(provider="clerk", claims={"sub": "user_2nobody"})
    assert stranger.run("myPosts") == []  # authenticated, linked to nobody: owns nothing
    with pytest.raises(ValueError, match="no provider"):
        fraiseql_client.as_identity(provider="auth0", claims={"sub": "auth0|1"})


def test_a_revoked_token(fraiseql_client):
    error = fraiseql_client.as_identity(sub=ALICE, scopes=["read:posts"], revoked=True).try_run("myPosts")
    assert (error.http, error.code) == (401, "TOKEN_REVOKED")


def test_api_keys(fraiseql_client):
    key = fraiseql_client.as_identity(api_key_for=ALICE, scopes=["read:posts"])
    assert titles(key.run("posts")) == ["Hello"]  # the api_key policy: published posts only
    assert fraiseql_client.as_identity(api_key="not-a-key").try_run("posts").http == 401


def test_the_session_role_is_restored(fraiseql_client):
    fraiseql_client.as_identity(BOB).run("posts")
    fraiseql_client.as_identity("anonymous").try_run("posts")
    setting = fraiseql_client.manifest.database.claims_setting
    rows = fraiseql_client.sql("SELECT current_user = session_user, current_setting(%s, true)", [setting])
    assert rows == [(True, "")]  # back to the migrating role, no claims left
"""


def blog_copy(target: Path, extra_toml: str = "") -> Path:
    shutil.copytree(
        BLOG,
        target,
        ignore=shutil.ignore_patterns("build", "access_tests", "__pycache__"),
        dirs_exist_ok=True,
    )
    if extra_toml:
        config = target / "fraiseql.toml"
        config.write_text(config.read_text(encoding="utf-8") + extra_toml, encoding="utf-8")
    return target


def without_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRAISEQL_TEST_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)


def databases(pg_server: PgServer, name: str) -> list[str]:
    rows = pg_server.admin().execute("SELECT datname FROM pg_database WHERE datname = %s", (name,)).fetchall()
    return [r[0] for r in rows]


@pytest.mark.slow
def test_fixtures_run_operations_through_the_runtime(pytester: pytest.Pytester, pg_server: PgServer) -> None:
    blog_copy(pytester.path, CLERK_PROVIDER)
    pytester.makepyfile(test_blog=INNER_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--fraiseql-database", pg_server.admin_url, timeout=300
    )
    result.assert_outcomes(passed=INNER_TESTS.count("\ndef test_"))
    name = (pytester.path / "database.txt").read_text()
    assert name.startswith("fqltest_")
    assert databases(pg_server, name) == []  # dropped at the end of the session


def test_a_session_not_using_it_is_undisturbed(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    without_server(monkeypatch)
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_plain(request):
            assert request.config.pluginmanager.has_plugin("fraiseql")  # loaded by its entry point
            assert "psycopg" not in sys.modules  # so no database was touched
            assert "fraiseql_client" not in request.fixturenames
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=1)
    assert "fraiseql:" not in result.stdout.str()  # no message from the plugin (it is listed under plugins)
    help_text = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--help", timeout=120).stdout.str()
    assert "--fraiseql-project" in help_text and "--fraiseql-database" in help_text


def test_no_server_is_one_clear_line(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    without_server(monkeypatch)
    blog_copy(pytester.path)
    pytester.makepyfile(
        test_uses_it="""
        def test_one(fraiseql_client):
            pass

        def test_other():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["fraiseql: no PostgreSQL server to create the test database on: pass --fraiseql-database *"]
    )
    output = result.stdout.str()
    assert "Traceback" not in output and "plugin.py" not in output, output


def test_project_problems_are_reported_as_the_cli_reports_them(pytester: pytest.Pytester, pg_server: PgServer) -> None:
    project = blog_copy(pytester.path / "app", "\n[build]\nnot_an_option = 1\n")
    pytester.makepyfile(test_uses_it="def test_one(fraiseql_database):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--fraiseql-project",
        "app",
        "--fraiseql-database",
        pg_server.admin_url,
        timeout=120,
    )
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "fraiseql: cannot set up the test database" in output
    assert "error[FQL" in output and "fraiseql.toml" in output, output
    assert "Traceback" not in output and "plugin.py" not in output, output
    assert project.is_dir()


def test_the_ini_option_names_the_project(pytester: pytest.Pytester, pg_server: PgServer) -> None:
    pytester.makeini(
        textwrap.dedent(
            """
            [pytest]
            fraiseql_project = services/api
            """
        )
    )
    pytester.makepyfile(test_uses_it="def test_one(fraiseql_database):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--fraiseql-database", pg_server.admin_url, timeout=120
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["fraiseql: no FraiseQL project at */services/api: it holds no fraiseql.toml*"])
