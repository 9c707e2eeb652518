"""Emitters: pure functions from the analysis to artifacts. No I/O, no database, no clock."""

from __future__ import annotations

from fraiseql_compiler.emit.artifacts import Artifact, stale_files, write_atomically
from fraiseql_compiler.emit.sdl import emit_sdl
from fraiseql_compiler.emit.sql import emit_sql

__all__ = ["Artifact", "emit_sdl", "emit_sql", "stale_files", "write_atomically"]
