"""``fraiseql lint --database``'s catalog checks (FQL330 to FQL336) on a real PostgreSQL: the blog, built and
migrated into a fresh database, has no finding; each bad pattern, injected as the superuser, is reported
exactly, and its near misses are not. Every statement the checks send is parsed by pglast."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from click.testing import CliRunner

from fraiseql_compiler import api
from fraiseql_compiler.cli.app import app
from fraiseql_compiler.diagnostics import Diagnostic, FraiseQLError
from fraiseql_compiler.lint.catalog import STATEMENTS, UnreadableTree, catalog_findings, read_node_tree
from tests.cases import REPO

ROLES = {"anonymous": "fraiseql_anonymous", "authenticated": "fraiseql_authenticated", "api_key": "fraiseql_api_key"}
SCHEMAS = ["public", "api", "fraiseql"]

# A table of the user's, with row-level security on, for the policy checks. Each case adds its own policy.
NOTE = """
CREATE TABLE public.tb_note (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id uuid NOT NULL,
    org_id uuid,
    archived boolean NOT NULL DEFAULT false
);
ALTER TABLE public.tb_note ENABLE ROW LEVEL SECURITY;
CREATE TABLE public.tb_member (user_id uuid NOT NULL, org_id uuid NOT NULL, PRIMARY KEY (user_id, org_id));
"""
ME = "(SELECT fraiseql.current_user_id()::uuid)"


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/blog, built (once for the module)."""
    root = tmp_path_factory.mktemp("lint") / "blog"
    shutil.copytree(REPO / "examples" / "blog", root, ignore=shutil.ignore_patterns("build"))
    api.build(root)
    return root


@pytest.fixture
def blog_db(blog: Path, pg_url: str) -> str:
    """A fresh database with the blog migrated into it."""
    result = CliRunner().invoke(app, ["migrate", str(blog), "--database", pg_url])
    assert result.exit_code == 0, result.output
    return pg_url


def inject(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def findings(url: str) -> list[Diagnostic]:
    return catalog_findings(url, api_roles=ROLES, api_schema="api", schemas=SCHEMAS)


def show(found: list[Diagnostic]) -> str:
    return "\n".join(f"{d.severity}[{d.code}]: {d.message}\nhint: {d.hint}" for d in found)


# --- the blog as built ----------------------------------------------------------------------------------------


def test_the_migrated_blog_has_no_finding(blog_db: str) -> None:
    assert findings(blog_db) == [], show(findings(blog_db))


# --- each pattern, injected -----------------------------------------------------------------------------------

# (id, SQL run as the superuser on the migrated blog, the expected findings: code and words of the message)
REPORTED: list[tuple[str, str, list[tuple[str, tuple[str, ...]]]]] = [
    (
        "FQL330 policies on a table whose row-level security is off",
        "ALTER TABLE public.tb_post DISABLE ROW LEVEL SECURITY",
        [("FQL330", ("public.tb_post", "fql_authenticated_select", "row-level security is disabled"))],
    ),
    (
        "FQL331 an owner-rights view granted to an API role",
        "CREATE VIEW public.v_leak AS SELECT id, name FROM public.tb_user;"
        " GRANT SELECT ON public.v_leak TO fraiseql_anonymous",
        [("FQL331", ("view public.v_leak", "readable by fraiseql_anonymous", "owner postgres"))],
    ),
    (
        "FQL331 an owner-rights view granted to PUBLIC",
        "CREATE VIEW public.v_leak AS SELECT id FROM public.tb_user; GRANT SELECT ON public.v_leak TO PUBLIC",
        [("FQL331", ("public.v_leak", "fraiseql_anonymous, fraiseql_api_key, fraiseql_authenticated"))],
    ),
    (
        "FQL331 one column of an owner-rights view granted",
        "CREATE VIEW public.v_leak AS SELECT id, name FROM public.tb_user;"
        " GRANT SELECT (name) ON public.v_leak TO fraiseql_api_key",
        [("FQL331", ("public.v_leak", "readable by fraiseql_api_key"))],
    ),
    (
        "FQL331 security_invoker turned off on a generated view",
        "ALTER VIEW api.posts SET (security_invoker = false)",
        [("FQL331", ("view api.posts", "fraiseql_anonymous, fraiseql_api_key, fraiseql_authenticated"))],
    ),
    (
        "FQL331 the identity view granted to the anonymous role",
        "GRANT SELECT ON fraiseql.request_identity TO fraiseql_anonymous",
        [("FQL331", ("view fraiseql.request_identity", "readable by fraiseql_anonymous "))],
    ),
    (
        "FQL332 a function executable by the API roles (through PUBLIC), search_path not pinned",
        "CREATE FUNCTION public.fn_plain(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x'",
        [("FQL332", ("public.fn_plain(integer)", "fraiseql_anonymous, fraiseql_api_key, fraiseql_authenticated"))],
    ),
    (
        "FQL332 a SECURITY DEFINER function nobody may call, search_path not pinned",
        "CREATE FUNCTION public.fn_owner(a text, b jsonb) RETURNS integer LANGUAGE sql SECURITY DEFINER"
        " AS 'SELECT 1'; REVOKE ALL ON FUNCTION public.fn_owner(text, jsonb) FROM PUBLIC",
        [("FQL332", ("public.fn_owner(text, jsonb)", "SECURITY DEFINER"))],
    ),
    (
        "FQL332 a generated function's search_path reset",
        "ALTER FUNCTION api.create_post(jsonb) RESET search_path",
        [("FQL332", ("api.create_post(jsonb)", "fraiseql_authenticated"))],
    ),
    (
        "FQL333 a pinned SECURITY DEFINER function granted to an API role",
        "CREATE FUNCTION public.fn_admin() RETURNS integer LANGUAGE sql SECURITY DEFINER"
        " SET search_path = pg_catalog, pg_temp AS 'SELECT 1';"
        " REVOKE ALL ON FUNCTION public.fn_admin() FROM PUBLIC;"
        " GRANT EXECUTE ON FUNCTION public.fn_admin() TO fraiseql_authenticated",
        [("FQL333", ("public.fn_admin()", "executable by fraiseql_authenticated:", "owner postgres"))],
    ),
    (
        "FQL332 and FQL333 an unpinned SECURITY DEFINER function granted to an API role",
        "CREATE FUNCTION public.fn_admin() RETURNS integer LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';"
        " REVOKE ALL ON FUNCTION public.fn_admin() FROM PUBLIC;"
        " GRANT EXECUTE ON FUNCTION public.fn_admin() TO fraiseql_authenticated",
        [
            ("FQL332", ("public.fn_admin()", "SECURITY DEFINER")),
            ("FQL333", ("public.fn_admin()", "fraiseql_authenticated")),
        ],
    ),
    (
        "FQL333 an auth function granted to a role fraiseql does not grant it to",
        "GRANT EXECUTE ON FUNCTION fraiseql.fn_create_api_key(text, text[], timestamptz) TO fraiseql_anonymous",
        [
            (
                "FQL333",
                (
                    "fraiseql.fn_create_api_key(text, text[], timestamp with time zone)",
                    "executable by fraiseql_anonymous (fraiseql grants it to fraiseql_authenticated)",
                ),
            )
        ],
    ),
    (
        "FQL333 an internal auth function granted to an API role",
        "GRANT EXECUTE ON FUNCTION fraiseql.fn_verify_api_key(text) TO fraiseql_api_key",
        [("FQL333", ("fraiseql.fn_verify_api_key(text)", "fraiseql_api_key (fraiseql grants it to no API role)"))],
    ),
    (
        "FQL334 an unwrapped helper in USING",
        "CREATE POLICY p_unwrapped ON public.tb_post AS RESTRICTIVE FOR SELECT TO fraiseql_authenticated"
        " USING (author_id = fraiseql.current_user_id()::uuid)",
        [("FQL334", ("policy p_unwrapped on public.tb_post", "calls fraiseql.current_user_id outside"))],
    ),
    (
        "FQL334 an unwrapped helper in WITH CHECK",
        "CREATE POLICY p_scope ON public.tb_post AS RESTRICTIVE FOR INSERT TO fraiseql_authenticated"
        " WITH CHECK (fraiseql.has_scope('write:posts'))",
        [("FQL334", ("policy p_scope on public.tb_post", "calls fraiseql.has_scope outside"))],
    ),
    (
        "FQL334 an unwrapped current_setting",
        "CREATE POLICY p_setting ON public.tb_post AS RESTRICTIVE FOR SELECT TO fraiseql_anonymous"
        " USING (current_setting('request.jwt.claims', true) IS NULL OR published)",
        [("FQL334", ("policy p_setting on public.tb_post", "calls current_setting outside"))],
    ),
    (
        "FQL334 a helper in a correlated subquery",
        "CREATE POLICY p_commented ON public.tb_post AS RESTRICTIVE FOR SELECT TO fraiseql_authenticated"
        " USING (EXISTS (SELECT 1 FROM public.tb_comment AS c"
        " WHERE c.post_id = tb_post.id AND c.author_id = fraiseql.current_user_id()::uuid))",
        [("FQL334", ("policy p_commented on public.tb_post", "calls fraiseql.current_user_id outside"))],
    ),
    (
        "FQL335 a policy column without an index",
        NOTE + f"CREATE POLICY p_own ON public.tb_note FOR SELECT TO fraiseql_authenticated USING (owner_id = {ME})",
        [
            (
                "FQL335",
                ("policy p_own on public.tb_note", "column owner_id", "CREATE INDEX ON public.tb_note (owner_id)"),
            )
        ],
    ),
    (
        "FQL335 in a conjunct, and only as the second column of an index",
        NOTE + "CREATE INDEX ON public.tb_note (archived, owner_id);"
        f" CREATE POLICY p_own ON public.tb_note FOR SELECT TO fraiseql_authenticated"
        f" USING (NOT archived AND {ME} = owner_id)",
        [("FQL335", ("public.tb_note", "column owner_id"))],
    ),
    (
        "FQL335 = ANY of a claim",
        NOTE + "CREATE POLICY p_orgs ON public.tb_note FOR SELECT TO fraiseql_api_key"
        " USING (org_id = ANY ((SELECT fraiseql.claim('orgs'))::uuid[]))",
        [("FQL335", ("policy p_orgs on public.tb_note", "column org_id"))],
    ),
    (
        "FQL335 IN a subquery of the caller's memberships",
        NOTE + "CREATE POLICY p_member ON public.tb_note FOR SELECT TO fraiseql_authenticated"
        f" USING (org_id IN (SELECT m.org_id FROM public.tb_member AS m WHERE m.user_id = {ME}))",
        [("FQL335", ("policy p_member on public.tb_note", "column org_id"))],
    ),
    (
        "FQL335 two policies on one column",
        NOTE + f"CREATE POLICY p_read ON public.tb_note FOR SELECT TO fraiseql_authenticated USING (owner_id = {ME});"
        f" CREATE POLICY p_edit ON public.tb_note FOR UPDATE TO fraiseql_authenticated USING (owner_id = {ME})",
        [("FQL335", ("policies p_edit, p_read on public.tb_note", "column owner_id"))],
    ),
    (
        "FQL336 two permissive policies for one role and command",
        "CREATE POLICY p_extra ON public.tb_post FOR SELECT TO fraiseql_anonymous USING (true)",
        [
            (
                "FQL336",
                ("public.tb_post", "for fraiseql_anonymous on SELECT", "(fql_anonymous_select, p_extra)"),
            )
        ],
    ),
    (
        "FQL336 two permissive policies for PUBLIC, ALL",
        NOTE + "CREATE POLICY p_one ON public.tb_note USING (NOT archived);"
        " CREATE POLICY p_two ON public.tb_note TO PUBLIC USING (archived)",
        [("FQL336", ("public.tb_note", "PUBLIC (every role) on SELECT, INSERT, UPDATE, DELETE", "(p_one, p_two)"))],
    ),
    (
        "FQL336 an ALL policy and a SELECT policy for one role",
        "CREATE POLICY p_all ON public.tb_user FOR ALL TO fraiseql_api_key USING (false)",
        [("FQL336", ("public.tb_user", "for fraiseql_api_key on SELECT", "(fql_api_key_select, p_all)"))],
    ),
]


@pytest.mark.parametrize(("sql", "expected"), [c[1:] for c in REPORTED], ids=[c[0] for c in REPORTED])
def test_an_injected_pattern_is_reported_exactly(
    blog_db: str, sql: str, expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    inject(blog_db, sql)
    found = findings(blog_db)
    assert [d.code for d in found] == [code for code, _ in expected], show(found)
    for d, (code, words) in zip(found, expected, strict=True):
        for word in words:
            assert word in d.message or word in (d.hint or ""), f"{word!r} not in:\n{show([d])}"
        assert d.span is None and d.hint
        assert "\n" not in d.message
        assert d.severity == ("warning" if code in ("FQL334", "FQL335", "FQL336") else "error")


# Near misses: what the checks must not report.
QUIET: list[tuple[str, str]] = [
    (
        "a view with security_invoker = on",
        "CREATE VIEW public.v_ok WITH (security_invoker = on) AS SELECT id FROM public.tb_user;"
        " GRANT SELECT ON public.v_ok TO fraiseql_anonymous",
    ),
    ("an owner-rights view no API role may read", "CREATE VIEW public.v_private AS SELECT id FROM public.tb_user"),
    (
        "an owner-rights view in a schema the API roles cannot use",
        "CREATE SCHEMA private; CREATE VIEW private.v_x AS SELECT id FROM public.tb_user;"
        " GRANT SELECT ON private.v_x TO fraiseql_anonymous;"
        " CREATE FUNCTION private.fn_x() RETURNS integer LANGUAGE sql SECURITY DEFINER"
        " SET search_path = pg_catalog AS 'SELECT 1'",
    ),
    (
        "a function whose search_path is pinned",
        "CREATE FUNCTION public.fn_pinned(x integer) RETURNS integer LANGUAGE sql SET search_path = '' AS 'SELECT x'",
    ),
    (
        "a trigger function (it cannot be called)",
        "CREATE FUNCTION public.tg_touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
    ),
    ("a function of an extension", "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"),
    (
        "a SECURITY DEFINER function revoked from everyone, search_path pinned",
        "CREATE FUNCTION public.fn_owner() RETURNS integer LANGUAGE sql SECURITY DEFINER"
        " SET search_path = pg_catalog, pg_temp AS 'SELECT 1'; REVOKE ALL ON FUNCTION public.fn_owner() FROM PUBLIC",
    ),
    (
        "a helper whose argument reads the row",
        "CREATE POLICY p_row ON public.tb_post AS RESTRICTIVE FOR SELECT TO fraiseql_authenticated"
        " USING (fraiseql.scope_covers(title, 'read:posts') OR true)",
    ),
    (
        "a helper inside an uncorrelated subquery",
        "CREATE POLICY p_once ON public.tb_post AS RESTRICTIVE FOR SELECT TO fraiseql_authenticated"
        " USING (EXISTS (SELECT 1 FROM public.tb_user AS u WHERE u.id = fraiseql.current_user_id()::uuid))",
    ),
    (
        "a policy column with an index",
        NOTE + "CREATE INDEX ON public.tb_note (owner_id);"
        f" CREATE POLICY p_own ON public.tb_note FOR SELECT TO fraiseql_authenticated USING (owner_id = {ME})",
    ),
    (
        "a policy column under OR",
        NOTE + "CREATE POLICY p_own ON public.tb_note FOR SELECT TO fraiseql_authenticated"
        f" USING (owner_id = {ME} OR NOT archived)",
    ),
    (
        "a policy column in WITH CHECK only",
        NOTE
        + f"CREATE POLICY p_own ON public.tb_note FOR INSERT TO fraiseql_authenticated WITH CHECK (owner_id = {ME})",
    ),
    (
        "a policy column behind a cast",
        NOTE + "CREATE POLICY p_own ON public.tb_note FOR SELECT TO fraiseql_authenticated"
        " USING (owner_id::text = (SELECT fraiseql.current_user_id()))",
    ),
    (
        "a permissive and a restrictive policy for one role and command",
        "CREATE POLICY p_more ON public.tb_post AS RESTRICTIVE FOR SELECT TO fraiseql_anonymous USING (true)",
    ),
    (
        "two permissive policies for one role but different commands",
        NOTE + "CREATE POLICY p_read ON public.tb_note FOR SELECT USING (true);"
        " CREATE POLICY p_add ON public.tb_note FOR INSERT WITH CHECK (true)",
    ),
    (
        "a table of a schema that is not inspected",
        "CREATE SCHEMA elsewhere; CREATE TABLE elsewhere.t (id integer);"
        " CREATE POLICY p ON elsewhere.t USING (true); CREATE POLICY q ON elsewhere.t USING (true)",
    ),
]


@pytest.mark.parametrize("sql", [c[1] for c in QUIET], ids=[c[0] for c in QUIET])
def test_a_near_miss_is_not_reported(blog_db: str, sql: str) -> None:
    inject(blog_db, sql)
    found = findings(blog_db)
    assert found == [], show(found)


def test_extra_api_roles_count_and_other_roles_do_not(blog_db: str) -> None:
    inject(
        blog_db,
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fql_lint_editor') THEN"
        " CREATE ROLE fql_lint_editor NOLOGIN; END IF; END $$;"
        " CREATE VIEW public.v_leak AS SELECT id FROM public.tb_user;"
        " GRANT SELECT ON public.v_leak TO fql_lint_editor",
    )
    assert findings(blog_db) == []
    roles = {**ROLES, "fql_lint_editor": "fql_lint_editor", "ghost": "fql_lint_no_such_role"}
    found = catalog_findings(blog_db, api_roles=roles, api_schema="api", schemas=["public"])
    assert [(d.code, "readable by fql_lint_editor" in d.message) for d in found] == [("FQL331", True)], show(found)


def test_an_unreachable_database_is_fql165() -> None:
    with pytest.raises(FraiseQLError) as caught:
        catalog_findings("postgresql://postgres@127.0.0.1:1/none", api_roles=ROLES, api_schema="api", schemas=SCHEMAS)
    [d] = caught.value.diagnostics
    assert d.code == "FQL165" and d.message.startswith("cannot connect to the database: ") and d.hint


def test_the_checks_read_in_a_read_only_transaction(blog_db: str) -> None:
    """A URL's own options are kept, and the session the checks run in refuses writes."""
    url = f"{blog_db}?options=-c%20statement_timeout%3D5000"
    assert findings(url) == []
    from psycopg.conninfo import conninfo_to_dict

    from fraiseql_compiler.lint.catalog import SESSION_OPTIONS

    options = f"{conninfo_to_dict(url)['options']} {SESSION_OPTIONS}"
    with psycopg.connect(url, options=options) as conn:
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("5s",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE public.t (x integer)")


# --- the statements and the node-tree reader ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(STATEMENTS))
def test_every_statement_sent_parses_and_only_reads(name: str) -> None:
    sql = STATEMENTS[name]
    # psycopg's placeholders as PostgreSQL's own, and %% as the % the server receives
    numbered: dict[str, str] = {}
    text = re.sub(r"%\((\w+)\)s", lambda m: numbered.setdefault(m[1], f"${len(numbered) + 1}"), sql)
    text = text.replace("%%", "%")
    [statement] = pglast.parse_sql(text)
    assert type(statement.stmt).__name__ == "SelectStmt"


def test_the_reader_reads_what_postgresql_writes(blog_db: str) -> None:
    with psycopg.connect(blog_db) as conn:
        row = conn.execute(
            "SELECT polqual::text FROM pg_policy WHERE polname = 'fql_authenticated_update'"
            " AND polrelid = 'public.tb_post'::regclass"
        ).fetchone()
    assert row is not None
    tree: Any = read_node_tree(row[0])
    assert tree[""] == "OPEXPR" and tree["args"][0][""] == "VAR" and tree["args"][1][""] == "SUBLINK"
    assert tree["args"][1]["subselect"]["rtable"] is None


def test_the_reader_tokens() -> None:
    tree = read_node_tree(
        r'{CONST :constvalue 4 [ 1 0 0 0 0 0 0 0 ] :name a\ b\(c\) :none <> :list ("x" "y") :ints (i 1 2)}'
    )
    assert tree == {
        "": "CONST",
        "constvalue": "4",
        "name": r"a\ b\(c\)",
        "none": None,
        "list": ['"x"', '"y"'],
        "ints": ["i", "1", "2"],
    }
    for broken in ("{OPEXPR :args (", "{OPEXPR args}", "{A} {B}", ")"):
        with pytest.raises(UnreadableTree):
            read_node_tree(broken)
