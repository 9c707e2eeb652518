"""``fraiseql lint``: the command around :mod:`fraiseql_compiler.lint` — formats, the fail level, the
explanations and the rule list. Lint never writes, except the GitHub step summary GitHub asks for."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

EXIT_OK, EXIT_FINDINGS = 0, 1
FORMATS = ("text", "json", "sarif", "github")
SUMMARY_LIMIT = 50  # findings listed in a GitHub step summary (annotations are capped at 10 per step)


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


def rule_rows() -> list[tuple[str, str, str, str, str]]:
    """(code, name, default severity, title, what it needs) of every lint rule and lint-family code."""
    from fraiseql_compiler.diagnostics.registry import CODES
    from fraiseql_compiler.lint import all_rules

    needs = {r.code: r.needs for r in all_rules()}
    rows: list[tuple[str, str, str, str, str]] = []
    for code in CODES.values():
        if code.family != "lint" or code.id == "FQL303":
            continue
        where = {"database": "--database", "baseline": "a baseline", "sql": "the SQL"}.get(needs.get(code.id, ""), "")
        rows.append((code.id, code.name, code.severity, code.title, where or ("build" if code.id not in needs else "")))
    rows.append(
        ("squawk:<rule>", "squawk", "warning", "squawk's rules over the generated SQL and your migrations", "the SQL")
    )
    return rows


def rules_markdown() -> str:
    """The rule table of the README (a test keeps them equal)."""
    lines = ["| rule | name | default | what it reports |", "| --- | --- | --- | --- |"]
    for code, name, severity, title, needs in rule_rows():
        note = f" (needs {needs})" if needs in ("--database", "a baseline") else ""
        title = title.replace("|", "\\|")
        lines.append(f"| `{code}` | {name} | {severity} | {title}{note} |")
    return "\n".join(lines) + "\n"


def explain(rule: str) -> str:
    from fraiseql_compiler.diagnostics.registry import lookup
    from fraiseql_compiler.lint import all_rules

    code = "squawk" if rule.startswith("squawk") else rule.upper()
    found = next((r for r in all_rules() if r.code == code), None)
    try:
        entry = lookup(rule if rule.startswith("squawk:") else code)
        head = f"{entry.id} ({entry.name}): {entry.title}\ndefault severity: {entry.severity}\n"
    except KeyError:
        head = "" if found is not None else None  # type: ignore[assignment]
    if head is None:
        from fraiseql_compiler.diagnostics import FraiseQLError, diag

        raise FraiseQLError([diag("FQL166", f'"{rule}" is not a lint rule', hint="`fraiseql lint --list-rules`")])
    if found is not None:
        return f"{head}\n{found.explanation()}\n"
    return f"{head}\nsee {lookup(code).doc}\n"


def run(
    path: Path | None,
    fmt: str,
    fail_level: str | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    database: str | None,
    baseline: Path | None,
    explain_rule: str | None,
    list_rules: bool,
) -> int:
    from fraiseql_compiler.cli.app import guarded, show

    cwd = Path.cwd()
    if explain_rule:
        click.echo(guarded(cwd, lambda: explain(explain_rule), outcome=""), nl=False)
        return EXIT_OK
    if list_rules:
        if fmt == "text":
            for code, name, severity, title, needs in rule_rows():
                note = f"  [needs {needs}]" if needs in ("--database", "a baseline") else ""
                click.echo(f"{code:<14} {severity:<8} {name:<34} {title}{note}")
        else:
            click.echo(rules_markdown(), nl=False)
        return EXIT_OK

    def analyse() -> tuple[Any, Any]:
        from fraiseql_compiler.lint import LintOptions, lint
        from fraiseql_compiler.project import resolve_project

        project = resolve_project(path, None, cwd)
        options = LintOptions(
            select=_split(select),
            extend_select=_split(extend_select),
            ignore=_split(ignore),
            database=database or None,
            baseline=(cwd / baseline) if baseline is not None else None,
        )
        _check_selectors((*options.select, *options.extend_select, *options.ignore))
        return project, lint(project, options)

    project, result = guarded(cwd, analyse, outcome="nothing was checked")
    from fraiseql_compiler.lint import failing

    level = fail_level or project.config.lint.fail_level
    failed = failing(result, level)
    diagnostics, shown_root = _from_cwd(list(result.diagnostics), project.root, cwd)
    if fmt == "text":
        if diagnostics:
            show(diagnostics, shown_root, outcome="", warnings_per_code=None)
        errors = sum(1 for d in diagnostics if d.severity == "error")
        summary = f"{errors} error(s), {len(diagnostics) - errors} warning(s)" if diagnostics else "no findings"
        note = "".join(f"; skipped {s}" for s in result.skipped)
        click.echo(f"fraiseql lint: {summary} ({len(result.rules)} rules; fail level: {level}){note}", err=bool(failed))
    else:
        from fraiseql_compiler import __version__
        from fraiseql_compiler.diagnostics.formats import render

        click.echo(render(fmt, diagnostics, tool_version=__version__), nl=False)
        if fmt == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
            _step_summary(Path(os.environ["GITHUB_STEP_SUMMARY"]), diagnostics, level, len(failed))
    return EXIT_FINDINGS if failed else EXIT_OK


def _from_cwd(diagnostics: list[Any], root: Path, cwd: Path) -> tuple[list[Any], Path]:
    """Spans relative to where lint runs, when the project is below it (a monorepo's ``fraiseql lint
    services/api`` from the repository root): GitHub annotations and SARIF locations are read against the
    repository, not the project. Otherwise as they are, relative to the project."""
    import dataclasses

    try:
        prefix = root.resolve().relative_to(cwd.resolve())
    except ValueError:
        return diagnostics, root
    if prefix == Path("."):
        return diagnostics, root

    def moved(d: Any) -> Any:
        if d.span is None:
            return d
        return dataclasses.replace(d, span=dataclasses.replace(d.span, file=(prefix / d.span.file).as_posix()))

    return [moved(d) for d in diagnostics], cwd


def _check_selectors(values: tuple[str, ...]) -> None:
    from fraiseql_compiler.config.model import rule_selector
    from fraiseql_compiler.diagnostics import FraiseQLError, diag

    for value in values:
        try:
            rule_selector(value)
        except Exception as exc:  # the validator's own error (a pydantic custom error): its message
            raise FraiseQLError(
                [diag("FQL166", f"--select/--ignore: {exc}", hint="`fraiseql lint --list-rules` lists the rules")]
            ) from None


def _step_summary(path: Path, diagnostics: list[Any], level: str, failed: int) -> None:
    """GitHub shows at most 10 annotations per step: the step summary lists the findings in full (Markdown,
    appended to the file GitHub names, as its docs ask)."""
    errors = sum(1 for d in diagnostics if d.severity == "error")
    lines = [
        "## fraiseql lint",
        "",
        f"{errors} error(s), {len(diagnostics) - errors} warning(s); {failed} at or above the fail level ({level}).",
        "",
    ]
    if diagnostics:
        lines += ["| | rule | where | finding |", "| --- | --- | --- | --- |"]
        for d in diagnostics[:SUMMARY_LIMIT]:
            mark = "❌" if d.severity == "error" else "⚠️"
            message = d.message.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {mark} | `{d.code}` | {d.span or ''} | {message} |")
        if len(diagnostics) > SUMMARY_LIMIT:
            lines.append(f"\n… and {len(diagnostics) - SUMMARY_LIMIT} more (run `fraiseql lint` locally).")
    with path.open("a", encoding="utf-8") as summary:
        summary.write("\n".join(lines) + "\n")
