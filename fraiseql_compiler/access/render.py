"""The access matrix and the access diff as text: rich tables for a terminal, Markdown (GitHub pipe tables)
for a pull request or a review document, JSON for tools. Every output is deterministic: the same manifest
gives the same bytes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from fraiseql_compiler.access.diff import AccessDiff, code
from fraiseql_compiler.access.matrix import ACTIONS, AUTHENTICATED, Cell, Identity, Matrix, OperationRow

if TYPE_CHECKING:
    from rich.console import RenderableType

YES, NO = "✓", "—"

LEGEND = (
    f"{YES}: the identity can run the operation; {NO}: it cannot. "
    "*needs* X: only with a credential holding X (an API key's or an extra role's scopes are chosen per "
    "credential); *needs also* X: a user holding this column's scope and X. "
    "*as* R: an auth flow the runtime runs as the role R. "
    "*rows*: the query's `row_filter`. "
    "*policy*: the role's read policy on the table the query reads restricts the rows (see the tables below); "
    "*no read policy*: the role sees no row of that table."
)


def _plain(text: str) -> str:
    return text


def cell_parts(cell: Cell, identity: Identity, fmt: Callable[[str], str] = _plain) -> list[str]:
    """What a cell says, after its mark: the conditions and what the rows are. ``fmt`` formats a predicate."""
    if not cell.allowed:
        return [f"needs also {', '.join(cell.needs)}"] if cell.needs and identity.scopes else []
    parts = []
    if cell.needs:
        parts.append(f"needs {', '.join(cell.needs)}")
    if cell.runs_as:
        parts.append(f"as {cell.runs_as}")
    if cell.row_filter:
        parts.append(f"rows: {fmt(cell.row_filter)}")
    if cell.read_policy is not None and cell.read_policy.strip().lower() != "true":
        parts.append("policy")
    if cell.no_rows:
        parts.append("no read policy: no rows")
    return parts


def cell_text(cell: Cell, identity: Identity, fmt: Callable[[str], str] = _plain) -> str:
    parts = cell_parts(cell, identity, fmt)
    mark = YES if cell.allowed else NO
    return f"{mark} {'; '.join(parts)}" if parts else mark


def _kind(row: OperationRow) -> str:
    return row.kind


def _guards(row: OperationRow, fmt: Callable[[str], str] = _plain) -> str:
    out = []
    for g in row.guards:
        head, _, name = g.rpartition(" ")
        out.append(f"{head} {fmt(name)}" if head else g)
    return ", ".join(out) if out else "none"


# --- Markdown --------------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text for a pipe-table cell: pipes escaped (even inside code spans, as GitHub requires), no newline."""
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(_md(c) for c in cells) + " |"


def render_markdown(matrix: Matrix) -> str:
    title = f"Access matrix: {matrix.project}" if matrix.project else "Access matrix"
    lines = [f"# {title}", "", LEGEND, ""]
    header = ["Operation", "Kind", "Guards", *(i.label for i in matrix.identities)]
    lines += [_md_row(header), "|" + "|".join(["---"] * 3 + [":-:"] * len(matrix.identities)) + "|"]
    for row in matrix.operations:
        cells = [code(row.name), _kind(row), _guards(row, code)]
        cells += [cell_text(c, i, code) for c, i in zip(row.cells, matrix.identities, strict=True)]
        lines.append(_md_row(cells))
    lines += [
        "",
        "## Row-level security",
        "",
        f"Each API role's rule per table and action, as written; {NO}: no rule, so the role may not "
        "(row-level security is forced on these tables).",
    ]
    for table in matrix.policies:
        lines += ["", f"### {code(table.table)} ({', '.join(table.types)})", ""]
        lines += [_md_row(["Role", *ACTIONS]), "|" + "|".join(["---"] * (1 + len(ACTIONS))) + "|"]
        for role in table.roles:
            rules = [table.rule(role, a) for a in ACTIONS]
            lines.append(_md_row([role, *(code(r.predicate) if r else NO for r in rules)]))
    return "\n".join(lines) + "\n"


# --- JSON ------------------------------------------------------------------------------------------------


def matrix_data(matrix: Matrix) -> dict[str, Any]:
    return {
        "identities": [asdict(i) for i in matrix.identities],
        "operations": [
            {
                "access": {c.identity: {k: v for k, v in asdict(c).items() if k != "identity"} for c in row.cells},
                **{k: v for k, v in asdict(row).items() if k != "cells"},
            }
            for row in matrix.operations
        ],
        "policies": [asdict(t) for t in matrix.policies],
        "project": matrix.project,
    }


def render_json(matrix: Matrix) -> str:
    return json.dumps(matrix_data(matrix), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- rich ------------------------------------------------------------------------------------------------


def rich_tables(matrix: Matrix) -> list[RenderableType]:
    """The operations table, then one table per table-backed type's table."""
    from rich.table import Table
    from rich.text import Text

    title = f"Access matrix ({matrix.project})" if matrix.project else "Access matrix"
    ops = Table(title=title, show_lines=True)
    ops.add_column("operation", no_wrap=True)
    ops.add_column("kind", no_wrap=True)
    ops.add_column("guards", overflow="fold", min_width=len(AUTHENTICATED))
    for i in matrix.identities:
        ops.add_column(i.label.replace(" + ", "\n+ "), overflow="fold", min_width=len(AUTHENTICATED))
    for row in matrix.operations:
        cells = []
        for c, i in zip(row.cells, matrix.identities, strict=True):
            parts = cell_parts(c, i)
            text = Text(YES if c.allowed else NO, style="bold green" if c.allowed else "dim")
            if parts:
                text.append(" " + "; ".join(parts), style="yellow" if c.allowed else "dim")
            cells.append(text)
        ops.add_row(Text(row.name, style="bold"), Text(_kind(row)), Text(_guards(row)), *cells)
    out: list[RenderableType] = [ops, Text(LEGEND.replace("*", "").replace("`", ""), style="dim")]
    for table in matrix.policies:
        rls = Table(title=f"Row-level security: {table.table} ({', '.join(table.types)})", show_lines=True)
        rls.add_column("role", no_wrap=True)
        for a in ACTIONS:
            rls.add_column(a, overflow="fold")
        for role in table.roles:
            rules = [table.rule(role, a) for a in ACTIONS]
            rls.add_row(Text(role), *(Text(r.predicate) if r else Text(NO, style="dim") for r in rules))
        out.append(rls)
    return out


def render_table(matrix: Matrix, width: int = 160) -> str:
    """The rich tables as plain text (no colour), ``width`` columns wide."""
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False, emoji=False)
    for renderable in rich_tables(matrix):
        console.print(renderable)
    return buffer.getvalue()


# --- the diff --------------------------------------------------------------------------------------------


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def diff_summary(diff: AccessDiff) -> str:
    wide, narrow = len(diff.widenings), len(diff.narrowings)
    if not diff:
        return "No change in access."
    if wide:
        return f"**Access widens**: {_count(wide, 'change widens', 'changes widen')} it" + (
            f", {_count(narrow, 'change narrows', 'changes narrow')} it." if narrow else "."
        )
    return f"Access only narrows: {_count(narrow, 'change narrows', 'changes narrow')} it."


def diff_markdown(diff: AccessDiff, old: str | None = None, new: str | None = None) -> str:
    """For a pull-request comment: a summary line, then the widening changes, then the narrowing ones."""
    between = f" ({code(old)} → {code(new)})" if old and new else ""
    lines = ["## Access review" + between, "", diff_summary(diff)]
    for title, changes in (("Widened", diff.widenings), ("Narrowed", diff.narrowings)):
        if changes:
            lines += ["", f"### {title}", ""]
            lines += [f"- {code(c.id)} ({c.kind.replace('_', ' ')}): {c.message}" for c in changes]
    return "\n".join(lines) + "\n"


def diff_text(diff: AccessDiff) -> str:
    lines = [diff_summary(diff).replace("**", "")]
    for c in (*diff.widenings, *diff.narrowings):
        lines.append(f"  {'widens ' if c.widens else 'narrows'}  {c.id}: {c.message}")
    return "\n".join(lines) + "\n"


def diff_json(diff: AccessDiff) -> str:
    data = {
        "changes": [asdict(c) for c in diff.changes],
        "narrowings": len(diff.narrowings),
        "widenings": len(diff.widenings),
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = [
    "cell_parts",
    "cell_text",
    "diff_json",
    "diff_markdown",
    "diff_summary",
    "diff_text",
    "matrix_data",
    "render_json",
    "render_markdown",
    "render_table",
    "rich_tables",
]
