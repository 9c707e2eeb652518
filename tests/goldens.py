"""Golden-file comparison. Updating is deliberate: `pytest --update-goldens`, then review the diff."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest


def assert_golden(expected_path: Path, actual: str, update: bool) -> None:
    if update:
        expected_path.parent.mkdir(parents=True, exist_ok=True)
        expected_path.write_text(actual, encoding="utf-8")
        return
    if not expected_path.exists():
        pytest.fail(
            f"missing golden file {expected_path}; run `pytest --update-goldens` and review it", pytrace=False
        )
    expected = expected_path.read_text(encoding="utf-8")
    if expected != actual:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{expected_path} (golden)",
                tofile="actual",
            )
        )
        pytest.fail(
            f"{expected_path} differs from the golden file (pytest --update-goldens to accept):\n{diff}",
            pytrace=False,
        )


def assert_golden_dir(expected_dir: Path, files: dict[str, str], update: bool) -> None:
    """Every file in ``files`` matches, and ``expected_dir`` holds no file that is no longer produced."""
    if update and expected_dir.exists():
        for old in expected_dir.rglob("*"):
            if old.is_file() and old.relative_to(expected_dir).as_posix() not in files:
                old.unlink()
    for rel, content in sorted(files.items()):
        assert_golden(expected_dir / rel, content, update)
    if expected_dir.exists():
        extra = sorted(p.relative_to(expected_dir).as_posix() for p in expected_dir.rglob("*") if p.is_file())
        stale = [p for p in extra if p not in files]
        if stale:
            pytest.fail(
                f"{expected_dir} holds files no longer produced: {stale}; run `pytest --update-goldens`",
                pytrace=False,
            )
