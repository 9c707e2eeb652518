"""Diagnostics rendered for people: code, message, file:line:col, the source line, a caret, a hint."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fraiseql_compiler.errors import Diagnostic, scrub

if TYPE_CHECKING:
    from rich.text import Text


def _source_line(root: Path, file: str, line: int) -> str | None:
    try:
        lines = (root / file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return lines[line - 1].expandtabs(4) if 0 < line <= len(lines) else None


def format_diagnostic(d: Diagnostic, root: Path, secrets: tuple[str, ...] = ()) -> Text:
    from rich.text import Text

    style = "bold red" if d.severity == "error" else "bold yellow"
    text = Text()
    text.append(f"{d.severity}[{d.code}]", style=style)
    text.append(": " + scrub(d.message, secrets) + "\n", style="bold")
    if d.span is not None:
        location = f"{d.span.file}:{d.span.line}" + (f":{d.span.column}" if d.span.column else "")
        source = _source_line(root, d.span.file, d.span.line) if d.span.line else None
        gutter = " " * len(str(d.span.line))
        text.append(f"{gutter}--> ", style="blue")
        text.append(location + "\n")
        if source is not None:
            text.append(f"{gutter} |\n", style="blue")
            text.append(f"{d.span.line} | ", style="blue")
            text.append(scrub(source, secrets) + "\n")
            if d.span.column:
                text.append(f"{gutter} | ", style="blue")
                text.append(" " * (d.span.column - 1) + "^" * max(d.span.length, 1) + "\n", style=style)
    if d.hint:
        text.append("hint", style="bold cyan")
        text.append(": " + scrub(d.hint, secrets) + "\n")
    return text


def format_all(
    diagnostics: list[Diagnostic], root: Path, secrets: tuple[str, ...] = (), outcome: str = "nothing was written"
) -> Text:
    from rich.text import Text

    out = Text()
    for i, d in enumerate(diagnostics):
        if i:
            out.append("\n")
        out.append_text(format_diagnostic(d, root, secrets))
    errors = sum(1 for d in diagnostics if d.severity == "error")
    if errors:
        tail = f"; {outcome}" if outcome else ""
        out.append(f"\n{errors} error{'s' if errors != 1 else ''}{tail}.\n", style="bold red")
    out.rstrip()  # the console adds the final newline
    return out
