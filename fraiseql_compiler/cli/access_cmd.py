"""``fraiseql access``: the access matrix of the build's manifest (who can run each operation, and what rows
it then sees), or with ``--diff OLD`` what changed in it since another manifest. It reads manifests only;
everything heavy (pydantic, rich) is imported when it runs, so ``fraiseql --help`` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from fraiseql_compiler.manifest import MANIFEST_FILE

if TYPE_CHECKING:
    from fraiseql_compiler.access.matrix import Matrix

FORMATS = ("table", "markdown", "json")


def manifest_path(path: Path | None, manifest: Path | None, cwd: Path) -> Path:
    """``--manifest`` as given; else ``<root>/<[build] out>/<MANIFEST_FILE>`` of the project at
    PATH (a directory, or a file in it), like ``fraiseql migrate``."""
    if manifest is not None:
        return cwd / manifest
    from fraiseql_compiler.cli.migrate_cmd import _build_out

    root = (cwd / path).resolve() if path is not None else cwd
    if root.is_file():
        root = root.parent
    return root / _build_out(root) / MANIFEST_FILE


@click.command(name="access")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--manifest",
    "manifest",
    type=click.Path(path_type=Path),
    help=f"The manifest to review (default: build/{MANIFEST_FILE} of the project at PATH).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.option(
    "--diff",
    "old",
    type=click.Path(path_type=Path),
    help="Show what changed in access since this (older) manifest instead: widened, then narrowed.",
)
def access(path: Path | None, manifest: Path | None, fmt: str, old: Path | None) -> None:
    """Show who can run each operation (the access matrix) and each table's row-level security.

    PATH is the project (default: the current directory's fraiseql.toml). With --diff OLD, list what
    changed since OLD's manifest (for a pull request: the base branch's build); the diff is informational
    and exits 0 (`fraiseql lint` fails on widening)."""
    from fraiseql_compiler.cli.app import guarded

    cwd = Path.cwd()

    def run() -> str | Matrix:
        from fraiseql_compiler.access import render
        from fraiseql_compiler.manifest.io import load

        current_file = manifest_path(path, manifest, cwd)
        current = load(current_file)
        if old is None:
            from fraiseql_compiler.access.matrix import access_matrix

            matrix = access_matrix(current)
            if fmt == "markdown":
                return render.render_markdown(matrix)
            if fmt == "json":
                return render.render_json(matrix)
            return matrix  # printed below, as rich tables
        from fraiseql_compiler.access.diff import access_diff

        diff = access_diff(load(cwd / old), current)
        if fmt == "markdown":
            shown = str(manifest) if manifest is not None else _display(current_file, cwd)
            return render.diff_markdown(diff, str(old), shown)
        if fmt == "json":
            return render.diff_json(diff)
        return render.diff_text(diff)

    result = guarded(cwd, run, outcome="")
    if isinstance(result, str):
        click.echo(result, nl=False)
        return
    import sys

    from rich.console import Console

    from fraiseql_compiler.access.render import rich_tables

    # a terminal's own width; piped or redirected, wide enough for the columns rather than 80
    console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 160)
    for table in rich_tables(result):
        console.print(table)


def _display(file: Path, cwd: Path) -> str:
    try:
        return file.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return str(file.resolve())


__all__ = ["access"]
