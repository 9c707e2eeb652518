"""Each lint rule on a minimal project that triggers it and one that does not; the blog example is clean;
selection, severities and suppression comments."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fraiseql_compiler.diagnostics import Diagnostic
from fraiseql_compiler.lint import LintOptions, all_rules, lint
from fraiseql_compiler.project import resolve_project
from tests.cases import REPO

HEAD = """\
import fraiseql
from fraiseql.auth import authenticated, requires_scope, api_key_required
from fraiseql.scalars import ID


"""

POST = '''\
@fraiseql.type(table="tb_post", access={ACCESS})
class Post:
    """A post."""

    id: ID
    author_id: ID
    title: str
    published: bool


'''

QUERY = '''\
@fraiseql.query(sql_source="v_post"{FILTER})
@authenticated
def posts(limit: int = 20) -> list[Post]:
    """Posts."""
'''

READ_ALL = '{"authenticated": fraiseql.access(read="true")}'


def project(
    tmp_path: Path,
    body: str = "",
    *,
    access: str = READ_ALL,
    row_filter: str | None = None,
    query: bool = True,
    toml: str = "",
    migrations: dict[str, str] | None = None,
) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    schema = HEAD + POST.replace("{ACCESS}", access)
    if query:
        schema += QUERY.replace("{FILTER}", f', row_filter="{row_filter}"' if row_filter else "") + "\n\n"
    schema += textwrap.dedent(body)
    (tmp_path / "schema.py").write_text(schema, encoding="utf-8")
    (tmp_path / "fraiseql.toml").write_text('[schema]\nmodules = ["schema.py"]\n' + toml, encoding="utf-8")
    for name, sql in (migrations or {}).items():
        (tmp_path / "db" / "migrations").mkdir(parents=True, exist_ok=True)
        (tmp_path / "db" / "migrations" / name).write_text(sql, encoding="utf-8")
    return tmp_path


def findings(root: Path, code: str, environ: dict[str, str] | None = None) -> list[Diagnostic]:
    import os

    before = dict(os.environ)
    if environ:
        os.environ.update(environ)
    try:
        result = lint(resolve_project(root), LintOptions(select=(code,)))
    finally:
        os.environ.clear()
        os.environ.update(before)
    return [d for d in result.diagnostics if d.code == code]


# --- every rule: one project that triggers it, one that does not --------------------------------------------

MUTATION_OPEN = '''
@fraiseql.mutation
def delete_post(info, id: ID) -> bool:
    """Delete."""
'''


def test_mutation_without_auth(tmp_path: Path) -> None:
    (bad,) = findings(project(tmp_path / "a", MUTATION_OPEN), "FQL304")
    assert 'mutation "delete_post" has no auth decorator' in bad.message and bad.span and bad.span.line > 1
    public = MUTATION_OPEN.replace("@fraiseql.mutation\n", "@fraiseql.mutation\n@fraiseql.public\n")
    assert findings(project(tmp_path / "b", public), "FQL304") == []
    guarded = MUTATION_OPEN.replace("@fraiseql.mutation\n", "@fraiseql.mutation\n@authenticated\n")
    assert findings(project(tmp_path / "c", guarded), "FQL304") == []


def test_public_and_guarded_is_an_error(tmp_path: Path) -> None:
    from fraiseql_compiler.diagnostics import FraiseQLError

    both = MUTATION_OPEN.replace("@fraiseql.mutation\n", "@fraiseql.mutation\n@fraiseql.public\n@authenticated\n")
    with pytest.raises(FraiseQLError) as raised:
        lint(resolve_project(project(tmp_path, both)))
    assert [d.code for d in raised.value.diagnostics] == ["FQL238"]


SECRETS = '''
@fraiseql.type(table="tb_account", access={"anonymous": fraiseql.access(read="true")})
class Account:
    """An account."""

    id: ID
    password_hash: str
    api_key: str


@fraiseql.query(sql_source="v_account")
def accounts(limit: int = 20) -> list[Account]:
    """Accounts."""
'''


def test_sensitive_fields_without_auth(tmp_path: Path) -> None:
    (bad,) = findings(project(tmp_path / "a", SECRETS), "FQL305")
    assert "Account.api_key, Account.password_hash" in bad.message
    query = '@fraiseql.query(sql_source="v_account")\n'
    guarded = SECRETS.replace(query, query + "@authenticated\n")
    assert findings(project(tmp_path / "b", guarded), "FQL305") == []


def test_sensitive_names() -> None:
    from fraiseql_compiler.lint.rules.auth import sensitive

    for name in ("password_hash", "apiKey", "api_key", "secret", "refreshToken", "ssn", "private_key", "salt"):
        assert sensitive(name), name
    for name in ("id", "title", "tokenizer_name", "author", "passage", "hashtag", "keyword", "key"):
        assert not sensitive(name) or name in ("tokenizer_name",), name


SCOPED = '''
@fraiseql.mutation
@requires_scope("write:posts")
def create_post(info, title: str) -> Post:
    """Create."""
'''


def test_scope_without_authenticated(tmp_path: Path) -> None:
    (bad,) = findings(project(tmp_path / "a", SCOPED), "FQL306")
    assert bad.severity == "warning" and "write:posts" in bad.message
    fixed = SCOPED.replace("@fraiseql.mutation\n", "@fraiseql.mutation\n@authenticated\n")
    assert findings(project(tmp_path / "b", fixed), "FQL306") == []


def test_undeclared_scope(tmp_path: Path) -> None:
    scoped = SCOPED.replace("@fraiseql.mutation\n", "@fraiseql.mutation\n@authenticated\n")
    declared = '[security]\nscopes = ["write:post"]\n'
    (bad,) = findings(project(tmp_path / "a", scoped, toml=declared), "FQL307")
    assert '"write:posts"' in bad.message and bad.hint == 'did you mean "write:post"?'
    assert findings(project(tmp_path / "b", scoped, toml='[security]\nscopes = ["write:posts"]\n'), "FQL307") == []
    assert findings(project(tmp_path / "c", scoped), "FQL307") == []  # no list: nothing to check against


KEYED = '''
@fraiseql.query(sql_source="v_post")
@api_key_required
def feed(limit: int = 20) -> list[Post]:
    """Feed."""
'''


def test_api_key_operation_while_keys_are_disabled(tmp_path: Path) -> None:
    (bad,) = findings(project(tmp_path / "a", KEYED), "FQL308")
    assert '"feed" requires an API key' in bad.message
    enabled = '[security.api_keys]\nenabled = true\nstorage = "postgres"\n'
    assert findings(project(tmp_path / "b", KEYED, toml=enabled), "FQL308") == []


def test_unconditional_write_rule(tmp_path: Path) -> None:
    rules = '{"authenticated": fraiseql.access(read="true", update="true", delete="published = false")}'
    bad = findings(project(tmp_path / "a", access=rules), "FQL309")
    assert [d.message for d in bad] == [
        "Post: the authenticated update rule lets every authenticated caller update every row",
        "Post: the authenticated delete rule lets every authenticated caller delete every row where published = false",
    ]
    tied = (
        '{"authenticated": fraiseql.access(read="true", update="author_id = {current_user_id}", '
        'delete="{scope:admin:posts}")}'
    )
    assert findings(project(tmp_path / "b", access=tied), "FQL309") == []


@pytest.mark.parametrize(
    ("predicate", "open_"),
    [
        ("{current_user_id} IS NULL OR author_id = {current_user_id}", True),
        ("NOT ({current_user_id} IS NOT NULL) OR author_id = {current_user_id}", True),
        ("coalesce({current_user_id}, author_id) = author_id", True),
        ("author_id = {current_user_id}", False),
        ("published OR author_id = {current_user_id}", False),
        ("{current_user_id} IS NOT NULL AND author_id = {current_user_id}", False),
        ("NOT ({current_user_id} IS NULL) AND published", False),
    ],
)
def test_fail_open_predicate(tmp_path: Path, predicate: str, open_: bool) -> None:
    found = findings(project(tmp_path, row_filter=predicate), "FQL310")
    assert bool(found) is open_
    if open_:
        assert "admits rows when {current_user_id} is missing" in found[0].message


def test_fail_open_access_rule(tmp_path: Path) -> None:
    rules = '{"authenticated": fraiseql.access(read="{jwt:org_id} IS NULL OR published")}'
    toml = '[auth.jwt]\nalgorithm = "HS256"\nissuer = "x"\naudience = "y"\nclaims = { org_id = "org_id" }\n'
    (bad,) = findings(project(tmp_path, access=rules, toml=toml), "FQL310")
    assert "{jwt:org_id} is missing" in bad.message and "the authenticated read rule" in bad.message


BASE = """CREATE TABLE public.tb_post (
    id uuid PRIMARY KEY,
    author_id uuid NOT NULL,
    title text NOT NULL,
    published boolean NOT NULL DEFAULT false
);
"""


def test_unindexed_filter_column(tmp_path: Path) -> None:
    mine = "author_id = {current_user_id}"
    (bad,) = findings(project(tmp_path / "a", row_filter=mine, migrations={"0001_base.sql": BASE}), "FQL311")
    assert "public.tb_post.author_id" in bad.message and "CREATE INDEX ON public.tb_post (author_id)" in str(bad.hint)
    indexed = {"0001_base.sql": BASE, "0002_idx.sql": "CREATE INDEX tb_post_author_idx ON tb_post (author_id, id);"}
    assert findings(project(tmp_path / "b", row_filter=mine, migrations=indexed), "FQL311") == []
    assert findings(project(tmp_path / "c", row_filter=mine), "FQL311") == []  # DDL unknown: nothing said
    by_key = "id = {current_user_id}"  # the primary key leads an index
    assert findings(project(tmp_path / "d", row_filter=by_key, migrations={"0001_base.sql": BASE}), "FQL311") == []
    policy = '{"authenticated": fraiseql.access(read="author_id = {current_user_id}")}'
    (on_policy,) = findings(project(tmp_path / "e", access=policy, migrations={"0001_base.sql": BASE}), "FQL311")
    assert "the authenticated read rule" in on_policy.message


def test_unbounded_list_query(tmp_path: Path) -> None:
    unbounded = '''
    @fraiseql.query(sql_source="v_post", max_limit=5000)
    @authenticated
    def all_posts() -> list[Post]:
        """All."""
    '''
    (bad,) = findings(project(tmp_path / "a", unbounded), "FQL312")
    assert '"all_posts"' in bad.message and "5000 rows" in bad.message
    assert bad.span is not None
    assert findings(project(tmp_path / "b"), "FQL312") == []


def test_short_jwt_secret(tmp_path: Path) -> None:
    root = project(tmp_path)
    (bad,) = findings(root, "FQL313", {"JWT_SECRET": "changeme"})
    assert "$JWT_SECRET holds 8 bytes" in bad.message and "changeme" not in bad.message
    assert findings(root, "FQL313", {"JWT_SECRET": "x" * 32}) == []
    assert findings(root, "FQL313", {"JWT_SECRET": ""}) == []  # not set where lint runs: nothing to say


def test_token_audience_unchecked(tmp_path: Path) -> None:
    pkce = '[security.pkce]\nissuer_url = "https://tenant.auth0.com/"\nclient_id = "${AUTH0_CLIENT_ID}"\n'
    (bad,) = findings(project(tmp_path / "a", toml=pkce), "FQL314")
    assert bad.span is not None and bad.span.file == "fraiseql.toml" and bad.span.line == 3
    audience = pkce + 'audience = "https://api.example.com"\n'
    assert findings(project(tmp_path / "b", toml=audience), "FQL314") == []


def test_jwt_algorithm_not_pinned(tmp_path: Path) -> None:
    (bad,) = findings(project(tmp_path / "a"), "FQL315")
    assert "$JWT_ALGORITHM" in bad.message and bad.hint == 'write algorithm = "HS256" in [auth.jwt]'
    pinned = '[auth.jwt]\nalgorithm = "HS256"\n'
    assert findings(project(tmp_path / "b", toml=pinned), "FQL315") == []


def test_revocation_fails_open(tmp_path: Path) -> None:
    toml = (
        '[security.token_revocation]\nenabled = true\nbackend = "postgres"\n'
        "fail_open = {0}\nfail_open_acknowledged = {0}\n"
    )
    (bad,) = findings(project(tmp_path / "a", toml=toml.format("true")), "FQL316")
    assert bad.span is not None and bad.span.line == 6
    assert findings(project(tmp_path / "b", toml=toml.format("false")), "FQL316") == []


def test_cors_wildcard(tmp_path: Path) -> None:
    (bad,) = findings(project(tmp_path / "a", toml='[server.cors]\norigins = ["*"]\n'), "FQL317")
    assert "every origin" in bad.message
    listed = '[server.cors]\norigins = ["https://app.example.com"]\n'
    assert findings(project(tmp_path / "b", toml=listed), "FQL317") == []


def test_long_token_lifetime(tmp_path: Path) -> None:
    toml = '[auth.jwt]\nalgorithm = "HS256"\naccess_token_ttl_seconds = 86400\nrefresh_token_ttl_seconds = 7776000\n'
    bad = findings(project(tmp_path / "a", toml=toml), "FQL318")
    assert [d.message.split(" (")[0] for d in bad] == ["access tokens live 1 day", "refresh tokens live 90 days"]
    assert findings(project(tmp_path / "b", toml='[auth.jwt]\nalgorithm = "HS256"\n'), "FQL318") == []


NAMES = '''
@fraiseql.type(table="posts_archive", access={"authenticated": fraiseql.access(read="true")})
class archived_post:
    """Old."""

    id: ID


@fraiseql.query(sql_source="archive")
@authenticated
def archive(limit: int = 20) -> list[archived_post]:
    """Archive."""


@fraiseql.mutation(function="purge_archive")
@authenticated
def purgeArchive(info) -> bool:
    """Purge."""
'''


def test_naming_convention(tmp_path: Path) -> None:
    messages = sorted(d.message for d in findings(project(tmp_path / "a", NAMES), "FQL319"))
    assert messages == sorted(
        [
            'type "archived_post" is not PascalCase',
            'table "posts_archive" of archived_post does not start with tb_',
            'sql_source "archive" of query "archive" does not start with v_',
            'mutation "purgeArchive" is not snake_case in Python',
            'function "purge_archive" of mutation "purgeArchive" does not start with fn_',
        ]
    )
    assert findings(project(tmp_path / "b"), "FQL319") == []


def test_missing_docstring(tmp_path: Path) -> None:
    bare = '''
    @fraiseql.query(sql_source="v_post")
    @authenticated
    def drafts(limit: int = 20) -> list[Post]: ...
    '''
    (bad,) = findings(project(tmp_path / "a", bare), "FQL320")
    assert 'query "drafts" has no docstring' in bad.message
    assert findings(project(tmp_path / "b"), "FQL320") == []


def test_unused_definition(tmp_path: Path) -> None:
    (bad,) = findings(project(tmp_path / "a", query=False), "FQL321")
    assert bad.message == 'type "Post" is used by no query or mutation'
    assert findings(project(tmp_path / "b"), "FQL321") == []


def test_deprecated_in_use(tmp_path: Path) -> None:
    schema = HEAD + '''\
from typing import Annotated


@fraiseql.type(table="tb_post", access={"authenticated": fraiseql.access(read="owner_id = {current_user_id}")})
class Post:
    """A post."""

    id: ID
    owner_id: Annotated[ID, fraiseql.field(deprecation_reason="use author_id")]
    author_id: ID


@fraiseql.query(sql_source="v_post", row_filter="owner_id = {current_user_id}")
@authenticated
def posts(limit: int = 20) -> list[Post]:
    """Posts."""
'''
    root = project(tmp_path)
    (root / "schema.py").write_text(schema, encoding="utf-8")
    messages = sorted(d.message for d in findings(root, "FQL322"))
    assert messages == [
        "Post.owner_id is deprecated, but the authenticated read rule still reads it",
        'Post.owner_id is deprecated, but the row_filter of query "posts" still reads it',
    ]


# --- the blog, selection, severity, suppression ---------------------------------------------------------


def test_the_blog_example_is_clean() -> None:
    result = lint(resolve_project(REPO / "examples" / "blog"))
    assert [f"{d.code} {d.span} {d.message}" for d in result.diagnostics] == []
    assert "FQL304" in result.rules and "FQL330" not in result.rules  # the catalog rules need --database
    assert "squawk" not in result.rules  # the SQL rules run when asked: --extend-select squawk


def test_every_rule_is_explained_and_registered() -> None:
    from fraiseql_compiler.diagnostics.registry import CODES

    for rule in all_rules():
        text = rule.explanation()
        assert "*Anti-pattern*" in text and "*Best practice*" in text, rule.code
        if rule.code != "squawk":
            assert CODES[rule.code].family == "lint", rule.code


def test_select_ignore_and_severity(tmp_path: Path) -> None:
    root = project(tmp_path, MUTATION_OPEN + SCOPED.replace("create_post", "create_draft"))
    everything = {d.code for d in lint(resolve_project(root)).diagnostics}
    assert {"FQL304", "FQL306", "FQL315"} <= everything
    only = lint(resolve_project(root), LintOptions(select=("FQL30",), ignore=("FQL306",)))
    assert {d.code for d in only.diagnostics} == {"FQL304"}
    toml = '[lint]\nignore = ["FQL315"]\nseverity = { FQL306 = "error" }\n'
    (root / "fraiseql.toml").write_text('[schema]\nmodules = ["schema.py"]\n' + toml, encoding="utf-8")
    configured = lint(resolve_project(root)).diagnostics
    assert "FQL315" not in {d.code for d in configured}
    assert {d.severity for d in configured if d.code == "FQL306"} == {"error"}


def test_a_comment_silences_a_lint_rule_on_its_definition(tmp_path: Path) -> None:
    silenced = MUTATION_OPEN.replace("@fraiseql.mutation\n", "@fraiseql.mutation  # fraiseql: ignore[FQL304]\n")
    assert findings(project(tmp_path / "a", silenced), "FQL304") == []
    other = MUTATION_OPEN.replace("@fraiseql.mutation\n", "@fraiseql.mutation  # fraiseql: ignore[FQL320]\n")
    assert len(findings(project(tmp_path / "b", other), "FQL304")) == 1


def test_squawk_runs_when_asked_and_shows_generated_files_where_they_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from fraiseql_compiler.lint import squawk

    blog = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", blog, ignore=shutil.ignore_patterns("build"))
    asked = lint(resolve_project(blog), LintOptions(extend_select=("squawk",)))
    assert "squawk" in asked.rules and asked.diagnostics == ()
    (blog / "db" / "migrations" / "0002_views.sql").write_text(
        "ALTER TABLE public.tb_post ADD COLUMN views integer NOT NULL;\n", encoding="utf-8"
    )
    only = lint(resolve_project(blog), LintOptions(select=("squawk:adding-required-field",)))
    assert [(d.code, str(d.span)) for d in only.diagnostics] == [
        ("squawk:adding-required-field", "db/migrations/0002_views.sql:1:28")
    ]
    monkeypatch.setattr(squawk, "GENERATED_EXCLUDED", {})  # what the exclusions hide, shown where it is built
    shown = lint(resolve_project(blog), LintOptions(select=("squawk:ban-drop-view",)))
    assert shown.diagnostics and all(str(d.span).startswith("build/sql/0002_auth.sql:") for d in shown.diagnostics)


def test_access_widened_against_a_baseline_until_acknowledged(tmp_path: Path) -> None:
    import shutil

    blog = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", blog, ignore=shutil.ignore_patterns("build"))
    baseline = REPO / "examples" / "blog" / "build" / "fraiseql.manifest.json"  # the committed build
    options = LintOptions(select=("FQL323",), baseline=baseline)
    assert lint(resolve_project(blog), options).diagnostics == ()  # the schema builds to its baseline
    schema = blog / "schema.py"
    text = schema.read_text(encoding="utf-8")
    mine = '@fraiseql.query(sql_source="v_post", row_filter="author_id = {current_user_id}")\n@fraiseql.authenticated\n'
    assert mine in text
    schema.write_text(text.replace(mine, mine.replace("@fraiseql.authenticated\n", "")), encoding="utf-8")
    found = lint(resolve_project(blog), options).diagnostics
    assert found and all(d.code == "FQL323" for d in found)
    ids = [d.message.rsplit("[", 1)[1].rstrip("]") for d in found]
    assert "query.myPosts anonymous" in ids
    assert 'add "query.myPosts anonymous" to [lint] acknowledge' in str(found[0].hint) or any(
        "query.myPosts anonymous" in str(d.hint) for d in found
    )
    toml = blog / "fraiseql.toml"
    acknowledged = "\n[lint]\nacknowledge = [" + ", ".join(f'"{i}"' for i in ids) + "]\n"
    toml.write_text(toml.read_text(encoding="utf-8") + acknowledged, encoding="utf-8")
    assert lint(resolve_project(blog), options).diagnostics == ()
    skipped = lint(resolve_project(blog), LintOptions(select=("FQL323",)))
    assert skipped.rules == () and skipped.skipped == ("FQL323 (no baseline: --baseline or [lint] baseline)",)
