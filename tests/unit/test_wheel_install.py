"""A normal (non-editable) wheel install carries the templates and builds the example.

Uses a venv that sees this environment's packages (no network), and installs the project into it
without build isolation, so the wheel is built from this checkout by hatchling.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from tests.cases import REPO


@pytest.mark.slow
def test_wheel_install_builds_the_example(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)  # ensurepip: offline
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    source = tmp_path / "src"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", ".*"))
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         str(source)],
        check=True, env=env, cwd=tmp_path,
    )
    work = tmp_path / "work"
    shutil.copytree(REPO / "examples" / "blog", work / "blog", ignore=shutil.ignore_patterns("build"))
    # the installed package, not the checkout, must be the one imported
    where = subprocess.run(
        [str(python), "-c", "import fraiseql_compiler, fraiseql; print(fraiseql_compiler.__file__, fraiseql.__file__)"],
        check=True, env=env, cwd=work, capture_output=True, text=True,
    ).stdout
    assert str(REPO) not in where and str(env_dir) in where, where
    result = subprocess.run(
        [str(env_dir / "bin" / "fraiseql"), "build", "blog"],
        env=env, cwd=work, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    built = work / "blog" / "build"
    committed = REPO / "examples" / "blog" / "build"
    for path in committed.rglob("*"):
        if path.is_file():
            assert (built / path.relative_to(committed)).read_bytes() == path.read_bytes(), path
