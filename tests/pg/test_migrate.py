"""fraiseql migrate on a real PostgreSQL: a fresh database, a re-run, schema changes applied exactly, the user's
migrations folder, drift, hazards, a failing statement, and the refusals before anything runs."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from fraiseql_compiler import api
from fraiseql_compiler.cli.app import app
from tests.cases import REPO


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of examples/blog, built."""
    root = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", root, ignore=shutil.ignore_patterns("build"))
    api.build(root)
    return root


def migrate(project: Path, url: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["migrate", str(project), "--database", url, *args])


def edit(project: Path, old: str, new: str, file: str = "schema.py") -> None:
    path = project / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def rebuild(project: Path) -> None:
    api.build(project)


def history_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM fraiseql.tb_migration").fetchone()[0])


def scalar(url: str, sql: str) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]  # type: ignore[arg-type]


# --- a fresh database, then nothing to do ---------------------------------------------------------------------


def test_a_fresh_database_then_a_re_run_that_does_nothing(project: Path, pg_url: str) -> None:
    check = migrate(project, pg_url, "--check")
    assert check.exit_code == 1 and "create    view:public.v_post" in check.output
    first = migrate(project, pg_url)
    assert first.exit_code == 0, first.output
    assert "apply     0001_base.sql" in first.output and "applied 20 step(s)" in first.output
    assert scalar(pg_url, "SELECT count(*) FROM public.v_post") == 2  # the views exist and read the seed
    rows = history_rows(pg_url)
    again = migrate(project, pg_url)
    assert again.exit_code == 0 and "up to date" in again.output
    assert history_rows(pg_url) == rows
    assert migrate(project, pg_url, "--check").exit_code == 0
    with psycopg.connect(pg_url) as conn:
        steps = conn.execute(
            "SELECT kind, name, chain IS NOT NULL FROM fraiseql.tb_migration WHERE kind <> 'object' ORDER BY id"
        ).fetchall()
        assert steps == [("user", "0001_base.sql", True), ("versioned", "versioned:auth.0001", True)]
        nothing_granted = conn.execute(
            "SELECT count(*) FROM pg_class c, pg_roles r WHERE c.relnamespace = 'fraiseql'::regnamespace "
            "AND c.relname IN ('tb_migration', 'tb_schema_object') AND r.rolname LIKE 'fraiseql%%' "
            "AND has_table_privilege(r.oid, c.oid, 'SELECT')"
        ).fetchone()
        assert nothing_granted == (0,)


def test_a_schema_change_applies_exactly_the_difference(project: Path, pg_url: str) -> None:
    """The issue's reproductions: a field removed made 0003 fail (`cannot drop columns from view`), and a
    removed query stayed in the database, granted to every API role."""
    assert migrate(project, pg_url).exit_code == 0
    edit(project, "    email: Email\n    name: str\n", "    email: Email\n")
    edit(project, '''@fraiseql.query(sql_source="v_post", row_filter="author_id = {current_user_id}")
@fraiseql.authenticated
def my_posts(limit: int = 20) -> list["Post"]:
    """Get the current user's posts."""
    pass
''', "")
    rebuild(project)
    plan = json.loads(migrate(project, pg_url, "--dry-run", "--json").output)
    steps = {(a["action"], a["name"]) for a in plan["actions"]}
    assert ("drop", "api_view:api.my_posts") in steps
    assert ("replace", "view:public.v_user") in steps and ("replace", "api_view:api.posts") in steps
    assert not any(name.startswith("mutation:") for _, name in steps)  # untouched: nothing they read changed
    assert not any(action in ("user", "versioned") for action, _ in steps)
    result = migrate(project, pg_url)
    assert result.exit_code == 0, result.output
    assert scalar(pg_url, "SELECT to_regclass('api.my_posts')") is None
    assert scalar(pg_url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'v_user' "
                          "AND column_name = 'name'") == 0
    assert scalar(pg_url, "SELECT has_table_privilege('fraiseql_anonymous', 'api.posts', 'SELECT')") is True
    assert migrate(project, pg_url, "--check").exit_code == 0


def test_dry_run_prints_the_sql_and_changes_nothing(project: Path, pg_url: str) -> None:
    result = migrate(project, pg_url, "--dry-run")
    assert result.exit_code == 0
    assert "CREATE OR REPLACE VIEW public.v_post" in result.output and result.output.startswith("-- fraiseql")
    assert scalar(pg_url, "SELECT to_regnamespace('fraiseql')") is None


def test_status_and_json(project: Path, pg_url: str) -> None:
    status = json.loads(migrate(project, pg_url, "--status", "--json").output)
    assert {o["state"] for o in status["objects"]} == {"pending"}
    applied = json.loads(migrate(project, pg_url, "--json").output)
    assert len(applied["applied"]) == 20 and applied["drift"] == []
    status = json.loads(migrate(project, pg_url, "--status", "--json").output)
    assert {o["state"] for o in status["objects"]} == {"applied"}


# --- the user's migrations ---------------------------------------------------------------------------------------


def test_user_migrations_run_once_in_order_and_an_edit_is_refused(project: Path, pg_url: str) -> None:
    assert migrate(project, pg_url).exit_code == 0
    (project / "db" / "migrations" / "0002_tags.sql").write_text(
        "CREATE TABLE public.tb_tag (id uuid PRIMARY KEY, label text NOT NULL);\n", encoding="utf-8"
    )
    result = migrate(project, pg_url)
    assert result.exit_code == 0 and "apply     0002_tags.sql" in result.output
    assert scalar(pg_url, "SELECT to_regclass('public.tb_tag') IS NOT NULL") is True
    edit(project, "label text", "label varchar(80)", "db/migrations/0002_tags.sql")
    refused = migrate(project, pg_url)
    assert refused.exit_code == 2 and "FQL402" in refused.output and "edited after it was applied" in refused.output
    (project / "db" / "migrations" / "0002_tags.sql").unlink()
    (project / "db" / "migrations" / "0002_other.sql").write_text("SELECT 1;\n", encoding="utf-8")
    branch = migrate(project, pg_url)
    assert branch.exit_code == 2 and "0002_tags.sql was applied here" in branch.output


def test_objects_your_migration_changed_are_re_created_in_the_same_run(project: Path, pg_url: str) -> None:
    """A migration that swaps a table for a new one leaves the old one with the policies and the views: the
    new table would have no row-level security. Migrate notices in the same transaction and re-creates them."""
    assert migrate(project, pg_url).exit_code == 0
    (project / "db" / "migrations" / "0002_swap_comments.sql").write_text(
        "ALTER TABLE public.tb_comment RENAME TO tb_comment_old;\n"
        "CREATE TABLE public.tb_comment (LIKE public.tb_comment_old INCLUDING ALL);\n"
        "INSERT INTO public.tb_comment SELECT * FROM public.tb_comment_old;\n",
        encoding="utf-8",
    )
    result = migrate(project, pg_url)
    assert result.exit_code == 0, result.output
    assert "that your migrations changed" in result.output and "rls:public.tb_comment" in result.output
    assert scalar(
        pg_url, "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'public.tb_comment'::regclass"
    )
    assert scalar(pg_url, "SELECT count(*) FROM pg_policy WHERE polrelid = 'public.tb_comment'::regclass") > 0
    assert "tb_comment_old" not in scalar(pg_url, "SELECT pg_get_viewdef('public.v_comment'::regclass)")
    assert migrate(project, pg_url, "--check").exit_code == 0


def test_a_migration_may_not_end_the_transaction(project: Path, pg_url: str) -> None:
    (project / "db" / "migrations" / "0002_commit.sql").write_text(
        "-- step one\nCREATE TABLE public.tb_a (id int);\n/* done */ COMMIT;\n", encoding="utf-8"
    )
    result = migrate(project, pg_url)
    assert result.exit_code == 2 and "FQL400" in result.output
    assert "0002_commit.sql:3: COMMIT" in result.output and "one transaction" in result.output
    assert scalar(pg_url, "SELECT to_regclass('public.tb_user')") is None


def test_a_failure_inside_a_batch_of_objects_names_its_statement(project: Path, pg_url: str) -> None:
    """Generated objects travel in batches; a failure is located by running the batch again, one by one."""
    assert migrate(project, pg_url).exit_code == 0
    edit(project, "def delete_post(", "def delete_post_now(")  # calls public.fn_delete_post_now: not there
    rebuild(project)
    result = migrate(project, pg_url)
    assert result.exit_code == 2 and "FQL407" in result.output, result.output
    assert "sql/0005_api.sql:" in result.output and "fn_delete_post_now" in result.output
    assert scalar(pg_url, "SELECT to_regprocedure('api.delete_post(jsonb)') IS NOT NULL") is True  # rolled back


def test_a_failing_statement_is_named_and_nothing_is_applied(project: Path, pg_url: str) -> None:
    (project / "db" / "migrations" / "0002_bad.sql").write_text(
        "-- a typo on line 3\nCREATE TABLE public.tb_ok (id int);\nALTER TABLE public.tb_missing ADD COLUMN x int;\n",
        encoding="utf-8",
    )
    result = migrate(project, pg_url)
    assert result.exit_code == 2 and "FQL407" in result.output
    assert "0002_bad.sql:3" in result.output and 'relation "public.tb_missing" does not exist' in result.output
    assert scalar(pg_url, "SELECT to_regclass('public.tb_user')") is None  # 0001 rolled back too
    assert scalar(pg_url, "SELECT to_regclass('fraiseql.tb_migration')") is None


def test_a_tampered_build_is_refused(project: Path, pg_url: str) -> None:
    views = project / "build" / "sql" / "0003_views.sql"
    views.write_text(views.read_text(encoding="utf-8").replace("t.email", "t.email, t.password_hash"), encoding="utf-8")
    result = migrate(project, pg_url)
    assert result.exit_code == 2 and "FQL400" in result.output and "0003_views.sql differs" in result.output
    assert migrate(project, pg_url, "--build").exit_code == 0  # --build compiles first


# --- drift -----------------------------------------------------------------------------------------------------

DRIFTS = {
    "a policy edited": ("ALTER POLICY fql_anonymous_select ON public.tb_post USING (true)", "rls:public.tb_post"),
    "row-level security off": ("ALTER TABLE public.tb_post DISABLE ROW LEVEL SECURITY", "rls:public.tb_post"),
    "a privilege granted": ("GRANT SELECT ON public.tb_user TO fraiseql_anonymous", "rls:public.tb_user"),
    "a function replaced": (
        "CREATE OR REPLACE FUNCTION api.delete_post(args jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT NULL::jsonb $$",
        "mutation:api.delete_post(jsonb)",
    ),
    "a view replaced": (
        "CREATE OR REPLACE VIEW api.posts WITH (security_invoker = true) AS SELECT * FROM public.v_post",
        "api_view:api.posts",
    ),
    "a helper replaced": (
        "CREATE OR REPLACE FUNCTION fraiseql.current_user_id() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$",
        "setup:fraiseql",
    ),
}


@pytest.mark.parametrize("kind", list(DRIFTS))
def test_drift_is_detected_refused_and_repaired(project: Path, pg_url: str, kind: str) -> None:
    assert migrate(project, pg_url).exit_code == 0
    statement, drifted = DRIFTS[kind]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]
    check = migrate(project, pg_url, "--check", "--json")
    assert check.exit_code == 1
    assert [d["name"] for d in json.loads(check.output)["drift"]] == [drifted]
    refused = migrate(project, pg_url)
    assert refused.exit_code == 2 and "FQL403" in refused.output and drifted in refused.output
    repaired = migrate(project, pg_url, "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert migrate(project, pg_url, "--check").exit_code == 0
    assert scalar(pg_url, "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.tb_post'::regclass") is True


def test_your_own_policies_and_grants_are_not_drift(project: Path, pg_url: str) -> None:
    assert migrate(project, pg_url).exit_code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE ROLE fql_mig_reporter NOLOGIN") if not conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = 'fql_mig_reporter'"
        ).fetchone() else None
        conn.execute("GRANT SELECT ON public.tb_post TO fql_mig_reporter")
        conn.execute("CREATE POLICY reporting ON public.tb_post FOR SELECT TO fql_mig_reporter USING (true)")
    assert migrate(project, pg_url, "--check").exit_code == 0


# --- hazards -----------------------------------------------------------------------------------------------------

HAZARD_EDITS = {
    "widen-policy": ('"anonymous": fraiseql.access(read="published"),', '"anonymous": fraiseql.access(read="true"),'),
    "remove-policy": ('"anonymous": fraiseql.access(read="published"),', ""),
    "add-policy": (
        '"api_key": fraiseql.access(read="published AND {scope:read:posts}"),',
        '"api_key": fraiseql.access(read="published AND {scope:read:posts}", delete="{scope:admin:posts}"),',
    ),
}


@pytest.mark.parametrize("hazard", list(HAZARD_EDITS))
def test_a_change_that_may_widen_access_needs_consent(project: Path, pg_url: str, hazard: str) -> None:
    assert migrate(project, pg_url).exit_code == 0
    edit(project, *HAZARD_EDITS[hazard])
    rebuild(project)
    refused = migrate(project, pg_url)
    assert refused.exit_code == 2 and "FQL404" in refused.output and f"[{hazard}]" in refused.output
    assert f"--allow {hazard}" in refused.output
    assert migrate(project, pg_url, "--allow", hazard).exit_code == 0
    assert migrate(project, pg_url, "--check").exit_code == 0


def test_turning_row_level_security_off_needs_consent_and_the_build_still_wins(project: Path, pg_url: str) -> None:
    assert migrate(project, pg_url).exit_code == 0
    (project / "db" / "migrations" / "0002_open.sql").write_text(
        "ALTER TABLE public.tb_post DISABLE ROW LEVEL SECURITY;\n", encoding="utf-8"
    )
    refused = migrate(project, pg_url)
    assert refused.exit_code == 2 and "[disable-rls]" in refused.output and "--allow disable-rls" in refused.output
    allowed = migrate(project, pg_url, "--allow", "disable-rls")
    assert allowed.exit_code == 0, allowed.output
    # tb_post backs a type with access rules: its row-level security is the build's, re-created in the same run
    assert "rls:public.tb_post" in allowed.output and "that your migrations changed" in allowed.output
    assert scalar(pg_url, "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.tb_post'::regclass") is True
    assert migrate(project, pg_url, "--check").exit_code == 0


def test_dropping_data_needs_consent(project: Path, pg_url: str) -> None:
    assert migrate(project, pg_url).exit_code == 0
    (project / "db" / "migrations" / "0002_cleanup.sql").write_text(
        "ALTER TABLE public.tb_comment DROP COLUMN created_at;\n", encoding="utf-8"
    )
    refused = migrate(project, pg_url)
    assert refused.exit_code == 2 and "[drop-data]" in refused.output
    unknown = migrate(project, pg_url, "--allow", "everything")
    assert unknown.exit_code == 2 and "unknown hazard everything" in unknown.output


def test_a_type_that_leaves_takes_its_views_and_policies_never_its_table(project: Path, pg_url: str) -> None:
    assert migrate(project, pg_url).exit_code == 0
    source = (project / "schema.py").read_text(encoding="utf-8")
    start = source.index("@fraiseql.type(\n    table=\"tb_comment\"")
    end = source.index("@fraiseql.type(\n    table=\"tb_post\"")
    (project / "schema.py").write_text(
        source[:start] + source[end:].replace("    comments: list[Comment]\n", ""), encoding="utf-8"
    )
    rebuild(project)
    assert migrate(project, pg_url).exit_code == 2  # its policies would go: remove-policy
    result = migrate(project, pg_url, "--allow", "remove-policy")
    assert result.exit_code == 0, result.output
    assert scalar(pg_url, "SELECT to_regclass('public.v_comment')") is None
    assert scalar(pg_url, "SELECT to_regclass('public.tb_comment') IS NOT NULL") is True  # the data stays
    assert scalar(pg_url, "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'public.tb_comment'::regclass")
    assert scalar(pg_url, "SELECT count(*) FROM pg_policies WHERE tablename = 'tb_comment'") == 0
    granted = "SELECT has_column_privilege('fraiseql_anonymous', 'public.tb_comment', 'body', 'SELECT')"
    assert scalar(pg_url, granted) is False


# --- refused before anything runs -------------------------------------------------------------------------------


@pytest.fixture
def other_role(pg_url: str) -> Iterator[str]:
    name = f"fql_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN")  # type: ignore[arg-type]
    try:
        yield name
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {name}")  # type: ignore[arg-type]
            conn.execute(f"DROP ROLE {name}")  # type: ignore[arg-type]


def test_missing_roles_without_createrole_are_refused_first(project: Path, pg_url: str, other_role: str) -> None:
    suffix = other_role.removeprefix("fql_mig_")
    with (project / "fraiseql.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            f'\n[database.roles]\nanonymous = "anon_{suffix}"\nauthenticated = "auth_{suffix}"\n'
            f'api_key = "key_{suffix}"\nauthenticator = "login_{suffix}"\n'
        )
    rebuild(project)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"GRANT CREATE ON DATABASE {conn.info.dbname} TO {other_role}")  # type: ignore[arg-type]
        conn.execute(f"GRANT CREATE ON SCHEMA public TO {other_role}")  # type: ignore[arg-type]
    url = psycopg.conninfo.make_conninfo(pg_url, user=other_role)
    result = migrate(project, url)
    assert result.exit_code == 2 and "FQL405" in result.output and f"anon_{suffix}" in result.output
    assert scalar(pg_url, "SELECT to_regclass('public.tb_user')") is None


def test_migrating_as_another_role_than_the_credential_tables_owner_is_refused(
    project: Path, pg_url: str, other_role: str
) -> None:
    assert migrate(project, pg_url).exit_code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {other_role} SUPERUSER")  # type: ignore[arg-type]
    (project / "db" / "migrations" / "0002_more.sql").write_text("SELECT 1;\n", encoding="utf-8")
    result = migrate(project, psycopg.conninfo.make_conninfo(pg_url, user=other_role))
    assert result.exit_code == 2 and "FQL406" in result.output and "belong to postgres" in result.output
