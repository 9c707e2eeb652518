"""``fraiseql lint``: rules over the analysed schema, its configuration, its SQL and (with ``--database``) the
live catalog, for pre-commit and CI.

Lint analyses the schema exactly as the build does (so every build warning is a lint finding too), then runs
the selected rules. It renders the generated SQL only when a rule that reads SQL is selected, connects to a
database only with ``--database``, and never writes.

    result = lint(resolve_project(Path(".")), LintOptions(select=("FQL3",)))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fraiseql_compiler.diagnostics import Diagnostic

if TYPE_CHECKING:
    from fraiseql_compiler.lint.rule import Rule
    from fraiseql_compiler.project import Project

LEVELS = ("warning", "error")


@dataclass(frozen=True)
class LintOptions:
    select: tuple[str, ...] = ()  # replaces [lint] select
    extend_select: tuple[str, ...] = ()  # added to [lint] extend_select
    ignore: tuple[str, ...] = ()  # added to [lint] ignore
    database: str | None = None
    baseline: Path | None = None  # replaces [lint] baseline


@dataclass(frozen=True)
class LintResult:
    diagnostics: tuple[Diagnostic, ...]
    rules: tuple[str, ...]  # the codes of the rules that ran
    skipped: tuple[str, ...] = ()  # selected rules that could not run, and why: "FQL323 (no baseline)"


def all_rules() -> tuple[type[Rule], ...]:
    from fraiseql_compiler.lint.rules import access, auth, config, hygiene, review, sql

    return (*auth.RULES, *access.RULES, *config.RULES, *hygiene.RULES, *review.RULES, *sql.RULES)


def matches(code: str, selector: str) -> bool:
    """``FQL31`` matches FQL310 to FQL319; ``squawk`` every squawk rule; ``squawk:x`` that one."""
    if selector.startswith("squawk"):
        return code == selector or (selector == "squawk" and code.startswith("squawk"))
    return code.startswith(selector)


@dataclass(frozen=True)
class Selection:
    """Which rules run: ``select`` (empty: the default set, every rule but those that read the generated
    SQL), plus ``extend``, minus ``ignore`` — as ruff's select / extend-select / ignore."""

    select: tuple[str, ...] = ()
    extend: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def rule(self, code: str, needs: str) -> bool:
        def named(selectors: tuple[str, ...]) -> bool:
            return any(matches(code, s) or (code == "squawk" and s.startswith("squawk")) for s in selectors)

        chosen = named(self.select) if self.select else needs != "sql"
        return (chosen or named(self.extend)) and not any(matches(code, s) for s in self.ignore)

    def finding(self, code: str) -> bool:
        """A finding's own code (``squawk:<rule>``, a build warning) against the same selectors."""
        chosen = (not self.select and not code.startswith("squawk")) or any(matches(code, s) for s in self.select)
        chosen = chosen or any(matches(code, s) for s in self.extend)
        return chosen and not any(matches(code, s) for s in self.ignore)


def lint(project: Project, options: LintOptions | None = None) -> LintResult:
    from fraiseql_compiler import api
    from fraiseql_compiler.diagnostics.suppress import apply as suppress
    from fraiseql_compiler.lint.rule import Context

    options = options or LintOptions()
    analysis = api.analyze(project)  # a schema that does not compile: FraiseQLError, exit 2
    config = analysis.config.lint
    select = options.select or config.select
    chosen = Selection(select, (*config.extend_select, *options.extend_select), (*config.ignore, *options.ignore))
    baseline = options.baseline or (project.root / config.baseline if config.baseline else None)
    ctx = Context(analysis, database=options.database, baseline=baseline)
    ran: list[str] = []
    skipped: list[str] = []
    found: list[Diagnostic] = []
    for rule_class in all_rules():
        if not chosen.rule(rule_class.code, rule_class.needs):
            continue
        if rule_class.needs == "database" and not options.database:
            continue  # the catalog rules run with --database only (not a skip: nothing was asked)
        if rule_class.needs == "baseline" and baseline is None:
            if select:  # asked for by name: say why it did not run
                skipped.append(f"{rule_class.code} (no baseline: --baseline or [lint] baseline)")
            continue
        ran.append(rule_class.code)
        found += rule_class().check(ctx)
    findings = [d for d in found if chosen.finding(d.code)]  # squawk:<rule> by its own name
    findings, _ = suppress(findings, analysis.suppressions)
    warnings = [d for d in analysis.diagnostics if chosen.finding(d.code)]
    levels = config.severity
    out = [dataclasses.replace(d, severity=levels[d.code]) if d.code in levels else d for d in [*warnings, *findings]]
    return LintResult(tuple(sorted(dict.fromkeys(out), key=Diagnostic.sort_key)), tuple(ran), tuple(skipped))


def failing(result: LintResult, fail_level: str) -> list[Diagnostic]:
    """The findings at or above ``fail_level`` (``error`` or ``warning``)."""
    floor = LEVELS.index(fail_level)
    return [d for d in result.diagnostics if LEVELS.index(d.severity) >= floor]


__all__ = ["LintOptions", "LintResult", "Selection", "all_rules", "failing", "lint", "matches"]
