"""Diagnostics and the one exception type that carries them to the CLI's error boundary."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fraiseql_compiler.diagnostics.registry import Severity, lookup


@dataclass(frozen=True, order=True)
class Span:
    """Where in the user's code: ``file`` is relative to the project root (stable across machines)."""

    file: str
    line: int  # 1-based; 0 means "the whole file"
    column: int = 0  # 1-based; 0 means "the whole line"
    length: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")


@dataclass(frozen=True)
class Related:
    """Another place that explains a diagnostic: "first defined here"."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: Severity = "error"
    related: tuple[Related, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.code)
        return (self.span.file, self.span.line, self.span.column, self.code)


class FraiseQLError(Exception):
    """One or more error diagnostics: nothing was written, exit code 2."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        # The same problem can surface twice (a module that failed to import is imported again by a
        # sibling); show it once.
        self.diagnostics = sorted(dict.fromkeys(diagnostics), key=Diagnostic.sort_key)
        super().__init__("\n".join(f"{d.span}: error[{d.code}]: {d.message}" for d in self.diagnostics))


def diag(
    code: str, message: str, span: Span | None = None, hint: str | None = None, related: tuple[Related, ...] = ()
) -> Diagnostic:
    """A diagnostic of a registered code, with the code's default severity."""
    return Diagnostic(code, message, span, hint, lookup(code).severity, related)


def did_you_mean(name: str, candidates: object) -> str | None:
    import difflib

    names = sorted(str(c) for c in candidates)  # type: ignore[attr-defined]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f'did you mean "{close[0]}"?' if close else None


# A secret never reaches the terminal, even when it sits in a config value echoed in a message.
_SECRET_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # a JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"(?i)(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+(@)"),  # password in a database URL
)


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask known secret values and anything shaped like a token, key or URL password."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _SECRET_PATTERNS[0].sub("***", text)
    text = _SECRET_PATTERNS[1].sub("***", text)
    return _SECRET_PATTERNS[2].sub(r"\1***\2", text)
