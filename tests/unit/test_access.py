"""``fraiseql access``: the blog's access matrix (a golden Markdown file and the cells a reviewer checks
first), the diff between the blog and copies of it changed in small ways, and the command itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from fraiseql_compiler import api
from fraiseql_compiler.access.diff import AccessDiff, access_diff
from fraiseql_compiler.access.matrix import Matrix, access_matrix
from fraiseql_compiler.access.render import (
    cell_text,
    diff_json,
    diff_markdown,
    diff_text,
    render_json,
    render_markdown,
    render_table,
)
from fraiseql_compiler.cli.access_cmd import access
from fraiseql_compiler.manifest import MANIFEST_FILE
from fraiseql_compiler.manifest.io import load
from fraiseql_compiler.manifest.models import Manifest
from tests.cases import REPO
from tests.goldens import assert_golden

BLOG = REPO / "examples" / "blog"
GOLDEN = REPO / "tests" / "golden" / "_access"  # "_": not a compile case (tests/cases.py)


@pytest.fixture(scope="module")
def blog() -> Manifest:
    return load(BLOG / "build" / MANIFEST_FILE)


@pytest.fixture(scope="module")
def matrix(blog: Manifest) -> Matrix:
    return access_matrix(blog)


def copy_blog(where: Path) -> Path:
    import tempfile

    root = Path(tempfile.mkdtemp(dir=where)) / "blog"
    shutil.copytree(BLOG, root, ignore=shutil.ignore_patterns("build"))
    return root


def edit(project: Path, old: str, new: str, file: str = "schema.py") -> None:
    path = project / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def built(project: Path) -> Manifest:
    api.build(project)
    return load(project / "build" / MANIFEST_FILE)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """The blog built by this compiler (the diffs compare two builds of the same compiler)."""
    return built(copy_blog(tmp_path_factory.mktemp("base")))


@pytest.fixture
def changed(tmp_path: Path, base: Manifest) -> Callable[..., AccessDiff]:
    """changed((old, new), …): the diff from the blog to a copy with those edits of schema.py."""

    def run(*edits: tuple[str, str]) -> AccessDiff:
        project = copy_blog(tmp_path)
        for old, new in edits:
            edit(project, old, new)
        return access_diff(base, built(project))

    return run


# --- the matrix ------------------------------------------------------------------------------------------


def test_blog_matrix_markdown_matches_the_golden_file(matrix: Matrix, update_goldens: bool) -> None:
    assert_golden(GOLDEN / "blog.md", render_markdown(matrix), update_goldens)


def test_columns_are_the_identities_reviewers_think_in(matrix: Matrix) -> None:
    assert [i.key for i in matrix.identities] == [
        "anonymous",
        "authenticated",
        "authenticated+admin:posts",
        "authenticated+write:data",
        "authenticated+write:posts",
        "api_key",
    ]
    assert matrix.identity("authenticated+write:posts").label == "authenticated + write:posts"
    assert matrix.identity("api_key").scoped_credential
    assert not matrix.identity("authenticated+write:posts").scoped_credential


def test_rows_are_queries_then_mutations_by_graphql_name(matrix: Matrix) -> None:
    names = [(r.kind, r.name) for r in matrix.operations]
    queries = [("query", "feed"), ("query", "me"), ("query", "myPosts"), ("query", "posts"), ("query", "reports")]
    assert names[:5] == queries
    assert [n for k, n in names[5:]] == sorted(n for k, n in names[5:])
    assert {k for k, _ in names[5:]} == {"mutation"}


def test_anonymous_cannot_create_a_post(matrix: Matrix) -> None:
    cell = matrix.cell("createPost", "anonymous")
    assert not cell.allowed
    assert cell_text(cell, matrix.identity("anonymous")) == "—"
    # a signed-in user needs the scope; a user holding another scope is told which one is missing
    assert not matrix.cell("createPost", "authenticated").allowed
    assert matrix.cell("createPost", "authenticated+write:posts").allowed
    other = matrix.cell("createPost", "authenticated+admin:posts")
    assert not other.allowed and other.needs == ("write:posts",)
    assert cell_text(other, matrix.identity("authenticated+admin:posts")) == "— needs also write:posts"


def test_a_user_with_admin_posts_can_delete_a_post(matrix: Matrix) -> None:
    assert matrix.cell("deletePost", "authenticated+admin:posts").allowed
    assert not matrix.cell("deletePost", "authenticated").allowed
    assert not matrix.cell("deletePost", "authenticated+write:posts").allowed


def test_the_api_key_column_follows_the_manifest(matrix: Matrix, blog: Manifest) -> None:
    ingest = matrix.cell("ingestData", "api_key")
    assert ingest.allowed and ingest.needs == ("write:data",)
    assert cell_text(ingest, matrix.identity("api_key")) == "✓ needs write:data"
    assert matrix.cell("reports", "api_key").allowed
    for identity in ("anonymous", "authenticated", "authenticated+write:data"):
        assert not matrix.cell("ingestData", identity).allowed
        assert not matrix.cell("reports", identity).allowed
    # an API key holding write:posts passes createPost's guards (they are @authenticated + the scope)
    assert matrix.cell("createPost", "api_key").needs == ("write:posts",)
    # every plain (non-flow) cell agrees with the manifest's reachable_roles
    for row in matrix.operations:
        if row.auth_flow is None:
            op = blog.operation(row.name)
            assert op is not None
            assert row.cell("api_key").allowed == ("api_key" in op.reachable_roles)
            assert row.cell("anonymous").allowed == ("anonymous" in op.reachable_roles)


def test_me_is_reachable_anonymously_but_filtered(matrix: Matrix) -> None:
    cell = matrix.cell("me", "anonymous")
    assert cell.allowed
    assert cell.row_filter == "id = {current_user_id}"
    assert cell.no_rows  # and tb_user has no anonymous read rule: it sees no row anyway
    assert cell_text(cell, matrix.identity("anonymous")) == "✓ rows: id = {current_user_id}; no read policy: no rows"
    signed_in = matrix.cell("me", "authenticated")
    assert signed_in.allowed and signed_in.read_policy == "true" and not signed_in.no_rows
    assert matrix.cell("me", "api_key").read_policy == "{scope:read:users}"


def test_row_filters_and_policies_show_in_query_cells(matrix: Matrix) -> None:
    mine = matrix.cell("myPosts", "authenticated")
    assert mine.row_filter == "author_id = {current_user_id}"
    assert mine.read_policy == "published OR author_id = {current_user_id}"
    assert matrix.row("posts").table == "public.tb_post"
    assert matrix.cell("posts", "api_key").read_policy == "published AND {scope:read:posts}"
    assert matrix.row("reports").table is None  # its own view: the manifest names no table
    assert matrix.cell("reports", "api_key").read_policy is None
    assert matrix.cell("createPost", "authenticated+write:posts").read_policy is None  # mutations: no table named


def test_auth_flows_follow_the_runtime(matrix: Matrix) -> None:
    login = matrix.row("login")
    assert login.auth_flow == "login" and login.guards == ("auth flow login",)
    assert matrix.cell("login", "anonymous").allowed and matrix.cell("login", "anonymous").runs_as is None
    assert matrix.cell("login", "api_key").runs_as == "anonymous"  # login is not granted to api_key
    refresh = matrix.cell("refreshToken", "authenticated")
    assert refresh.allowed and refresh.runs_as == "anonymous"  # an expired token must not stop a refresh
    assert all(c.allowed and c.runs_as == "authenticator" for c in matrix.row("oauthCallback").cells)
    assert not matrix.cell("createApiKey", "anonymous").allowed
    assert not matrix.cell("createApiKey", "api_key").allowed
    assert matrix.cell("createApiKey", "authenticated").allowed
    assert matrix.cell("logout", "api_key").allowed
    assert not matrix.cell("revokeAll", "api_key").allowed


def test_policies_per_table_role_and_action(matrix: Matrix) -> None:
    tables = {t.table: t for t in matrix.policies}
    assert list(tables) == ["public.tb_comment", "public.tb_post", "public.tb_user"]
    post = tables["public.tb_post"]
    assert post.types == ("Post",)
    assert post.roles == ("anonymous", "authenticated", "api_key")
    read = post.rule("anonymous", "read")
    assert read is not None and read.id == "type.Post.policy.anonymous.read" and read.predicate == "published"
    assert post.rule("anonymous", "insert") is None
    delete = post.rule("authenticated", "delete")
    assert delete is not None and delete.predicate == "author_id = {current_user_id} OR {scope:admin:posts}"
    assert all(tables["public.tb_user"].rule("anonymous", a) is None for a in ("read", "insert", "update", "delete"))


def test_markdown_escapes_pipes() -> None:
    from fraiseql_compiler.access.render import _md_row

    assert _md_row(["a|b", "`x || y`"]) == "| a\\|b | `x \\|\\| y` |"


def test_json_and_table_renderings(matrix: Matrix) -> None:
    text = render_json(matrix)
    assert text == render_json(matrix)
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"  # sorted keys
    me = next(o for o in data["operations"] if o["name"] == "me")
    assert me["access"]["anonymous"] == {
        "allowed": True,
        "needs": [],
        "no_rows": True,
        "read_policy": None,
        "row_filter": "id = {current_user_id}",
        "runs_as": None,
    }
    assert [i["key"] for i in data["identities"]] == [i.key for i in matrix.identities]
    table = render_table(matrix)
    assert table == render_table(matrix)
    assert "Access matrix (blog)" in table and "Row-level security: public.tb_post (Post)" in table


# --- the diff --------------------------------------------------------------------------------------------


def test_no_change_no_diff(base: Manifest) -> None:
    diff = access_diff(base, base)
    assert not diff and diff.widenings == () and diff.narrowings == ()
    assert diff_markdown(diff) == "## Access review\n\nNo change in access.\n"


def test_dropping_authenticated_lets_anonymous_in(changed: Callable[..., AccessDiff]) -> None:
    diff = changed(
        (
            'row_filter="author_id = {current_user_id}")\n@fraiseql.authenticated\ndef my_posts',
            'row_filter="author_id = {current_user_id}")\ndef my_posts',
        )
    )
    assert [c.id for c in diff.widenings] == ["query.myPosts anonymous"]
    change = diff.change("query.myPosts anonymous")
    assert change.kind == "gained" and change.widens and change.identity == "anonymous"
    assert change.message == ("`anonymous` can now run query `myPosts` (rows: `author_id = {current_user_id}`)")
    assert diff.narrowings == ()
    markdown = diff_markdown(diff, "base", "head")
    assert markdown == (
        "## Access review (`base` → `head`)\n\n"
        "**Access widens**: 1 change widens it.\n\n"
        "### Widened\n\n"
        "- `query.myPosts anonymous` (gained): `anonymous` can now run query `myPosts` "
        "(rows: `author_id = {current_user_id}`)\n"
    )


def test_a_changed_rule_is_a_widening_policy_change(changed: Callable[..., AccessDiff]) -> None:
    diff = changed(('"anonymous": fraiseql.access(read="published")', '"anonymous": fraiseql.access(read="true")'))
    assert [(c.id, c.kind) for c in diff.changes] == [("type.Post.policy.anonymous.read", "policy_changed")]
    change = diff.widenings[0]
    assert (change.old, change.new) == ("published", "true")
    assert change.message == "`anonymous` may read rows of `public.tb_post` where `true`, instead of where `published`"


def test_added_and_removed_rules(changed: Callable[..., AccessDiff]) -> None:
    diff = changed(
        (
            '"authenticated": fraiseql.access(read="true", update="id = {current_user_id}"),',
            '"authenticated": fraiseql.access(read="true", update="id = {current_user_id}"),\n'
            '        "anonymous": fraiseql.access(read="false"),',
        ),
        (
            '        "anonymous": fraiseql.access(read="true"),\n        "authenticated": fraiseql.access(\n',
            '        "authenticated": fraiseql.access(\n',
        ),
    )
    kinds = {c.id: (c.kind, c.widens) for c in diff.changes}
    assert kinds["type.User.policy.anonymous.read"] == ("policy_added", True)
    assert kinds["type.Comment.policy.anonymous.read"] == ("policy_removed", False)


def test_removing_a_query_only_narrows(changed: Callable[..., AccessDiff]) -> None:
    diff = changed(
        (
            '@fraiseql.query(sql_source="v_post")\n@authenticated\ndef posts(limit: int = 20) -> list["Post"]:\n'
            '    """Requires valid JWT."""\n    pass\n',
            "",
        )
    )
    assert diff.widenings == ()
    assert {c.kind for c in diff.changes} == {"lost"}
    assert [c.id for c in diff.changes] == [
        "query.posts api_key",
        "query.posts authenticated",
        "query.posts authenticated+admin:posts",
        "query.posts authenticated+write:data",
        "query.posts authenticated+write:posts",
    ]
    assert diff.change("query.posts api_key").message == "query `posts` was removed: `api_key` could run it"
    assert diff_text(diff).startswith("Access only narrows: 5 changes narrow it.\n  narrows  query.posts api_key: ")


def test_dropping_a_required_scope(changed: Callable[..., AccessDiff]) -> None:
    diff = changed(
        ('@authenticated\n@requires_scope("write:posts")\ndef create_post', "@authenticated\ndef create_post")
    )
    gained = {c.id for c in diff.changes if c.kind == "gained"}
    assert gained == {
        "mutation.createPost authenticated",
        "mutation.createPost authenticated+admin:posts",
        "mutation.createPost authenticated+write:data",
    }
    # the write:posts column is gone from the new matrix, but its user kept the access it had
    assert "mutation.createPost authenticated+write:posts" not in {c.id for c in diff.changes}
    key = diff.change("mutation.createPost api_key scopes")
    assert key.kind == "scopes_changed" and key.widens and (key.old, key.new) == ("write:posts", None)
    assert key.message == "`api_key` needs no scope for mutation `createPost` (it needed `write:posts`)"
    assert diff.narrowings == ()


def test_row_filters(changed: Callable[..., AccessDiff]) -> None:
    removed = changed(
        (
            '@fraiseql.query(sql_source="v_post", row_filter="author_id = {current_user_id}")',
            '@fraiseql.query(sql_source="v_post")',
        )
    )
    assert [(c.id, c.kind, c.widens) for c in removed.changes] == [
        ("query.myPosts row_filter", "row_filter_removed", True)
    ]
    different = changed(('row_filter="author_id = {current_user_id}"', 'row_filter="published"'))
    change = different.change("query.myPosts row_filter")
    assert change.kind == "row_filter_changed" and change.widens
    assert (change.old, change.new) == ("author_id = {current_user_id}", "published")


def test_an_extra_role_is_a_column_and_its_arrival_widens(tmp_path: Path, base: Manifest) -> None:
    project = copy_blog(tmp_path)
    with (project / "fraiseql.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[database.roles]\nextra = ["blog_editor"]\n')
    new = built(project)
    matrix = access_matrix(new)
    assert [i.key for i in matrix.identities][-2:] == ["api_key", "blog_editor"]
    editor = matrix.identity("blog_editor")
    assert editor.scoped_credential and editor.role == "blog_editor"
    assert matrix.cell("createPost", "blog_editor").needs == ("write:posts",)
    assert matrix.cell("posts", "blog_editor").no_rows  # no access= rule names it
    assert matrix.cell("login", "blog_editor").runs_as == "anonymous"
    diff = access_diff(base, new)
    # login, refreshToken and oauthCallback were open to every caller already (anonymous callers run them)
    assert [c.id for c in diff.widenings] == [
        "mutation.createPost blog_editor",
        "mutation.deletePost blog_editor",
        "query.feed blog_editor",
        "query.me blog_editor",
        "query.myPosts blog_editor",
        "query.posts blog_editor",
    ]
    assert diff.change("query.posts blog_editor").message == (
        "`blog_editor` can now run query `posts` (no read policy on its table: it sees no row)"
    )
    assert [c.id for c in access_diff(new, base).narrowings] == [c.id for c in diff.widenings]


def test_diff_json_is_stable(changed: Callable[..., AccessDiff]) -> None:
    diff = changed(('"anonymous": fraiseql.access(read="published")', '"anonymous": fraiseql.access(read="true")'))
    data = json.loads(diff_json(diff))
    assert data["widenings"] == 1 and data["narrowings"] == 0
    assert data["changes"][0]["id"] == "type.Post.policy.anonymous.read"
    assert data["changes"][0]["kind"] == "policy_changed"


def test_the_docs_show_real_output(changed: Callable[..., AccessDiff]) -> None:
    doc = (REPO / "docs" / "access-review.md").read_text(encoding="utf-8")
    golden = (GOLDEN / "blog.md").read_text(encoding="utf-8")
    operations = golden.split("\n\n")[2]
    assert operations.startswith("| Operation |") and f"\n{operations}\n" in doc
    diff = changed(
        (
            'row_filter="author_id = {current_user_id}")\n@fraiseql.authenticated\ndef my_posts',
            'row_filter="author_id = {current_user_id}")\ndef my_posts',
        ),
        (
            '"api_key": fraiseql.access(read="published AND {scope:read:posts}")',
            '"api_key": fraiseql.access(read="{scope:read:posts}")',
        ),
        ('@requires_scope("write:data")', '@requires_scope("write:data", "admin:data")'),
    )
    markdown = diff_markdown(diff, "base/fraiseql.manifest.json", "build/fraiseql.manifest.json")
    assert f"```markdown\n{markdown}```\n" in doc
    assert f"```text\n{diff_text(diff)}```\n" in doc


# --- the command -----------------------------------------------------------------------------------------


def test_command_prints_the_matrix(matrix: Matrix, blog: Manifest) -> None:
    runner = CliRunner()
    markdown = runner.invoke(access, [str(BLOG), "--format", "markdown"])
    assert markdown.exit_code == 0, markdown.output
    assert markdown.stdout == render_markdown(matrix)
    data = runner.invoke(access, ["--manifest", str(BLOG / "build" / MANIFEST_FILE), "--format", "json"])
    assert data.exit_code == 0 and data.stdout == render_json(matrix)
    table = runner.invoke(access, [str(BLOG / "fraiseql.toml")])
    assert table.exit_code == 0 and "Access matrix (blog)" in table.stdout and "ingestData" in table.stdout


def test_command_diff(tmp_path: Path) -> None:
    project = copy_blog(tmp_path)
    edit(project, '"anonymous": fraiseql.access(read="published")', '"anonymous": fraiseql.access(read="true")')
    api.build(project)
    old = BLOG / "build" / MANIFEST_FILE
    runner = CliRunner()
    result = runner.invoke(access, [str(project), "--diff", str(old), "--format", "markdown"])
    assert result.exit_code == 0, result.output  # informational: widening is for `fraiseql lint` to fail on
    assert "**Access widens**: 1 change widens it." in result.stdout
    assert "- `type.Post.policy.anonymous.read` (policy changed): " in result.stdout
    text = runner.invoke(access, [str(project), "--diff", str(old)])
    assert text.exit_code == 0 and "widens   type.Post.policy.anonymous.read:" in text.stdout
    data = runner.invoke(access, [str(project), "--diff", str(old), "--format", "json"])
    assert json.loads(data.stdout)["widenings"] == 1


def test_command_errors_are_diagnostics(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(access, ["--manifest", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    assert "error[FQL160]: cannot read the manifest" in missing.stderr
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    bad_old = runner.invoke(access, [str(BLOG), "--diff", str(tmp_path / "bad.json")])
    assert bad_old.exit_code == 2 and "FQL160" in bad_old.stderr
    unbuilt = runner.invoke(access, [str(copy_blog(tmp_path))])
    assert unbuilt.exit_code == 2 and "run `fraiseql build` first" in unbuilt.stderr


def test_importing_the_command_stays_light() -> None:
    code = (
        "import sys; import fraiseql_compiler.cli.access_cmd;"
        "print(sorted({'pydantic', 'rich', 'jinja2', 'psycopg'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
