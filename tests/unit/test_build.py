"""`fraiseql build` / `init` through the CLI and the Python API: outputs, --check, atomicity, isolation."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from fraiseql_compiler import api
from fraiseql_compiler.cli import app
from fraiseql_compiler.diagnostics import FraiseQLError
from tests.cases import REPO

runner = CliRunner()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def blog(tmp_path: Path) -> Path:
    dest = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", dest, ignore=shutil.ignore_patterns("build"))
    return dest


def test_build_writes_manifest_sdl_and_sql(blog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(blog.parent)
    result = runner.invoke(app, ["build", "blog"])
    assert result.exit_code == 0, result.output
    assert "built 7 files into blog/build/" in result.output
    out = blog / "build"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "fraiseql.manifest.json",
        "schema.graphql",
        "sql/0001_fraiseql_schema.sql",
        "sql/0002_auth.sql",
        "sql/0003_views.sql",
        "sql/0004_row_security.sql",
        "sql/0005_api.sql",
    ]
    # the same bytes as the committed example output
    for path in out.rglob("*"):
        if path.is_file():
            committed = REPO / "examples" / "blog" / "build" / path.relative_to(out)
            assert path.read_bytes() == committed.read_bytes(), path


def test_build_uses_fraiseql_toml_in_the_current_directory(blog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(blog)
    assert runner.invoke(app, ["build"]).exit_code == 0
    assert (blog / "build" / "fraiseql.manifest.json").exists()


def test_check_reports_stale_and_missing_files(blog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(blog)
    assert runner.invoke(app, ["build", "--check"]).exit_code == 1  # nothing built yet: everything missing
    assert runner.invoke(app, ["build"]).exit_code == 0
    assert runner.invoke(app, ["build", "--check"]).exit_code == 0
    view = blog / "build" / "sql" / "0003_views.sql"
    view.write_text(view.read_text() + "-- edited\n")
    (blog / "build" / "extra.sql").write_text("SELECT 1;\n")
    result = runner.invoke(app, ["build", "--check"])
    assert result.exit_code == 1
    assert "sql/0003_views.sql" in result.output and "extra.sql" in result.output
    assert "fraiseql.manifest.json" not in result.output
    assert view.read_text().endswith("-- edited\n")  # --check writes nothing


def test_an_error_leaves_the_previous_output_untouched(blog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(blog)
    assert runner.invoke(app, ["build"]).exit_code == 0
    before = {p: p.read_bytes() for p in (blog / "build").rglob("*") if p.is_file()}
    schema = blog / "schema.py"
    schema.write_text(schema.read_text().replace('sql_source="v_post")', 'sql_source="v_post", bogus=1)', 1))
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 2
    assert {p: p.read_bytes() for p in (blog / "build").rglob("*") if p.is_file()} == before
    assert not [p for p in blog.iterdir() if p.name.startswith(".build")]  # no temporary directory left


def test_refuses_to_replace_a_directory_it_did_not_write(blog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(blog)
    (blog / "build").mkdir()
    (blog / "build" / "precious.txt").write_text("mine")
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 2
    assert "FQL140" in result.output
    assert (blog / "build" / "precious.txt").read_text() == "mine"
    assert runner.invoke(app, ["build", "--out", "."]).exit_code == 2  # never over the project itself


def test_two_schemas_with_the_same_names_compile_in_one_process(tmp_path: Path) -> None:
    for name, field in (("one", "title: str"), ("two", "headline: str")):
        write(
            tmp_path / name / "schema.py",
            f"""
            from typing import Optional
            import fraiseql

            @fraiseql.type(table="tb_post")
            class Post:
                id: int
                {field}

            @fraiseql.query
            def post(info, id: int) -> Optional["Post"]: ...
        """,
        )
    for _ in range(2):
        one = json.loads(
            next(
                a.content
                for a in api.build(tmp_path / "one", check=True).artifacts
                if a.path == "fraiseql.manifest.json"
            )
        )
        two = json.loads(
            next(
                a.content
                for a in api.build(tmp_path / "two", check=True).artifacts
                if a.path == "fraiseql.manifest.json"
            )
        )
        assert [f["name"] for f in one["types"][0]["fields"]] == ["id", "title"]
        assert [f["name"] for f in two["types"][0]["fields"]] == ["id", "headline"]


def test_info_is_not_an_argument_and_defaults_reach_the_manifest(tmp_path: Path) -> None:
    write(
        tmp_path / "schema.py",
        """
        import fraiseql

        @fraiseql.type
        class Out:
            ok: bool

        @fraiseql.mutation(function="fn_go")
        def go(info, count: int = 3, label: str | None = None, tags: list[str] = ["a"]) -> Out: ...
    """,
    )
    result = api.build(tmp_path / "schema.py", check=True)
    manifest = json.loads(next(a.content for a in result.artifacts if a.path == "fraiseql.manifest.json"))
    args = manifest["mutations"][0]["arguments"]
    assert [(a["name"], a.get("default")) for a in args] == [("count", 3), ("label", None), ("tags", ["a"])]
    sdl = next(a.content for a in result.artifacts if a.path == "schema.graphql")
    assert 'go(count: Int! = 3, label: String = null, tags: [String!]! = ["a"]): Out!' in sdl


def test_directory_without_config_discovers_modules_and_skips_tests(tmp_path: Path) -> None:
    write(
        tmp_path / "models.py",
        """
        import fraiseql

        @fraiseql.type(table="tb_a")
        class A:
            id: int
    """,
    )
    write(
        tmp_path / "ops.py",
        """
        import fraiseql
        from types_ import nothing  # would fail if imported
    """.replace("types_", "definitely_missing_module"),
    )
    (tmp_path / "ops.py").rename(tmp_path / "test_ops.py")
    write(tmp_path / "tests" / "conftest.py", "raise SystemExit('never imported')\n")
    result = api.build(tmp_path, check=True)
    assert any(a.path == "sql/0003_views.sql" for a in result.artifacts)


def test_no_definitions_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "schema.py", "x = 1\n")
    with pytest.raises(FraiseQLError) as info:
        api.build(tmp_path, check=True)
    assert info.value.diagnostics[0].code == "FQL106"


def test_init_scaffolds_a_project_that_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "shop"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "shop" / ".gitignore").read_text().splitlines()[-1] == "/build/"
    import tomllib

    config = tomllib.loads((tmp_path / "shop" / "fraiseql.toml").read_text())
    assert config == {
        "project": {"name": "shop"},
        "schema": {"modules": ["schema.py"]},
        "build": {"out": "build"},
    }
    assert runner.invoke(app, ["build", "shop"]).exit_code == 0
    again = runner.invoke(app, ["init", "shop"])
    assert again.exit_code == 2 and "never overwrites" in again.output


def test_help_and_version() -> None:
    assert "build" in runner.invoke(app, ["--help"]).output
    assert runner.invoke(app, ["--version"]).output.startswith("fraiseql-compiler ")


def test_every_option_the_user_writes_reaches_the_manifest(tmp_path: Path) -> None:
    write(
        tmp_path / "schema.py",
        '''
        import enum
        from typing import Annotated
        import fraiseql
        from fraiseql.auth import api_key_required, authenticated, requires_scope
        from fraiseql.scalars import ID

        @fraiseql.enum(name="Colour", description="enum description")
        class Color(enum.Enum):
            RED = "red"

        @fraiseql.type(table="tb_user", view="v_people", name="Person", description="type description")
        class User:
            id: ID
            nick: Annotated[str, fraiseql.field(name="handle", description="field description", column="nickname",
                                                deprecation_reason="use name")]

        @fraiseql.type(table="tb_team")
        class Team:
            id: ID
            members: Annotated[list[User], fraiseql.field(foreign_key="team_ref")]

        @fraiseql.input(name="PersonInput", description="input description")
        class UserInput:
            nick: str = "anon"
            colour: Color = Color.RED

        @fraiseql.middleware
        def audit(request, next):
            """middleware description"""
            return next(request)

        @fraiseql.query(sql_source="v_people", id_arg="id", row_filter="nick = {jwt:nick}", name="whoIs",
                        description="query description")
        @authenticated
        def who_is(id: ID) -> User | None: ...

        @fraiseql.mutation(function="fn_rename", name="renameUser", description="mutation description")
        @api_key_required
        @requires_scope("write:users")
        def rename(info, input: UserInput) -> User: ...
    ''',
    )
    write(tmp_path / "fraiseql.toml", '[auth.jwt]\nclaims = { nick = "https://example.com/nick" }\n')
    result = api.build(tmp_path / "schema.py", check=True)
    manifest = json.loads(next(a.content for a in result.artifacts if a.path == "fraiseql.manifest.json"))
    text = json.dumps(manifest)
    for written in (
        "Colour",
        "enum description",
        "public.v_people",
        "public.tb_user",
        "Person",
        "type description",
        "handle",
        "field description",
        "nickname",
        "use name",
        "team_ref",
        "PersonInput",
        "input description",
        "anon",
        "audit",
        "middleware description",
        "whoIs",
        "query description",
        "nick = {jwt:nick}",
        "renameUser",
        "mutation description",
        "public.fn_rename",
        "write:users",
    ):
        assert written in text, written
    query, mutation = manifest["queries"][0], manifest["mutations"][0]
    assert query["id_arg"] == "id" and query["auth"] == {"authenticated": True, "scopes": [], "api_key": False}
    assert mutation["auth"] == {"authenticated": False, "scopes": ["write:users"], "api_key": True}
    assert manifest["inputs"][0]["fields"][1]["default"] == "RED"


def test_a_build_writes_no_bytecode_into_the_project(tmp_path: Path) -> None:
    """Importing the schema (a package with submodules) caches no bytecode in the user's tree, even when the
    interpreter writes bytecode; the compiler's own modules are not held to that (they would be compiled
    from source on every build)."""
    import os
    import subprocess
    import sys

    project = tmp_path / "package"
    shutil.copytree(REPO / "tests" / "golden" / "package", project, ignore=shutil.ignore_patterns("expected"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-m", "fraiseql_compiler.cli", "build", ".", "--out", str(tmp_path / "out")],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not list(project.rglob("__pycache__")), sorted(p.relative_to(project).as_posix() for p in project.rglob("*"))
