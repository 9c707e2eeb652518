"""Writing and reading the manifest file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fraiseql_compiler.diagnostics import FraiseQLError, diag
from fraiseql_compiler.manifest import MANIFEST_FILE
from fraiseql_compiler.manifest.models import FORMAT_VERSION, Manifest


def content_hash(manifest: Manifest) -> str:
    """sha256 of the canonical JSON (sorted keys, compact, UTF-8) of everything but ``content_hash``. The
    models declare their fields in sorted order, so pydantic's compact dump is that canonical form."""
    canonical = manifest.model_dump_json(exclude={"content_hash"})
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def dumps(manifest: Manifest) -> str:
    """The file's text: the manifest with its content hash, indented, with a final newline."""
    hashed = manifest.model_copy(update={"content_hash": content_hash(manifest)})
    return hashed.model_dump_json(indent=2) + "\n"


def load(path: Path) -> Manifest:
    """Read and validate a manifest; FQL160 when it is missing, not JSON, of another format, or altered."""
    from pydantic import ValidationError

    def unreadable(reason: str, hint: str = "run `fraiseql build` first, or pass --manifest") -> FraiseQLError:
        return FraiseQLError([diag("FQL160", f"cannot read the manifest {path}: {reason}", hint=hint)])

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise unreadable(exc.strerror or type(exc).__name__) from None
    try:
        manifest = Manifest.model_validate_json(text)
    except ValidationError as exc:
        version = _format_version(text)
        if version is not None and version != FORMAT_VERSION:
            raise unreadable(
                f"it has format version {version}, this fraiseql-compiler reads version {FORMAT_VERSION}",
                "rebuild it with this version: fraiseql build",
            ) from None
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the document"
        raise unreadable(f"{where}: {first['msg']}") from None
    if content_hash(manifest) != manifest.content_hash:
        raise unreadable("its content does not match its content_hash (was it edited?)", "rebuild it: fraiseql build")
    return manifest


def _format_version(text: str) -> object:
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data.get("format_version") if isinstance(data, dict) else None


__all__ = ["MANIFEST_FILE", "content_hash", "dumps", "load"]
