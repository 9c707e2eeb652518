"""The runtime manifest: versioned pydantic models (``models``), built from the analysis (``build``),
written and read (``io``). ``MANIFEST_FILE`` is the one place its file name is stated; this package
imports pydantic only when its models are used, so the CLI can name the file without the cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

MANIFEST_FILE = "fraiseql.manifest.json"

if TYPE_CHECKING:
    from fraiseql_compiler.manifest.models import FORMAT_VERSION, Manifest


def __getattr__(name: str) -> Any:
    if name in ("FORMAT_VERSION", "Manifest"):
        from fraiseql_compiler.manifest import models

        return getattr(models, name)
    raise AttributeError(name)


__all__ = ["FORMAT_VERSION", "MANIFEST_FILE", "Manifest"]
