"""The machine formats of diagnostics (JSON, SARIF, GitHub workflow commands) say what the model says, in the
shape their consumers require, the same bytes every time, and never a secret."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from fraiseql_compiler.diagnostics import CODES, Diagnostic, Related, Span, diag
from fraiseql_compiler.diagnostics.formats import (
    FINGERPRINT_KEY,
    FORMAT_NAMES,
    fingerprint,
    render,
    to_github,
    to_json,
    to_sarif,
)

SECRET = "hunter2-s3cret"
VERSION = "1.2.3"


def sample() -> list[Diagnostic]:
    """An error with a column span, a hint and a related place; a warning at line 0 (whole file); an error with
    no span at all; and a message full of characters GitHub's command syntax must escape."""
    return [
        diag(
            "FQL203",
            'row_filter of "User" references unknown column "tenant"',
            Span("schema/users.py", 12, 5, 6),
            'did you mean "tenant_id"?',
            (Related(Span("schema/users.py", 3, 1, 0), '"User" is defined here'),),
        ),
        diag("FQL220", '"Post" has a table but no access rule', Span("schema/posts.py", 0)),
        diag("FQL203", "row_filter of a query without a source", None),
        diag("FQL220", "100% of rows: visible, to all,\nroles", Span("schema/a b.py", 7)),
    ]


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# --- JSON -----------------------------------------------------------------------------------------------------


def test_json_round_trips_with_the_documented_structure() -> None:
    text = to_json(sample())
    assert text.endswith("}\n")
    document = json.loads(text)
    assert document["version"] == 1
    assert document["summary"] == {"errors": 2, "warnings": 2}
    first, whole_file, nowhere, _ = document["diagnostics"]
    assert first == {
        "code": "FQL203",
        "name": "row-filter-unknown-column",
        "severity": "error",
        "message": 'row_filter of "User" references unknown column "tenant"',
        "hint": 'did you mean "tenant_id"?',
        "span": {"file": "schema/users.py", "line": 12, "column": 5, "end_column": 11},
        "related": [
            {
                "message": '"User" is defined here',
                "span": {"file": "schema/users.py", "line": 3, "column": 1, "end_column": None},
            }
        ],
        "doc": "docs/errors/FQL203.md",
    }
    assert whole_file["severity"] == "warning"
    assert whole_file["hint"] is None
    assert whole_file["span"] == {"file": "schema/posts.py", "line": 0, "column": 0, "end_column": None}
    assert nowhere["span"] is None
    assert nowhere["related"] == []


def test_json_keeps_the_input_order_and_sorts_keys() -> None:
    diagnostics = list(reversed(sample()))
    document = json.loads(to_json(diagnostics))
    assert [d["message"] for d in document["diagnostics"]] == [d.message for d in diagnostics]
    text = to_json(diagnostics)
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_json_of_nothing() -> None:
    assert json.loads(to_json([])) == {"version": 1, "diagnostics": [], "summary": {"errors": 0, "warnings": 0}}


# --- SARIF ----------------------------------------------------------------------------------------------------


def test_sarif_has_the_required_structure() -> None:
    document = json.loads(to_sarif(sample(), tool_version=VERSION))
    assert document["version"] == "2.1.0"
    assert document["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "fraiseql"
    assert driver["version"] == VERSION
    assert "informationUri" not in driver
    rules = driver["rules"]
    assert [r["id"] for r in rules] == ["FQL203", "FQL220"]  # the codes used, once each
    for rule in rules:
        code = CODES[rule["id"]]
        assert rule["name"] == code.name
        assert rule["shortDescription"] == {"text": code.title}
        assert rule["help"] == {"text": f"see docs/errors/{code.id}.md"}
        assert rule["defaultConfiguration"] == {"level": code.severity}
        assert "helpUri" not in rule
    results = run["results"]
    assert len(results) == len(sample())
    for result in results:
        assert {"ruleId", "ruleIndex", "level", "message"} <= result.keys()
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning")
        assert result["message"]["text"]


def test_sarif_locations() -> None:
    results = json.loads(to_sarif(sample(), tool_version=VERSION))["runs"][0]["results"]
    first, whole_file, nowhere, spaced = results
    assert first["message"]["text"] == (
        'row_filter of "User" references unknown column "tenant"\ndid you mean "tenant_id"?'
    )
    assert first["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "schema/users.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 12, "startColumn": 5, "endColumn": 11},
            }
        }
    ]
    assert first["relatedLocations"] == [
        {
            "id": 0,
            "message": {"text": '"User" is defined here'},
            "physicalLocation": {
                "artifactLocation": {"uri": "schema/users.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 3, "startColumn": 1},
            },
        }
    ]
    assert whole_file["level"] == "warning"
    assert "region" not in whole_file["locations"][0]["physicalLocation"]  # line 0: the whole file
    assert "locations" not in nowhere
    assert spaced["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "schema/a%20b.py"
    assert spaced["locations"][0]["physicalLocation"]["region"] == {"startLine": 7}


def fingerprint_of(d: Diagnostic) -> str:
    result = json.loads(to_sarif([d], tool_version=VERSION))["runs"][0]["results"][0]
    value: str = result["partialFingerprints"][FINGERPRINT_KEY]
    return value


def test_fingerprint_survives_moved_lines_but_not_a_new_message() -> None:
    d = sample()[0]
    assert d.span is not None
    moved = dataclasses.replace(d, span=dataclasses.replace(d.span, line=40, column=9))
    reworded = dataclasses.replace(d, message='row_filter of "User" references unknown column "owner"')
    other_file = dataclasses.replace(d, span=dataclasses.replace(d.span, file="schema/other.py"))
    assert fingerprint_of(moved) == fingerprint_of(d)
    assert fingerprint_of(reworded) != fingerprint_of(d)
    assert fingerprint_of(other_file) != fingerprint_of(d)
    assert len(fingerprint_of(d)) == 64


# --- GitHub ---------------------------------------------------------------------------------------------------


def test_github_lines() -> None:
    lines = to_github(sample()).splitlines()
    assert lines == [
        "::error file=schema/users.py,line=12,col=5,endColumn=11,title=FQL203 (row-filter-unknown-column)"
        '::row_filter of "User" references unknown column "tenant"%0Adid you mean "tenant_id"?'
        '%0Anote: "User" is defined here (schema/users.py:3:1)',
        '::warning file=schema/posts.py,title=FQL220 (table-without-access)::"Post" has a table but no access rule',
        "::error title=FQL203 (row-filter-unknown-column)::row_filter of a query without a source",
        # % in data becomes %25 and a newline %0A; ':' and ',' stay as they are in the message (only properties
        # escape them)
        "::warning file=schema/a b.py,line=7,title=FQL220 (table-without-access)"
        "::100%25 of rows: visible, to all,%0Aroles",
    ]
    assert to_github(sample()).endswith("\n")
    assert to_github([]) == ""


def test_github_properties_escape_colon_comma_percent_and_newlines() -> None:
    d = diag("FQL220", "m", Span("odd:dir,x/100%\r\nname.py", 2, 3, 0))
    assert to_github([d]) == (
        "::warning file=odd%3Adir%2Cx/100%25%0D%0Aname.py,line=2,col=3,title=FQL220 (table-without-access)::m\n"
    )


# --- everything -----------------------------------------------------------------------------------------------


def secretive() -> list[Diagnostic]:
    return [
        diag(
            "FQL203",
            f'column "{SECRET}" is unknown',
            Span("schema/users.py", 1, 1, 3),
            f"did you mean {SECRET}_id?",
            (Related(Span("schema/users.py", 2), f"{SECRET} defined here"),),
        ),
        diag("FQL220", "dsn postgresql://app:pa55word@db/app", Span("schema/posts.py", 4)),
    ]


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_secrets_are_scrubbed_everywhere(fmt: str) -> None:
    text = render(fmt, secretive(), tool_version=VERSION, secrets=(SECRET,))
    assert SECRET not in text
    assert "pa55word" not in text  # shaped like a URL password: masked without being named
    assert text.count("***") >= 4  # message, hint, related message, URL password


def test_fingerprint_is_of_the_scrubbed_message() -> None:
    d = secretive()[0]
    masked = dataclasses.replace(d, message='column "***" is unknown')
    assert fingerprint(d, (SECRET,)) == fingerprint(masked)  # a hash never encodes the secret
    assert fingerprint(d) != fingerprint(masked)


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_output_is_deterministic(fmt: str) -> None:
    first = render(fmt, sample(), tool_version=VERSION, secrets=(SECRET,))
    assert first == render(fmt, sample(), tool_version=VERSION, secrets=(SECRET,))
    assert first.endswith("\n")


def test_render_dispatches_and_refuses_text_and_unknown_formats() -> None:
    assert FORMAT_NAMES == ("text", "json", "sarif", "github")
    assert render("json", sample(), tool_version=VERSION) == to_json(sample())
    assert render("sarif", sample(), tool_version=VERSION) == to_sarif(sample(), tool_version=VERSION)
    assert render("github", sample(), tool_version=VERSION) == to_github(sample())
    with pytest.raises(ValueError, match="text"):
        render("text", sample(), tool_version=VERSION)
    with pytest.raises(ValueError, match="unknown diagnostic format"):
        render("xml", sample(), tool_version=VERSION)
