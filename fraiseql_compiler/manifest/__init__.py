"""The runtime manifest: versioned pydantic models (``models``), built from the analysis (``build``),
written and read (``io``). ``MANIFEST_FILE`` is the one place its file name is stated."""

from __future__ import annotations

from fraiseql_compiler.manifest.models import FORMAT_VERSION, MANIFEST_FILE, Manifest

__all__ = ["FORMAT_VERSION", "MANIFEST_FILE", "Manifest"]
