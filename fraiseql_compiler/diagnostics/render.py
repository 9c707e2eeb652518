"""Diagnostics rendered for people: code, message, file:line:col, the source line, a caret, related places,
a hint. Each source file is read once per rendering, however many diagnostics point into it, and many
warnings of one code are summarized after the first few, so the cost and the screen stay proportional to
what a reader can use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fraiseql_compiler.diagnostics.model import Diagnostic, Span, scrub
from fraiseql_compiler.diagnostics.registry import lookup

if TYPE_CHECKING:
    from rich.text import Text

WARNINGS_PER_CODE = 5  # shown in full; the rest of that code's warnings are counted in one line


class _Sources:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[str, list[str] | None] = {}

    def line(self, file: str, line: int) -> str | None:
        if file not in self._lines:
            try:
                self._lines[file] = (self.root / file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._lines[file] = None
        lines = self._lines[file]
        return lines[line - 1] if lines is not None and 0 < line <= len(lines) else None


def _location(text: Text, span: Span, sources: _Sources, style: str, secrets: tuple[str, ...]) -> None:
    location = str(span)
    source = sources.line(span.file, span.line) if span.line else None
    gutter = " " * len(str(span.line))
    text.append(f"{gutter}--> ", style="blue")
    text.append(location + "\n")
    if source is None:
        return
    text.append(f"{gutter} |\n", style="blue")
    text.append(f"{span.line} | ", style="blue")
    text.append(scrub(source.expandtabs(4), secrets) + "\n")
    if span.column:
        # the caret under the shown (tab-expanded) line: measure the raw text before and under it
        before = len(source[: span.column - 1].expandtabs(4))
        under = len(source[: span.column - 1 + max(span.length, 1)].expandtabs(4)) - before
        text.append(f"{gutter} | ", style="blue")
        text.append(" " * before + "^" * max(under, 1) + "\n", style=style)


def _diagnostic(d: Diagnostic, sources: _Sources, secrets: tuple[str, ...]) -> Text:
    from rich.text import Text

    style = "bold red" if d.severity == "error" else "bold yellow"
    text = Text()
    text.append(f"{d.severity}[{d.code}]", style=style)
    text.append(": " + scrub(d.message, secrets) + "\n", style="bold")
    if d.span is not None:
        _location(text, d.span, sources, style, secrets)
    for related in d.related:
        text.append("note", style="bold cyan")
        text.append(": " + scrub(related.message, secrets) + "\n")
        _location(text, related.span, sources, "cyan", secrets)
    if d.hint:
        text.append("hint", style="bold cyan")
        text.append(": " + scrub(d.hint, secrets) + "\n")
    return text


def format_all(
    diagnostics: Sequence[Diagnostic],
    root: Path,
    secrets: tuple[str, ...] = (),
    outcome: str = "nothing was written",
    *,
    warnings_per_code: int | None = WARNINGS_PER_CODE,
    show_all_hint: str = "",
) -> Text:
    """Every error, and up to ``warnings_per_code`` warnings of each code (None: all), then one line per
    code counting the warnings left out (``show_all_hint`` says how to see them)."""
    from rich.text import Text

    sources = _Sources(root)
    out = Text()
    shown: Counter[str] = Counter()
    hidden: Counter[str] = Counter()
    for d in diagnostics:
        if d.severity == "warning" and warnings_per_code is not None and shown[d.code] >= warnings_per_code:
            hidden[d.code] += 1
            continue
        shown[d.code] += 1
        if len(out):
            out.append("\n")
        out.append_text(_diagnostic(d, sources, secrets))
    for code, count in sorted(hidden.items()):
        out.append("\n")
        out.append(f"warning[{code}]", style="bold yellow")
        plural = "s" if count != 1 else ""
        out.append(f": {count} more warning{plural} like these ({lookup(code).title.lower()})")
        out.append(f"; {show_all_hint}\n" if show_all_hint else "\n")
    errors = sum(1 for d in diagnostics if d.severity == "error")
    if errors:
        tail = f"; {outcome}" if outcome else ""
        out.append(f"\n{errors} error{'s' if errors != 1 else ''}{tail}.\n", style="bold red")
    out.rstrip()  # the console adds the final newline
    return out
