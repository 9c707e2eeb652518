"""Diagnostics rendered for machines: JSON, SARIF 2.1.0 and GitHub Actions workflow commands.

The text format is for people and lives in :mod:`render` (it needs rich and reads the source files); these are
pure functions of the diagnostics, stdlib only, so ``lint`` can print them in CI without importing rich and tests
can compare them byte for byte. Every message, hint and related message goes through :func:`scrub`: a secret
that reached a message must not reach a CI log or an uploaded SARIF file either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fraiseql_compiler.diagnostics.model import Diagnostic, Span, scrub
from fraiseql_compiler.diagnostics.registry import lookup

FORMAT_NAMES = ("text", "json", "sarif", "github")
JSON_VERSION = 1  # bump when a field changes meaning or disappears; adding a field does not bump it
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "fraiseqlFingerprint/v1"

Json = dict[str, Any]


def _dump(document: object) -> str:
    # Sorted keys and a fixed indent: the same diagnostics give the same bytes, so outputs can be diffed and
    # golden-tested. ensure_ascii=False keeps non-ASCII names readable; json escapes what JSON requires.
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _end_column(span: Span) -> int | None:
    """One past the last character (SARIF's convention), known only when the span has a column and a length."""
    return span.column + span.length if span.column and span.length else None


def _summary(diagnostics: Sequence[Diagnostic]) -> Json:
    errors = sum(1 for d in diagnostics if d.severity == "error")
    return {"errors": errors, "warnings": len(diagnostics) - errors}


# --- JSON -----------------------------------------------------------------------------------------------------


def _json_span(span: Span | None) -> Json | None:
    # line 0 is "the whole file" and column 0 "the whole line", as in Span: kept as 0 rather than null so a
    # consumer sees exactly what the compiler knew.
    if span is None:
        return None
    return {"file": span.file, "line": span.line, "column": span.column, "end_column": _end_column(span)}


def to_json(diagnostics: Sequence[Diagnostic], *, secrets: tuple[str, ...] = ()) -> str:
    """Our own document, in the input order: the most faithful of the machine formats (every field of the
    model, plus the registry's name and doc page), for scripts and editors that know fraiseql."""
    items = [
        {
            "code": d.code,
            "name": lookup(d.code).name,
            "severity": d.severity,
            "message": scrub(d.message, secrets),
            "hint": scrub(d.hint, secrets) if d.hint else None,
            "span": _json_span(d.span),
            "related": [{"message": scrub(r.message, secrets), "span": _json_span(r.span)} for r in d.related],
            "doc": lookup(d.code).doc,
        }
        for d in diagnostics
    ]
    return _dump({"version": JSON_VERSION, "diagnostics": items, "summary": _summary(diagnostics)})


# --- SARIF ----------------------------------------------------------------------------------------------------


def _message_text(d: Diagnostic, secrets: tuple[str, ...]) -> str:
    """The message, and the hint on its own line: SARIF and GitHub show one text, and the hint is the fix."""
    text = scrub(d.message, secrets)
    return f"{text}\n{scrub(d.hint, secrets)}" if d.hint else text


def fingerprint(d: Diagnostic, secrets: tuple[str, ...] = ()) -> str:
    """sha256 of code, file and (scrubbed) message: what the problem is and where, not which line.

    Code-scanning services match a result across commits by this value, so it must not move when unrelated
    lines are inserted above. The usual input, the trimmed source line, needs the source, which these pure
    functions do not read; messages name the definition at fault, which serves the same purpose. Two identical
    messages in one file share a fingerprint (the service then tells them apart by position). The message is
    scrubbed first so a hash never encodes a secret.
    """
    parts = (d.code, d.span.file if d.span else "", scrub(d.message, secrets))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _sarif_location(span: Span) -> Json:
    # The span's file is relative to the project root: a URI reference against %SRCROOT%, POSIX separators,
    # percent-encoded (a space or non-ASCII letter in a file name is not valid in a URI as-is).
    uri = quote(span.file.replace("\\", "/"), safe="/")
    physical: Json = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if span.line:  # line 0 is the whole file: no region at all
        region: Json = {"startLine": span.line}
        if span.column:
            region["startColumn"] = span.column
            if (end := _end_column(span)) is not None:
                region["endColumn"] = end
        physical["region"] = region
    return {"physicalLocation": physical}


def _sarif_rule(code: str) -> Json:
    entry = lookup(code)
    return {
        "id": entry.id,
        # The registry's kebab-case name, not a PascalCase spelling of it: it is the name users meet everywhere
        # else (the JSON format, GitHub titles, the docs), it is what ruff puts here, and SARIF's schema does
        # not require PascalCase (only the SARIF multitool's style rule suggests it).
        "name": entry.name,
        "shortDescription": {"text": entry.title},
        # No public docs site yet, so no helpUri (a placeholder URL would be a broken link in every viewer).
        "help": {"text": f"see {entry.doc}"},
        "defaultConfiguration": {"level": entry.severity},
        **({"helpUri": entry.external} if entry.external else {}),  # a pass-through rule's own page
    }


def to_sarif(diagnostics: Sequence[Diagnostic], *, tool_version: str, secrets: tuple[str, ...] = ()) -> str:
    """SARIF 2.1.0, one run, for GitHub code scanning and other SARIF viewers.

    ``rules`` lists only the codes that occur (sorted by id, so ruleIndex is stable for a given set of
    results), not the whole registry: viewers show rule metadata per result, and the file stays small.
    Columns are Unicode code points (the span's columns count characters, see sourcemap).
    """
    codes = sorted({d.code for d in diagnostics})
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for d in diagnostics:
        result: Json = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": d.severity,
            "message": {"text": _message_text(d, secrets)},
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint(d, secrets)},
        }
        if d.span is not None:
            result["locations"] = [_sarif_location(d.span)]
        if d.related:
            result["relatedLocations"] = [
                {**_sarif_location(r.span), "id": i, "message": {"text": scrub(r.message, secrets)}}
                for i, r in enumerate(d.related)
            ]
        results.append(result)
    run = {
        "tool": {"driver": {"name": "fraiseql", "version": tool_version, "rules": [_sarif_rule(c) for c in codes]}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return _dump({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]})


# --- GitHub Actions -------------------------------------------------------------------------------------------


def escape_data(text: str) -> str:
    """As ``escapeData`` in actions/toolkit packages/core/src/command.ts: a command is one line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """As ``escapeProperty`` there: also ``:`` and ``,``, which end a property list or a property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github_line(d: Diagnostic, secrets: tuple[str, ...]) -> str:
    properties: list[tuple[str, object]] = []
    if d.span is not None:
        properties.append(("file", d.span.file.replace("\\", "/")))
        if d.span.line:  # col/endColumn mean nothing without a line
            properties.append(("line", d.span.line))
            if d.span.column:
                properties.append(("col", d.span.column))
                properties.append(("endColumn", _end_column(d.span)))
    properties.append(("title", f"{d.code} ({lookup(d.code).name})"))
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties if value is not None)
    # An annotation has no place for related locations, so they follow the hint as "note:" lines, as in text.
    notes = "".join(f"\nnote: {scrub(r.message, secrets)} ({r.span})" for r in d.related)
    return f"::{d.severity} {props}::{escape_data(_message_text(d, secrets) + notes)}"


def to_github(diagnostics: Sequence[Diagnostic], *, secrets: tuple[str, ...] = ()) -> str:
    """One ``::error``/``::warning`` workflow command per diagnostic, so a CI run annotates the pull request
    without uploading SARIF. Properties are written file, line, col, endColumn, title (GitHub reads them by
    name; the toolkit's own order differs and does not matter)."""
    return "".join(_github_line(d, secrets) + "\n" for d in diagnostics)


# --- dispatch -------------------------------------------------------------------------------------------------


def render(fmt: str, diagnostics: Sequence[Diagnostic], *, tool_version: str, secrets: tuple[str, ...] = ()) -> str:
    """The machine format named ``fmt``. "text" is refused: it needs rich and the sources (see render.py)."""
    if fmt == "json":
        return to_json(diagnostics, secrets=secrets)
    if fmt == "sarif":
        return to_sarif(diagnostics, tool_version=tool_version, secrets=secrets)
    if fmt == "github":
        return to_github(diagnostics, secrets=secrets)
    if fmt == "text":
        raise ValueError('"text" is rendered by diagnostics.render.format_all, not by formats.render')
    raise ValueError(f"unknown diagnostic format {fmt!r}; expected one of: {', '.join(FORMAT_NAMES)}")
