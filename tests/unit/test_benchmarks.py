"""The benchmark scripts still run (a smoke run: tiny sizes, one run, figures not checked: timing is for
people, never asserted)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cases import REPO


@pytest.mark.slow
def test_build_scale_smoke_run() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "build_scale.py"), "--quick", "--in-place", "--no-peer", "--stages"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for expected in ("N=   50  fraiseql build", "curve (fraiseql build", "fraiseql build --help", "stage breakdown"):
        assert expected in result.stdout, result.stdout
