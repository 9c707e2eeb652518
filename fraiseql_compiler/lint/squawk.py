"""squawk, the PostgreSQL migration linter, over the SQL that ``fraiseql migrate`` applies: its findings as
``squawk:<rule>`` warnings.

One squawk process lints every file (it parses them in parallel): the user's migrations and the generated
build SQL. Its findings are then filtered by kind of file (:data:`USER_EXCLUDED`, :data:`GENERATED_EXCLUDED`)
and mapped onto :class:`Diagnostic`, with spans relative to the project root.

How squawk is run, and why:

- ``--pg-version 15``, the oldest PostgreSQL that fraiseql supports: a rule whose hazard depends on the server
  version judges for the oldest server the SQL may meet.
- ``--assume-in-transaction``: migrate applies the pending migrations and the generated SQL in one transaction.
  squawk then knows that a table created earlier in the same file is new (indexing it blocks no one), does not
  ask for ``IF NOT EXISTS`` to make a file re-runnable (a failed run rolls back), and flags what cannot run in a
  transaction (``CREATE INDEX CONCURRENTLY``) or would end it (``COMMIT``).
- ``--config`` of an empty file: a user's ``.squawk.toml`` is NOT read. squawk looks for one from the current
  directory upwards, so the result would depend on where lint runs, not on the project; and what it can set
  (pg_version, assume_in_transaction, excluded rules) would contradict the settings above, which describe how
  migrate applies the SQL. Rules are chosen where every other lint rule is, in fraiseql.toml's ``[lint]``
  (``squawk`` or ``squawk:<rule>`` in select, ignore, severity). squawk's own ``-- squawk-ignore <rule>``
  comments still work: they are part of the SQL file.
- ``--reporter json``. squawk counts lines and columns from 0, columns in UTF-8 bytes: converted here to 1-based
  lines and columns counted in characters, as :class:`Span` counts them.
- Paths are glob patterns to squawk: each is passed escaped, relative to the root (squawk runs there) when it
  is under it. A file that is not UTF-8 would stop the whole run (squawk reads text): it is not given to squawk
  but reported as ``squawk:syntax-error``, as are squawk's parse errors (the first of a file: squawk lints
  nothing else in a file it cannot parse).
- Rules are excluded here, after the run, not with ``--exclude``: squawk refuses a rule name it does not know,
  and the excluded rules differ between user and generated files, which one run lints together.

The binary comes with the ``squawk-cli`` wheel, installed as the script ``squawk`` next to the interpreter's
other scripts (the venv's ``bin/``), which is where it is looked for first, then in the user scheme's scripts,
then on PATH. When it cannot be found or run, :func:`squawk_findings` raises a :class:`FraiseQLError` of
FQL900 (squawk-cli is a dependency of fraiseql: its absence is a broken install).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from fraiseql_compiler.diagnostics.model import Diagnostic, FraiseQLError, Span

PG_VERSION = "15"  # the oldest PostgreSQL fraiseql supports (README, tests/pgserver.py)
TIMEOUT_SECONDS = 120  # squawk lints the blog in milliseconds; this only ends a hung process
SYNTAX_ERROR = "syntax-error"  # squawk's rule name for what its parser rejects
UNAVAILABLE = "FQL900"  # no better code is registered for "a tool lint runs is missing"

_TIMEOUTS = "fraiseql migrate sets lock_timeout and statement_timeout ([migrate], SET LOCAL) before any SQL runs"
_CONCURRENTLY = (
    "PostgreSQL refuses {what} CONCURRENTLY in a transaction block, and migrate applies everything in one: the "
    "advice cannot be followed there; the lock taken instead is bounded by lock_timeout and statement_timeout"
)

# Rules whose advice is wrong for any SQL that migrate applies (one transaction, timeouts set).
_UNDER_MIGRATE: dict[str, str] = {
    "require-lock-timeout": _TIMEOUTS,
    "require-statement-timeout": _TIMEOUTS,
    "require-concurrent-index-creation": _CONCURRENTLY.format(what="CREATE INDEX"),
    "require-concurrent-index-deletion": _CONCURRENTLY.format(what="DROP INDEX"),
    "require-concurrent-reindex": _CONCURRENTLY.format(what="REINDEX"),
    "require-concurrent-partition-detach": _CONCURRENTLY.format(what="DETACH PARTITION"),
}

USER_EXCLUDED: dict[str, str] = dict(_UNDER_MIGRATE)
"""Rules not reported on the user's migrations (rule → why): only those that migrate's transaction and
timeouts make wrong. Every other finding on a migration of the user's is the user's to judge."""

GENERATED_EXCLUDED: dict[str, str] = {
    **_UNDER_MIGRATE,
    "ban-drop-view": (
        "build SQL drops only fraiseql's own superseded objects, replaced in the same transaction; migrate's plan, "
        "not the build SQL, drops generated objects that users see, and asks consent for hazards"
    ),
    "ban-drop-function": (
        "build SQL drops only fraiseql's own superseded functions (an old signature), replaced in the same "
        "transaction; migrate's plan, not the build SQL, drops generated API functions"
    ),
    "prefer-bigint-over-int": (
        "the one integer column fraiseql creates, tb_login_attempt.failed_count, is reset at login_max_attempts; "
        "its keys are uuid, text or bytea (and versioned:auth.0001, which creates it, is never edited)"
    ),
}
"""Rules not reported on generated SQL (rule → why), on top of those of USER_EXCLUDED's kind: the generated
files are idempotent by design and applied by migrate in one transaction with the timeouts set."""

# squawk's advice as it reads under migrate, for the user's migrations: a sentence added to squawk's help, or,
# where squawk's help cannot be followed under migrate, one that replaces it.
_SECOND_RUN = (
    "fraiseql migrate applies every pending migration in one transaction: VALIDATE CONSTRAINT in a migration "
    "that a later `fraiseql migrate` applies"
)
_MIGRATE_NOTES: dict[str, str] = {
    "constraint-missing-not-valid": _SECOND_RUN,
    "adding-foreign-key-constraint": _SECOND_RUN,
}
_NO_TRANSACTION_CONTROL = (
    "fraiseql migrate applies every migration inside its own transaction, and refuses a migration that begins "
    "or ends one: remove the transaction control"
)
_MIGRATE_HINTS: dict[str, str] = {
    "transaction-nesting": _NO_TRANSACTION_CONTROL,
    "ban-uncommitted-transaction": _NO_TRANSACTION_CONTROL,  # squawk: "add a COMMIT", which migrate refuses too
}


@dataclass(frozen=True)
class _File:
    path: Path  # absolute
    display: str  # relative to the root, POSIX separators: the span's file
    data: bytes
    generated: bool

    @cached_property
    def lines(self) -> list[bytes]:
        return self.data.split(b"\n")  # squawk's lines end at \n (a \r stays at the end of its line)


def squawk_findings(files: Sequence[Path], *, root: Path, generated: Collection[Path] = ()) -> list[Diagnostic]:
    """squawk's findings on ``files`` (one process for all), as ``squawk:<rule>`` warnings sorted by place.

    ``generated`` is the subset of ``files`` that fraiseql generated: :data:`GENERATED_EXCLUDED` applies to
    them, :data:`USER_EXCLUDED` to the others. A relative path is relative to ``root``.
    Raises :class:`FraiseQLError` (FQL900) when a file cannot be read or squawk cannot run.
    """
    root = Path(os.path.abspath(root))
    made = {_absolute(p, root) for p in generated}
    found: dict[str, _File] = {}
    for path in dict.fromkeys(_absolute(p, root) for p in files):
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise _error(f"squawk could not run: cannot read {path}: {reason}") from None
        found[os.path.normcase(str(path))] = _File(path, _display(path, root), data, path in made)
    out: list[Diagnostic] = []
    readable = []
    for file in found.values():
        try:
            file.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.append(_not_utf8(file, exc))
        else:
            readable.append(file)
    if readable:
        out += _convert(_run(readable, root), found, root)
    return sorted(out, key=Diagnostic.sort_key)


# --- running squawk -------------------------------------------------------------------------------------------


def squawk_path() -> str | None:
    """The squawk binary: the one installed with this interpreter's packages first (pip puts the wheel's
    binary among the scripts, next to ``fraiseql``, even when the venv is not activated), then PATH."""
    import contextlib
    import shutil
    import sysconfig

    places = [sysconfig.get_path("scripts")]
    with contextlib.suppress(KeyError, ValueError):  # an interpreter without a user scheme
        places.append(sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user")))
    for place in places:
        if place and (exe := shutil.which("squawk", path=place)):
            return exe
    return shutil.which("squawk")


def _run(files: Iterable[_File], root: Path) -> list[dict[str, object]]:
    import tempfile

    exe = squawk_path()
    if exe is None:
        raise _unavailable("the squawk binary was not found (next to this Python's scripts, nor on PATH)")
    patterns = [_glob_escape(_argument(f.path, root)) for f in files]
    # An empty config file: no .squawk.toml found upwards of the current directory applies (module docstring).
    with tempfile.TemporaryDirectory(prefix="fraiseql-squawk-") as tmp:
        config = Path(tmp) / ".squawk.toml"
        config.write_bytes(b"")
        command = [exe, "--reporter", "json", "--pg-version", PG_VERSION, "--assume-in-transaction"]
        command += ["--config", str(config), "--", *patterns]
        env = {**os.environ, "RUST_BACKTRACE": "0", "RUST_LIB_BACKTRACE": "0"}  # a one-line error, not a trace
        try:
            done = subprocess.run(
                command,
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,  # squawk reads standard input when it is not a terminal and no file matched
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise _unavailable(f"{exe}: {exc}") from None
    stdout = done.stdout.decode("utf-8", "replace")
    stderr = done.stderr.decode("utf-8", "replace").strip()
    # Exit 0: no finding, 1: findings (or an error, which prints no JSON).
    try:
        report = json.loads(stdout) if done.returncode in (0, 1) else None
    except ValueError:
        report = None
    if not isinstance(report, list):
        detail = stderr.splitlines()[0] if stderr else f"exit {done.returncode}, output {stdout[:200]!r}"
        raise _unavailable(f"{exe}: {detail}")
    return [v for v in report if isinstance(v, dict)]


_INSTALL = (
    'pip install squawk-cli (a dependency of fraiseql-compiler), or leave squawk out: ignore = ["squawk"] in [lint]'
)


def _unavailable(reason: str) -> FraiseQLError:
    return _error(f"squawk could not run: {reason}", _INSTALL)


def _error(message: str, hint: str | None = None) -> FraiseQLError:
    return FraiseQLError([Diagnostic(code=UNAVAILABLE, message=message, hint=hint, severity="error")])


def _glob_escape(path: str) -> str:
    """As Rust glob's ``Pattern::escape``: squawk expands every path argument as a glob pattern."""
    return "".join(f"[{c}]" if c in "?*[]" else c for c in path)


# --- paths ----------------------------------------------------------------------------------------------------


def _absolute(path: Path, root: Path) -> Path:
    return Path(os.path.abspath(root / path))  # root / an absolute path is that path


def _argument(path: Path, root: Path) -> str:
    """The path as given to squawk, which runs in ``root``: relative to it when under it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _display(path: Path, root: Path) -> str:
    """The span's file: relative to the project root (``../`` for a build written outside it), POSIX."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        try:
            return Path(os.path.relpath(path, root)).as_posix()
        except ValueError:  # another drive (Windows): nothing relative exists
            return path.as_posix()


# --- findings -------------------------------------------------------------------------------------------------


def _convert(violations: list[dict[str, object]], files: dict[str, _File], root: Path) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    syntax_errors: dict[str, list[dict[str, object]]] = {}
    for v in violations:
        reported = str(v.get("file", ""))
        file = files.get(os.path.normcase(os.path.normpath(os.path.join(root, reported))))
        rule = str(v.get("rule_name", ""))
        if file is None or not rule:  # pragma: no cover - squawk reports only the files it was given
            continue
        if rule == SYNTAX_ERROR:
            syntax_errors.setdefault(reported, []).append(v)
            continue
        if rule in (GENERATED_EXCLUDED if file.generated else USER_EXCLUDED):
            continue
        hint = _text(v.get("help"))
        if not file.generated:
            hint = _MIGRATE_HINTS.get(rule, hint)
            if note := _MIGRATE_NOTES.get(rule):
                hint = f"{hint}\n{note}" if hint else note
        out.append(Diagnostic(f"squawk:{rule}", _text(v.get("message")) or rule, _span(file, v), hint, "warning"))
    for reported, errors in syntax_errors.items():
        file = files[os.path.normcase(os.path.normpath(os.path.join(root, reported)))]
        first = min(errors, key=lambda e: (_int(e.get("line")), _int(e.get("column"))))
        more = f" (and {len(errors) - 1} more parse errors)" if len(errors) > 1 else ""
        message = f"squawk cannot parse this file: {_text(first.get('message')) or 'syntax error'}{more}"
        out.append(Diagnostic(f"squawk:{SYNTAX_ERROR}", message, _span(file, first), _SYNTAX_HINT, "warning"))
    return out


_SYNTAX_HINT = (
    "squawk checked none of its rules in this file; if PostgreSQL accepts the statement, squawk's parser does "
    'not know it yet: ignore = ["squawk:syntax-error"] in [lint]'
)


def _span(file: _File, violation: dict[str, object]) -> Span:
    line, line_end = _int(violation.get("line")), _int(violation.get("line_end"))
    column = _column(file, line, _int(violation.get("column")))
    length = 0
    if line_end == line:
        length = max(_column(file, line, _int(violation.get("column_end"))) - column, 0)
    return Span(file.display, line + 1, column, length)


def _column(file: _File, line: int, byte_column: int) -> int:
    """squawk's 0-based byte offset in a line (its lines end at \\n) as a 1-based column of characters."""
    lines = file.lines
    if not 0 <= line < len(lines):
        return byte_column + 1
    return len(lines[line][:byte_column].decode("utf-8", "replace")) + 1


def _not_utf8(file: _File, exc: UnicodeDecodeError) -> Diagnostic:
    before = file.data[: exc.start]
    line = before.count(b"\n")
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
    return Diagnostic(
        f"squawk:{SYNTAX_ERROR}",
        f"squawk cannot read this file: it is not UTF-8 (byte 0x{file.data[exc.start]:02x})",
        Span(file.display, line + 1, column, 1),
        "save it as UTF-8: fraiseql migrate reads SQL files as UTF-8, and PostgreSQL receives them so",
        "warning",
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


__all__ = ["GENERATED_EXCLUDED", "PG_VERSION", "USER_EXCLUDED", "squawk_findings", "squawk_path"]
