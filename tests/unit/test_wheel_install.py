"""A normal (non-editable) wheel install carries the templates and builds the example.

The nested venv sees exactly the packages of the environment running the tests (hatchling, pip, the
dependencies), through a ``.pth`` file naming this environment's site-packages: ``system_site_packages``
would show the *base* interpreter's packages instead, which, when the suite itself runs in a venv (the
README's command), lack hatchling. A ``.pth`` line only appends a directory to ``sys.path``; the ``.pth``
files inside it (the editable install of this checkout) are not processed, so the wheel installed into the
nested venv is the one imported. No network: ``--no-index --no-build-isolation``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.cases import REPO


def _nested_venv(env_dir: Path, env: dict[str, str]) -> Path:
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, env=env, capture_output=True, text=True,
    ).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(site) / "_outer_environment.pth").write_text("".join(f"{p}\n" for p in ours), encoding="utf-8")
    return python


@pytest.mark.slow
def test_wheel_install_builds_the_example(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env_dir = tmp_path / "venv"
    python = _nested_venv(env_dir, env)
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
