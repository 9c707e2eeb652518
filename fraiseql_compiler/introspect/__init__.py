"""Introspection: live decorated objects → IR."""

from __future__ import annotations

from fraiseql_compiler.introspect.builder import build_schema

__all__ = ["build_schema"]
