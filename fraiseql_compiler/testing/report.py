"""How a run of access cases is reported: text (like pytest: a line per file, each failure in full, a
summary), JSON, GitHub workflow annotations (and a step summary), and JUnit XML for CI dashboards.

Everything but the timings is deterministic: the same cases against the same schema give the same report.
Timings appear in the summary line (text, GitHub), the ``seconds`` fields (JSON) and ``time`` attributes
(JUnit) only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from fraiseql_compiler.testing.cases import Expectation
from fraiseql_compiler.testing.runner import Outcome, Report, rows_of, shown

_ROWS_SHOWN = 10  # rows of a result shown in a failure; the rest are counted
_ROW_WIDTH = 240  # characters of one row shown in a failure
_GOT = " " * 12  # the indentation of a failure's continuation lines


# --- a failure, as a reviewer reads it -------------------------------------------------------------------


def _request(o: Outcome) -> str:
    variables = f" {shown(dict(o.case.variables), 200)}" if o.case.variables else ""
    return f"{o.case.operation}{variables}"


def describe_expectation(expect: Expectation) -> str:
    """What the case expects, in a line: ``error 403``, ``success: 2 row(s), including {"title": "Hi"}``."""
    if expect.error is not None or expect.sqlstate is not None:
        parts = [f"error {expect.error}"] if expect.error is not None else ["an error"]
        if expect.sqlstate is not None:
            parts.append(f"with SQLSTATE {expect.sqlstate}")
        return " ".join(parts)
    parts = []
    if expect.has_result:
        parts.append(f"the result {shown(expect.result, 200)}")
    if expect.count is not None:
        parts.append(f"{expect.count} row(s)")
    if expect.rows_include:
        parts.append("including " + ", ".join(shown(dict(p), 120) for p in expect.rows_include))
    if expect.rows_exclude:
        parts.append("never " + ", ".join(shown(dict(p), 120) for p in expect.rows_exclude))
    return "success" + (": " + "; ".join(parts) if parts else "")


def _pattern_keys(expect: Expectation) -> list[str]:
    keys: dict[str, None] = {}
    for pattern in (*expect.rows_include, *expect.rows_exclude):
        keys.update(dict.fromkeys(pattern))
    return list(keys)


def _brief_row(row: Any, keys: list[str]) -> str:
    """A row in a line: the fields the case names first and in full, then its id, its other values, and
    last its nested objects and lists, folded (``{…}``, ``[3 items]``)."""
    if not isinstance(row, Mapping):
        return shown(row, _ROW_WIDTH)
    first = list(dict.fromkeys(k for k in [*keys, "id"] if k in row))
    rest = sorted((k for k in row if k not in first), key=lambda k: (isinstance(row[k], Mapping | list), k))
    parts = []
    for k in first:
        parts.append(f"{json.dumps(k)}: {shown(row[k], 120)}")
    for k in rest:
        v = row[k]
        if isinstance(v, Mapping):
            text = "{…}" if v else "{}"
        elif isinstance(v, list):
            text = f"[{len(v)} item{'s' if len(v) != 1 else ''}]"
        else:
            text = shown(v, 80)
        parts.append(f"{json.dumps(k)}: {text}")
    # Over the width, drop whole fields from the end (never cut one in the middle), keeping the named ones.
    while len(parts) > len(first) and len("{" + ", ".join(parts) + "}") > _ROW_WIDTH:
        parts.pop()
    dropped = len(first) + len(rest) - len(parts)
    return "{" + ", ".join(parts) + (f", … {dropped} more" if dropped else "") + "}"


def got_lines(o: Outcome) -> list[str]:
    """What came back: the refusal, or the rows (each on a line of its own, folded), or the value."""
    if o.error is not None:
        sqlstate = f" (SQLSTATE {o.error['sqlstate']})" if o.error.get("sqlstate") else ""
        return [f"{o.error['http']} {o.error['code']}: {o.error['message']}{sqlstate}"]
    data = o.result
    if isinstance(data, list) or (isinstance(data, Mapping) and isinstance(data.get("edges"), list)):
        rows = rows_of(data)
        keys = _pattern_keys(o.case.expect)
        lines = [f"{len(rows)} row(s)" + (":" if rows else "")]
        lines += [f"- {_brief_row(r, keys)}" for r in rows[:_ROWS_SHOWN]]
        if len(rows) > _ROWS_SHOWN:
            lines.append(f"… and {len(rows) - _ROWS_SHOWN} more")
        return lines
    if isinstance(data, Mapping):
        return [_brief_row(data, _pattern_keys(o.case.expect))]
    return [shown(data, 400)]


def failure_lines(o: Outcome) -> list[str]:
    """A failed case as a reviewer reads it: where, who, what ran, what was expected and what came back."""
    lines = [
        f"FAILED {o.case.span}  {o.case.name}",
        f"  as:       {o.identity.name}: {o.identity.describe()}",
        f"  ran:      {_request(o)}",
        f"  expected: {describe_expectation(o.case.expect)}",
    ]
    lines += [f"  problem:  {p}" for p in o.problems]
    got = got_lines(o)
    lines.append(f"  got:      {got[0]}")
    lines += [f"{_GOT}{line}" for line in got[1:]]
    return lines


# --- text --------------------------------------------------------------------------------------------------


def _differences(report: Report) -> list[Any]:
    return list(report.matrix.differences) if report.matrix is not None else []


def summary(report: Report) -> str:
    passed, failed, differs = len(report.passed), len(report.failed), len(_differences(report))
    parts = [f"{failed} failed"] if failed else []
    parts.append(f"{passed} passed")
    if differs:
        parts.append(f"{differs} matrix difference{'s' if differs != 1 else ''}")
    return f"{', '.join(parts)} in {report.seconds:.2f}s (database set up in {report.setup_seconds:.2f}s)"


def _by_file(report: Report) -> dict[str, list[Outcome]]:
    by_file: dict[str, list[Outcome]] = {}
    for o in report.outcomes:
        by_file.setdefault(o.case.file, []).append(o)
    return by_file


def render_text(report: Report) -> str:
    """pytest's shape: a line of dots per file, every failure in full, the matrix (with ``--matrix``), and the
    summary last."""
    lines = [f"{file} {progress_line(outs)}" for file, outs in _by_file(report).items()]
    if report.failed:
        lines.append("")
        for o in report.failed:
            lines += [*failure_lines(o), ""]
        lines.pop()
    text = "\n".join(lines) + "\n"
    if report.matrix is not None:
        from fraiseql_compiler.testing.matrix import render_matrix

        text += render_matrix(report.matrix)
    return text + ("\n" if report.failed or report.matrix is not None else "") + summary(report) + "\n"


# --- JSON --------------------------------------------------------------------------------------------------


def _outcome_json(o: Outcome) -> dict[str, Any]:
    data = {
        "id": o.case.id,
        "file": o.case.file,
        "line": o.case.span.line,
        "name": o.case.name,
        "identity": o.identity.name,
        "as": o.identity.describe(),
        "operation": o.case.operation,
        "variables": dict(o.case.variables),
        "expected": describe_expectation(o.case.expect),
        "outcome": "passed" if o.passed else "failed",
        "seconds": round(o.seconds, 4),
        "problems": o.problems,
        "error": o.error,
    }
    if not o.passed and o.error is None:
        data["result"] = o.result  # what came back, for a failure that was not a refusal
    return data


def render_json(report: Report) -> str:
    """One object: ``summary`` (counts, seconds), ``cases`` (each outcome, in run order) and, with
    ``--matrix``, ``matrix``."""
    data: dict[str, Any] = {
        "summary": {
            "cases": len(report.outcomes),
            "passed": len(report.passed),
            "failed": len(report.failed),
            "seconds": round(report.seconds, 3),
            "setup_seconds": round(report.setup_seconds, 3),
        },
        "cases": [_outcome_json(o) for o in report.outcomes],
    }
    if report.matrix is not None:
        from fraiseql_compiler.testing.matrix import matrix_json

        data["matrix"] = matrix_json(report.matrix)
        data["summary"]["matrix_differences"] = len(report.matrix.differences)
    return json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"


# --- GitHub Actions ----------------------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _difference_line(cell: Any) -> str:
    said = "allows" if cell.predicted else "refuses"
    return f"{cell.operation} as {cell.identity}: the rules say it {said}; the database answered {cell.detail}"


def render_github(report: Report) -> str:
    """One ``::error`` workflow command per failed case (at the case's file and line) and per matrix
    difference, then the matrix (with ``--matrix``) and the summary, for the log."""
    lines = []
    for o in report.failed:
        title = _escape_property(f"fraiseql test: {o.case.name}")
        body = _escape_data("\n".join(line.strip() for line in failure_lines(o)[1:]))
        lines.append(f"::error file={_escape_property(o.case.file)},line={o.case.span.line},title={title}::{body}")
    for cell in _differences(report):
        title = _escape_property(f"fraiseql test --matrix: {cell.operation} as {cell.identity}")
        lines.append(f"::error title={title}::{_escape_data(_difference_line(cell))}")
    text = "".join(line + "\n" for line in lines)
    if report.matrix is not None:
        from fraiseql_compiler.testing.matrix import render_matrix

        text += render_matrix(report.matrix)
    return text + summary(report) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def step_summary(report: Report) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: the counts, a line per file, and a table of the failures (and of
    the matrix differences)."""
    out = ["## fraiseql test", "", summary(report), ""]
    by_file = _by_file(report)
    if by_file:
        out += ["| file | passed | failed |", "| --- | ---: | ---: |"]
        for file, outs in by_file.items():
            failed = sum(not o.passed for o in outs)
            out.append(f"| `{_cell(file)}` | {len(outs) - failed} | {failed} |")
        out.append("")
    if report.failed:
        out += ["### Failed cases", "", "| case | as | expected | problem |", "| --- | --- | --- | --- |"]
        for o in report.failed:
            problem = "<br>".join(_cell(p) for p in o.problems)
            out.append(
                f"| `{_cell(str(o.case.span))}` {_cell(o.case.name)} | {_cell(o.identity.name)} "
                f"| {_cell(describe_expectation(o.case.expect))} | {problem} |"
            )
        out.append("")
    differences = _differences(report)
    if differences:
        out += ["### Access matrix differences", ""]
        out += [f"- {_cell(_difference_line(c))}" for c in differences]
        out.append("")
    return "\n".join(out)


# --- JUnit XML ---------------------------------------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """XML 1.0 has no place for most control characters, even escaped: they become U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def junit_xml(report: Report) -> str:
    """JUnit XML: a testsuite per case file, a testcase per case (classname: the file, name: the case; file
    and line attributes, as pytest's xunit1 writes them), a failure with the problems as its message and the
    failure block as its text. With ``--matrix``, one more testsuite: a testcase per operation, failed when
    the database and the rules disagree on it for an identity, skipped when no cell of it was compared."""
    from xml.etree import ElementTree as ET

    differences = _differences(report)
    matrix = report.matrix
    tests = len(report.outcomes) + (len(matrix.operations) if matrix is not None else 0)
    failures = len(report.failed) + len({c.operation for c in differences})
    suites = ET.Element(
        "testsuites",
        name="fraiseql test",
        tests=str(tests),
        failures=str(failures),
        errors="0",
        time=f"{report.seconds:.3f}",
    )
    for file, outs in _by_file(report).items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=_xml_text(file),
            tests=str(len(outs)),
            failures=str(sum(not o.passed for o in outs)),
            errors="0",
            skipped="0",
            time=f"{sum(o.seconds for o in outs):.3f}",
        )
        for o in outs:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_xml_text(file),
                name=_xml_text(o.case.name),
                time=f"{o.seconds:.3f}",
                file=_xml_text(file),
                line=str(o.case.span.line),
            )
            if not o.passed:
                failure = ET.SubElement(
                    case, "failure", message=_xml_text("; ".join(o.problems)), type="AccessCaseFailure"
                )
                failure.text = _xml_text("\n".join(failure_lines(o)))
    if matrix is not None:
        _junit_matrix(suites, matrix)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _junit_matrix(suites: Any, matrix: Any) -> None:
    from xml.etree import ElementTree as ET

    name = "fraiseql test --matrix"
    differing = {c.operation for c in matrix.differences}
    compared = {op for (op, _), c in matrix.cells.items() if c.observed != "not compared"}
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=name,
        tests=str(len(matrix.operations)),
        failures=str(len(differing)),
        errors="0",
        skipped=str(sum(op not in compared for op in matrix.operations)),
        time="0.000",
    )
    for op in matrix.operations:
        case = ET.SubElement(suite, "testcase", classname=name, name=op, time="0.000")
        cells = [matrix.cells[(op, i)] for i in matrix.identities if (op, i) in matrix.cells]
        if op in differing:
            lines = [_difference_line(c) for c in cells if c.differs]
            failure = ET.SubElement(case, "failure", message=_xml_text("; ".join(lines)), type="AccessMatrixDifference")
            failure.text = _xml_text("\n".join(lines))
        elif op not in compared:
            details = "; ".join(f"{c.identity}: {c.detail}" for c in cells)
            ET.SubElement(case, "skipped", message=_xml_text(f"not compared (arguments refused): {details}"))


def progress_line(outcomes: Iterable[Outcome]) -> str:
    return "".join("." if o.passed else "F" for o in outcomes)
