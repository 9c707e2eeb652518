"""``fraiseql test``: declarative access cases run against a real database through the reference runtime."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first use: the pytest plugin imports this package in every pytest session
    from fraiseql_compiler.testing.cases import Case, CaseFile, Expectation, Identity, Suite
    from fraiseql_compiler.testing.runner import Outcome, Report

_LAZY = {
    "Case": "cases",
    "CaseFile": "cases",
    "Expectation": "cases",
    "Identity": "cases",
    "Suite": "cases",
    "Outcome": "runner",
    "Report": "runner",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"fraiseql_compiler.testing.{module}"), name)


@dataclass(frozen=True)
class Prepared:
    """A project analysed and built in memory, with its cases loaded: everything but the database."""

    root: Path
    artifacts: Mapping[str, str]
    manifest: Any  # fraiseql_compiler.manifest.models.Manifest
    suite: Suite
    cases_path: Path


def _project_and_cases(path: Path | None, cwd: Path) -> tuple[Path, Path | None]:
    """(project directory, the cases it names or None for the configured folder). PATH may be the project, or
    a case file or folder inside one."""
    from fraiseql_compiler.config import CONFIG_FILE

    target = (cwd / path).resolve() if path is not None else cwd
    if target.is_dir() and (target / CONFIG_FILE).exists():
        return target, None
    for parent in [target, *target.parents]:
        if (parent / CONFIG_FILE).exists():
            return parent, target
    return target, None  # resolve_project reports the missing fraiseql.toml


def prepare(path: Path | None = None, *, pattern: str | None = None, cwd: Path | None = None) -> Prepared:
    from fraiseql_compiler.api import analyze, emit
    from fraiseql_compiler.diagnostics import FraiseQLError, diag
    from fraiseql_compiler.manifest import MANIFEST_FILE
    from fraiseql_compiler.manifest.models import Manifest
    from fraiseql_compiler.project import resolve_project
    from fraiseql_compiler.testing.cases import case_files, load_suite

    cwd = (cwd or Path.cwd()).resolve()
    root, cases = _project_and_cases(path, cwd)
    project = resolve_project(root, cwd=cwd)
    cases_path = cases if cases is not None else project.root / project.config.test.cases
    if not cases_path.exists():
        raise FraiseQLError(
            [
                diag(
                    "FQL500",
                    f"no access cases: {cases_path} does not exist",
                    hint="write access_tests/<name>.toml next to fraiseql.toml (see docs/access-tests.md),"
                    " or set [test] cases",
                )
            ]
        )
    # Every file of the cases folder is read (identities are shared by all of them); PATH then selects.
    folder = project.root / project.config.test.cases
    inside = folder.is_dir() and (cases_path == folder or folder.resolve() in cases_path.resolve().parents)
    single = cases_path.is_file() and not inside
    files = [cases_path] if single else case_files(folder if inside else cases_path)
    artifacts = {a.path: a.content for a in emit(analyze(project))}
    manifest = Manifest.model_validate_json(artifacts[MANIFEST_FILE])
    suite = load_suite(files, project.root, manifest, pattern)
    if inside and cases_path.resolve() != folder.resolve():
        suite = suite.under(cases_path)
    return Prepared(project.root, artifacts, manifest, suite, cases_path)


def run(
    prepared: Prepared,
    *,
    database: str | None = None,
    environ: Mapping[str, str] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    matrix: bool = False,
) -> Report:
    """Create a throwaway database on ``database``'s server (else FRAISEQL_TEST_DATABASE_URL's), migrate it,
    run every case, drop it."""
    import time

    from fraiseql_compiler.testing.runner import migrate, run_suite, server_url, throwaway_database

    env = dict(os.environ if environ is None else environ)
    key_env = prepared.manifest.config.security.claims_key_env
    if not env.get(key_env):  # a key for the run: the throwaway database and the runtime share it
        from fraiseql_compiler.claims_proof import new_key

        env[key_env] = new_key()
    url = server_url(database, env)
    started = time.perf_counter()
    with throwaway_database(url) as db:
        migrate(db, prepared.artifacts, prepared.root, claims_key=env[key_env])
        setup = time.perf_counter() - started
        report = run_suite(prepared.suite, prepared.manifest, db, env, on_outcome, matrix)
    report.setup_seconds = setup
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["Case", "CaseFile", "Expectation", "Identity", "Outcome", "Prepared", "Report", "Suite", "prepare", "run"]
