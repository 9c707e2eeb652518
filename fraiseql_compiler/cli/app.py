"""Commands and the one error boundary that maps exceptions to exit codes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from fraiseql_compiler import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2

app = typer.Typer(
    name="fraiseql",
    help="Compile FraiseQL schema modules into PostgreSQL SQL, a runtime manifest and GraphQL SDL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def guarded(root: Path, run: Callable[[], T]) -> T:
    """Run a command body; a FraiseQLError becomes rendered diagnostics and exit code 2."""
    from fraiseql_compiler.errors import FraiseQLError, error
    from fraiseql_compiler.render import format_all

    try:
        return run()
    except FraiseQLError as exc:
        # a config error knows the secret values written in fraiseql.toml: mask them in source excerpts too
        _console(stderr=True).print(format_all(exc.diagnostics, root, getattr(exc, "secrets", ())))
        raise typer.Exit(EXIT_INPUT) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except Exception as exc:
        diag = error(
            "FQL900",
            f"internal error: {type(exc).__name__}: {exc}",
            hint="this is a bug in fraiseql-compiler; please report it with the command you ran "
            "(FRAISEQL_DEBUG=1 shows the traceback)",
        )
        _console(stderr=True).print(format_all([diag], root))
        if os.environ.get("FRAISEQL_DEBUG"):
            raise
        raise typer.Exit(EXIT_INPUT) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fraiseql-compiler {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    pass


@app.command()
def build(
    path: Annotated[
        Path | None,
        typer.Argument(help="Schema file, package or project directory (default: ./fraiseql.toml)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output directory (default: build/ next to fraiseql.toml)."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if the outputs on disk are stale.")
    ] = False,
) -> None:
    """Compile the schema into build/: fraiseql.manifest.json, schema.graphql and sql/*.sql."""
    from fraiseql_compiler import api
    from fraiseql_compiler.project import resolve_project
    from fraiseql_compiler.render import format_all

    cwd = Path.cwd()
    root = guarded(cwd, lambda: resolve_project(path, out, cwd).root)
    result = guarded(root, lambda: api.build(path, out=out, check=check, cwd=cwd))
    console = _console()
    if result.warnings:
        _console(stderr=True).print(format_all(result.warnings, root))
    where = _display(result.out, cwd)
    if check:
        if result.stale:
            console.print(f"[bold red]stale[/]: {len(result.stale)} file(s) in {where} differ from a fresh build:")
            for name in result.stale:
                console.print(f"  {name}", markup=False)
            console.print("run `fraiseql build` and commit the result")
            raise typer.Exit(EXIT_FINDINGS)
        console.print(f"up to date: {where} ({len(result.artifacts)} files)", markup=False)
        return
    console.print(f"built {len(result.artifacts)} files into {where}/", markup=False)
    for artifact in result.artifacts:
        console.print(f"  {where}/{artifact.path}", markup=False)


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix() or "."
    except ValueError:
        return str(path)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project (default: here).")] = Path("."),
    name: Annotated[str | None, typer.Option(help="Project name (default: the directory name).")] = None,
) -> None:
    """Scaffold a project: schema.py, fraiseql.toml and a .gitignore entry for build/."""
    from fraiseql_compiler.scaffold import scaffold

    cwd = Path.cwd()
    created = guarded(cwd, lambda: scaffold(directory, name))
    for path in created:
        typer.echo(f"created {_display(path, cwd)}")
    typer.echo("next: fraiseql build" + ("" if directory == Path(".") else f" {directory}"))


def main() -> None:
    app()
