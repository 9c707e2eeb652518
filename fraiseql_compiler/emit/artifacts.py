"""Artifacts and the one function that writes them to disk, atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fraiseql_compiler.diagnostics import FraiseQLError, diag
from fraiseql_compiler.manifest import MANIFEST_FILE
from fraiseql_compiler.project import display_path

MARKER = MANIFEST_FILE  # a directory holding it was written by us and may be replaced


@dataclass(frozen=True)
class Artifact:
    path: str  # relative, POSIX
    content: str


def write_atomically(artifacts: Sequence[Artifact], out: Path) -> None:
    """Write every artifact into a fresh temporary sibling of ``out``, then swap it into place.

    A crash or an error before the swap leaves ``out`` as it was; the swap is two renames.
    """
    out = out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise FraiseQLError(
            [
                diag(
                    "FQL140",
                    f'refusing to replace "{display_path(out)}": it exists and was not written by fraiseql build',
                    hint="choose another --out directory, or remove it yourself",
                )
            ]
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for artifact in artifacts:
            target = tmp / artifact.path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(artifact.content)
        os.chmod(tmp, 0o755)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / out.name)
        try:
            os.rename(tmp, out)
        except OSError:
            if old is not None:
                os.rename(old / out.name, out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def stale_files(artifacts: Sequence[Artifact], out: Path) -> list[str]:
    """Paths that differ between the artifacts and ``out``: changed, missing, or no longer produced."""
    expected = {a.path: a.content for a in artifacts}
    stale = []
    for path, content in sorted(expected.items()):
        target = out / path
        try:
            if target.read_text(encoding="utf-8") != content:
                stale.append(path)
        except (OSError, UnicodeDecodeError):
            stale.append(path)
    if out.is_dir():
        for existing in sorted(out.rglob("*")):
            rel = existing.relative_to(out).as_posix()
            if existing.is_file() and rel not in expected:
                stale.append(rel)
    return sorted(stale)
