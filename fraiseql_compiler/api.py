"""The public Python API, stage by stage. The CLI only wraps these functions; tests, benchmarks, ``lint`` and
``migrate`` call the same stages::

    project = resolve_project(Path("examples/blog"))
    analysis = analyze(project)          # import, introspect, derive facts, check: FraiseQLError on errors
    artifacts = emit(analysis)           # SQL, SDL and the manifest, in memory
    write_atomically(artifacts, project.out)

``build()`` is those steps (or, with ``check``, a comparison instead of the write).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from fraiseql_compiler.diagnostics import Diagnostic, FraiseQLError, diag
from fraiseql_compiler.project import Project, resolve_project

if TYPE_CHECKING:
    from fraiseql_compiler.analysis import Facts
    from fraiseql_compiler.config import Config
    from fraiseql_compiler.diagnostics.suppress import Suppression
    from fraiseql_compiler.emit import Artifact
    from fraiseql_compiler.ir import Schema
    from fraiseql_compiler.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Analysis:
    """A checked schema and everything derived from it: what ``emit``, ``lint`` and ``migrate`` start from."""

    project: Project
    schema: Schema
    facts: Facts
    diagnostics: tuple[Diagnostic, ...]  # the warnings (errors raise); suppressed ones are left out
    suppressions: tuple[Suppression, ...] = ()  # the modules' ``# fraiseql: ignore[...]`` comments (for lint)

    @property
    def config(self) -> Config:
        return self.project.config

    @property
    def settings(self) -> Settings:
        return self.facts.settings


@dataclass(frozen=True)
class BuildResult:
    out: Path
    artifacts: tuple[Artifact, ...]
    warnings: tuple[Diagnostic, ...]
    stale: tuple[str, ...] = ()  # with check=True: files that differ
    written: bool = False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A compile allocates hundreds of thousands of long-lived objects and almost no cycles; the cyclic
    collector rescanning them costs ~40% of a large build. Reference counting still frees everything; the
    collector resumes, in its previous state, afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _without_gc(fn: Callable[P, R]) -> Callable[P, R]:
    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with _gc_paused():
            return fn(*args, **kwargs)

    return run


@_without_gc
def analyze(project: Project) -> Analysis:
    """Import the schema modules, build the IR, derive the facts and run every check.

    Raises :class:`FraiseQLError` carrying every error found; the warnings travel in the result."""
    from fraiseql_compiler.analysis import derive
    from fraiseql_compiler.checks import validate
    from fraiseql_compiler.diagnostics.suppress import apply as suppress
    from fraiseql_compiler.introspect import build_schema
    from fraiseql_compiler.load import isolated_imports, load
    from fraiseql_compiler.load.sourcemap import SourceMap
    from fraiseql_compiler.settings import Settings

    sources = SourceMap(project.root)
    with isolated_imports(project.root, sources):
        loaded = load(list(project.files), project.root, sources)
        if loaded.diagnostics:
            raise FraiseQLError(loaded.diagnostics)
        if not loaded.registry.entries and not loaded.registry.duplicates:
            names = ", ".join(sorted(p.relative_to(project.root).as_posix() for p in project.files))
            hint = "decorate classes and functions with @fraiseql.type, @fraiseql.query, …"
            raise FraiseQLError([diag("FQL106", f"no FraiseQL definitions found in {names}", hint=hint)])
        schema, diagnostics = build_schema(loaded, sources)
    settings = Settings.from_config(project.config)
    facts = derive(schema, settings)
    if not any(d.severity == "error" for d in diagnostics):
        diagnostics += validate(schema, facts)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise FraiseQLError(errors)
    suppressions = [s for file in project.files for s in sources.suppressions(str(file))]
    warnings, ineffective = suppress(
        [*project.config.warnings, *(d for d in diagnostics if d.severity == "warning")], suppressions
    )
    found = tuple(sorted([*warnings, *ineffective], key=Diagnostic.sort_key))
    return Analysis(project, schema, facts, found, tuple(suppressions))


@_without_gc
def emit(analysis: Analysis) -> tuple[Artifact, ...]:
    """Every output file of the build, in memory, sorted by path: SQL, SDL, then the manifest that hashes
    them."""
    from fraiseql_compiler.emit import Artifact, emit_sdl, emit_sql
    from fraiseql_compiler.manifest import MANIFEST_FILE
    from fraiseql_compiler.manifest.build import build_manifest
    from fraiseql_compiler.manifest.io import dumps

    sql = emit_sql(analysis.schema, analysis.facts)
    artifacts = sql.artifacts + emit_sdl(analysis.schema, analysis.facts.paging)
    manifest = build_manifest(analysis.schema, analysis.facts, analysis.config, artifacts, sql.objects)
    artifacts.append(Artifact(MANIFEST_FILE, dumps(manifest)))
    return tuple(sorted(artifacts, key=lambda a: a.path))


def build(
    path: Path | str | None = None,
    *,
    out: Path | str | None = None,
    check: bool = False,
    cwd: Path | None = None,
) -> BuildResult:
    """Compile the project at ``path`` and write its outputs atomically (or, with ``check``, compare)."""
    project = resolve_project(Path(path) if path is not None else None, Path(out) if out is not None else None, cwd)
    return build_project(project, check=check)


def build_project(project: Project, *, check: bool = False) -> BuildResult:
    """:func:`build` for a project already resolved."""
    from fraiseql_compiler.emit import stale_files, write_atomically

    analysis = analyze(project)
    artifacts = emit(analysis)
    if check:
        stale = stale_files(artifacts, project.out)
        return BuildResult(project.out, artifacts, analysis.diagnostics, stale=tuple(stale))
    write_atomically(artifacts, project.out)
    return BuildResult(project.out, artifacts, analysis.diagnostics, written=True)
