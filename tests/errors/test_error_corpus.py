"""The malformed-schema corpus: every folder under tests/errors is a small broken project.

A case folder holds the project (``schema.py``, maybe a second module and a ``fraiseql.toml``), a
``case.toml`` and ``expected.txt``, the golden stderr of ``fraiseql build .``::

    # what is wrong with the project
    expect = "schema.py:13:50"   # the first `-->` location: file:line, or file:line:col for a caret
    errors = 1                   # how many error[...] blocks are shown
    xfail = "..."                # optional: a known compiler bug, named precisely (strict xfail)

Each case is built from a temporary copy of its folder, so no build/ can ever appear in the repository.
The test checks exit code 2, the location, the error count, that nothing was written (no build/, the
sources byte-for-byte unchanged) and the whole stderr against expected.txt (``pytest --update-goldens``).

Speed: a real subprocess costs ~0.5 s (interpreter, rich, pydantic), ~25 s for the corpus. So every
case runs in-process through the real click app (``CliRunner``: same command, same error boundary, same
rich console), and the SUBPROCESS_CASES also run as ``python -m fraiseql_compiler.cli build .`` and must
match the same golden, which keeps the in-process harness honest.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from fraiseql_compiler.cli import app
from tests.goldens import assert_golden

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CASE_FILES = ("case.toml", "expected.txt")  # corpus metadata, not part of the project under test
# Stable rich output: fixed width, no colour, no terminal tricks. The `None`s unset variables that would
# force colour or a terminal back on.
ENV: dict[str, str | None] = {
    "COLUMNS": "100", "LINES": "50", "NO_COLOR": "1", "TERM": "dumb",
    "FORCE_COLOR": None, "CLICOLOR_FORCE": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None,
}
# One case per stage of the pipeline (import, decorators, introspection, validation, config, multi-module).
SUBPROCESS_CASES = (
    "syntax_error",
    "query_unknown_keyword",
    "unknown_type_did_you_mean",
    "row_filter_unknown_column",
    "config_invalid_toml",
    "duplicate_type_name",
    "many_errors",
)
LOCATION_RE = re.compile(r"^ *--> (\S+)$", re.M)
ERROR_RE = re.compile(r"^error\[FQL\d{3}\]: ", re.M)


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    expect: str  # "" when the error has no source location
    errors: int
    xfail: str | None

    @property
    def golden(self) -> Path:
        return self.folder / "expected.txt"


def load_cases() -> list[Case]:
    cases = []
    for folder in sorted(p for p in HERE.iterdir() if p.is_dir() and (p / "case.toml").exists()):
        meta = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
        unknown = set(meta) - {"expect", "errors", "xfail"}
        assert not unknown, f"{folder.name}/case.toml: unknown keys {sorted(unknown)}"
        cases.append(Case(folder.name, folder, meta["expect"], meta.get("errors", 1), meta.get("xfail")))
    return cases


CASES = load_cases()


def params(cases: list[Case]) -> list[object]:
    return [
        pytest.param(c, id=c.name, marks=[pytest.mark.xfail(reason=c.xfail, strict=True)] if c.xfail else [])
        for c in cases
    ]


def copy_project(case: Case, tmp_path: Path) -> Path:
    project = tmp_path / case.name
    shutil.copytree(case.folder, project, ignore=shutil.ignore_patterns(*CASE_FILES, "__pycache__"))
    return project


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``. Python's own ``__pycache__`` (written by importing the
    user's modules, not by the compiler) is left out."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.relative_to(root).parts
    }


def entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != "__pycache__")


def normalize(text: str, project: Path) -> str:
    """Only the temporary project path is replaced, should a message leak it."""
    for form in sorted({str(project.resolve()), str(project)}, key=len, reverse=True):
        text = text.replace(form, "<project>")
    return text


def build_in_process(project: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(project)
    # A module of the same name imported by another test (a `schema` on sys.path) must not shadow the
    # case's own; monkeypatch puts it back afterwards.
    for module in project.glob("*.py"):
        monkeypatch.delitem(sys.modules, module.stem, raising=False)
    result = CliRunner().invoke(app, ["build", "."], env=ENV, catch_exceptions=False)
    assert result.stdout == "", f"nothing should go to stdout on error, got:\n{result.stdout}"
    return result.exit_code, result.stderr


def build_subprocess(project: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    env.update({k: v for k, v in ENV.items() if v is not None})
    # The checkout under test, as in-process, whatever happens to be installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "fraiseql_compiler.cli", "build", "."],
        cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.stdout == "", f"nothing should go to stdout on error, got:\n{proc.stdout}"
    return proc.returncode, proc.stderr


def check(case: Case, project: Path, before: dict[str, str], code: int, stderr: str, update: bool) -> None:
    actual = normalize(stderr, project)
    if update:  # write first, so a failing (xfail) case still records what the compiler prints today
        assert_golden(case.golden, actual, True)
    assert code == 2, f"exit code {code}, expected 2; stderr:\n{stderr}"
    assert not (project / "build").exists(), "a failed build created build/"
    assert snapshot(project) == before, "a failed build changed the project's files"
    leftovers = [name for name in entries(project) if name.startswith((".build.", ".tmp"))]
    assert not leftovers, f"temporary output left behind: {leftovers}"
    locations = LOCATION_RE.findall(actual)
    if case.expect:
        assert locations, f"no `--> file:line` in the output, expected {case.expect}:\n{actual}"
        first = locations[0]
        assert first == case.expect or first.startswith(case.expect + ":"), (
            f"first location is {first}, expected {case.expect}:\n{actual}"
        )
    else:
        assert not locations, f"case.toml says there is no location, but the output has {locations}"
    assert len(ERROR_RE.findall(actual)) == case.errors, f"expected {case.errors} error(s):\n{actual}"
    assert_golden(case.golden, actual, update)


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 24, [c.name for c in CASES]
    assert set(SUBPROCESS_CASES) <= {c.name for c in CASES}


@pytest.mark.parametrize("case", params(CASES))
def test_error_case(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, update_goldens: bool
) -> None:
    project = copy_project(case, tmp_path)
    before = snapshot(project)
    code, stderr = build_in_process(project, monkeypatch)
    check(case, project, before, code, stderr, update_goldens)


@pytest.mark.parametrize("case", params([c for c in CASES if c.name in SUBPROCESS_CASES]))
def test_error_case_subprocess(case: Case, tmp_path: Path) -> None:
    """The installed command prints exactly the golden the in-process run recorded (never rewrites it)."""
    project = copy_project(case, tmp_path)
    before = snapshot(project)
    code, stderr = build_subprocess(project)
    check(case, project, before, code, stderr, update=False)


@pytest.mark.parametrize("name", ["syntax_error", "row_filter_unknown_column", "config_unknown_key"])
def test_failed_build_leaves_existing_output_alone(name: str, tmp_path: Path) -> None:
    """Atomic output: an earlier build/ survives a failing build byte for byte, whatever stage fails
    (import, validation, configuration)."""
    case = next(c for c in CASES if c.name == name)
    project = copy_project(case, tmp_path)
    out = project / "build"
    (out / "sql").mkdir(parents=True)
    (out / "fraiseql.manifest.json").write_text('{"format_version": 1, "from": "an earlier build"}\n')
    (out / "schema.graphql").write_text("type Query {\n  posts: [Post!]!\n}\n")
    (out / "sql" / "0001_fraiseql_schema.sql").write_text("-- an earlier build\nSELECT 1;\n")
    before = snapshot(project)
    listing = entries(project)
    code, stderr = build_subprocess(project)
    assert code == 2, stderr
    assert snapshot(project) == before, "a failed build touched the existing build/"
    assert entries(project) == listing, "a failed build left files next to build/"
