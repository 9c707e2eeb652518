"""Finding the project: which config, which schema files, where the output goes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fraiseql_compiler.config import CONFIG_FILE, Config, load_config
from fraiseql_compiler.diagnostics import FraiseQLError, Span, diag
from fraiseql_compiler.load import discover


@dataclass(frozen=True)
class Project:
    root: Path
    config: Config
    files: tuple[Path, ...]
    out: Path


def display_path(path: Path, cwd: Path | None = None) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    base = (cwd or Path.cwd()).resolve()
    try:
        return path.resolve().relative_to(base).as_posix() or "."
    except ValueError:
        return str(path)


def _no_schema(message: str, span: Span | None = None, hint: str | None = None) -> FraiseQLError:
    return FraiseQLError([diag("FQL106", message, span, hint)])


def _modules_from_config(config: Config, root: Path) -> list[Path]:
    files: list[Path] = []
    text = config.path.read_text(encoding="utf-8") if config.path else ""
    for entry in config.schema_.modules:
        candidates = [root / entry]
        if not entry.endswith(".py") and "/" not in entry:
            dotted = root.joinpath(*entry.split("."))
            candidates += [dotted.with_suffix(".py"), dotted / "__init__.py", dotted]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            line = next((i + 1 for i, row in enumerate(text.splitlines()) if entry in row), 1)
            raise _no_schema(
                f'schema module "{entry}" not found next to {CONFIG_FILE}',
                Span(CONFIG_FILE, line),
                "list files (schema.py), directories or dotted module names relative to fraiseql.toml",
            )
        files.extend(discover(found) if found.is_dir() else [found])
    return files


def resolve_project(path: Path | None, out: Path | None = None, cwd: Path | None = None) -> Project:
    cwd = (cwd or Path.cwd()).resolve()
    if path is None:
        if not (cwd / CONFIG_FILE).exists():
            raise _no_schema(
                f"no schema given and no {CONFIG_FILE} in the current directory",
                hint="pass a path (fraiseql build app/schema.py) or create a project with `fraiseql init`",
            )
        path = cwd
    path = (cwd / path).resolve()
    if not path.exists():
        raise _no_schema(
            f"{display_path(path, cwd)} does not exist", hint="pass a schema file, package or project directory"
        )
    if path.is_file() and path.name == CONFIG_FILE:
        path = path.parent
    root = path if path.is_dir() else path.parent
    config_path = root / CONFIG_FILE
    config = load_config(config_path if config_path.exists() else None)
    if path.is_file():
        if path.suffix != ".py":
            raise _no_schema(f"{path.name} is not a Python file", hint="pass a .py schema module or a directory")
        files = [path]
    elif config.schema_.modules:
        files = _modules_from_config(config, root)
    else:
        files = discover(path)
    if not files:
        raise _no_schema(
            f"no Python schema modules found in {display_path(path, cwd)}",
            hint=f"add a schema.py, or list modules under [schema] in {CONFIG_FILE}",
        )
    out_dir = (cwd / out).resolve() if out is not None else (root / config.build.out).resolve()
    if out_dir == root or root.is_relative_to(out_dir):
        span = None
        if out is None and config.path is not None:
            text = config.path.read_text(encoding="utf-8").splitlines()
            line = next((i + 1 for i, row in enumerate(text) if row.strip().startswith("out")), 0)
            span = Span(CONFIG_FILE, line) if line else None
        message = f'output directory "{display_path(out_dir, cwd)}" would replace the project itself'
        raise FraiseQLError([diag("FQL140", message, span, 'write to a subdirectory such as "build"')])
    return Project(root=root, config=config, files=tuple(files), out=out_dir)
