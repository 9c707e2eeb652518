"""``# fraiseql: ignore[FQL220]`` comments in schema modules.

Comments are read with ``tokenize`` (``ast`` drops them), and only in files that contain the marker. A
comment on a line of a definition's decorators, or on its ``class``/``def`` line, covers the whole
definition (a multi-line decorator points its diagnostics at other lines than the ``@``); anywhere else it
covers its own line. Only warnings and lint rules can be silenced (``Code.suppressible``): any other
error means the output would be wrong. A comment naming an unknown code or an error code silences nothing
and says so (FQL303).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fraiseql_compiler.diagnostics.model import Diagnostic, Span, diag
from fraiseql_compiler.diagnostics.registry import CODES, lookup

MARKER = "fraiseql: ignore"
_COMMENT = re.compile(r"#\s*fraiseql:\s*ignore\[([^\]]*)\]")


@dataclass(frozen=True)
class Suppression:
    span: Span  # the comment
    codes: tuple[str, ...]
    first: int  # the lines it covers
    last: int


def comments(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """(line, column, codes) of every suppression comment in a module's source."""
    if MARKER not in text:
        return []
    found = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT and (match := _COMMENT.search(tok.string)):
                codes = tuple(c.strip() for c in match.group(1).split(",") if c.strip())
                found.append((tok.start[0], tok.start[1] + 1, codes))
    except (tokenize.TokenError, SyntaxError):  # the module imported, so this is not expected
        return found
    return found


def apply(
    diagnostics: Sequence[Diagnostic], suppressions: Iterable[Suppression]
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """(the diagnostics no comment silences, FQL303 warnings for comments that cannot silence anything)."""
    by_file: dict[str, list[Suppression]] = {}
    problems: list[Diagnostic] = []
    for s in suppressions:
        by_file.setdefault(s.span.file, []).append(s)
        for code in s.codes:
            entry = CODES.get(code)
            if entry is None:
                problems.append(diag("FQL303", f"{code} is not a fraiseql diagnostic code", s.span, _codes_hint()))
            elif not entry.suppressible:
                problems.append(
                    diag(
                        "FQL303",
                        f"{code} is an error and cannot be ignored",
                        s.span,
                        "fix what it reports; only warnings and lint rules can be silenced",
                    )
                )
    kept = []
    for d in diagnostics:
        silenced = (
            d.span is not None
            and (d.severity == "warning" or lookup(d.code).suppressible)
            and any(d.code in s.codes and s.first <= d.span.line <= s.last for s in by_file.get(d.span.file, ()))
        )
        if not silenced:
            kept.append(d)
    return kept, problems


def _codes_hint() -> str:
    warnings = ", ".join(c.id for c in CODES.values() if c.suppressible)
    return f"write the code of a warning: {warnings}"
