"""Commands and the one error boundary that maps exceptions to exit codes.

The commands are click commands (typer's own foundation): typer builds a pydantic adapter per parameter
and renders help with rich, which cost ~200 ms of imports on every ``--help``. Heavy modules (jinja2,
psycopg, pydantic, rich) are imported inside the commands, so ``--help`` stays fast.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fraiseql_compiler import __version__
from fraiseql_compiler.manifest import MANIFEST_FILE

if TYPE_CHECKING:
    from fraiseql_compiler.diagnostics import Diagnostic
    from fraiseql_compiler.manifest import Manifest

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2

T = TypeVar("T")


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def show(diagnostics: Sequence[Diagnostic], root: Path, *args: Any, **kwargs: Any) -> None:
    """Diagnostics on stderr: in colour through rich on a terminal (or with FORCE_COLOR), else the same text
    plain, without importing rich (CI logs, pipes)."""
    from fraiseql_compiler.diagnostics.render import format_all, format_plain

    colour = (sys.stderr.isatty() or bool(os.environ.get("FORCE_COLOR"))) and not os.environ.get("NO_COLOR")
    if colour:
        _console(stderr=True).print(format_all(diagnostics, root, *args, **kwargs))
    else:
        sys.stderr.write(format_plain(diagnostics, root, *args, **kwargs))
        sys.stderr.flush()


def guarded(root: Path, run: Callable[[], T], outcome: str = "nothing was written") -> T:
    """Run a command body; a FraiseQLError becomes rendered diagnostics and exit code 2."""
    from fraiseql_compiler.diagnostics import FraiseQLError, diag

    try:
        return run()
    except FraiseQLError as exc:
        # a config error knows the secret values written in fraiseql.toml: mask them in source excerpts too
        show(exc.diagnostics, root, getattr(exc, "secrets", ()), outcome)
        raise click.exceptions.Exit(EXIT_INPUT) from None
    except KeyboardInterrupt:
        raise click.exceptions.Exit(130) from None
    except Exception as exc:
        internal = diag(
            "FQL900",
            f"internal error: {type(exc).__name__}: {exc}",
            hint="this is a bug in fraiseql-compiler; please report it with the command you ran "
            "(FRAISEQL_DEBUG=1 shows the traceback)",
        )
        show([internal], root, outcome=outcome)
        if os.environ.get("FRAISEQL_DEBUG"):
            raise
        raise click.exceptions.Exit(EXIT_INPUT) from None


@click.group(
    name="fraiseql",
    help="Compile FraiseQL schema modules into PostgreSQL SQL, a runtime manifest and GraphQL SDL.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", message="fraiseql-compiler %(version)s", help="Show the version.")
def app() -> None:
    pass


PATH = click.Path(path_type=Path)


@app.command()
@click.argument("path", required=False, type=PATH)
@click.option("--out", "-o", type=PATH, help="Output directory (default: build/ next to fraiseql.toml).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the outputs on disk are stale.")
@click.option("--all-warnings", is_flag=True, help="Show every warning (default: the first 5 of each code).")
def build(path: Path | None, out: Path | None, check: bool, all_warnings: bool) -> None:
    """Compile the schema into build/: the manifest, schema.graphql and sql/*.sql.

    PATH is a schema file, a package, a directory, or a project with fraiseql.toml (default: the current
    directory's fraiseql.toml).
    """
    from fraiseql_compiler import api
    from fraiseql_compiler.project import display_path, resolve_project

    cwd = Path.cwd()
    project = guarded(cwd, lambda: resolve_project(path, out, cwd))
    result = guarded(project.root, lambda: api.build_project(project, check=check))
    if result.warnings:
        hint = "`fraiseql build --all-warnings` shows each"
        limit = None if all_warnings else 5
        show(result.warnings, project.root, warnings_per_code=limit, show_all_hint=hint)
    where = display_path(result.out, cwd)
    if check:
        if result.stale:
            click.echo(
                click.style("stale", fg="red", bold=True) + f": {len(result.stale)} file(s) in {where} "
                "differ from a fresh build:"
            )
            for name in result.stale:
                click.echo(f"  {name}")
            click.echo("run `fraiseql build` and commit the result")
            raise click.exceptions.Exit(EXIT_FINDINGS)
        click.echo(f"up to date: {where} ({len(result.artifacts)} files)")
        return
    # plain lines (rich is only imported when there are diagnostics to render)
    click.echo(f"built {len(result.artifacts)} files into {where}/")
    for artifact in result.artifacts:
        click.echo(f"  {where}/{artifact.path}")


@app.command()
@click.argument("directory", required=False, default=".", type=PATH)
@click.option("--name", help="Project name (default: the directory name).")
def init(directory: Path, name: str | None) -> None:
    """Scaffold a project: schema.py, fraiseql.toml and a .gitignore entry for build/."""
    from fraiseql_compiler.project import display_path
    from fraiseql_compiler.scaffold import scaffold

    cwd = Path.cwd()
    created = guarded(cwd, lambda: scaffold(directory, name))
    for created_path in created:
        click.echo(f"created {display_path(created_path, cwd)}")
    click.echo("next: fraiseql build" + ("" if directory == Path(".") else f" {directory}"))


def _manifest_path(manifest: Path | None) -> Path:
    if manifest is not None:
        return manifest
    from fraiseql_compiler.config import CONFIG_FILE, load_config

    config = Path.cwd() / CONFIG_FILE
    out = load_config(config).build.out if config.exists() else "build"
    return Path.cwd() / out / MANIFEST_FILE


def _load_manifest(manifest: Path | None) -> Manifest:
    from fraiseql_compiler.manifest.io import load

    return load(_manifest_path(manifest))


def _duration(text: str) -> int:
    from fraiseql_compiler.diagnostics import FraiseQLError, diag

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    except (ValueError, IndexError):
        raise FraiseQLError([diag("FQL161", f'invalid duration "{text}"', hint="write 90s, 15m, 1h or 2d")]) from None


MANIFEST_OPTION = click.option("--manifest", type=PATH, help=f"Default: build/{MANIFEST_FILE}.")


@app.command()
@click.option("--sub", required=True, help="Subject (user id).")
@click.option("--scope", "scopes", multiple=True, help="A scope; repeat for several.")
@click.option("--exp", default="1h", show_default=True, help="Lifetime: 90s, 15m, 1h, 2d.")
@click.option("--key-file", type=PATH, help="PEM private key (RS256/ES256).")
@click.option("--secret-env", help="Variable holding the HS secret.")
@MANIFEST_OPTION
def token(
    sub: str, scopes: tuple[str, ...], exp: str, key_file: Path | None, secret_env: str | None, manifest: Path | None
) -> None:
    """Mint a development JWT with the manifest's JWT settings."""
    from fraiseql_compiler.executor.errors import ExecutionError
    from fraiseql_compiler.executor.tokens import mint

    def run() -> str:
        loaded = _load_manifest(manifest)
        environ = dict(os.environ)
        configured = loaded.config.auth.jwt.secret_env or "JWT_SECRET"
        if secret_env:
            environ[configured] = os.environ.get(secret_env, "")
        private_key = key_file.read_text(encoding="utf-8") if key_file else None
        try:
            return mint(
                loaded.config,
                sub=sub,
                scopes=list(scopes),
                ttl_seconds=_duration(exp),
                environ=environ,
                private_key=private_key,
            )
        except ExecutionError as exc:
            from fraiseql_compiler.diagnostics import FraiseQLError, diag

            message = exc.message.replace(configured, secret_env) if secret_env else exc.message
            raise FraiseQLError([diag("FQL162", message)]) from None

    click.echo(guarded(Path.cwd(), run, outcome=""))


@app.command()
@click.argument("operation")
@click.option("--var", "variables", multiple=True, help="k=v; v is JSON when it parses, else a string.")
@click.option("--token", "token_", help="Bearer JWT.")
@click.option("--api-key", help="API key.")
@click.option("--database", envvar="DATABASE_URL", default="", help="Connect as the authenticator ($DATABASE_URL).")
@MANIFEST_OPTION
def query(
    operation: str,
    variables: tuple[str, ...],
    token_: str | None,
    api_key: str | None,
    database: str,
    manifest: Path | None,
) -> None:
    """Run one operation (GraphQL or Python name) exactly as a runtime must; print JSON.

    Exit 1 when it is refused."""
    import json

    from fraiseql_compiler.diagnostics import FraiseQLError, diag
    from fraiseql_compiler.executor.errors import ExecutionError
    from fraiseql_compiler.executor.run import Request, execute

    def parse_vars() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in variables:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise FraiseQLError([diag("FQL163", f'--var "{item}" is not k=v')])
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
        return out

    def run() -> Any:
        import psycopg

        if not database:
            raise FraiseQLError([diag("FQL164", "no database: pass --database URL or set DATABASE_URL")])
        loaded = _load_manifest(manifest)
        request = Request(operation, parse_vars(), token=token_, api_key=api_key)
        try:
            with psycopg.connect(database, autocommit=True) as conn:
                return {"data": execute(conn, loaded, request)}
        except ExecutionError as exc:
            return exc.as_json()
        except psycopg.OperationalError as exc:
            reason = " ".join(str(exc).split()).removeprefix("connection failed: ")
            hint = "check --database (or DATABASE_URL): host, port, database name, and the authenticator role"
            raise FraiseQLError([diag("FQL165", f"cannot connect to the database: {reason}", hint=hint)]) from None

    result = guarded(Path.cwd(), run, outcome="nothing was run")
    click.echo(json.dumps(result, indent=2, sort_keys=True, default=str))
    if "errors" in result:
        raise click.exceptions.Exit(EXIT_FINDINGS)


@app.command()
@click.argument("path", required=False, type=PATH)
@click.option("--database", envvar="DATABASE_URL", default="", help="The database ($DATABASE_URL), as its owner.")
@click.option("--out", "-o", type=PATH, help="The build directory (default: build/ next to fraiseql.toml).")
@click.option("--dry-run", is_flag=True, help="Print the SQL it would run; change nothing.")
@click.option("--check", is_flag=True, help="Exit 1 if anything is pending or drifted (a CI gate); change nothing.")
@click.option("--status", is_flag=True, help="Show applied, pending and drifted objects; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--repair", is_flag=True, help="Re-create objects changed by hand from the build.")
@click.option("--allow", multiple=True, help="Consent to a hazard (comma-separated; see docs/migrate.md).")
@click.option("--build", "rebuild", is_flag=True, help="Run `fraiseql build` first.")
@click.option("--lock-timeout", type=float, help="Seconds to wait for another migrate (default: [migrate] wait).")
def migrate(
    path: Path | None,
    database: str,
    out: Path | None,
    dry_run: bool,
    check: bool,
    status: bool,
    as_json: bool,
    repair: bool,
    allow: tuple[str, ...],
    rebuild: bool,
    lock_timeout: float | None,
) -> None:
    """Apply the build (and db/migrations/) to PostgreSQL: one transaction, a plan first.

    PATH is the project (default: the current directory's fraiseql.toml)."""
    from fraiseql_compiler.cli.migrate_cmd import run

    code = run(path, database, out, dry_run, check, status, as_json, repair, allow, rebuild, lock_timeout)
    if code:
        raise click.exceptions.Exit(code)


@app.command()
@click.argument("path", required=False, type=PATH)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True
)
@click.option("--fail-level", type=click.Choice(["error", "warning"]), help="Exit 1 at or above it (default: [lint]).")
@click.option("--select", multiple=True, help="Only these rules (codes, prefixes, squawk[:rule]; comma-separated).")
@click.option("--extend-select", multiple=True, help="These rules too, e.g. squawk (the SQL rules run only if asked).")
@click.option("--ignore", multiple=True, help="Not these rules (added to [lint] ignore).")
@click.option("--database", help="Also check the live catalog of this database (read-only). Never implied.")
@click.option("--baseline", type=PATH, help="A manifest to compare access with (FQL323).")
@click.option("--explain", "explain_rule", metavar="RULE", help="Explain a rule and exit.")
@click.option("--list-rules", is_flag=True, help="List the rules and exit (--format markdown-ish with non-text).")
def lint(
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
) -> None:
    """Check the schema, its configuration and its SQL against the lint rules; write nothing.

    Exit 0 clean, 1 findings at or above the fail level, 2 input errors."""
    from fraiseql_compiler.cli.lint_cmd import run

    code = run(path, fmt, fail_level, select, extend_select, ignore, database, baseline, explain_rule, list_rules)
    if code:
        raise click.exceptions.Exit(code)


def _register_access() -> None:
    from fraiseql_compiler.cli.access_cmd import access
    from fraiseql_compiler.cli.login_cmd import login_callback, login_url
    from fraiseql_compiler.cli.test_cmd import test

    app.add_command(access)
    app.add_command(test)
    app.add_command(login_url)
    app.add_command(login_callback)


_register_access()


def main() -> None:
    """The console script. A command is a short-lived process, so three costs are skipped: the cyclic
    garbage collector (a build allocates hundreds of thousands of long-lived objects and almost no cycles),
    pydantic's scan of installed packages for plugins (the compiler uses none), and, after a large build,
    ~0.2 s of freeing every object one by one at exit: every file is written and closed by then, so, as
    mypy does, the streams are flushed and the process leaves at once. (``app`` itself, which tests invoke
    in-process, does none of this.)"""
    gc.disable()
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
