"""The public Python API. The CLI only wraps these functions; tests and users may call them directly."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fraiseql_compiler.errors import Diagnostic, FraiseQLError, error
from fraiseql_compiler.project import Project, resolve_project


@dataclass(frozen=True)
class Compiled:
    project: Project
    artifacts: list  # list[Artifact]
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class BuildResult:
    out: Path
    artifacts: list  # list[Artifact]
    warnings: list[Diagnostic]
    stale: list[str] = field(default_factory=list)  # with check=True: files that differ
    written: bool = False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A compile allocates hundreds of thousands of long-lived objects and almost no cycles; the cyclic
    collector rescanning them costs ~40% of a large build (benchmarks/build_scale.py). Reference
    counting still frees everything; the collector resumes, in its previous state, afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compile_project(project: Project) -> Compiled:
    """Import, introspect, validate and emit, without writing anything. Raises FraiseQLError."""
    with _gc_paused():
        return _compile(project)


def _compile(project: Project) -> Compiled:
    from fraiseql_compiler.checks import validate
    from fraiseql_compiler.emit import emit_manifest, emit_sdl, emit_sql
    from fraiseql_compiler.introspect import build_schema
    from fraiseql_compiler.loader import isolated_imports, load
    from fraiseql_compiler.sourcemap import SourceMap

    with isolated_imports(project.root):
        result = load(list(project.files), project.root)
        if result.diagnostics:
            raise FraiseQLError(result.diagnostics)
        if not result.registry.entries and not result.registry.duplicates:
            names = ", ".join(sorted(p.relative_to(project.root).as_posix() for p in project.files))
            raise FraiseQLError(
                [
                    error(
                        "FQL106",
                        f"no FraiseQL definitions found in {names}",
                        hint="decorate classes and functions with @fraiseql.type, @fraiseql.query, …",
                    )
                ]
            )
        schema, diagnostics = build_schema(result, SourceMap(project.root))
    from fraiseql_compiler.checks.access import check_roles
    from fraiseql_compiler.emit.context import sql_context

    ctx = sql_context(project.config)
    if not any(d.severity == "error" for d in diagnostics):
        diagnostics += validate(schema)
        diagnostics += check_roles(schema, tuple(r.key for r in ctx.roles.api))
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise FraiseQLError(errors)
    artifacts = emit_sql(schema, ctx) + emit_sdl(schema)
    artifacts += emit_manifest(schema, project.config.normalized(), ctx, artifacts)
    warnings = list(project.config.warnings) + [d for d in diagnostics if d.severity == "warning"]
    return Compiled(project, sorted(artifacts, key=lambda a: a.path), warnings)


def build(
    path: Path | str | None = None,
    *,
    out: Path | str | None = None,
    check: bool = False,
    cwd: Path | None = None,
) -> BuildResult:
    """Compile the project at ``path`` and write its outputs atomically (or, with ``check``, compare)."""
    from fraiseql_compiler.emit import stale_files, write_atomically

    project = resolve_project(Path(path) if path is not None else None, Path(out) if out is not None else None, cwd)
    compiled = compile_project(project)
    if check:
        stale = stale_files(compiled.artifacts, project.out)
        return BuildResult(project.out, compiled.artifacts, compiled.warnings, stale=stale)
    write_atomically(compiled.artifacts, project.out)
    return BuildResult(project.out, compiled.artifacts, compiled.warnings, written=True)
