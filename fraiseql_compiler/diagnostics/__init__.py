"""Diagnostics: the code registry, the diagnostic model, and its formats (text, json, sarif, github).

Every problem the compiler reports is a :class:`Diagnostic` of a code registered in
:mod:`~fraiseql_compiler.diagnostics.registry`, made with :func:`diag`. Errors travel to the CLI's one
error boundary inside a :class:`FraiseQLError`; warnings travel with the result.
"""

from __future__ import annotations

from fraiseql_compiler.diagnostics.model import (
    Diagnostic,
    FraiseQLError,
    Related,
    Span,
    diag,
    did_you_mean,
    scrub,
)
from fraiseql_compiler.diagnostics.registry import CODES, Code, Severity, lookup

__all__ = [
    "CODES",
    "Code",
    "Diagnostic",
    "FraiseQLError",
    "Related",
    "Severity",
    "Span",
    "diag",
    "did_you_mean",
    "lookup",
    "scrub",
]
