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


def guarded(root: Path, run: Callable[[], T], outcome: str = "nothing was written") -> T:
    """Run a command body; a FraiseQLError becomes rendered diagnostics and exit code 2."""
    from fraiseql_compiler.errors import FraiseQLError, error
    from fraiseql_compiler.render import format_all

    try:
        return run()
    except FraiseQLError as exc:
        # a config error knows the secret values written in fraiseql.toml: mask them in source excerpts too
        _console(stderr=True).print(format_all(exc.diagnostics, root, getattr(exc, "secrets", ()), outcome))
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
        _console(stderr=True).print(format_all([diag], root, outcome=outcome))
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
    from fraiseql_compiler.project import display_path, resolve_project
    from fraiseql_compiler.render import format_all

    cwd = Path.cwd()
    root = guarded(cwd, lambda: resolve_project(path, out, cwd).root)
    result = guarded(root, lambda: api.build(path, out=out, check=check, cwd=cwd))
    console = _console()
    if result.warnings:
        _console(stderr=True).print(format_all(result.warnings, root))
    where = display_path(result.out, cwd)
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


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project (default: here).")] = Path("."),
    name: Annotated[str | None, typer.Option(help="Project name (default: the directory name).")] = None,
) -> None:
    """Scaffold a project: schema.py, fraiseql.toml and a .gitignore entry for build/."""
    from fraiseql_compiler.project import display_path
    from fraiseql_compiler.scaffold import scaffold

    cwd = Path.cwd()
    created = guarded(cwd, lambda: scaffold(directory, name))
    for path in created:
        typer.echo(f"created {display_path(path, cwd)}")
    typer.echo("next: fraiseql build" + ("" if directory == Path(".") else f" {directory}"))


def main() -> None:
    app()


def _manifest_path(manifest: Path | None) -> Path:
    if manifest is not None:
        return manifest
    from fraiseql_compiler.config import CONFIG_FILE, load_config

    config = Path.cwd() / CONFIG_FILE
    out = load_config(config).build.out if config.exists() else "build"
    return Path.cwd() / out / "fraiseql.manifest.json"


def _load_manifest(manifest: Path | None) -> dict[str, Any]:
    import json

    from fraiseql_compiler.errors import FraiseQLError, error

    path = _manifest_path(manifest)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FraiseQLError(
            [
                error(
                    "FQL160",
                    f"cannot read the manifest {path}: {exc}",
                    hint="run `fraiseql build` first, or pass --manifest",
                )
            ]
        ) from None
    return data


def _duration(text: str) -> int:
    from fraiseql_compiler.errors import FraiseQLError, error

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    except (ValueError, IndexError):
        raise FraiseQLError([error("FQL161", f'invalid duration "{text}"', hint="write 90s, 15m, 1h or 2d")]) from None


@app.command()
def token(
    sub: Annotated[str, typer.Option("--sub", help="Subject (user id).")],
    scope: Annotated[list[str] | None, typer.Option("--scope", help="A scope; repeat for several.")] = None,
    exp: Annotated[str, typer.Option("--exp", help="Lifetime: 90s, 15m, 1h, 2d.")] = "1h",
    key_file: Annotated[Path | None, typer.Option("--key-file", help="PEM private key (RS256/ES256).")] = None,
    secret_env: Annotated[str | None, typer.Option("--secret-env", help="Variable holding the HS secret.")] = None,
    manifest: Annotated[Path | None, typer.Option("--manifest", help="Default: build/fraiseql.manifest.json.")] = None,
) -> None:
    """Mint a development JWT with the manifest's JWT settings."""
    import os

    from fraiseql_compiler.executor.errors import ExecutionError
    from fraiseql_compiler.executor.tokens import mint

    def run() -> str:
        data = _load_manifest(manifest)
        environ = dict(os.environ)
        if secret_env:
            environ[data["config"]["auth"]["jwt"]["secret_env"] or "JWT_SECRET"] = os.environ.get(secret_env, "")
        private_key = key_file.read_text(encoding="utf-8") if key_file else None
        try:
            return mint(
                data["config"],
                sub=sub,
                scopes=list(scope or []),
                ttl_seconds=_duration(exp),
                environ=environ,
                private_key=private_key,
            )
        except ExecutionError as exc:
            from fraiseql_compiler.errors import FraiseQLError, error

            raise FraiseQLError([error("FQL162", exc.message)]) from None

    typer.echo(guarded(Path.cwd(), run, outcome=""))


@app.command()
def query(
    operation: Annotated[str, typer.Argument(help="Query or mutation name (GraphQL or Python).")],
    var: Annotated[
        list[str] | None, typer.Option("--var", help="k=v; v is JSON when it parses, else a string.")
    ] = None,
    token_: Annotated[str | None, typer.Option("--token", help="Bearer JWT.")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key.")] = None,
    database: Annotated[
        str, typer.Option("--database", envvar="DATABASE_URL", help="Connect as the authenticator.")
    ] = "",
    manifest: Annotated[Path | None, typer.Option("--manifest", help="Default: build/fraiseql.manifest.json.")] = None,
) -> None:
    """Run one operation exactly as a runtime must; print JSON. Exit 1 when it is refused."""
    import json

    from fraiseql_compiler.errors import FraiseQLError, error
    from fraiseql_compiler.executor.errors import ExecutionError
    from fraiseql_compiler.executor.run import Request, execute

    def parse_vars() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in var or []:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise FraiseQLError([error("FQL163", f'--var "{item}" is not k=v')])
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
        return out

    def run() -> Any:
        import psycopg

        if not database:
            raise FraiseQLError([error("FQL164", "no database: pass --database URL or set DATABASE_URL")])
        data = _load_manifest(manifest)
        request = Request(operation, parse_vars(), token=token_, api_key=api_key)
        try:
            with psycopg.connect(database, autocommit=True) as conn:
                return {"data": execute(conn, data, request)}
        except ExecutionError as exc:
            return exc.as_json()
        except psycopg.OperationalError as exc:
            raise FraiseQLError([error("FQL164", f"cannot connect: {exc}".strip())]) from None

    result = guarded(Path.cwd(), run, outcome="nothing was run")
    typer.echo(json.dumps(result, indent=2, sort_keys=True, default=str))
    if "errors" in result:
        raise typer.Exit(EXIT_FINDINGS)
