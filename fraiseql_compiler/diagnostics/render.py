"""Diagnostics rendered for people: code, message, file:line:col, the source line, a caret, related places,
a hint. Each source file is read once per rendering, however many diagnostics point into it, and many
warnings of one code are summarized after the first few, so the cost and the screen stay proportional to
what a reader can use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


Segments = list[tuple[str, str | None]]  # (text, rich style): the rendering, before rich sees it


def _location(out: Segments, span: Span, sources: _Sources, style: str, secrets: tuple[str, ...]) -> None:
    location = str(span)
    source = sources.line(span.file, span.line) if span.line else None
    gutter = " " * len(str(span.line))
    out += [(f"{gutter}--> ", "blue"), (location + "\n", None)]
    if source is None:
        return
    out += [(f"{gutter} |\n", "blue"), (f"{span.line} | ", "blue"), (scrub(source.expandtabs(4), secrets) + "\n", None)]
    if span.column:
        # the caret under the shown (tab-expanded) line: measure the raw text before and under it
        before = len(source[: span.column - 1].expandtabs(4))
        under = len(source[: span.column - 1 + max(span.length, 1)].expandtabs(4)) - before
        out += [(f"{gutter} | ", "blue"), (" " * before + "^" * max(under, 1) + "\n", style)]


def _diagnostic(out: Segments, d: Diagnostic, sources: _Sources, secrets: tuple[str, ...]) -> None:
    style = "bold red" if d.severity == "error" else "bold yellow"
    out += [(f"{d.severity}[{d.code}]", style), (": " + scrub(d.message, secrets) + "\n", "bold")]
    if d.span is not None:
        _location(out, d.span, sources, style, secrets)
    for related in d.related:
        out += [("note", "bold cyan"), (": " + scrub(related.message, secrets) + "\n", None)]
        _location(out, related.span, sources, "cyan", secrets)
    if d.hint:
        out += [("hint", "bold cyan"), (": " + scrub(d.hint, secrets) + "\n", None)]


def segments(
    diagnostics: Sequence[Diagnostic],
    root: Path,
    secrets: tuple[str, ...] = (),
    outcome: str = "nothing was written",
    *,
    warnings_per_code: int | None = WARNINGS_PER_CODE,
    show_all_hint: str = "",
) -> Segments:
    """Every error, and up to ``warnings_per_code`` warnings of each code (None: all), then one line per
    code counting the warnings left out (``show_all_hint`` says how to see them). No final newline."""
    sources = _Sources(root)
    out: Segments = []
    shown: Counter[str] = Counter()
    hidden: Counter[str] = Counter()
    for d in diagnostics:
        if d.severity == "warning" and warnings_per_code is not None and shown[d.code] >= warnings_per_code:
            hidden[d.code] += 1
            continue
        shown[d.code] += 1
        if out:
            out.append(("\n", None))
        _diagnostic(out, d, sources, secrets)
    for code, count in sorted(hidden.items()):
        plural = "s" if count != 1 else ""
        out += [("\n", None), (f"warning[{code}]", "bold yellow")]
        out.append((f": {count} more warning{plural} like these ({lookup(code).title.lower()})", None))
        out.append((f"; {show_all_hint}\n" if show_all_hint else "\n", None))
    errors = sum(1 for d in diagnostics if d.severity == "error")
    if errors:
        tail = f"; {outcome}" if outcome else ""
        out.append((f"\n{errors} error{'s' if errors != 1 else ''}{tail}.\n", "bold red"))
    while out and out[-1][0].endswith("\n"):  # the caller ends the last line
        text, style = out.pop()
        if text.rstrip("\n"):
            out.append((text.rstrip("\n"), style))
            break
    return out


def format_all(diagnostics: Sequence[Diagnostic], root: Path, *args: Any, **kwargs: Any) -> Text:
    """:func:`segments` as rich text, for a terminal (colours) or a recording console (tests)."""
    from rich.text import Text

    return Text.assemble(
        *((text, style) if style else text for text, style in segments(diagnostics, root, *args, **kwargs))
    )


def format_plain(diagnostics: Sequence[Diagnostic], root: Path, *args: Any, **kwargs: Any) -> str:
    """:func:`segments` as plain text, with a final newline: what rich prints without colours, without
    importing rich (CI logs, pipes)."""
    return "".join(text for text, _ in segments(diagnostics, root, *args, **kwargs)) + "\n"
