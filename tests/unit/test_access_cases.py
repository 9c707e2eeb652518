"""``fraiseql test`` without a database: access case files checked against the blog's manifest (every
load-time error with its code, file and line), ``-k``, the expectations (``compare``), and every report
format on synthetic runs (text, JSON, GitHub annotations and step summary, JUnit XML)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from fraiseql_compiler.api import analyze, emit
from fraiseql_compiler.cli.app import app
from fraiseql_compiler.diagnostics import Diagnostic, FraiseQLError, Span
from fraiseql_compiler.manifest import MANIFEST_FILE
from fraiseql_compiler.manifest.models import Manifest
from fraiseql_compiler.project import resolve_project
from fraiseql_compiler.testing import report as render
from fraiseql_compiler.testing.cases import Case, Expectation, Identity, Suite, case_files, load_suite
from fraiseql_compiler.testing.matrix import Cell, ObservedMatrix
from fraiseql_compiler.testing.runner import Outcome, Report, compare, matches, rows_of
from tests.cases import REPO

ALICE = "00000000-0000-0000-0000-00000000000a"
BOB = "00000000-0000-0000-0000-00000000000b"

IDENTITIES = f"""
[identities.alice]
sub = "{ALICE}"
scopes = ["read:posts", "write:posts"]

[identities.bob]
sub = "{BOB}"
scopes = ["read:posts"]
"""


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """The blog's manifest, built in memory from a copy (the example may change while the tests run)."""
    root = tmp_path_factory.mktemp("blog") / "blog"
    shutil.copytree(REPO / "examples" / "blog", root, ignore=shutil.ignore_patterns("build", "access_tests"))
    artifacts = {a.path: a.content for a in emit(analyze(resolve_project(root)))}
    return Manifest.model_validate_json(artifacts[MANIFEST_FILE])


def write(root: Path, files: Mapping[str, str]) -> list[Path]:
    folder = root / "access_tests"
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return case_files(folder)


def load(root: Path, manifest: Manifest, files: Mapping[str, str], pattern: str | None = None) -> Suite:
    return load_suite(write(root, files), root, manifest, pattern)


def problems(root: Path, manifest: Manifest, files: Mapping[str, str], pattern: str | None = None) -> list[Diagnostic]:
    with pytest.raises(FraiseQLError) as info:
        load(root, manifest, files, pattern)
    return info.value.diagnostics


def only(root: Path, manifest: Manifest, files: Mapping[str, str]) -> Diagnostic:
    found = problems(root, manifest, files)
    assert len(found) == 1, [f"{d.span}: {d.code} {d.message}" for d in found]
    return found[0]


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the nth occurrence of ``needle``."""
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[nth - 1]


def case(body: str, name: str = "c", who: str = "bob", operation: str = "posts") -> str:
    return f'\n[[case]]\nname = "{name}"\nas = "{who}"\noperation = "{operation}"\n{body}\n'


# --- loading: a valid suite --------------------------------------------------------------------------------


def test_a_valid_suite_loads_with_every_kind_of_identity_data_and_expectation(
    tmp_path: Path, manifest: Manifest
) -> None:
    (tmp_path / "access_tests" / "data").mkdir(parents=True)
    (tmp_path / "access_tests" / "data" / "drafts.sql").write_text("SELECT 1;\n", encoding="utf-8")
    posts = (
        IDENTITIES
        + f"""
[identities.reporting_key]
api_key = {{ owner = "{ALICE}", scopes = ["read:users"] }}

[identities.static_key]
api_key = "not-a-key"
scopes = ["read:posts"]

[identities.gone]
sub = "{BOB}"
revoked = true

[data]
sql = ["data/drafts.sql"]
rows = [
  {{ table = "public.tb_post", values = [{{ title = "Draft", author_id = "{ALICE}", published = false }}] }},
]
"""
        + case("expect = { error = 401 }", "anonymous is refused", "anonymous")
        + case(
            "variables = { limit = 5, where = { published = { eq = false } } }\n"
            'expect = { rows_include = [{ title = "Bob here" }], rows_exclude = [{ title = "Draft" }], count = 1 }',
            "Bob's drafts",
        )
        + case("", "Alice reads her posts", "alice", "my_posts")  # a Python name is accepted
        + case('expect = { error = "FORBIDDEN", sqlstate = "42501" }', "refused in the database", "gone")
        + case("expect = { result = [{ createdAt = 2024-01-02T03:04:05Z }] }", "a TOML datetime is a string")
    )
    suite = load(tmp_path, manifest, {"posts.toml": posts, "empty.toml": "# nothing here yet\n"})

    assert [f.file for f in suite.files] == ["access_tests/empty.toml", "access_tests/posts.toml"]
    f = suite.files[1]
    assert [c.name for c in f.cases] == [
        "anonymous is refused",
        "Bob's drafts",
        "Alice reads her posts",
        "refused in the database",
        "a TOML datetime is a string",
    ]
    anonymous, drafts, mine, refused, dated = f.cases
    assert anonymous.span == Span("access_tests/posts.toml", line_of(posts, "[[case]]"))
    assert drafts.span.line == line_of(posts, "[[case]]", 2)
    assert anonymous.id == "access_tests/posts.toml::anonymous is refused"
    assert anonymous.expect.error == 401 and anonymous.expect.expects_error
    assert drafts.variables == {"limit": 5, "where": {"published": {"eq": False}}}
    assert drafts.expect == Expectation(
        ok=True, rows_include=({"title": "Bob here"},), rows_exclude=({"title": "Draft"},), count=1
    )
    assert mine.operation == "myPosts" and mine.expect == Expectation(ok=True)
    assert refused.expect.error == "FORBIDDEN" and refused.expect.sqlstate == "42501" and refused.expect.ok is False
    assert dated.expect.has_result and dated.expect.result == [{"createdAt": "2024-01-02T03:04:05+00:00"}]

    assert [p for p, _ in f.sql] == [(tmp_path / "access_tests" / "data" / "drafts.sql").resolve()]
    assert f.sql[0][1].line == line_of(posts, "sql = ")
    (rows,) = f.rows
    assert rows.table == "public.tb_post" and rows.values[0]["title"] == "Draft"
    assert rows.span.line == line_of(posts, "table = ")

    ids = suite.identities
    assert set(ids) == {"anonymous", "alice", "bob", "reporting_key", "static_key", "gone"}
    assert ids["anonymous"].kind == "anonymous" and ids["anonymous"].describe() == "anonymous (no credentials)"
    assert ids["alice"].kind == "user" and ids["alice"].scopes == ("read:posts", "write:posts")
    assert ids["alice"].describe() == f"user {ALICE} with read:posts, write:posts"
    assert ids["alice"].span.line == line_of(posts, "[identities.alice]")
    assert ids["reporting_key"].kind == "api_key" and ids["reporting_key"].key_owner == ALICE
    assert ids["reporting_key"].describe() == f"API key of {ALICE} with read:users"
    assert (
        ids["static_key"].api_key == "not-a-key" and ids["static_key"].describe() == "API key (static) with read:posts"
    )
    assert ids["gone"].revoked and ids["gone"].describe() == f"user {BOB} (revoked token)"


def test_identities_are_shared_by_every_file_and_may_be_repeated_identically(
    tmp_path: Path, manifest: Manifest
) -> None:
    suite = load(
        tmp_path,
        manifest,
        {
            "a_identities.toml": IDENTITIES,
            "b_posts.toml": IDENTITIES + case("expect = { count = 2 }"),  # the same declarations again
            "nested/c.toml": case("", who="alice"),
        },
    )
    assert [c.id for c in suite.cases] == ["access_tests/b_posts.toml::c", "access_tests/nested/c.toml::c"]
    assert suite.identities["bob"].span.file == "access_tests/a_identities.toml"  # the first declaration


# --- loading: every error, with its code, file and line ------------------------------------------------------


def test_an_unknown_operation_is_fql501_with_did_you_mean(tmp_path: Path, manifest: Manifest) -> None:
    text = IDENTITIES + case("", operation="postz")
    d = only(tmp_path, manifest, {"posts.toml": text})
    assert d.code == "FQL501" and d.span == Span("access_tests/posts.toml", line_of(text, 'operation = "postz"'))
    assert d.message == 'case "c" runs "postz", which is not an operation of the schema'
    assert d.hint == 'did you mean "posts"?'

    far = IDENTITIES + case("", operation="zzzzzz")
    d = only(tmp_path, manifest, {"posts.toml": far})
    assert d.code == "FQL501" and d.hint is not None and d.hint.startswith("operations: ") and "createPost" in d.hint

    missing = IDENTITIES + '\n[[case]]\nname = "no operation"\nas = "bob"\n'
    d = only(tmp_path, manifest, {"posts.toml": missing})
    assert d.code == "FQL501" and 'needs operation = "<a query or mutation>"' in d.message
    assert d.span is not None and d.span.line == line_of(missing, "[[case]]")


def test_an_unknown_identity_is_fql502_with_did_you_mean(tmp_path: Path, manifest: Manifest) -> None:
    text = IDENTITIES + case("", who="bobb")
    d = only(tmp_path, manifest, {"posts.toml": text})
    assert d.code == "FQL502" and d.span == Span("access_tests/posts.toml", line_of(text, 'as = "bobb"'))
    assert d.message == 'case "c" runs as "bobb", which no [identities] table declares'
    assert d.hint == 'did you mean "bob"?'

    no_as = IDENTITIES + '\n[[case]]\nname = "who"\noperation = "posts"\n'
    d = only(tmp_path, manifest, {"posts.toml": no_as})
    assert d.code == "FQL502" and d.message == 'case "who" needs as = "<identity>"'
    assert d.hint == "name one of: alice, anonymous, bob"


@pytest.mark.parametrize(
    ("body", "needle", "message", "hint"),
    [
        pytest.param(
            "variables = { limt = 5 }",
            "limt",
            'case "c": posts takes no argument limt',
            'did you mean "limit"?',
            id="variable",
        ),
        pytest.param(
            "variables = { where = { titel = { eq = 1 } } }",
            "titel",
            'case "c": posts cannot filter on titel',
            "it filters on: published",
            id="where-field",
        ),
        pytest.param(
            "variables = { where = { or = [{ published = { eq = true } }, { body = { eq = 1 } }] } }",
            "body",
            'case "c": posts cannot filter on body',
            "it filters on: published",
            id="where-field-in-or",
        ),
        pytest.param(
            "variables = { where = { published = { eqq = true } } }",
            "eqq",
            'case "c": posts has no operator eqq on published',
            'did you mean "eq"?',
            id="where-operator",
        ),
        pytest.param(
            'expect = { rows_include = [\n  { title = "Hello" },\n  { titel = "Bob here" },\n] }',
            "titel",
            "expect.rows_include names the field(s) titel, which the rows do not have",
            'did you mean "title"?',
            id="rows-include-field",
        ),
        pytest.param(
            'expect = { rows_exclude = [{ zzz = "Hello" }] }',
            "zzz",
            "expect.rows_exclude names the field(s) zzz, which the rows do not have",
            "name fields by their GraphQL names: ",
            id="rows-exclude-field",
        ),
        pytest.param(
            "expect = { cuont = 2 }",
            "cuont",
            "expect has unknown key(s) cuont",
            'did you mean "count"?',
            id="expect-key",
        ),
        pytest.param(
            "expect = { error = 200 }",
            "error = 200",
            'expect.error must be an HTTP status (401) or an error code ("FORBIDDEN")',
            None,
            id="expect-error-status",
        ),
        pytest.param(
            'expect = { sqlstate = "425" }',
            "sqlstate",
            "expect.sqlstate must be a SQLSTATE: five digits or capital letters",
            'write sqlstate = "42501" (insufficient privilege) or "PT404"',
            id="expect-sqlstate",
        ),
        pytest.param(
            "expect = { count = -1 }",
            "count",
            "expect.count must be a number of rows (0 or more)",
            None,
            id="expect-count",
        ),
        pytest.param(
            "expect = { error = 403, count = 1 }",
            "expect",
            "expect asks for an error and for a result",
            "a case expects one or the other",
            id="error-and-result",
        ),
        pytest.param(
            "expect = { ok = false }",
            "ok = false",
            "expect.ok = false says the operation fails, but not how",
            None,
            id="ok-false-alone",
        ),
        pytest.param(
            'expect = { ok = "yes" }',
            "ok = ",
            "expect.ok must be true or false",
            None,
            id="ok-not-a-bool",
        ),
        pytest.param(
            'expect = "fine"',
            "expect",
            "expect must be a table",
            "write expect = { error = 401 } or expect = { count = 2 }",
            id="expect-not-a-table",
        ),
    ],
)
def test_unknown_names_in_a_case_are_fql503_at_their_line(
    tmp_path: Path, manifest: Manifest, body: str, needle: str, message: str, hint: str | None
) -> None:
    text = IDENTITIES + case(body)
    d = only(tmp_path, manifest, {"posts.toml": text})
    assert d.code == "FQL503"
    assert d.span == Span("access_tests/posts.toml", line_of(text, needle))
    assert d.message == message
    if hint is not None:
        assert d.hint is not None and d.hint.startswith(hint)


@pytest.mark.parametrize(
    ("text", "needle", "message"),
    [
        pytest.param(
            '[identities.carol]\nsub = "c"\nscoeps = ["read:posts"]\n',
            "scoeps",
            'identity "carol" has unknown key(s) scoeps',
            id="unknown-key",
        ),
        pytest.param(
            '[identities.carol]\nscopes = ["read:posts"]\n',
            "[identities.carol]",
            'identity "carol" needs a sub (a user id), a provider or an api_key',
            id="no-sub",
        ),
        pytest.param(
            '[identities.carol]\nsub = "c"\nscopes = "read:posts"\n',
            "scopes",
            'identity "carol": scopes must be a list of strings',
            id="scopes-not-a-list",
        ),
        pytest.param(
            '[identities.carol]\nsub = "c"\nrevoked = "yes"\n',
            "revoked",
            'identity "carol": revoked must be true or false',
            id="revoked-not-a-bool",
        ),
        pytest.param(
            "[identities.carol]\napi_key = { scopes = [] }\n",
            "api_key",
            'identity "carol": api_key must be a static key (a string) or { owner = "<user id>", scopes = [...] }',
            id="api-key-without-owner",
        ),
        pytest.param(
            '[identities.carol]\napi_key = "k"\nrevoked = true\n',
            "revoked",
            'identity "carol": revoked applies to tokens, not to API keys',
            id="revoked-api-key",
        ),
        pytest.param(
            '[identities.carol]\nsub = "c"\nclaims = { email = "c@example.com" }\n',
            "claims",
            'identity "carol": claims are a provider token\'s; a first-party token has a sub and scopes',
            id="claims-without-provider",
        ),
        pytest.param(
            '[identities.carol]\nprovider = "nobody"\nclaims = { sub = "x" }\n',
            "[identities.carol]",
            'identity "carol" names the provider "nobody", which fraiseql.toml does not declare',
            id="unknown-provider",
        ),
        pytest.param(
            '[identities.anonymous]\nsub = "c"\n',
            "[identities.anonymous]",
            '"anonymous" cannot name an identity',
            id="anonymous-is-built-in",
        ),
        pytest.param(
            '[identities."two words"]\nsub = "c"\n',
            "two words",
            '"two words" cannot name an identity',
            id="bad-name",
        ),
        pytest.param(
            "identities = 3\n", "identities", "identities must be tables: [identities.<name>]", id="not-a-table"
        ),
        pytest.param(
            '[data]\nsql = ["missing.sql"]\n',
            "missing.sql",
            "[data] sql names missing.sql, which does not exist",
            id="sql",
        ),
        pytest.param(
            '[data]\nsql = "x.sql"\n',
            "sql = ",
            "[data] sql must be a list of SQL files, relative to this file",
            id="sql-str",
        ),
        pytest.param(
            '[data]\nrows = [\n  { table = "tb_post", values = [] },\n]\n',
            "table = ",
            'each [data] rows entry is { table = "…", values = [{ column = value, … }] }',
            id="rows-empty",
        ),
        pytest.param(
            '[data]\nrows = [{ tabel = "tb_post", values = [{ title = "x" }] }]\n',
            "tabel",
            'each [data] rows entry is { table = "…", values = [{ column = value, … }] }',
            id="rows-unknown-key",
        ),
        pytest.param(
            '[data]\nrows = { table = "tb_post" }\n',
            "rows = ",
            '[data] rows must be a list: rows = [{ table = "…", values = [...] }]',
            id="rows-not-a-list",
        ),
        pytest.param(
            '[data]\nfiles = ["x.sql"]\n',
            "files",
            "[data] takes sql (files) and rows (inline rows), not files",
            id="data-unknown-key",
        ),
    ],
)
def test_bad_identities_and_data_are_fql504_at_their_line(
    tmp_path: Path, manifest: Manifest, text: str, needle: str, message: str
) -> None:
    d = only(tmp_path, manifest, {"bad.toml": text})
    assert d.code == "FQL504"
    assert d.message == message
    assert d.span == Span("access_tests/bad.toml", line_of(text, needle))


def test_an_identity_declared_twice_differently_is_fql504_pointing_at_both(tmp_path: Path, manifest: Manifest) -> None:
    other = IDENTITIES.replace('scopes = ["read:posts"]\n', 'scopes = ["read:posts", "admin:posts"]\n')
    d = only(tmp_path, manifest, {"a.toml": IDENTITIES, "b.toml": other + case("")})
    assert d.code == "FQL504" and d.message == 'identity "bob" is declared twice, differently'
    assert d.span == Span("access_tests/b.toml", line_of(other, "[identities.bob]"))
    assert [(r.span, r.message) for r in d.related] == [
        (Span("access_tests/a.toml", line_of(IDENTITIES, "[identities.bob]")), "first declared here")
    ]


def test_a_case_as_a_badly_declared_identity_reports_the_declaration_not_an_unknown_identity(
    tmp_path: Path, manifest: Manifest
) -> None:
    text = "[identities.carol]\nsub = 3\n" + case("", who="carol") + case("", "d", who="carol", operation="postz")
    found = problems(tmp_path, manifest, {"c.toml": text})
    assert [(d.code, d.span.line if d.span else 0) for d in found] == [
        ("FQL504", line_of(text, "sub = 3")),
        ("FQL501", line_of(text, "postz")),  # the rest of its cases is checked all the same
    ]


@pytest.mark.parametrize(
    ("text", "needle", "message"),
    [
        pytest.param("[[case]\nname = 1\n", "[[case]", "not valid TOML: ", id="invalid-toml"),
        pytest.param('\n\nname = "loose"\n', "loose", "unknown table or key name", id="unknown-top-level-key"),
        pytest.param("[cases]\n", "[cases]", "unknown table or key cases", id="unknown-table"),
        pytest.param(
            '[case]\nname = "one"\nas = "bob"\noperation = "posts"\n',
            "[case]",
            "cases are an array of tables: write [[case]] (two brackets) before each case",
            id="case-as-a-table",
        ),
        pytest.param(
            case("expected = { count = 1 }"), "expected", "[[case]] has unknown key(s) expected", id="case-unknown-key"
        ),
        pytest.param('[[case]]\nas = "bob"\noperation = "posts"\n', "[[case]]", "a case needs a name", id="no-name"),
        pytest.param(case("", "twice") + case("", "twice"), "[[case]]", 'two cases are named "twice"', id="duplicate"),
    ],
)
def test_bad_case_files_are_fql500_at_their_line(
    tmp_path: Path, manifest: Manifest, text: str, needle: str, message: str
) -> None:
    text = text if "name = 1" in text else text + IDENTITIES  # declared after: identities are read first
    d = only(tmp_path, manifest, {"bad.toml": text})
    assert d.code == "FQL500" and d.message.startswith(message)
    nth = 2 if message.startswith("two cases") else 1
    assert d.span == Span("access_tests/bad.toml", line_of(text, needle, nth))
    if message.startswith("two cases"):
        assert [r.message for r in d.related] == ["first named here"]
        assert d.related[0].span.line == line_of(text, needle)


def test_a_file_that_is_not_utf8_is_fql500(tmp_path: Path, manifest: Manifest) -> None:
    write(tmp_path, {"ok.toml": IDENTITIES})
    (tmp_path / "access_tests" / "latin1.toml").write_bytes(b'# caf\xe9\n[[case]]\nname = "x"\n')
    d = only(tmp_path, manifest, {})
    assert d.code == "FQL500" and d.message == "cannot read the case file: not UTF-8"
    assert d.span == Span("access_tests/latin1.toml", 0)


def test_every_problem_of_every_file_is_reported_at_once_in_file_and_line_order(
    tmp_path: Path, manifest: Manifest
) -> None:
    a = IDENTITIES + case("", "one", operation="postz") + case("", "two", who="nobody")
    b = case("variables = { limt = 1 }", "three") + '\n[identities.x]\nsub = ""\n'
    found = problems(tmp_path, manifest, {"a.toml": a, "b.toml": b})
    assert [(d.code, str(d.span)) for d in found] == [
        ("FQL501", f"access_tests/a.toml:{line_of(a, 'postz')}"),
        ("FQL502", f"access_tests/a.toml:{line_of(a, 'nobody')}"),
        ("FQL503", f"access_tests/b.toml:{line_of(b, 'limt')}"),
        ("FQL504", f"access_tests/b.toml:{line_of(b, 'sub = ')}"),
    ]


# --- -k ------------------------------------------------------------------------------------------------------

K_FILES = {
    "posts.toml": IDENTITIES
    + case("", "anonymous is refused", "anonymous")
    + case("", "Bob reads")
    + case("", "Alice reads", "alice"),
    "writes.toml": case("", "Alice creates", "alice", "createPost")
    + case("", "Bob cannot create", "bob", "createPost"),
}


@pytest.mark.parametrize(
    ("pattern", "selected"),
    [
        ("reads", ["posts.toml::Bob reads", "posts.toml::Alice reads"]),
        ("ALICE", ["posts.toml::Alice reads", "writes.toml::Alice creates"]),
        ("alice reads", ["posts.toml::Alice reads"]),  # words side by side: all of them
        ("alice and not writes", ["posts.toml::Alice reads"]),
        ("not posts", ["writes.toml::Alice creates", "writes.toml::Bob cannot create"]),
        ("anonymous or cannot", ["posts.toml::anonymous is refused", "writes.toml::Bob cannot create"]),
        ("(bob or anonymous) and not create", ["posts.toml::anonymous is refused", "posts.toml::Bob reads"]),
        ("not (posts or alice)", ["writes.toml::Bob cannot create"]),
        ("writes.toml::bob", ["writes.toml::Bob cannot create"]),
        ("nothing-like-this", []),
    ],
)
def test_k_selects_cases_as_pytest_does(tmp_path: Path, manifest: Manifest, pattern: str, selected: list[str]) -> None:
    suite = load(tmp_path, manifest, K_FILES, pattern)
    assert [c.id.removeprefix("access_tests/") for c in suite.cases] == selected
    assert set(suite.identities) == {"anonymous", "alice", "bob"}  # every file is read all the same


@pytest.mark.parametrize("pattern", ["", "(alice", "alice)", "alice and", "or bob", "not"])
def test_a_k_that_is_not_an_expression_is_an_error(tmp_path: Path, manifest: Manifest, pattern: str) -> None:
    (d,) = problems(tmp_path, manifest, K_FILES, pattern)
    assert d.code == "FQL500" and d.message.startswith(f"-k {pattern!r} is not a selection")


def test_k_still_checks_the_cases_it_leaves_out(tmp_path: Path, manifest: Manifest) -> None:
    files = {"posts.toml": IDENTITIES + case("", "kept") + case("", "dropped", operation="postz")}
    (d,) = problems(tmp_path, manifest, files, "kept")
    assert d.code == "FQL501"
    dup = {"posts.toml": IDENTITIES + case("", "same") + case("", "same")}
    (d,) = problems(tmp_path, manifest, dup, "nothing")
    assert d.message == 'two cases are named "same"'


def test_a_suite_relocated_names_its_files_from_elsewhere(tmp_path: Path, manifest: Manifest) -> None:
    suite = load(tmp_path, manifest, K_FILES)
    moved = suite.relocated("examples/blog")
    assert moved.cases[0].id == "examples/blog/access_tests/posts.toml::anonymous is refused"
    assert moved.cases[0].span == Span("examples/blog/access_tests/posts.toml", suite.cases[0].span.line)
    assert moved.files[1].file == "examples/blog/access_tests/writes.toml"
    assert moved.identities["bob"].span.file == "examples/blog/access_tests/posts.toml"
    assert moved.identities["anonymous"].span.file == "<built in>"
    assert suite.relocated("") is suite


def test_a_suite_under_a_path_keeps_every_identity(tmp_path: Path, manifest: Manifest) -> None:
    files = {name: text.replace(IDENTITIES, "") for name, text in K_FILES.items()}
    suite = load(tmp_path, manifest, {"identities.toml": IDENTITIES, **files})
    writes = suite.under(tmp_path / "access_tests" / "writes.toml")
    assert [f.file for f in writes.files] == ["access_tests/writes.toml"]
    assert set(writes.identities) == {"anonymous", "alice", "bob"}
    assert [f.file for f in suite.under(tmp_path / "access_tests").files] == [f.file for f in suite.files]
    assert suite.under(tmp_path / "elsewhere").files == ()


# --- expectations ------------------------------------------------------------------------------------------

POSTS = [
    {"id": "p1", "title": "Hello", "published": True, "views": 3, "author": {"name": "Alice", "id": "a"}},
    {"id": "p2", "title": "Bob here", "published": False, "views": 0, "author": {"name": "Bob", "id": "b"}},
]
REFUSED = {"http": 403, "code": "INSUFFICIENT_SCOPE", "message": "missing scope write:posts", "sqlstate": "PT403"}


def test_rows_match_as_subsets_recursively_and_strictly_typed() -> None:
    assert matches(POSTS[0], {"title": "Hello"})
    assert matches(POSTS[0], {"author": {"name": "Alice"}})  # nested tables: subsets too
    assert not matches(POSTS[0], {"author": {"name": "Bob"}})
    assert not matches(POSTS[0], {"missing": None})  # a field the row lacks never matches, even null
    assert matches({"tags": ["a", "b"]}, {"tags": ["a", "b"]}) and not matches({"tags": ["a", "b"]}, {"tags": ["a"]})
    assert matches({"n": 1}, {"n": 1.0}) and matches({"n": 1.5}, {"n": 1.5})
    assert not matches({"n": True}, {"n": 1}) and not matches({"n": 1}, {"n": True})
    assert not matches({"n": "1"}, {"n": 1}) and not matches({"n": True}, {"n": 1.0})


def test_rows_of_lists_connections_objects_and_nothing() -> None:
    assert rows_of(POSTS) == POSTS
    assert rows_of({"edges": [{"node": POSTS[0], "cursor": "x"}], "pageInfo": {}}) == [POSTS[0]]
    assert rows_of(POSTS[0]) == [POSTS[0]]
    assert rows_of(None) == [] and rows_of(True) == []


def test_compare_rows_include_exclude_and_count() -> None:
    ok = Expectation(ok=True, rows_include=({"title": "Hello"},), rows_exclude=({"title": "Draft"},), count=2)
    assert compare(ok, POSTS, None) == []
    missing = Expectation(ok=True, rows_include=({"title": "Hello", "published": False},))
    assert compare(missing, POSTS, None) == [
        'missing row {"published": false, "title": "Hello"}: none of the 2 row(s) has those values'
    ]
    leaked = Expectation(ok=True, rows_exclude=({"author": {"name": "Bob"}},), count=1)
    problems = compare(leaked, POSTS, None)
    assert len(problems) == 2
    assert problems[0].startswith('leaked row {"author": {"name": "Bob"}}: {"author": {"id": "b", "name": "Bob"}')
    assert problems[1] == "expected 1 row(s), got 2"
    everyone = Expectation(ok=True, rows_exclude=({"views": 3},))  # every matching row is a leak of its own
    assert len(compare(everyone, [*POSTS, POSTS[0]], None)) == 2
    connection = {"edges": [{"node": p} for p in POSTS]}
    assert compare(Expectation(ok=True, rows_include=({"title": "Bob here"},), count=2), connection, None) == []


def test_compare_result_is_exact() -> None:
    assert compare(Expectation(ok=True, result=True, has_result=True), True, None) == []
    assert compare(Expectation(ok=True, result={"a": 1}, has_result=True), {"a": 1, "b": 2}, None) == [
        'expected the result {"a": 1}, got {"a": 1, "b": 2}'
    ]
    assert compare(Expectation(ok=True, result=None, has_result=True), None, None) == []
    assert compare(Expectation(ok=True), None, None) == []  # success, whatever the data


def test_compare_errors_by_status_code_and_sqlstate() -> None:
    assert compare(Expectation(error=403), None, REFUSED) == []
    assert compare(Expectation(error="INSUFFICIENT_SCOPE"), None, REFUSED) == []
    assert compare(Expectation(sqlstate="PT403"), None, REFUSED) == []
    assert compare(Expectation(error=403, sqlstate="PT403"), None, REFUSED) == []
    assert compare(Expectation(error=401), None, REFUSED) == [
        "expected error 401, got 403 INSUFFICIENT_SCOPE: missing scope write:posts"
    ]
    assert compare(Expectation(error="FORBIDDEN"), None, REFUSED) == [
        "expected error FORBIDDEN, got 403 INSUFFICIENT_SCOPE: missing scope write:posts"
    ]
    assert compare(Expectation(error=403, sqlstate="42501"), None, REFUSED) == [
        "expected SQLSTATE 42501, got PT403 (403 INSUFFICIENT_SCOPE: missing scope write:posts)"
    ]
    no_sqlstate = {"http": 401, "code": "UNAUTHENTICATED", "message": "invalid API key"}
    assert compare(Expectation(sqlstate="PT401"), None, no_sqlstate) == [
        "expected SQLSTATE PT401, got none (401 UNAUTHENTICATED: invalid API key)"
    ]


def test_compare_error_against_success_both_ways() -> None:
    assert compare(Expectation(ok=True, count=2), None, REFUSED) == [
        "expected success, got 403 INSUFFICIENT_SCOPE: missing scope write:posts"
    ]
    (problem,) = compare(Expectation(error=401), POSTS, None)
    assert problem.startswith('expected error 401, got success: 2 row(s) [{"author"')
    assert compare(Expectation(sqlstate="42501"), True, None) == [
        "expected error SQLSTATE 42501, got success: 0 row(s) true"
    ]


# --- reports -----------------------------------------------------------------------------------------------

BOB_ID = Identity("bob", "user", Span("access_tests/identities.toml", 9), sub=BOB, scopes=("read:posts",))
ANON = Identity("anonymous", "anonymous", Span("<built in>", 0))


def outcome(
    name: str,
    file: str = "access_tests/posts.toml",
    line: int = 10,
    *,
    identity: Identity = BOB_ID,
    operation: str = "posts",
    variables: Mapping[str, Any] | None = None,
    expect: Expectation | None = None,
    problems: list[str] | None = None,
    result: Any = None,
    error: dict[str, Any] | None = None,
    seconds: float = 0.0123,
) -> Outcome:
    c = Case(name, file, Span(file, line), identity.name, operation, variables or {}, expect or Expectation(ok=True))
    return Outcome(c, identity, not problems, seconds, problems or [], result, error)


def sample_report(with_matrix: bool = False) -> Report:
    leak = 'leaked row {"title": "Alice\'s draft"}: {"id": "a2", "title": "Alice\'s draft"}'
    outcomes = [
        outcome(
            "anonymous gets 401",
            line=5,
            identity=ANON,
            expect=Expectation(error=401),
            error={"http": 401, "code": "UNAUTHENTICATED", "message": "authentication required", "sqlstate": "PT401"},
        ),
        outcome(
            "Bob never sees Alice's draft",
            line=12,
            variables={"where": {"published": {"eq": False}}},
            expect=Expectation(ok=True, rows_exclude=({"title": "Alice's draft"},), count=1),
            problems=[leak, "expected 1 row(s), got 2"],
            result=[
                {"id": "b1", "title": "Bob here", "author": {"name": "Bob"}, "comments": []},
                {"id": "a2", "title": "Alice's draft", "author": {"name": "Alice"}, "comments": [{"body": "x"}]},
            ],
        ),
        outcome(
            "createPost, 100% refused: scopes, roles",
            file="access_tests/writes.toml",
            line=3,
            operation="createPost",
            variables={"input": {"title": "Hi"}},
            expect=Expectation(ok=True),
            problems=["expected success, got 403 INSUFFICIENT_SCOPE: missing scope write:posts"],
            error=dict(REFUSED),
        ),
        outcome("Bob | may read", file="access_tests/writes.toml", line=9, result=[]),
    ]
    matrix = None
    if with_matrix:
        matrix = ObservedMatrix(["posts", "deletePost", "login"], ["anonymous", "bob"])
        cells = [
            Cell("posts", "anonymous", False, "denied", "401 UNAUTHENTICATED"),
            Cell("posts", "bob", True, "allowed", "ok"),
            Cell("deletePost", "anonymous", False, "denied", "401 UNAUTHENTICATED"),
            Cell("deletePost", "bob", True, "denied", "403 INSUFFICIENT_SCOPE"),
            Cell("login", "anonymous", True, "not compared", "400 INVALID_ARGUMENT: input is required"),
            Cell("login", "bob", True, "not compared", "400 INVALID_ARGUMENT: input is required"),
        ]
        matrix.cells = {(c.operation, c.identity): c for c in cells}
    return Report(outcomes, seconds=1.5, setup_seconds=0.75, matrix=matrix)


def test_matrix_differences_are_compared_cells_that_disagree_with_a_prediction() -> None:
    assert Cell("q", "bob", True, "denied", "403").differs
    assert Cell("q", "bob", False, "allowed", "ok").differs
    assert not Cell("q", "bob", True, "allowed", "404 NOT_FOUND (past the guards)").differs
    assert not Cell("q", "bob", False, "denied", "401").differs
    assert not Cell("q", "bob", True, "not compared", "400").differs  # a 400 says nothing of the guards
    assert not Cell("q", "bob", None, "denied", "403").differs  # no prediction: nothing to differ from
    matrix = sample_report(with_matrix=True).matrix
    assert [(c.operation, c.identity) for c in matrix.differences] == [("deletePost", "bob")]


def test_text_report_is_pytest_like_with_a_failure_block_per_failed_case() -> None:
    text = render.render_text(sample_report())
    assert text == (
        "access_tests/posts.toml .F\n"
        "access_tests/writes.toml F.\n"
        "\n"
        "FAILED access_tests/posts.toml:12  Bob never sees Alice's draft\n"
        f"  as:       bob: user {BOB} with read:posts\n"
        '  ran:      posts {"where": {"published": {"eq": false}}}\n'
        '  expected: success: 1 row(s); never {"title": "Alice\'s draft"}\n'
        '  problem:  leaked row {"title": "Alice\'s draft"}: {"id": "a2", "title": "Alice\'s draft"}\n'
        "  problem:  expected 1 row(s), got 2\n"
        "  got:      2 row(s):\n"
        '            - {"title": "Bob here", "id": "b1", "author": {…}, "comments": [0 items]}\n'
        '            - {"title": "Alice\'s draft", "id": "a2", "author": {…}, "comments": [1 item]}\n'
        "\n"
        "FAILED access_tests/writes.toml:3  createPost, 100% refused: scopes, roles\n"
        f"  as:       bob: user {BOB} with read:posts\n"
        '  ran:      createPost {"input": {"title": "Hi"}}\n'
        "  expected: success\n"
        "  problem:  expected success, got 403 INSUFFICIENT_SCOPE: missing scope write:posts\n"
        "  got:      403 INSUFFICIENT_SCOPE: missing scope write:posts (SQLSTATE PT403)\n"
        "\n"
        "2 failed, 2 passed in 1.50s (database set up in 0.75s)\n"
    )
    assert render.render_text(sample_report()) == text  # deterministic


def test_text_report_when_everything_passes_is_a_line_per_file_and_the_summary() -> None:
    report = sample_report()
    report.outcomes = [o for o in report.outcomes if o.passed]
    assert render.render_text(report) == (
        "access_tests/posts.toml .\naccess_tests/writes.toml .\n2 passed in 1.50s (database set up in 0.75s)\n"
    )


def test_the_got_line_folds_long_results() -> None:
    many = [{"id": str(i), "title": "t" * 300} for i in range(12)]
    o = outcome("many", result=many, problems=["expected 0 row(s), got 12"], expect=Expectation(ok=True, count=0))
    got = render.got_lines(o)
    assert got[0] == "12 row(s):" and len(got) == 1 + 10 + 1 and got[-1] == "… and 2 more"
    assert all(len(line) <= 2 + 240 for line in got[1:-1])
    single = outcome("one", result={"title": "x", "author": {"name": "A"}}, problems=["p"])
    assert render.got_lines(single) == ['{"title": "x", "author": {…}}']
    assert render.got_lines(outcome("bool", result=False, problems=["p"])) == ["false"]


def test_text_report_with_the_matrix_puts_the_summary_last() -> None:
    text = render.render_text(sample_report(with_matrix=True))
    assert "DIFFERS deletePost as bob: the rules say it allows; the database answered 403 INSUFFICIENT_SCOPE" in text
    assert text.endswith("\n2 failed, 2 passed, 1 matrix difference in 1.50s (database set up in 0.75s)\n")
    assert text.index("observed access") < text.index("DIFFERS") < text.index("2 failed")


def test_json_report() -> None:
    data = json.loads(render.render_json(sample_report(with_matrix=True)))
    assert data["summary"] == {
        "cases": 4,
        "passed": 2,
        "failed": 2,
        "seconds": 1.5,
        "setup_seconds": 0.75,
        "matrix_differences": 1,
    }
    first, failed, refused, _ = data["cases"]
    assert first == {
        "id": "access_tests/posts.toml::anonymous gets 401",
        "file": "access_tests/posts.toml",
        "line": 5,
        "name": "anonymous gets 401",
        "identity": "anonymous",
        "as": "anonymous (no credentials)",
        "operation": "posts",
        "variables": {},
        "expected": "error 401",
        "outcome": "passed",
        "seconds": 0.0123,
        "problems": [],
        "error": {"http": 401, "code": "UNAUTHENTICATED", "message": "authentication required", "sqlstate": "PT401"},
    }
    assert failed["outcome"] == "failed" and failed["problems"][1] == "expected 1 row(s), got 2"
    assert [r["id"] for r in failed["result"]] == ["b1", "a2"]  # what came back, for a failure
    assert refused["error"]["code"] == "INSUFFICIENT_SCOPE" and "result" not in refused
    assert data["matrix"]["differences"] == 1
    assert {(c["operation"], c["identity"]) for c in data["matrix"]["cells"] if c["differs"]} == {("deletePost", "bob")}
    without = json.loads(render.render_json(sample_report()))
    assert "matrix" not in without and "matrix_differences" not in without["summary"]


def test_github_annotations_escape_data_and_properties() -> None:
    out = render.render_github(sample_report())
    lines = out.splitlines()
    assert len(lines) == 3 and lines[-1] == "2 failed, 2 passed in 1.50s (database set up in 0.75s)"
    first, second = lines[0], lines[1]
    assert first.startswith(
        "::error file=access_tests/posts.toml,line=12,title=fraiseql test%3A Bob never sees Alice's draft::as:"
    )
    assert "%0Aproblem:  expected 1 row(s), got 2%0A" in first
    # properties: %, : and , escaped; the message: % and newlines
    assert second.startswith(
        "::error file=access_tests/writes.toml,line=3,"
        "title=fraiseql test%3A createPost%2C 100%25 refused%3A scopes%2C roles::"
    )
    assert "\n" not in first and "\r" not in second
    props, message = second.removeprefix("::error ").split("::", 1)
    assert [p.split("=", 1)[0] for p in props.split(",")] == ["file", "line", "title"]
    assert "expected success, got 403 INSUFFICIENT_SCOPE: missing scope write:posts" in message  # ":" kept in data

    assert render._escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert render._escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_annotates_matrix_differences_too() -> None:
    out = render.render_github(sample_report(with_matrix=True))
    assert (
        "::error title=fraiseql test --matrix%3A deletePost as bob::deletePost as bob: the rules say it allows; "
        "the database answered 403 INSUFFICIENT_SCOPE\n" in out
    )
    assert out.endswith("2 failed, 2 passed, 1 matrix difference in 1.50s (database set up in 0.75s)\n")


def test_the_step_summary_is_markdown_with_the_failures() -> None:
    md = render.step_summary(sample_report(with_matrix=True))
    lines = md.splitlines()
    assert lines[0] == "## fraiseql test"
    assert "| `access_tests/posts.toml` | 1 | 1 |" in lines and "| `access_tests/writes.toml` | 1 | 1 |" in lines
    assert "### Failed cases" in lines
    row = next(line for line in lines if line.startswith("| `access_tests/posts.toml:12`"))
    assert row.count(" | ") == 3  # four cells
    assert "<br>expected 1 row(s), got 2 |" in row
    assert "| `access_tests/writes.toml:3` createPost, 100% refused: scopes, roles | bob | success |" in md
    assert "### Access matrix differences" in lines
    assert "- deletePost as bob: the rules say it allows; the database answered 403 INSUFFICIENT_SCOPE" in lines
    piped = sample_report()
    piped.outcomes[3].passed = False
    piped.outcomes[3].problems = ["a | b\nc"]
    assert "| `access_tests/writes.toml:9` Bob \\| may read | bob | success | a \\| b c |" in render.step_summary(piped)
    assert md.endswith("\n")


# The attributes of the JUnit XML schema most tools read (Jenkins' junit-10.xsd, which pytest's xunit2
# follows), plus file and line on testcase (pytest's xunit1; GitLab and annotation actions read them).
JUNIT = {
    "testsuites": ({"name", "tests", "failures", "errors", "time", "disabled", "skipped"}, set()),
    "testsuite": (
        {"name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname", "id", "package", "file"},
        {"name", "tests", "failures", "errors", "time"},
    ),
    "testcase": ({"name", "classname", "time", "assertions", "status", "file", "line"}, {"name", "classname", "time"}),
    "failure": ({"message", "type"}, set()),
    "skipped": ({"message"}, set()),
}
CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"properties", "testcase", "system-out", "system-err"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
    "failure": set(),
    "skipped": set(),
}


def check_junit(element: ET.Element) -> None:
    allowed, required = JUNIT[element.tag]
    assert set(element.attrib) <= allowed, (element.tag, set(element.attrib) - allowed)
    assert required <= set(element.attrib), (element.tag, required - set(element.attrib))
    for key in ("tests", "failures", "errors", "skipped", "line"):
        if key in element.attrib:
            assert int(element.attrib[key]) >= 0
    if "time" in element.attrib:
        assert float(element.attrib["time"]) >= 0
    if element.tag == "testsuite":
        cases = element.findall("testcase")
        assert int(element.attrib["tests"]) == len(cases)
        assert int(element.attrib["failures"]) == sum(c.find("failure") is not None for c in cases)
        assert int(element.attrib.get("skipped", "0")) == sum(c.find("skipped") is not None for c in cases)
    for child in element:
        assert child.tag in CHILDREN[element.tag], (element.tag, child.tag)
        check_junit(child)


def test_junit_xml_has_the_usual_structure() -> None:
    text = render.junit_xml(sample_report())
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<testsuites ')
    root = ET.fromstring(text)
    check_junit(root)
    assert root.tag == "testsuites" and root.attrib["tests"] == "4" and root.attrib["failures"] == "2"
    assert float(root.attrib["time"]) == 1.5
    suites = root.findall("testsuite")
    assert [s.attrib["name"] for s in suites] == ["access_tests/posts.toml", "access_tests/writes.toml"]
    cases = suites[0].findall("testcase")
    assert [(c.attrib["classname"], c.attrib["name"], c.attrib["line"]) for c in cases] == [
        ("access_tests/posts.toml", "anonymous gets 401", "5"),
        ("access_tests/posts.toml", "Bob never sees Alice's draft", "12"),
    ]
    assert cases[0].find("failure") is None and cases[0].attrib["time"] == "0.012"
    failure = cases[1].find("failure")
    assert failure is not None and failure.attrib["type"] == "AccessCaseFailure"
    assert failure.attrib["message"].endswith("; expected 1 row(s), got 2")
    assert failure.text is not None and failure.text.startswith("FAILED access_tests/posts.toml:12  Bob never sees")
    assert "  got:      2 row(s):" in failure.text


def test_junit_xml_with_the_matrix_and_awkward_characters() -> None:
    report = sample_report(with_matrix=True)
    report.outcomes[1].case = Case(
        'quotes " <tags> & \x01control',
        "access_tests/posts.toml",
        Span("access_tests/posts.toml", 12),
        "bob",
        "posts",
        {},
        Expectation(ok=True),
    )
    root = ET.fromstring(render.junit_xml(report))
    check_junit(root)
    assert root.attrib["tests"] == str(4 + 3) and root.attrib["failures"] == str(2 + 1)
    names = [c.attrib["name"] for c in root.iter("testcase")]
    assert 'quotes " <tags> & \ufffdcontrol' in names
    matrix = root.findall("testsuite")[-1]
    assert matrix.attrib["name"] == "fraiseql test --matrix"
    assert (matrix.attrib["tests"], matrix.attrib["failures"], matrix.attrib["skipped"]) == ("3", "1", "1")
    by_name = {c.attrib["name"]: c for c in matrix.findall("testcase")}
    assert by_name["posts"].find("failure") is None and by_name["posts"].find("skipped") is None
    failure = by_name["deletePost"].find("failure")
    assert failure is not None and failure.attrib["type"] == "AccessMatrixDifference"
    assert failure.attrib["message"] == (
        "deletePost as bob: the rules say it allows; the database answered 403 INSUFFICIENT_SCOPE"
    )
    skipped = by_name["login"].find("skipped")
    assert skipped is not None and skipped.attrib["message"].startswith("not compared (arguments refused): anonymous")


# --- the command, before any database ------------------------------------------------------------------------


@pytest.fixture
def blog(tmp_path: Path) -> Path:
    root = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", root, ignore=shutil.ignore_patterns("build", "access_tests"))
    write(root, {"posts.toml": IDENTITIES + case("", "Bob reads")})
    return root


def test_the_command_refuses_bad_input_before_needing_a_server(blog: Path) -> None:
    env = {"FRAISEQL_TEST_DATABASE_URL": "", "DATABASE_URL": ""}
    runner = CliRunner()
    nothing = runner.invoke(app, ["test", str(blog), "-k", "nomatch"], env=env)
    assert nothing.exit_code == 2 and "error[FQL500]: no case matches -k 'nomatch'" in nothing.output
    bad_k = runner.invoke(app, ["test", str(blog), "-k", "bob and"], env=env)
    assert bad_k.exit_code == 2 and "-k 'bob and' is not a selection: it ends too soon" in bad_k.output
    no_server = runner.invoke(app, ["test", str(blog)], env=env)
    assert no_server.exit_code == 2 and "error[FQL505]: no PostgreSQL server" in no_server.output
    (blog / "access_tests" / "posts.toml").unlink()
    empty = runner.invoke(app, ["test", str(blog)], env=env)
    assert empty.exit_code == 2 and "error[FQL500]: no access cases in" in empty.output
    shutil.rmtree(blog / "access_tests")
    missing = runner.invoke(app, ["test", str(blog)], env=env)
    assert missing.exit_code == 2 and "does not exist" in missing.output
