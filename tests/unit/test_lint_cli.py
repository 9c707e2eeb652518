"""`fraiseql lint` as users run it: exit codes, every output format, the fail level, the GitHub step
summary, --explain and --list-rules, the README's rule table, and that lint writes nothing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fraiseql_compiler.cli.app import app
from fraiseql_compiler.cli.lint_cmd import rules_markdown
from tests.cases import REPO

OPEN_MUTATION = '''

@fraiseql.mutation
def wipe(info) -> bool:
    """Wipe everything."""
'''


@pytest.fixture
def blog(tmp_path: Path) -> Path:
    root = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", root, ignore=shutil.ignore_patterns("build"))
    return root


def lint(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["lint", str(root), *args], env=env)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_blog_is_clean_and_nothing_is_written(blog: Path) -> None:
    before = snapshot(blog)
    result = lint(blog)
    assert result.exit_code == 0, result.output
    assert "fraiseql lint: no findings" in result.output
    assert snapshot(blog) == before  # no build/, no __pycache__, nothing


def test_a_finding_at_the_fail_level_exits_1(blog: Path) -> None:
    with (blog / "schema.py").open("a", encoding="utf-8") as schema:
        schema.write(OPEN_MUTATION)
    result = lint(blog)
    assert result.exit_code == 1
    assert "error[FQL304]" in result.output and 'mutation "wipe" has no auth decorator' in result.output
    assert "1 error(s), 0 warning(s)" in result.output


def test_warnings_fail_only_at_fail_level_warning(blog: Path) -> None:
    with (blog / "schema.py").open("a", encoding="utf-8") as schema:
        undocumented = OPEN_MUTATION.replace('"""Wipe everything."""', "...")
        schema.write(undocumented.replace("def wipe", "@fraiseql.public\ndef wipe"))
    assert lint(blog).exit_code == 0  # FQL320 (no docstring) is a warning
    failed = lint(blog, "--fail-level", "warning")
    assert failed.exit_code == 1 and "warning[FQL320]" in failed.output
    (blog / "fraiseql.toml").write_text(
        (blog / "fraiseql.toml").read_text(encoding="utf-8") + '\n[lint]\nfail_level = "warning"\n', encoding="utf-8"
    )
    assert lint(blog).exit_code == 1


def test_input_errors_exit_2(blog: Path) -> None:
    (blog / "schema.py").write_text("import fraiseql\n\n@fraiseql.type(tabel='x')\nclass X: ...\n", encoding="utf-8")
    result = lint(blog)
    assert result.exit_code == 2 and "FQL101" in result.output
    bad_rule = lint(blog, "--ignore", "FQL1")
    assert bad_rule.exit_code == 2 and "FQL166" in bad_rule.output


def test_json_sarif_and_github(blog: Path) -> None:
    with (blog / "schema.py").open("a", encoding="utf-8") as schema:
        schema.write(OPEN_MUTATION)
    document = json.loads(lint(blog, "--format", "json").output)
    assert [d["code"] for d in document["diagnostics"]] == ["FQL304"]
    assert document["summary"] == {"errors": 1, "warnings": 0}

    sarif = json.loads(lint(blog, "--format", "sarif").output)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    [run] = sarif["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["FQL304"]
    [found] = run["results"]
    assert found["ruleId"] == "FQL304" and found["level"] == "error"
    assert re.fullmatch(r"[0-9a-f]{64}", found["partialFingerprints"]["fraiseqlFingerprint/v1"])
    region = found["locations"][0]["physicalLocation"]
    assert region["artifactLocation"] == {"uri": "schema.py", "uriBaseId": "%SRCROOT%"}
    assert region["region"]["startLine"] > 1

    lines = lint(blog, "--format", "github").output.splitlines()
    assert len(lines) == 1
    title = r"title=FQL304 \(mutation-without-auth\)"
    assert re.fullmatch(rf"::error file=schema\.py,line=\d+,col=\d+,endColumn=\d+,{title}::.+", lines[0])


def test_github_step_summary_is_appended(blog: Path, tmp_path: Path) -> None:
    with (blog / "schema.py").open("a", encoding="utf-8") as schema:
        schema.write(OPEN_MUTATION)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    result = lint(blog, "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## fraiseql lint\n")
    assert "1 error(s), 0 warning(s); 1 at or above the fail level (error)." in text
    assert "| ❌ | `FQL304` | schema.py:" in text


def test_explain_and_list_rules() -> None:
    explained = CliRunner().invoke(app, ["lint", "--explain", "FQL310"])
    assert explained.exit_code == 0
    assert explained.output.startswith("FQL310 (fail-open-predicate): Predicate that admits rows when the identity")
    assert "*Anti-pattern*" in explained.output and "*Best practice*" in explained.output
    assert CliRunner().invoke(app, ["lint", "--explain", "FQL999"]).exit_code == 2
    listed = CliRunner().invoke(app, ["lint", "--list-rules"]).output
    assert re.search(r"^FQL304 +error +mutation-without-auth ", listed, re.M)
    assert CliRunner().invoke(app, ["lint", "--list-rules", "--format", "json"]).output == rules_markdown()


def test_the_readme_rule_table_is_generated_from_the_code() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert rules_markdown() in readme, "regenerate it: fraiseql lint --list-rules --format json"


def test_paths_are_relative_to_where_lint_runs(blog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A monorepo runs `fraiseql lint services/api` from its root: annotations must name services/api/…"""
    repo = blog.parent / "repo"
    (repo / "services").mkdir(parents=True)
    project = shutil.move(str(blog), repo / "services" / "api")
    with (Path(project) / "schema.py").open("a", encoding="utf-8") as schema:
        schema.write(OPEN_MUTATION)
    monkeypatch.chdir(repo)
    github = CliRunner().invoke(app, ["lint", "services/api", "--format", "github"]).output
    assert github.startswith("::error file=services/api/schema.py,line=")
    text = CliRunner().invoke(app, ["lint", "services/api"]).output
    assert "--> services/api/schema.py:" in text and "def wipe" in text  # the excerpt is read from there
