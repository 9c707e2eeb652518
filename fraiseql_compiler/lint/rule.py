"""A lint rule: a registered code, a docstring that explains it, and ``check(context)``.

A rule's docstring is its long explanation (``fraiseql lint --explain FQL304``): what it finds, then
*Anti-pattern* and *Best practice* paragraphs. Its one-line title and default severity live in the diagnostics
registry with every other code. ``needs`` says what it reads beyond the analysed schema, so that the runner
does only the work the selected rules need: the generated SQL (rendered only for them), a database, or a
baseline manifest.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from fraiseql_compiler.diagnostics import Diagnostic, Span, diag

if TYPE_CHECKING:
    from fraiseql_compiler.api import Analysis
    from fraiseql_compiler.config.lines import LineIndex
    from fraiseql_compiler.manifest.models import Manifest

Needs = Literal["schema", "sql", "database", "baseline"]


@dataclass
class Context:
    """What the rules read. Everything beyond the analysis is computed on first use."""

    analysis: Analysis
    database: str | None = None
    baseline: Path | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def root(self) -> Path:
        return self.analysis.project.root

    @cached_property
    def config_file(self) -> str:
        path = self.analysis.config.path
        return path.name if path is not None else "fraiseql.toml"

    @cached_property
    def config_lines(self) -> LineIndex | None:
        from fraiseql_compiler.config.lines import LineIndex

        path = self.analysis.config.path
        return LineIndex(path.read_text(encoding="utf-8")) if path is not None else None

    def config_span(self, *loc: str | int) -> Span | None:
        """The line of a setting in fraiseql.toml (its table's, when the key itself is not written)."""
        lines = self.config_lines
        if lines is None:
            return None
        return Span(self.config_file, lines.line_of(tuple(loc)))

    def written(self, *loc: str | int) -> bool:
        """Whether fraiseql.toml writes this setting (rather than relying on its default)."""
        lines = self.config_lines
        return lines is not None and tuple(loc) in lines.lines

    @cached_property
    def migrations(self) -> tuple[Path, ...]:
        """The user's migration files (``[migrate] migrations``), in order."""
        folder = self.root / self.analysis.config.migrate.migrations
        return tuple(sorted(folder.glob("*.sql"))) if folder.is_dir() else ()

    @cached_property
    def catalog(self) -> tuple[Diagnostic, ...]:
        """The findings of the catalog checks, read once (``--database``)."""
        from fraiseql_compiler.lint.catalog import catalog_findings

        settings = self.analysis.settings
        roles = {r.key: r.name for r in settings.roles.api}
        schemas = sorted({settings.default_schema, settings.api_schema, "fraiseql"})
        return tuple(
            catalog_findings(str(self.database), api_roles=roles, api_schema=settings.api_schema, schemas=schemas)
        )

    @cached_property
    def artifacts(self) -> dict[str, str]:
        """The generated files, rendered in memory (only for the rules that read SQL): path → text."""
        from fraiseql_compiler import api

        return {a.path: a.content for a in api.emit(self.analysis)}

    @cached_property
    def manifest(self) -> Manifest:
        """The manifest this schema builds to (in memory)."""
        from fraiseql_compiler.manifest import MANIFEST_FILE
        from fraiseql_compiler.manifest.models import Manifest

        return Manifest.model_validate_json(self.artifacts[MANIFEST_FILE])


class Rule:
    code: ClassVar[str]
    needs: ClassVar[Needs] = "schema"

    def check(self, ctx: Context) -> Iterable[Diagnostic]:
        raise NotImplementedError

    def diag(self, message: str, span: Span | None, hint: str | None = None) -> Diagnostic:
        return diag(self.code, message, span, hint)

    @classmethod
    def explanation(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")
