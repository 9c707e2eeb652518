"""Emitters: pure functions from the analysis to artifacts. No I/O, no database, no clock.

The names below load on first use, so that a light submodule (``emit.objects``, which ``fraiseql migrate``
reads builds with) does not pull in the emitters, the configuration models and jinja2."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fraiseql_compiler.emit.artifacts import Artifact, stale_files, write_atomically
    from fraiseql_compiler.emit.sdl import emit_sdl
    from fraiseql_compiler.emit.sql import emit_sql

__all__ = ["Artifact", "emit_sdl", "emit_sql", "stale_files", "write_atomically"]

_HOME = {
    "Artifact": "artifacts",
    "stale_files": "artifacts",
    "write_atomically": "artifacts",
    "emit_sdl": "sdl",
    "emit_sql": "sql",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
