"""Access cases as a reviewer writes them: ``access_tests/*.toml`` next to the schema, read and checked
against the manifest before anything runs. A case naming an unknown operation, argument, field or identity
is an error with its file and line (FQL500-FQL504), never a failed case.

A file::

    [identities.bob]                       # shared by every file of the folder
    sub = "00000000-0000-0000-0000-00000000000b"
    scopes = ["read:posts"]

    [data]                                 # loaded before this file's cases, rolled back after them
    sql = ["data/drafts.sql"]
    rows = [{ table = "tb_post", values = [{ title = "Draft", published = false }] }]

    [[case]]
    name = "Bob sees his own draft, never Alice's"
    as = "bob"
    operation = "posts"
    variables = { where = { published = { eq = false } } }
    expect = { rows_include = [{ title = "Bob here" }], rows_exclude = [{ title = "Alice's draft" }] }
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fraiseql_compiler.diagnostics import Diagnostic, FraiseQLError, Related, Span, diag
from fraiseql_compiler.diagnostics.model import did_you_mean
from fraiseql_compiler.manifest.models import Manifest, MutationEntry, QueryEntry

IdentityKind = Literal["anonymous", "user", "provider", "api_key"]
ANONYMOUS = "anonymous"
_IDENTITY_KEYS = {"sub", "scopes", "claims", "provider", "api_key", "revoked", "description"}
_CASE_KEYS = {"name", "as", "operation", "variables", "expect", "description"}
_EXPECT_KEYS = {"ok", "error", "sqlstate", "result", "rows_include", "rows_exclude", "count"}
_FILE_KEYS = {"identities", "data", "case", "description"}
_DATA_ROWS_KEYS = {"table", "values"}
_SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Identity:
    name: str
    kind: IdentityKind
    span: Span
    sub: str | None = None
    scopes: tuple[str, ...] = ()
    provider: str | None = None  # a [[security.providers]] name
    claims: Mapping[str, Any] = field(default_factory=dict)  # a provider token's claims, as the provider writes them
    api_key: str | None = None  # a static key, as the caller sends it
    key_owner: str | None = None  # a database key created for this subject in each file's setup
    revoked: bool = False

    def describe(self) -> str:
        if self.kind == "anonymous":
            return "anonymous (no credentials)"
        if self.kind == "api_key":
            owner = f" of {self.key_owner}" if self.key_owner else " (static)"
            return f"API key{owner}" + (f" with {', '.join(self.scopes)}" if self.scopes else "")
        if self.kind == "provider":
            return f"{self.provider} token for {self.claims.get('sub', '?')}"
        scopes = f" with {', '.join(self.scopes)}" if self.scopes else ""
        return f"user {self.sub}{scopes}" + (" (revoked token)" if self.revoked else "")


@dataclass(frozen=True)
class Expectation:
    ok: bool | None = None  # True: succeeds (the default when nothing else is expected)
    error: int | str | None = None  # an HTTP status (401) or an error code ("FORBIDDEN")
    sqlstate: str | None = None
    result: Any = None
    has_result: bool = False
    rows_include: tuple[Mapping[str, Any], ...] = ()
    rows_exclude: tuple[Mapping[str, Any], ...] = ()
    count: int | None = None

    @property
    def expects_error(self) -> bool:
        return self.error is not None or self.sqlstate is not None


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # relative to the project root
    span: Span
    identity: str
    operation: str  # GraphQL name
    variables: Mapping[str, Any]
    expect: Expectation

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass(frozen=True)
class DataRows:
    table: str
    values: tuple[Mapping[str, Any], ...]
    span: Span


@dataclass(frozen=True)
class CaseFile:
    path: Path
    file: str  # relative to the project root
    sql: tuple[tuple[Path, Span], ...]
    rows: tuple[DataRows, ...]
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class Suite:
    files: tuple[CaseFile, ...]
    identities: Mapping[str, Identity]

    @property
    def cases(self) -> tuple[Case, ...]:
        return tuple(c for f in self.files for c in f.cases)

    def under(self, path: Path) -> Suite:
        """Only the files at or below ``path`` (a case file or a folder), with the identities of every file:
        what ``fraiseql test access_tests/posts.toml`` runs."""
        target = path.resolve()
        files = tuple(f for f in self.files if f.path.resolve() == target or target in f.path.resolve().parents)
        return Suite(files, self.identities)

    def relocated(self, prefix: str) -> Suite:
        """The same suite with every file named from another directory (``prefix``: the project's path
        from there), so that reports point at the files from where the command runs."""
        if prefix in ("", "."):
            return self

        def moved(span: Span) -> Span:
            return dataclasses.replace(span, file=f"{prefix}/{span.file}") if not span.file.startswith("<") else span

        files = tuple(
            dataclasses.replace(
                f,
                file=f"{prefix}/{f.file}",
                sql=tuple((path, moved(span)) for path, span in f.sql),
                rows=tuple(dataclasses.replace(r, span=moved(r.span)) for r in f.rows),
                cases=tuple(dataclasses.replace(c, file=f"{prefix}/{c.file}", span=moved(c.span)) for c in f.cases),
            )
            for f in self.files
        )
        identities = {name: dataclasses.replace(i, span=moved(i.span)) for name, i in self.identities.items()}
        return Suite(files, identities)


class _Reader:
    """One file: its TOML, line numbers for key paths, and the problems found in it."""

    def __init__(self, path: Path, rel: str, problems: list[Diagnostic]) -> None:
        from fraiseql_compiler.config.lines import LineIndex

        self.path, self.rel, self.problems = path, rel, problems
        self.data: dict[str, Any] = {}
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.lines = LineIndex("")
            reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else exc.strerror or type(exc).__name__
            self.problem("FQL500", f"cannot read the case file: {reason}", (), line=0)
            return
        self.lines = LineIndex(text)
        try:
            self.data = _plain(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 0
            self.problem("FQL500", f"not valid TOML: {exc}", (), line=line)

    def span(self, loc: tuple[str | int, ...], line: int | None = None) -> Span:
        return Span(self.rel, line if line is not None else (self.lines.line_of(loc) if loc else 0))

    def problem(
        self,
        code: str,
        message: str,
        loc: tuple[str | int, ...],
        hint: str | None = None,
        line: int | None = None,
        related: tuple[Related, ...] = (),
    ) -> None:
        self.problems.append(diag(code, message, self.span(loc, line), hint, related))


def _plain(value: Any) -> Any:
    """TOML's dates and times as the ISO strings a JSON answer (and a JSON variable) holds them in."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.date | datetime.time):  # datetime is a date
        return value.isoformat()
    return value


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _identity(r: _Reader, name: str, raw: Any) -> Identity | None:
    loc: tuple[str | int, ...] = ("identities", name)
    if not isinstance(raw, dict):
        r.problem("FQL504", f'identity "{name}" must be a table', loc, 'write [identities.bob] sub = "…"')
        return None
    unknown = sorted(set(raw) - _IDENTITY_KEYS)
    if unknown:
        r.problem(
            "FQL504",
            f'identity "{name}" has unknown key(s) {", ".join(unknown)}',
            (*loc, unknown[0]),
            did_you_mean(unknown[0], _IDENTITY_KEYS) or "an identity takes: " + ", ".join(sorted(_IDENTITY_KEYS)),
        )
        return None
    scopes = raw.get("scopes", [])
    if not _strings(scopes):
        r.problem("FQL504", f'identity "{name}": scopes must be a list of strings', (*loc, "scopes"))
        return None
    revoked = raw.get("revoked", False)
    if not isinstance(revoked, bool):
        r.problem("FQL504", f'identity "{name}": revoked must be true or false', (*loc, "revoked"))
        return None
    span = r.span(loc)
    if "api_key" in raw:
        key = raw["api_key"]
        if revoked:
            r.problem(
                "FQL504",
                f'identity "{name}": revoked applies to tokens, not to API keys',
                (*loc, "revoked"),
                'a key nobody created is refused already: api_key = "not-a-key"',
            )
            return None
        if isinstance(key, str) and key:
            return Identity(name, "api_key", span, scopes=tuple(scopes), api_key=key)
        if isinstance(key, dict) and isinstance(key.get("owner"), str) and set(key) <= {"owner", "scopes"}:
            key_scopes: Any = key.get("scopes", scopes)
            if _strings(key_scopes):
                return Identity(name, "api_key", span, scopes=tuple(key_scopes), key_owner=key["owner"])
        r.problem(
            "FQL504",
            f'identity "{name}": api_key must be a static key (a string) or {{ owner = "<user id>", scopes = [...] }}',
            (*loc, "api_key"),
            'a key created for its owner before the cases: api_key = { owner = "…", scopes = ["read:posts"] }',
        )
        return None
    if "provider" in raw:
        claims = raw.get("claims", {})
        if not isinstance(raw["provider"], str) or not isinstance(claims, dict):
            r.problem(
                "FQL504",
                f'identity "{name}": provider must name a [[security.providers]] entry, with claims as a table',
                (*loc, "provider"),
            )
            return None
        return Identity(name, "provider", span, provider=raw["provider"], claims=dict(claims), revoked=revoked)
    if "claims" in raw:
        r.problem(
            "FQL504",
            f'identity "{name}": claims are a provider token\'s; a first-party token has a sub and scopes',
            (*loc, "claims"),
            'add provider = "<a [[security.providers]] name>", or write sub = "…" and scopes = [...]',
        )
        return None
    if not isinstance(raw.get("sub"), str) or not raw["sub"]:
        r.problem(
            "FQL504",
            f'identity "{name}" needs a sub (a user id), a provider or an api_key',
            (*loc, "sub") if "sub" in raw else loc,
            'write sub = "<the user id>" (and scopes = [...])',
        )
        return None
    return Identity(name, "user", span, sub=raw["sub"], scopes=tuple(scopes), revoked=revoked)


def _argument_names(op: QueryEntry | MutationEntry) -> set[str]:
    names = {a.graphql_name for a in op.arguments} | {a.name for a in op.arguments}
    if isinstance(op, QueryEntry) and op.paging is not None:
        names |= set(op.paging.arguments)
    return names


def _row_fields(manifest: Manifest, op: QueryEntry | MutationEntry) -> set[str] | None:
    """The GraphQL names a row of the operation's result has (None: not an object, not checked)."""
    ref = op.returns
    while ref.of is not None:
        ref = ref.of
    t = next((t for t in manifest.types if t.name == ref.name), None)
    return {f.graphql_name for f in t.fields} if t is not None else None


def _expectation(r: _Reader, loc: tuple[str | int, ...], raw: Any, fields: set[str] | None) -> Expectation | None:
    if raw is None:
        return Expectation(ok=True)
    if not isinstance(raw, dict):
        r.problem("FQL503", "expect must be a table", loc, "write expect = { error = 401 } or expect = { count = 2 }")
        return None
    unknown = sorted(set(raw) - _EXPECT_KEYS)
    if unknown:
        r.problem(
            "FQL503",
            f"expect has unknown key(s) {', '.join(unknown)}",
            (*loc, unknown[0]),
            did_you_mean(unknown[0], _EXPECT_KEYS) or "expect takes: " + ", ".join(sorted(_EXPECT_KEYS)),
        )
        return None
    ok = raw.get("ok")
    if ok is not None and not isinstance(ok, bool):
        r.problem("FQL503", "expect.ok must be true or false", (*loc, "ok"))
        return None
    error = raw.get("error")
    if error is not None and (
        isinstance(error, bool)
        or not ((isinstance(error, str) and error) or (isinstance(error, int) and 400 <= error <= 599))
    ):
        r.problem("FQL503", 'expect.error must be an HTTP status (401) or an error code ("FORBIDDEN")', (*loc, "error"))
        return None
    sqlstate = raw.get("sqlstate")
    if sqlstate is not None and not (isinstance(sqlstate, str) and _SQLSTATE.match(sqlstate)):
        r.problem(
            "FQL503",
            "expect.sqlstate must be a SQLSTATE: five digits or capital letters",
            (*loc, "sqlstate"),
            'write sqlstate = "42501" (insufficient privilege) or "PT404"',
        )
        return None
    expects_error = error is not None or sqlstate is not None
    if ok is False and not expects_error:
        r.problem(
            "FQL503",
            "expect.ok = false says the operation fails, but not how",
            (*loc, "ok"),
            'name the refusal: expect = { error = 401 }, { error = 403 }, { error = "NOT_FOUND" } or { sqlstate = … }',
        )
        return None
    rows: dict[str, tuple[Mapping[str, Any], ...]] = {}
    for key in ("rows_include", "rows_exclude"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) and v for v in value):
            r.problem(
                "FQL503",
                f"expect.{key} must be a list of rows, each a table of field values",
                (*loc, key),
                f'write {key} = [{{ title = "Hello" }}]',
            )
            return None
        for index, row in enumerate(value):
            bad = sorted(k for k in row if fields is not None and k not in fields)
            if bad:
                r.problem(
                    "FQL503",
                    f"expect.{key} names the field(s) {', '.join(bad)}, which the rows do not have",
                    (*loc, key, index),
                    did_you_mean(bad[0], fields or ())
                    or "name fields by their GraphQL names: " + ", ".join(sorted(fields or ())),
                )
                return None
        rows[key] = tuple(value)
    count = raw.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        r.problem("FQL503", "expect.count must be a number of rows (0 or more)", (*loc, "count"))
        return None
    expects_data = "result" in raw or rows["rows_include"] or rows["rows_exclude"] or count is not None
    if expects_error and (expects_data or ok is True):
        r.problem("FQL503", "expect asks for an error and for a result", loc, "a case expects one or the other")
        return None
    return Expectation(
        ok=not expects_error,
        error=error,
        sqlstate=sqlstate,
        result=raw.get("result"),
        has_result="result" in raw,
        rows_include=rows["rows_include"],
        rows_exclude=rows["rows_exclude"],
        count=count,
    )


def _where_keys(where: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Every (path, field, operators) of a where, through and/or/not."""
    if not isinstance(where, dict):
        return
    for key, value in where.items():
        if key in ("and", "or") and isinstance(value, list):
            for i, item in enumerate(value):
                yield from _where_keys(item, (*path, key, i))
        elif key == "not":
            yield from _where_keys(value, (*path, key))
        else:
            yield (*path, key), key, value


def _check_where(r: _Reader, loc: tuple[str | int, ...], name: str, op: QueryEntry, where: Any) -> bool:
    assert op.paging is not None
    operators = {f.graphql_name: set(f.operators) for f in op.paging.fields if f.operators}
    for path, key, value in _where_keys(where):
        if key not in operators:
            r.problem(
                "FQL503",
                f'case "{name}": {op.graphql_name} cannot filter on {key}',
                (*loc, "variables", "where", *path),
                did_you_mean(key, operators)
                or "it filters on: " + (", ".join(sorted(operators)) or "nothing (no field has filter=True)"),
            )
            return False
        bad = sorted(k for k in value if k not in operators[key]) if isinstance(value, dict) else []
        if bad:
            r.problem(
                "FQL503",
                f'case "{name}": {op.graphql_name} has no operator {bad[0]} on {key}',
                (*loc, "variables", "where", *path, bad[0]),
                did_you_mean(bad[0], operators[key]) or f"{key} takes: " + ", ".join(sorted(operators[key])),
            )
            return False
    return True


def _case(
    r: _Reader,
    i: int,
    raw: Any,
    manifest: Manifest,
    identities: Mapping[str, Identity],
    broken: set[str],
) -> Case | None:
    loc: tuple[str | int, ...] = ("case", i)
    if not isinstance(raw, dict):
        r.problem("FQL500", "each [[case]] must be a table", loc)
        return None
    unknown = sorted(set(raw) - _CASE_KEYS)
    if unknown:
        r.problem(
            "FQL500",
            f"[[case]] has unknown key(s) {', '.join(unknown)}",
            (*loc, unknown[0]),
            did_you_mean(unknown[0], _CASE_KEYS) or "a case takes: " + ", ".join(sorted(_CASE_KEYS)),
        )
        return None
    name, who, operation = raw.get("name"), raw.get("as"), raw.get("operation")
    if not isinstance(name, str) or not name.strip():
        r.problem("FQL500", "a case needs a name", loc, 'write name = "anonymous cannot read drafts"')
        return None
    name = name.strip()
    if not isinstance(who, str):
        r.problem(
            "FQL502", f'case "{name}" needs as = "<identity>"', loc, "name one of: " + ", ".join(sorted(identities))
        )
        return None
    # a case as an identity whose declaration is reported already is checked all the same, and then dropped
    if who not in identities and who not in broken:
        r.problem(
            "FQL502",
            f'case "{name}" runs as "{who}", which no [identities] table declares',
            (*loc, "as"),
            did_you_mean(who, identities) or "declared: " + ", ".join(sorted(identities)),
        )
        return None
    known = [q.graphql_name for q in manifest.queries] + [m.graphql_name for m in manifest.mutations]
    if not isinstance(operation, str) or not operation:
        r.problem(
            "FQL501",
            f'case "{name}" needs operation = "<a query or mutation>"',
            (*loc, "operation") if "operation" in raw else loc,
            "operations: " + ", ".join(sorted(known)),
        )
        return None
    op = manifest.operation(operation)
    if op is None:
        r.problem(
            "FQL501",
            f'case "{name}" runs "{operation}", which is not an operation of the schema',
            (*loc, "operation"),
            did_you_mean(operation, known) or "operations: " + ", ".join(sorted(known)),
        )
        return None
    variables = raw.get("variables", {})
    if not isinstance(variables, dict):
        r.problem("FQL503", f'case "{name}": variables must be a table', (*loc, "variables"))
        return None
    names = _argument_names(op)
    unknown = sorted(k for k in variables if k not in names)
    if unknown:
        r.problem(
            "FQL503",
            f'case "{name}": {op.graphql_name} takes no argument {", ".join(unknown)}',
            (*loc, "variables", unknown[0]),
            did_you_mean(unknown[0], names) or "it takes: " + (", ".join(sorted(names)) or "none"),
        )
        return None
    where = variables.get("where")
    if (
        isinstance(op, QueryEntry)
        and op.paging is not None
        and where is not None
        and not _check_where(r, loc, name, op, where)
    ):
        return None
    expect = _expectation(r, (*loc, "expect"), raw.get("expect"), _row_fields(manifest, op))
    if expect is None or who in broken:
        return None
    return Case(name, r.rel, r.span(loc), who, op.graphql_name, dict(variables), expect)


def _data(r: _Reader, raw: Any) -> tuple[tuple[tuple[Path, Span], ...], tuple[DataRows, ...]]:
    if raw is None:
        return (), ()
    if not isinstance(raw, dict) or not set(raw) <= {"sql", "rows"}:
        unknown = sorted(set(raw) - {"sql", "rows"}) if isinstance(raw, dict) else []
        r.problem(
            "FQL504",
            "[data] takes sql (files) and rows (inline rows)" + (f", not {', '.join(unknown)}" if unknown else ""),
            ("data", unknown[0]) if unknown else ("data",),
            'write sql = ["data/posts.sql"] or rows = [{ table = "tb_post", values = [{ ... }] }]',
        )
        return (), ()
    sql: list[tuple[Path, Span]] = []
    files = raw.get("sql", [])
    if not _strings(files):
        r.problem("FQL504", "[data] sql must be a list of SQL files, relative to this file", ("data", "sql"))
        files = []
    for i, name in enumerate(files):
        path = (r.path.parent / name).resolve()
        if not path.is_file():
            r.problem("FQL504", f"[data] sql names {name}, which does not exist", ("data", "sql", i))
        else:
            sql.append((path, r.span(("data", "sql", i))))
    rows: list[DataRows] = []
    entries = raw.get("rows", [])
    if not isinstance(entries, list):
        r.problem("FQL504", '[data] rows must be a list: rows = [{ table = "…", values = [...] }]', ("data", "rows"))
        entries = []
    for i, entry in enumerate(entries):
        loc: tuple[str | int, ...] = ("data", "rows", i)
        values = entry.get("values") if isinstance(entry, dict) else None
        if (
            not isinstance(entry, dict)
            or not set(entry) <= _DATA_ROWS_KEYS
            or not isinstance(entry.get("table"), str)
            or not entry["table"]
            or not isinstance(values, list)
            or not values
            or not all(isinstance(v, dict) and v for v in values)
        ):
            r.problem("FQL504", 'each [data] rows entry is { table = "…", values = [{ column = value, … }] }', loc)
            continue
        rows.append(DataRows(entry["table"], tuple(values), r.span(loc)))
    return tuple(sql), tuple(rows)


def case_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.toml") if p.is_file())


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def load_suite(paths: list[Path], root: Path, manifest: Manifest, pattern: str | None = None) -> Suite:
    """Every case of ``paths`` checked against ``manifest``; FQL500-FQL504 for any problem, all at once.
    ``pattern`` (``-k``) keeps the cases it matches; every case is checked all the same."""
    problems: list[Diagnostic] = []
    selected = _pattern(pattern) if pattern is not None else None
    readers = [_Reader(path, _relative(path, root), problems) for path in paths]
    identities: dict[str, Identity] = {
        ANONYMOUS: Identity(ANONYMOUS, "anonymous", Span("<built in>", 0)),
    }
    broken: set[str] = set()
    for r in readers:
        unknown = sorted(set(r.data) - _FILE_KEYS)
        if unknown:
            hint = did_you_mean(unknown[0], _FILE_KEYS)
            r.problem(
                "FQL500",
                f"unknown table or key {', '.join(unknown)}",
                (unknown[0],),
                hint or "a case file has [identities.<name>], [data] and [[case]] tables",
            )
        raw = r.data.get("identities", {})
        if not isinstance(raw, dict):
            r.problem("FQL504", "identities must be tables: [identities.<name>]", ("identities",))
            raw = {}
        for name, value in raw.items():
            if name == ANONYMOUS or not _NAME.match(name):
                r.problem(
                    "FQL504",
                    f'"{name}" cannot name an identity',
                    ("identities", name),
                    "anonymous is built in; names are letters, digits, _ . -",
                )
                continue
            identity = _identity(r, name, value)
            if identity is None:
                broken.add(name)
                continue
            first = identities.get(name)
            if first is not None and dataclasses.replace(first, span=identity.span) != identity:
                r.problem(
                    "FQL504",
                    f'identity "{name}" is declared twice, differently',
                    ("identities", name),
                    "declare it once (identities are shared by every file), or give one of them another name",
                    related=(Related(first.span, "first declared here"),),
                )
                broken.add(name)
                continue
            identities.setdefault(name, identity)
    for name in broken:
        identities.pop(name, None)
    files = []
    for r in readers:
        sql, rows = _data(r, r.data.get("data"))
        raw_cases = r.data.get("case", [])
        if not isinstance(raw_cases, list):
            r.problem(
                "FQL500",
                "cases are an array of tables: write [[case]] (two brackets) before each case",
                ("case",),
            )
            raw_cases = []
        cases = []
        seen: dict[str, Span] = {}
        for i, raw in enumerate(raw_cases):
            case = _case(r, i, raw, manifest, identities, broken)
            if case is None:
                continue
            if case.name in seen:
                problems.append(
                    diag(
                        "FQL500",
                        f'two cases are named "{case.name}"',
                        case.span,
                        "names identify cases in reports and for -k: make them unique in a file",
                        (Related(seen[case.name], "first named here"),),
                    )
                )
                continue
            seen[case.name] = case.span
            if selected is None or selected(case.id):
                cases.append(case)
        files.append(CaseFile(r.path, r.rel, sql, rows, tuple(cases)))
    declared = [p.name for p in manifest.config.security.providers]
    for ident in identities.values():
        if ident.kind == "provider" and ident.provider not in declared:
            problems.append(
                diag(
                    "FQL504",
                    f'identity "{ident.name}" names the provider "{ident.provider}", which fraiseql.toml does not '
                    "declare",
                    ident.span,
                    did_you_mean(str(ident.provider), declared)
                    or "declared: " + (", ".join(declared) or "none ([[security.providers]])"),
                )
            )
    if problems:
        raise FraiseQLError(problems)
    return Suite(tuple(files), identities)


# --- -k ------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


def _pattern(pattern: str) -> Any:
    """pytest's ``-k``: words matched (case-insensitively) as substrings of a case's ``file::name``,
    combined with ``and``, ``or``, ``not`` and parentheses; words side by side must all match."""
    tokens = [t.lower() for t in _TOKEN.findall(pattern)]
    pos = 0

    def bad(why: str) -> FraiseQLError:
        return FraiseQLError(
            [
                diag(
                    "FQL500",
                    f"-k {pattern!r} is not a selection: {why}",
                    hint='words, and/or/not and parentheses: -k "posts and not anonymous"',
                )
            ]
        )

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def either() -> Any:
        terms = [both()]
        while peek() == "or":
            take()
            terms.append(both())
        return lambda text: any(t(text) for t in terms)

    def both() -> Any:
        terms = [negated()]
        while peek() not in (None, "or", ")"):
            if peek() == "and":
                take()
            terms.append(negated())
        return lambda text: all(t(text) for t in terms)

    def negated() -> Any:
        token = peek()
        if token is None:
            raise bad("it ends too soon")
        if token == "not":
            take()
            inner = negated()
            return lambda text: not inner(text)
        if token == "(":
            take()
            inner = either()
            if peek() != ")":
                raise bad("a parenthesis is not closed")
            take()
            return inner
        if token in ("and", "or", ")"):
            raise bad(f"unexpected {token!r}")
        word = take()
        return lambda text: word in text

    if not tokens:
        raise bad("it is empty")
    test = either()
    if pos != len(tokens):
        raise bad(f"unexpected {tokens[pos]!r}")
    return lambda case_id: bool(test(case_id.lower()))


def _matches(pattern: str, case: Case) -> bool:
    return bool(_pattern(pattern)(case.id))
