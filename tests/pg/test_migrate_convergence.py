"""Convergence of ``fraiseql migrate``: a database migrated step by step through three versions of the blog
schema equals, ``pg_dump`` for ``pg_dump``, one migrated from scratch to the last version; after every step a
fresh build plans nothing; and a re-run applies nothing and writes no history.

The versions (each a set of edits to a copy of examples/blog, built with ``api.build``):

- v1: examples/blog as it is;
- v2: ``Post.summary`` added (a nullable column, added by the user's ``0002_post_summary.sql``), the query
  ``my_posts`` removed, the API-key read rule of ``Post`` widened (``--allow widen-policy``);
- v3: a new table-backed type ``Tag`` with its query ``tags`` (its table made by ``0003_tags.sql``), and the
  mutation ``ingest_data`` removed (``0003_tags.sql`` also drops its function ``public.fn_ingest_data``).

The dumps are compared with privileges (``--schema-only --no-owner``); the only lines normalised are the
``\\restrict`` / ``\\unrestrict`` lines, whose key pg_dump draws at random for every dump.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from fraiseql_compiler import api
from fraiseql_compiler.cli.app import app
from tests.cases import REPO
from tests.pgserver import PgServer

Edit = tuple[str, str, str]  # (file, old, new)

V2_EDITS: list[Edit] = [
    (
        "schema.py",
        "    body: str\n    published: Annotated",
        "    body: str\n    summary: str | None\n    published: Annotated",
    ),
    (
        "schema.py",
        '@fraiseql.query(sql_source="v_post", row_filter="author_id = {current_user_id}")\n'
        "@fraiseql.authenticated\n"
        'def my_posts(limit: int = 20) -> list["Post"]:\n'
        '    """Get the current user\'s posts."""\n'
        "    pass\n\n\n",
        "",
    ),
    (
        "schema.py",
        '"api_key": fraiseql.access(read="published AND {scope:read:posts}")',
        '"api_key": fraiseql.access(read="{scope:read:posts}")',
    ),
]
V2_FILES = {
    "db/migrations/0002_post_summary.sql": "ALTER TABLE public.tb_post ADD COLUMN IF NOT EXISTS summary text;\n"
}

V3_EDITS: list[Edit] = [
    (
        "schema.py",
        "@fraiseql.type\nclass Report:",
        '@fraiseql.type(\n    table="tb_tag",\n    access={\n'
        '        "anonymous": fraiseql.access(read="true"),\n'
        '        "authenticated": fraiseql.access(read="true", insert="{scope:write:posts}"),\n'
        "    },\n)\n"
        'class Tag:\n    """A label for posts."""\n\n    id: ID\n    name: str\n\n\n'
        "@fraiseql.type\nclass Report:",
    ),
    (
        "schema.py",
        "# --- mutations ---",
        '@fraiseql.query(sql_source="v_tag")\ndef tags(limit: int = 50) -> list["Tag"]:\n'
        '    """Every tag."""\n    pass\n\n\n# --- mutations ---',
    ),
    (
        "schema.py",
        '@fraiseql.mutation\n@api_key_required\n@requires_scope("write:data")\n'
        'def ingest_data(info, payload: "IngestInput") -> bool:\n'
        '    """Requires an API key with write:data scope."""\n    pass\n\n\n',
        "",
    ),
    ("schema.py", "@fraiseql.input\nclass IngestInput:\n    source: str\n    rows: list[str]\n\n\n", ""),
]
V3_FILES = {
    "db/migrations/0003_tags.sql": """\
CREATE TABLE IF NOT EXISTS public.tb_tag (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE
);
INSERT INTO public.tb_tag (name) VALUES ('news'), ('howto') ON CONFLICT (name) DO NOTHING;
-- the mutation ingest_data left the schema: its function goes too
DROP FUNCTION IF EXISTS public.fn_ingest_data(text, jsonb);
"""
}


def copy_blog(tmp_path: Path, name: str = "blog") -> Path:
    root = tmp_path / name
    shutil.copytree(REPO / "examples" / "blog", root, ignore=shutil.ignore_patterns("build"))
    return root


def to_version(root: Path, edits: list[Edit], files: dict[str, str]) -> None:
    for file, old, new in edits:
        path = root / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{file} no longer has: {old!r}"
        path.write_text(text.replace(old, new), encoding="utf-8")
    for file, content in files.items():
        (root / file).write_text(content, encoding="utf-8")
    api.build(root)


def migrate(root: Path, url: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["migrate", str(root), "--database", url, *args])


def planned(root: Path, url: str) -> dict[str, Any]:
    """--check --json: exit 0 with an empty plan, else the test fails with what is pending."""
    result = migrate(root, url, "--check", "--json")
    assert result.exit_code in (0, 1), result.output
    return dict(json.loads(result.stdout))


def assert_up_to_date(root: Path, url: str) -> None:
    """Building again and planning again: nothing to do."""
    api.build(root)
    plan = planned(root, url)
    assert (plan["up_to_date"], plan["actions"], plan["drift"], plan["hazards"]) == (True, [], [], []), plan


def history(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT * FROM fraiseql.tb_migration ORDER BY id").fetchall()


def managed(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT name, kind, hash, fingerprint, applied_at FROM fraiseql.tb_schema_object ORDER BY name"
        ).fetchall()


def pg_dump_binary() -> str:
    bindir = None
    if shutil.which("pg_config"):
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
    for candidate in (Path(bindir or "/nonexistent") / "pg_dump", Path("/usr/lib/postgresql/15/bin/pg_dump")):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("pg_dump")
    assert found, "pg_dump is not installed"
    return found


_RANDOM_KEY = re.compile(r"^\\(un)?restrict \S+$", re.M)


def dump(url: str) -> str:
    """The schema with privileges, as pg_dump prints it (its per-dump random key masked)."""
    out = subprocess.run(
        [pg_dump_binary(), "--schema-only", "--no-owner", f"--dbname={url}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return _RANDOM_KEY.sub(lambda m: f"\\{m.group(1) or ''}restrict KEY", out)


@pytest.fixture
def two_databases(pg_server: PgServer) -> Iterator[tuple[str, str]]:
    urls = (pg_server.create_database(), pg_server.create_database())
    try:
        yield urls
    finally:
        for url in urls:
            pg_server.drop_database(url)


# --- step by step equals from scratch -----------------------------------------------------------------------


def test_three_versions_step_by_step_equal_the_last_from_scratch(
    tmp_path: Path, two_databases: tuple[str, str]
) -> None:
    stepwise, scratch = two_databases
    root = copy_blog(tmp_path)

    api.build(root)  # v1
    first = migrate(root, stepwise)
    assert first.exit_code == 0 and "applied " in first.output, first.output
    assert_up_to_date(root, stepwise)

    to_version(root, V2_EDITS, V2_FILES)
    rows = len(history(stepwise))
    refused = migrate(root, stepwise)  # the widened rule needs consent, and nothing runs without it
    assert refused.exit_code == 2 and "FQL404" in refused.output and "--allow widen-policy" in refused.output
    assert len(history(stepwise)) == rows
    plan = planned(root, stepwise)
    assert {(a["action"], a["name"]) for a in plan["actions"]} >= {
        ("drop", "api_view:api.my_posts"),
        ("user", "0002_post_summary.sql"),
        ("replace", "view:public.v_post"),
        ("replace", "rls:public.tb_post"),
    }
    second = migrate(root, stepwise, "--allow", "widen-policy")
    assert second.exit_code == 0, second.output
    assert_up_to_date(root, stepwise)

    to_version(root, V3_EDITS, V3_FILES)
    third = migrate(root, stepwise)
    assert third.exit_code == 0, third.output
    assert_up_to_date(root, stepwise)

    fresh = migrate(root, scratch)  # v3, its three migrations, at once
    assert fresh.exit_code == 0, fresh.output
    assert_up_to_date(root, scratch)

    with psycopg.connect(stepwise) as conn:
        gone = conn.execute(
            "SELECT pg_catalog.to_regclass('api.my_posts'), pg_catalog.to_regprocedure('api.ingest_data(jsonb)')"
        ).fetchone()
        assert gone == (None, None)
    stepwise_dump, scratch_dump = dump(stepwise), dump(scratch)
    assert (
        "CREATE VIEW public.v_tag" in scratch_dump and "GRANT SELECT(summary) ON TABLE public.tb_post" in scratch_dump
    )
    assert stepwise_dump == scratch_dump, "\n".join(_diff(stepwise_dump, scratch_dump))
    # the managed objects are recorded alike, with the same hashes and catalog fingerprints
    assert [r[:4] for r in managed(stepwise)] == [r[:4] for r in managed(scratch)]

    rows, objects = history(stepwise), managed(stepwise)  # and a re-run of the last version does nothing
    again = migrate(root, stepwise)
    assert again.exit_code == 0 and "up to date" in again.output
    assert (history(stepwise), managed(stepwise)) == (rows, objects)


def _diff(a: str, b: str) -> list[str]:
    return list(difflib.unified_diff(a.splitlines(), b.splitlines(), "step by step", "from scratch", lineterm=""))[:80]


def test_a_removed_mutation_leaves_its_function_closed(tmp_path: Path, two_databases: tuple[str, str]) -> None:
    """The mutation ingest_data leaves the schema; its function public.fn_ingest_data stays (it is yours). While
    the mutation existed, EXECUTE on the function was revoked from PUBLIC (only the roles that pass its guards
    could call it); when it goes, the function stays closed rather than reopening to every role: fail closed.
    That ACL is the one difference from a database migrated from scratch, which never closed it (decided in
    docs/decisions.md, "fraiseql migrate")."""
    stepwise, scratch = two_databases
    root = copy_blog(tmp_path)
    api.build(root)
    assert migrate(root, stepwise).exit_code == 0
    to_version(root, V3_EDITS[2:], {})
    removed = migrate(root, stepwise)
    assert removed.exit_code == 0, removed.output
    assert migrate(root, scratch).exit_code == 0
    callable_by = (
        "SELECT r.rolname FROM pg_catalog.pg_roles AS r WHERE r.rolname IN ('fraiseql_anonymous', "
        "'fraiseql_authenticated', 'fraiseql_api_key', 'fraiseql_authenticator') AND "
        "has_function_privilege(r.oid, 'public.fn_ingest_data(text, jsonb)', 'EXECUTE') ORDER BY 1"
    )
    with psycopg.connect(stepwise) as a, psycopg.connect(scratch) as b:
        assert a.execute(callable_by).fetchall() == []  # no API role, no authenticator
        assert len(b.execute(callable_by).fetchall()) == 4  # PostgreSQL's default: PUBLIC may execute
    closed = re.compile(  # pg_dump's ACL entry for the function: its header comment and the REVOKE
        r"--\n-- Name: FUNCTION fn_ingest_data\(caller_id text, args jsonb\); Type: ACL;[^\n]*\n--\n\n"
        r"REVOKE ALL ON FUNCTION public\.fn_ingest_data\(caller_id text, args jsonb\) FROM PUBLIC;\n\n\n"
    )
    stepwise_dump, without = closed.subn("", dump(stepwise))
    assert without == 1
    assert stepwise_dump == dump(scratch)


# --- a re-run is a no-op --------------------------------------------------------------------------------------


def test_a_re_run_applies_nothing_and_writes_no_history(tmp_path: Path, pg_url: str) -> None:
    root = copy_blog(tmp_path)
    api.build(root)
    assert migrate(root, pg_url).exit_code == 0
    rows, objects, schema = history(pg_url), managed(pg_url), dump(pg_url)
    for args in ((), ("--json",)):
        again = migrate(root, pg_url, *args)
        assert again.exit_code == 0, again.output
        if args:
            assert json.loads(again.stdout)["applied"] == []
        else:
            assert "up to date: nothing to apply" in again.output
    assert history(pg_url) == rows  # no row, not even an empty run's
    assert managed(pg_url) == objects  # hashes, fingerprints and applied_at untouched
    assert dump(pg_url) == schema
