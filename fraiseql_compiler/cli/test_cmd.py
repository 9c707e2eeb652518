"""``fraiseql test``: run the project's access cases against a throwaway database, through the reference
runtime. Exit 0 when every case passes, 1 when one fails (or, with ``--matrix``, when the database and the
rules disagree), 2 on bad input (a case naming an unknown operation, field or identity; no case selected; no
server)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from fraiseql_compiler.diagnostics import FraiseQLError

FORMATS = ("text", "json", "github")


@click.command(name="test")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--database",
    metavar="URL",
    help="A PostgreSQL server to create the throwaway database on (default: FRAISEQL_TEST_DATABASE_URL).",
)
@click.option(
    "-k",
    "pattern",
    metavar="PATTERN",
    help="Only the cases whose file::name matches, as pytest's -k: words, and/or/not, parentheses (\"posts and not "
    'anonymous").',
)
@click.option("--junit-xml", "junit", type=click.Path(path_type=Path), help="Also write a JUnit XML report here.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--matrix",
    is_flag=True,
    help="Also run every operation as every identity the cases use and compare with `fraiseql access`.",
)
def test(
    path: Path | None, database: str | None, pattern: str | None, junit: Path | None, fmt: str, matrix: bool
) -> None:
    """Run the access cases (access_tests/*.toml) against a real, throwaway database.

    Builds the schema, creates a database on the server, migrates it as `fraiseql migrate` does, loads each
    file's data, runs every case through the reference runtime, and drops the database. PATH is the project,
    or a case file or folder inside it."""
    from fraiseql_compiler.cli.app import guarded

    cwd = Path.cwd()
    root = _project_root(path, cwd)
    prefix = _prefix(root, cwd)
    # errors name files from the working directory when the project is below it, else from the project
    shown_from = root if root is not None and not prefix else cwd
    code = guarded(
        shown_from, lambda: _run(path, database, pattern, junit, fmt, matrix, cwd, prefix), outcome="no case ran"
    )
    if code:
        raise click.exceptions.Exit(code)


def _project_root(path: Path | None, cwd: Path) -> Path | None:
    """The directory of the fraiseql.toml that PATH is (or is in), as ``testing.prepare`` finds it."""
    from fraiseql_compiler.config import CONFIG_FILE

    target = (cwd / path).resolve() if path is not None else cwd.resolve()
    return next((p for p in [target, *target.parents] if (p / CONFIG_FILE).is_file()), None)


def _prefix(root: Path | None, cwd: Path) -> str:
    """The project's path from where the command runs ("" when it runs there, or the project is elsewhere):
    files are named from the working directory, so that a CI run's annotations and a terminal's links point
    at them (``fraiseql test examples/blog`` from a repository's root)."""
    if root is None:
        return ""
    try:
        prefix = root.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return ""
    return "" if prefix == "." else prefix


def _rebased(exc: FraiseQLError, prefix: str) -> FraiseQLError:
    """The same error with its spans named from the working directory (see _prefix)."""
    import dataclasses

    from fraiseql_compiler.diagnostics import FraiseQLError

    def moved(span: Any) -> Any:
        if span is None or not span.file or span.file.startswith("<") or Path(span.file).is_absolute():
            return span
        return dataclasses.replace(span, file=f"{prefix}/{span.file}")

    diagnostics = [
        dataclasses.replace(
            d,
            span=moved(d.span),
            related=tuple(dataclasses.replace(r, span=moved(r.span)) for r in d.related),
        )
        for d in exc.diagnostics
    ]
    rebased = FraiseQLError(diagnostics)
    if hasattr(exc, "secrets"):
        rebased.secrets = exc.secrets  # type: ignore[attr-defined]
    return rebased


def _no_cases(pattern: str | None, cases_path: Path, prefix: str) -> FraiseQLError:
    from fraiseql_compiler.diagnostics import FraiseQLError, diag

    if pattern is not None:
        return FraiseQLError(
            [diag("FQL500", f"no case matches -k {pattern!r}", hint="-k matches words of each case's file::name")]
        )
    where = cases_path.name if not prefix else f"{prefix}/{cases_path.name}"
    return FraiseQLError(
        [
            diag(
                "FQL500",
                f"no access cases in {where}",
                hint="write [[case]] tables in access_tests/<name>.toml (see docs/access-tests.md)",
            )
        ]
    )


def _run(
    path: Path | None,
    database: str | None,
    pattern: str | None,
    junit: Path | None,
    fmt: str,
    matrix: bool,
    cwd: Path,
    prefix: str,
) -> int:
    import dataclasses
    import sys

    from fraiseql_compiler import testing
    from fraiseql_compiler.diagnostics import FraiseQLError
    from fraiseql_compiler.testing import report as render

    try:
        prepared = testing.prepare(path, pattern=pattern, cwd=cwd)
        if not prepared.suite.cases:
            raise _no_cases(pattern, prepared.cases_path, prefix)
    except FraiseQLError as exc:
        raise _rebased(exc, prefix) if prefix else exc from None
    prepared = dataclasses.replace(prepared, suite=prepared.suite.relocated(prefix))
    live = fmt == "text" and sys.stdout.isatty()

    def progress(outcome: testing.Outcome) -> None:
        if live:
            click.echo("." if outcome.passed else "F", nl=False)

    if fmt == "text":
        files = sum(1 for f in prepared.suite.files if f.cases)
        click.echo(f"{len(prepared.suite.cases)} case(s) in {files} file(s)")
    report = testing.run(prepared, database=database, on_outcome=progress, matrix=matrix)
    if live:
        click.echo()
    if fmt == "json":
        click.echo(render.render_json(report), nl=False)
    elif fmt == "github":
        click.echo(render.render_github(report), nl=False)
        summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_file:
            with open(summary_file, "a", encoding="utf-8") as fh:
                fh.write(render.step_summary(report))
    else:
        click.echo(render.render_text(report), nl=False)
    if junit is not None:
        target = cwd / junit
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render.junit_xml(report), encoding="utf-8")
    differs = report.matrix is not None and bool(report.matrix.differences)
    return 1 if report.failed or differs else 0
