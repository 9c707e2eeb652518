"""The compile cases shared by golden, pglast and PostgreSQL tests: every example plus tests/golden/*."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    name: str
    project: Path  # what `fraiseql build` is given
    expected: Path  # the committed output
    ddl: Path | None  # base tables, when the case can be applied to PostgreSQL


def cases() -> list[Case]:
    found = []
    for example in sorted((REPO / "examples").iterdir()):
        if (example / "fraiseql.toml").exists():
            ddl = example / "db" / "migrations" / "0001_base.sql"
            found.append(
                Case(f"examples/{example.name}", example, example / "build", ddl if ddl.exists() else None)
            )
    for case in sorted((REPO / "tests" / "golden").iterdir()):
        if case.is_dir() and not case.name.startswith(("_", ".")):
            ddl = case / "db.sql"
            found.append(Case(f"golden/{case.name}", case, case / "expected", ddl if ddl.exists() else None))
    return found


@cache
def compiled(case: Case) -> dict[str, str]:
    """The artifacts of a fresh compile of ``case`` (cached: compiling is pure)."""
    from fraiseql_compiler.api import analyze, emit
    from fraiseql_compiler.project import resolve_project

    project = resolve_project(case.project, case.expected)
    return {a.path: a.content for a in emit(analyze(project))}


def sql_files(case: Case) -> list[tuple[str, str]]:
    return sorted((p, c) for p, c in compiled(case).items() if p.endswith(".sql"))
