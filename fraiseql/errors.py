"""Errors raised while a schema module is imported (decorator misuse)."""

from __future__ import annotations


class AuthoringError(TypeError):
    """A decorator was used in a way the compiler cannot honour.

    Raised at import time, so the traceback and the message both point at the user's line.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        file: str,
        line: int,
        hint: str | None = None,
        keyword: str | None = None,
        at_definition: bool = False,
    ) -> None:
        self.code = code
        self.message = message
        self.file = file
        self.line = line  # the decorator's line
        self.hint = hint
        self.keyword = keyword  # the offending keyword of the decorator call, for a precise caret
        self.at_definition = at_definition  # the problem is on the `def`/`class` line, not the decorator
        text = f"{file}:{line}: error[{code}]: {message}"
        if hint:
            text += f"\nhint: {hint}"
        super().__init__(text)
