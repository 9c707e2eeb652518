"""squawk over the SQL that migrate applies: none of its findings on the blog, the expected ones on a migration
that deserves them, at the right file:line:column, and through the SARIF and GitHub formats. squawk-cli is a
dependency: these tests never skip."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from fraiseql_compiler import api
from fraiseql_compiler.diagnostics import Diagnostic, FraiseQLError, lookup
from fraiseql_compiler.diagnostics.formats import to_github, to_sarif
from fraiseql_compiler.lint import squawk
from fraiseql_compiler.lint.squawk import GENERATED_EXCLUDED, USER_EXCLUDED, squawk_findings
from tests.cases import REPO

MIGRATION = "db/migrations/0002_changes.sql"

# One statement a line, so that a finding's line is its statement's.
BAD = [
    "-- Changes to the blog's tables: déjà vu, ünïcode in a comment.",
    "ALTER TABLE public.tb_post ADD COLUMN x integer NOT NULL;",
    "ALTER TABLE public.tb_post ALTER COLUMN x TYPE bigint;",
    "DROP TABLE public.tb_old;",
    "CREATE INDEX tb_post_title_idx ON public.tb_post (title);",  # nothing: CONCURRENTLY is impossible in migrate
    "CREATE INDEX CONCURRENTLY tb_post_body_idx ON public.tb_post (body);",
    "ALTER TABLE public.tb_post ADD CONSTRAINT fk FOREIGN KEY (author_id) REFERENCES public.tb_user;",
    "ALTER TABLE public.tb_post DROP COLUMN published;",
    "SELECT 'é€' AS a; ALTER TABLE public.tb_post ALTER COLUMN title SET NOT NULL;",
    "DROP INDEX public.tb_post_title_idx;",  # nothing: DROP INDEX CONCURRENTLY is impossible in migrate too
    "BEGIN;",
]
BAD_RULES = [  # (line, rule)
    (2, "adding-required-field"),
    (2, "prefer-bigint-over-int"),
    (3, "changing-column-type"),
    (4, "ban-drop-table"),
    (6, "ban-concurrent-index-creation-in-transaction"),
    (6, "prefer-robust-stmts"),
    (7, "adding-foreign-key-constraint"),
    (7, "constraint-missing-not-valid"),
    (8, "ban-drop-column"),
    (9, "adding-not-nullable-field"),
    (11, "transaction-nesting"),
    (11, "ban-uncommitted-transaction"),
]


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/blog, built into its own build/."""
    root = tmp_path_factory.mktemp("squawk") / "blog"
    shutil.copytree(REPO / "examples" / "blog", root, ignore=shutil.ignore_patterns("build"))
    api.build(root, out=root / "build")
    return root


def generated(root: Path) -> list[Path]:
    return sorted((root / "build" / "sql").glob("*.sql"))


def codes(found: Sequence[Diagnostic]) -> set[tuple[str, str, int]]:
    return {(d.code, d.span.file, d.span.line) for d in found if d.span is not None}


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- the blog: nothing to say ---------------------------------------------------------------------------------


def test_the_blogs_migration_and_generated_sql_have_no_findings(blog: Path) -> None:
    sql = generated(blog)
    assert [p.name for p in sql] == [
        "0001_fraiseql_schema.sql",
        "0002_auth.sql",
        "0003_views.sql",
        "0004_row_security.sql",
        "0005_api.sql",
    ]
    assert squawk_findings([blog / "db/migrations/0001_base.sql", *sql], root=blog, generated=sql) == []


def test_every_exclusion_of_generated_sql_is_needed_by_the_blog(blog: Path) -> None:
    """The generated SQL read as a user's: what the generated-only exclusions hide, and only that (a template
    that no longer needs one makes this fail, and the exclusion goes)."""
    found = squawk_findings(generated(blog), root=blog)
    assert {d.code for d in found} == {f"squawk:{rule}" for rule in GENERATED_EXCLUDED.keys() - USER_EXCLUDED.keys()}
    assert ("squawk:prefer-bigint-over-int", "build/sql/0002_auth.sql", 229) in codes(found)


def test_exclusions_each_have_a_one_line_reason() -> None:
    assert USER_EXCLUDED.keys() <= GENERATED_EXCLUDED.keys()
    for rule, reason in {**USER_EXCLUDED, **GENERATED_EXCLUDED}.items():
        assert rule == rule.strip().lower() and " " not in rule
        assert reason.strip() and "\n" not in reason, rule
    assert {"require-lock-timeout", "require-statement-timeout", "require-concurrent-index-creation"} <= set(
        USER_EXCLUDED
    )


# --- a migration that deserves findings -----------------------------------------------------------------------


def test_a_bad_migration_gets_squawks_rules_at_their_lines(blog: Path) -> None:
    path = write(blog / MIGRATION, "".join(f"{statement}\n" for statement in BAD))
    try:
        found = squawk_findings([blog / "db/migrations/0001_base.sql", path], root=blog)
    finally:
        path.unlink()
    expected = {(f"squawk:{rule}", MIGRATION, line) for line, rule in BAD_RULES}
    assert codes(found) == expected
    assert all(d.severity == "warning" and lookup(d.code).family == "lint" for d in found)
    assert found == sorted(found, key=Diagnostic.sort_key)
    by_code = {d.code: d for d in found}
    # Columns are 1-based characters, though squawk counts bytes: "é€" is 5 bytes and 2 characters.
    not_null = by_code["squawk:adding-not-nullable-field"].span
    assert not_null is not None and not_null.column == BAD[8].index("SET NOT NULL") + 1
    assert not_null.length == len("SET NOT NULL")
    required = by_code["squawk:adding-required-field"]
    assert required.span is not None and required.span.column == BAD[1].index("ADD COLUMN") + 1
    assert required.message.startswith("Adding a new column that is `NOT NULL`")
    assert required.hint == "Make the field nullable or add a non-VOLATILE DEFAULT"  # squawk's help
    # squawk's advice, as it reads under migrate
    assert "a later `fraiseql migrate`" in (by_code["squawk:adding-foreign-key-constraint"].hint or "")
    for rule in ("transaction-nesting", "ban-uncommitted-transaction"):
        assert "refuses a migration that begins or ends one" in (by_code[f"squawk:{rule}"].hint or "")


def test_exclusions_follow_the_kind_of_file(tmp_path: Path) -> None:
    sql = (
        "CREATE TABLE IF NOT EXISTS fraiseql.tb_counter (n integer NOT NULL);\n"
        "DROP FUNCTION IF EXISTS fraiseql.old_helper(jsonb);\n"
        "CREATE INDEX IF NOT EXISTS tb_post_title_idx ON public.tb_post (title);\n"
    )
    mine = write(tmp_path / "db/migrations/0001_x.sql", sql)
    made = write(tmp_path / "build/sql/0001_x.sql", sql)
    found = squawk_findings([mine, made], root=tmp_path, generated=[made])
    assert codes(found) == {
        ("squawk:prefer-bigint-over-int", "db/migrations/0001_x.sql", 1),
        ("squawk:ban-drop-function", "db/migrations/0001_x.sql", 2),
    }
    # relative paths are relative to the root, wherever lint runs
    assert (
        squawk_findings([Path("build/sql/0001_x.sql")], root=tmp_path, generated=[Path("build/sql/0001_x.sql")]) == []
    )


def test_a_users_squawk_toml_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / ".squawk.toml", 'excluded_rules = ["ban-drop-table"]\nassume_in_transaction = false\n')
    migration = write(tmp_path / "db/migrations/0001_drop.sql", "DROP TABLE IF EXISTS public.tb_old;\n")
    monkeypatch.chdir(tmp_path)
    found = squawk_findings([migration], root=tmp_path)
    assert codes(found) == {("squawk:ban-drop-table", "db/migrations/0001_drop.sql", 1)}


# --- what squawk cannot read ----------------------------------------------------------------------------------


def test_a_parse_error_is_a_finding_and_the_other_files_are_still_linted(tmp_path: Path) -> None:
    broken = write(tmp_path / "db/migrations/0001_broken.sql", "SELECT 1;\n\nSELECT (1 2;\nDROP TABLE public.t;\n")
    fine = write(tmp_path / "db/migrations/0002_drop.sql", "DROP TABLE public.t;\n")
    found = squawk_findings([broken, fine], root=tmp_path)
    assert codes(found) == {
        ("squawk:syntax-error", "db/migrations/0001_broken.sql", 3),
        ("squawk:ban-drop-table", "db/migrations/0002_drop.sql", 1),
    }
    error = found[0]
    assert error.span is not None and error.span.column == len("SELECT (1") + 1
    assert error.message.startswith("squawk cannot parse this file: ") and error.severity == "warning"


def test_a_file_that_is_not_utf8_is_a_finding(tmp_path: Path) -> None:
    latin = write(tmp_path / "db/migrations/0001_latin.sql", b"-- ok\nSELECT 'caf\xe9';\n")
    fine = write(tmp_path / "db/migrations/0002_drop.sql", "DROP TABLE public.t;\n")
    found = squawk_findings([latin, fine], root=tmp_path)
    assert codes(found) == {
        ("squawk:syntax-error", "db/migrations/0001_latin.sql", 2),
        ("squawk:ban-drop-table", "db/migrations/0002_drop.sql", 1),
    }
    assert found[0].span is not None and found[0].span.column == len("SELECT 'caf") + 1
    assert "not UTF-8" in found[0].message


def test_file_names_are_not_glob_patterns_to_squawk(tmp_path: Path) -> None:
    write(tmp_path / "a1.sql", "DROP TABLE public.a1;\n")  # what the pattern a[1].sql would match instead
    odd = write(tmp_path / "a[1] *.sql", "SELECT 1;\n")
    assert squawk_findings([odd], root=tmp_path) == []
    assert squawk_findings([], root=tmp_path) == []


def test_a_file_outside_the_root_is_shown_relative_to_it(tmp_path: Path) -> None:
    outside = write(tmp_path / "elsewhere" / "0001_drop.sql", "DROP TABLE public.t;\n")
    (tmp_path / "project").mkdir()
    found = squawk_findings([outside], root=tmp_path / "project")
    assert codes(found) == {("squawk:ban-drop-table", "../elsewhere/0001_drop.sql", 1)}


def test_squawk_missing_or_failing_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    migration = write(tmp_path / "0001.sql", "SELECT 1;\n")
    monkeypatch.setattr(squawk, "squawk_path", lambda: None)
    with pytest.raises(FraiseQLError) as missing:
        squawk_findings([migration], root=tmp_path)
    [error] = missing.value.diagnostics
    assert error.code == "FQL900" and error.severity == "error"
    assert error.message.startswith("squawk could not run: ") and "pip install squawk-cli" in (error.hint or "")
    monkeypatch.setattr(squawk, "squawk_path", lambda: str(tmp_path / "no-such-squawk"))
    with pytest.raises(FraiseQLError, match="squawk could not run"):
        squawk_findings([migration], root=tmp_path)
    with pytest.raises(FraiseQLError, match="cannot read"):
        squawk_findings([tmp_path / "missing.sql"], root=tmp_path)


def test_the_binary_is_found_without_the_venv_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pip puts the wheel's binary among this interpreter's scripts: found there even when PATH lacks them (a
    venv's fraiseql run by its full path)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    path = squawk.squawk_path()
    assert path is not None and Path(path).stem == "squawk"
    migration = write(tmp_path / "0001.sql", "DROP TABLE public.t;\n")
    assert codes(squawk_findings([migration], root=tmp_path)) == {("squawk:ban-drop-table", "0001.sql", 1)}


# --- the machine formats --------------------------------------------------------------------------------------


def test_findings_render_as_sarif_and_github_annotations(tmp_path: Path) -> None:
    migration = write(tmp_path / MIGRATION, "SELECT 'é';\nDROP TABLE public.tb_old;\nSELECT (1 2;\n")
    other = write(
        tmp_path / "db/migrations/0003_more.sql", "ALTER TABLE public.tb_post ADD COLUMN x integer NOT NULL;\n"
    )
    found = squawk_findings([migration, other], root=tmp_path)
    assert [d.code for d in found] == [
        "squawk:syntax-error",
        "squawk:adding-required-field",
        "squawk:prefer-bigint-over-int",
    ]
    sarif = json.loads(to_sarif(found, tool_version="0.1.0"))
    [run] = sarif["runs"]
    assert [r["ruleId"] for r in run["results"]] == [d.code for d in found]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["squawk:adding-required-field"]["help"]["text"] == (
        "see https://squawkhq.com/docs/adding-required-field"
    )
    first = run["results"][0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"] == MIGRATION and first["region"]["startLine"] == 3
    github = to_github(found).splitlines()
    assert len(github) == 3 and all(line.startswith("::warning file=") for line in github)
    assert "title=squawk%3Aadding-required-field (adding-required-field)" in github[1]
    assert github[1].startswith("::warning file=db/migrations/0003_more.sql,line=1,col=28,endColumn=")
