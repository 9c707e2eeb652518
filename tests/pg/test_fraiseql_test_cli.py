"""``fraiseql test`` end to end on a real server: copies of the blog with case files of these tests (all
passing, failing, malformed), every output format, ``-k``, ``--matrix``, the isolation of cases and files,
an access rule widened in the schema caught by a case, and the blog example's own suite, as CI runs it."""

from __future__ import annotations

import json
import re
import secrets
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner, Result

from fraiseql_compiler.cli.app import app
from fraiseql_compiler.testing import runner as test_runner
from tests.cases import REPO
from tests.pgserver import PgServer

ALICE = "00000000-0000-0000-0000-00000000000a"
BOB = "00000000-0000-0000-0000-00000000000b"
SUMMARY = re.compile(
    r"^(\d+ failed, )?\d+ passed(, \d+ matrix differences?)? in \d+\.\d\ds \(database set up in \d+\.\d\ds\)$"
)

IDENTITIES = f"""
[identities.alice]
sub = "{ALICE}"
scopes = ["read:posts", "write:posts"]

[identities.bob]
sub = "{BOB}"
scopes = ["read:posts"]
"""

# A file's data and a case's writes: seen by the file's later cases (data) or by nobody (writes).
ISOLATION_A = (
    IDENTITIES
    + f"""
[data]
sql = ["data/a.sql"]
rows = [{{ table = "public.tb_post", values = [
  {{ author_id = "{ALICE}", title = "Only in A", body = "x", published = true }},
] }}]

[[case]]
name = "Alice creates a published post"
as = "alice"
operation = "createPost"
variables = {{ input = {{ title = "Created in A", body = "x", published = true }} }}
expect = {{ rows_include = [{{ title = "Created in A", published = true }}] }}

[[case]]
name = "the post the case before created is gone, the file's data is there"
as = "bob"
operation = "posts"
[case.expect]
rows_include = [{{ title = "Only in A" }}, {{ title = "From SQL in A" }}]
rows_exclude = [{{ title = "Created in A" }}]

[[case]]
name = "anonymous is refused posts"
as = "anonymous"
operation = "posts"
expect = {{ error = 401, sqlstate = "PT401" }}
"""
)
ISOLATION_A_SQL = (
    f"INSERT INTO public.tb_post (author_id, title, body, published)\nVALUES ('{BOB}', 'From SQL in A', 'x', true);\n"
)
ISOLATION_B = """
[[case]]
name = "another file sees none of A's data"
as = "bob"
operation = "posts"
expect = { count = 2, rows_exclude = [
  { title = "Only in A" }, { title = "From SQL in A" }, { title = "Created in A" },
] }

[[case]]
name = "Bob cannot create posts"
as = "bob"
operation = "createPost"
variables = { input = { title = "Hi", body = "x" } }
expect = { error = 403 }
"""
FAILING = (
    IDENTITIES
    + f"""
[data]
rows = [{{ table = "public.tb_post", values = [
  {{ author_id = "{ALICE}", title = "Alice's draft", body = "x", published = false }},
] }}]

[[case]]
name = "Bob reads posts"
as = "bob"
operation = "posts"

[[case]]
name = "Bob sees Alice's draft (wrong on purpose)"
as = "bob"
operation = "posts"
expect = {{ rows_include = [{{ title = "Alice's draft" }}] }}

[[case]]
name = "Bob is refused (wrong on purpose)"
as = "bob"
operation = "myPosts"
expect = {{ error = 401 }}
"""
)
PUBLIC_POSTS = '''

@fraiseql.query(sql_source="v_post")
@fraiseql.public
def public_posts(limit: int = 20) -> list["Post"]:
    """Posts for everyone: what anonymous may read of them, the rules decide."""
    pass
'''
LEAK = """
[[case]]
name = "anonymous never reads a draft"
as = "anonymous"
operation = "publicPosts"
expect = { rows_include = [{ title = "Hello" }], rows_exclude = [{ published = false }] }
"""


@pytest.fixture
def server(pg_server: PgServer) -> str:
    return pg_server.admin_url


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The throwaway databases the runs of a test create (as given to CREATE DATABASE), in order."""
    created: list[str] = []

    class Recording:
        def __getattr__(self, name: str) -> Any:
            return getattr(secrets, name)

        def token_hex(self, n: int | None = None) -> str:
            value = secrets.token_hex(n)
            created.append(f"fqltest_{value}")
            return value

    monkeypatch.setattr(test_runner, "secrets", Recording())
    return created


def blog(tmp_path: Path, files: dict[str, str], schema: str = "") -> Path:
    """A copy of the blog with these case files (and none of the example's), and ``schema`` appended."""
    root = tmp_path / "blog"
    shutil.copytree(REPO / "examples" / "blog", root, ignore=shutil.ignore_patterns("build", "access_tests"))
    for name, text in files.items():
        path = root / "access_tests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if schema:
        with (root / "schema.py").open("a", encoding="utf-8") as fh:
            fh.write(schema)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer holds {old!r}: update this test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def fraiseql_test(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["test", *args], env=env)


def databases(pg_server: PgServer) -> set[str]:
    rows = pg_server.admin().execute("SELECT datname FROM pg_database WHERE datname LIKE 'fqltest%'").fetchall()
    return {r[0] for r in rows}


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_passing_suite_exits_0_with_isolated_cases_and_files_and_a_junit_report(
    tmp_path: Path, server: str, pg_server: PgServer, names: list[str]
) -> None:
    root = blog(tmp_path, {"a.toml": ISOLATION_A, "b.toml": ISOLATION_B, "data/a.sql": ISOLATION_A_SQL})
    junit = tmp_path / "reports" / "access.xml"
    result = fraiseql_test(str(root), "--database", server, "--junit-xml", str(junit))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == ["5 case(s) in 2 file(s)", "access_tests/a.toml ...", "access_tests/b.toml .."]
    assert len(lines) == 4 and SUMMARY.match(lines[3]) and lines[3].startswith("5 passed in ")

    assert len(names) == 1 and names[0] not in databases(pg_server)  # the throwaway database is dropped

    root_el = ET.parse(junit).getroot()
    assert (root_el.tag, root_el.attrib["tests"], root_el.attrib["failures"]) == ("testsuites", "5", "0")
    assert [s.attrib["name"] for s in root_el.findall("testsuite")] == ["access_tests/a.toml", "access_tests/b.toml"]
    assert [c.attrib["name"] for c in root_el.iter("testcase")][:2] == [
        "Alice creates a published post",
        "the post the case before created is gone, the file's data is there",
    ]
    assert root_el.find(".//failure") is None


def test_a_failing_case_exits_1_with_its_failure_block(tmp_path: Path, server: str) -> None:
    root = blog(tmp_path, {"f.toml": FAILING})
    result = fraiseql_test(str(root), "--database", server)
    assert result.exit_code == 1, result.output
    out = result.output
    assert out.startswith("3 case(s) in 1 file(s)\naccess_tests/f.toml .FF\n\n")
    assert SUMMARY.match(out.splitlines()[-1]) and out.splitlines()[-1].startswith("2 failed, 1 passed in ")
    draft = out.index("FAILED access_tests/f.toml:")
    block = out[draft:].split("\n\n")[0].splitlines()
    assert block == [
        f"FAILED access_tests/f.toml:{line_of(FAILING, 'sees Alice') - 1}  Bob sees Alice's draft (wrong on purpose)",
        f"  as:       bob: user {BOB} with read:posts",
        "  ran:      posts",
        '  expected: success: including {"title": "Alice\'s draft"}',
        '  problem:  missing row {"title": "Alice\'s draft"}: none of the 2 row(s) has those values',
        "  got:      2 row(s):",
        *block[6:],
    ]
    assert len(block) == 8 and all(line.startswith("            - {") for line in block[6:])
    assert {line.split('"title": ')[1].split(",")[0] for line in block[6:]} == {'"Hello"', '"Bob here"'}
    assert "FAILED access_tests/f.toml:" in out[draft + 1 :]
    assert "  problem:  expected error 401, got success: 1 row(s)" in out


def test_json_and_github_formats(tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    blog(tmp_path, {"f.toml": FAILING})
    monkeypatch.chdir(tmp_path)  # files are then named from here: blog/access_tests/f.toml
    as_json = fraiseql_test("blog", "--database", server, "--format", "json")
    assert as_json.exit_code == 1, as_json.output
    data = json.loads(as_json.output)
    assert {k: data["summary"][k] for k in ("cases", "passed", "failed")} == {"cases": 3, "passed": 1, "failed": 2}
    assert [(c["name"], c["outcome"]) for c in data["cases"]] == [
        ("Bob reads posts", "passed"),
        ("Bob sees Alice's draft (wrong on purpose)", "failed"),
        ("Bob is refused (wrong on purpose)", "failed"),
    ]
    draft = data["cases"][1]
    assert draft["file"] == "blog/access_tests/f.toml" and draft["identity"] == "bob"
    assert draft["problems"] == ['missing row {"title": "Alice\'s draft"}: none of the 2 row(s) has those values']
    assert sorted(r["title"] for r in draft["result"]) == ["Bob here", "Hello"]

    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    github = fraiseql_test(
        "blog", "--database", server, "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert github.exit_code == 1, github.output
    annotations = [line for line in github.output.splitlines() if line.startswith("::error ")]
    line = line_of(FAILING, "Bob sees Alice's draft") - 1
    assert len(annotations) == 2
    assert annotations[0].startswith(
        f"::error file=blog/access_tests/f.toml,line={line},title=fraiseql test%3A Bob sees Alice's draft (wrong on "
        "purpose)::as:       bob: user"
    )
    assert "%0Aproblem:  missing row" in annotations[0]
    assert github.output.splitlines()[-1].startswith("2 failed, 1 passed in ")
    md = summary.read_text(encoding="utf-8")
    assert md.startswith("earlier step\n## fraiseql test\n")  # appended to the step's summary
    assert "| `blog/access_tests/f.toml` | 1 | 2 |" in md
    assert f"| `blog/access_tests/f.toml:{line}` Bob sees Alice's draft (wrong on purpose) | bob |" in md


def test_a_bad_case_file_exits_2_with_the_error_and_creates_no_database(
    tmp_path: Path, server: str, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch, names: list[str]
) -> None:
    bad = IDENTITIES + '\n[[case]]\nname = "typo"\nas = "bob"\noperation = "postz"\n'
    root = blog(tmp_path, {"good.toml": ISOLATION_B, "bad.toml": bad})
    opened: list[Any] = []
    monkeypatch.setattr(test_runner, "throwaway_database", lambda url: opened.append(url))
    before = databases(pg_server)
    result = fraiseql_test(str(root), "--database", server)
    assert result.exit_code == 2
    n = str(line_of(bad, "postz"))
    pad = " " * len(n)
    assert result.output == (
        'error[FQL501]: case "typo" runs "postz", which is not an operation of the schema\n'
        f"{pad}--> access_tests/bad.toml:{n}\n"
        f"{pad} |\n"
        f'{n} | operation = "postz"\n'
        'hint: did you mean "posts"?\n'
        "\n"
        "1 error; no case ran.\n"
    )
    assert opened == [] and names == []  # nothing was created...
    assert not {d for d in databases(pg_server) - before if d.startswith("fqltest_")} - set(names)  # ...or left


def test_k_selects_cases_and_the_matrix_agrees_with_the_rules(tmp_path: Path, server: str) -> None:
    root = blog(tmp_path, {"a.toml": ISOLATION_A, "b.toml": ISOLATION_B, "data/a.sql": ISOLATION_A_SQL})
    result = fraiseql_test(str(root), "--database", server, "-k", "refused or (b.toml and not cannot)", "--matrix")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == ["2 case(s) in 2 file(s)", "access_tests/a.toml .", "access_tests/b.toml ."]
    matrix = lines.index(
        "observed access (✓ ran, ✗ refused by a guard, ? not compared; ! differs from `fraiseql access`):"
    )
    header = lines[matrix + 1].split()
    assert header == ["operation", "anonymous", "bob"]  # the identities the selected cases run as
    rows = {line.split()[0]: line.split()[1:] for line in lines[matrix + 2 :] if line and line.split()[0][0].islower()}
    assert rows["posts"] == ["✗", "✓"] and rows["myPosts"] == ["✗", "✓"]
    assert rows["createPost"] == ["?", "?"]  # no selected case gives it arguments: a 400, not compared
    assert "the database agrees with the rules on every compared cell" in lines
    assert lines[-1].startswith("2 passed in ")


def test_a_matrix_difference_exits_1(tmp_path: Path, server: str) -> None:
    delete = """
[[case]]
name = "Alice cannot delete a post"
as = "alice"
operation = "deletePost"
variables = { id = "00000000-0000-0000-0000-0000000000a1" }
expect = { error = 403 }
"""
    root = blog(tmp_path, {"d.toml": IDENTITIES + delete})
    # The guard goes, the function's own check stays: the rules now let Alice through, the database does not.
    edit(root / "schema.py", '@requires_scope("admin:posts")\ndef delete_post', "def delete_post")
    result = fraiseql_test(str(root), "--database", server, "--matrix")
    assert result.exit_code == 1, result.output
    assert "access_tests/d.toml .\n" in result.output  # the case itself passes
    assert (
        "DIFFERS deletePost as alice: the rules say it allows; the database answered 403 INSUFFICIENT_SCOPE"
        in result.output
    )
    assert result.output.splitlines()[-1].startswith("1 passed, 1 matrix difference in ")


def test_widening_an_access_rule_fails_the_case_that_guards_it(tmp_path: Path, server: str) -> None:
    root = blog(tmp_path, {"leak.toml": LEAK}, schema=PUBLIC_POSTS)
    narrow = fraiseql_test(str(root), "--database", server)
    assert narrow.exit_code == 0, narrow.output  # anonymous reads the published posts only

    edit(
        root / "schema.py",
        '"anonymous": fraiseql.access(read="published")',
        '"anonymous": fraiseql.access(read="true")',
    )
    wide = fraiseql_test(str(root), "--database", server)
    assert wide.exit_code == 1, wide.output
    out = wide.output
    assert f"FAILED access_tests/leak.toml:{line_of(LEAK, '[[case]]')}  anonymous never reads a draft\n" in out
    assert "  as:       anonymous: anonymous (no credentials)\n" in out
    leaked = [line for line in out.splitlines() if line.startswith("  problem:  leaked row")]
    assert len(leaked) == 1 and leaked[0].startswith('  problem:  leaked row {"published": false}: {')
    assert '"title": "Bob here"' in leaked[0]
    assert out.splitlines()[-1].startswith("1 failed, 0 passed in ")


def test_the_blog_examples_own_access_tests_pass(server: str) -> None:
    result = fraiseql_test(str(REPO / "examples" / "blog"), "--database", server)
    assert result.exit_code == 0, result.output
    last = result.output.splitlines()[-1]
    assert SUMMARY.match(last) and "failed" not in last, result.output
