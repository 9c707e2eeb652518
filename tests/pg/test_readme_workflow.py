"""The README's auth workflow, executed verbatim on a fresh database: it is a contract with new users."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.cases import REPO


def _workflow() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The auth workflow") :]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_readme_auth_workflow_runs(tmp_path: Path, pg_url: str) -> None:
    script = _workflow()
    # run it on a copy of the repository's example against this test's own database
    shutil.copytree(REPO / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("build"))
    admin = pg_url
    runtime = psycopg.conninfo.make_conninfo(pg_url, user="fraiseql_authenticator")
    lines = [line for line in script.splitlines() if not line.startswith(("export ADMIN_URL", "export DATABASE_URL"))]
    env = {
        **os.environ,
        "ADMIN_URL": admin,
        "DATABASE_URL": runtime,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    outputs = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(lines)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert outputs.returncode == 0, outputs.stdout + outputs.stderr
    documents = [json.loads(d) for d in re.findall(r"^\{.*?^\}", outputs.stdout, re.S | re.M)]
    my_posts, posts, create, anonymous, login = documents
    assert [p["title"] for p in my_posts["data"]] == ["Hello"]
    assert sorted(p["title"] for p in posts["data"]) == ["Bob here", "Hello"]
    assert create["errors"][0]["http"] == 403
    assert anonymous["errors"][0]["http"] == 401
    assert login["data"]["tokenType"] == "Bearer" and login["data"]["refreshToken"]
