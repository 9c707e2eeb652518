"""The hooks of ``.pre-commit-hooks.yaml``, run by the real pre-commit against git repositories holding the blog.

The hook repository is a snapshot of this checkout's working tree (tracked files as they are on disk, plus
untracked files that are not ignored), committed in a temporary git repository: what pre-commit installs is
the code under test, uncommitted changes included. (``try-repo`` on the checkout itself would add only
tracked files to its shadow commit, and ``.pre-commit-hooks.yaml`` may not be tracked yet.)

pre-commit installs a ``language: python`` hook by creating a virtualenv and pip-installing the hook
repository (this package and its dependencies, squawk-cli included) from the package registry: about 10 s
here. ``try-repo`` always installs into a throwaway store, so it is used once, for the clean run of both hooks;
every other case runs ``pre-commit run`` with a ``.pre-commit-config.yaml`` naming the snapshot by path and
commit, as a user's config names the published repository, against one ``PRE_COMMIT_HOME`` shared by the
module: one install, reused (pre-commit keys it by repository and revision). Nothing is written to the user's
home: ``PRE_COMMIT_HOME`` and virtualenv's app-data folder are temporary, and git reads no global config.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cases import REPO

pytestmark = pytest.mark.slow

BLOG = REPO / "examples" / "blog"
UNGUARDED = '\n\n@fraiseql.mutation\ndef wipe(info) -> bool:\n    """Wipe."""\n'
HOOKS = ("fraiseql-lint", "fraiseql-build-check")
NAMES = {"fraiseql-lint": "fraiseql lint", "fraiseql-build-check": "fraiseql build --check"}
TIMEOUT = 900  # an install downloads from the registry; a run takes about a second


@dataclass(frozen=True)
class PreCommit:
    hooks_repo: Path
    rev: str
    home: Path
    env: dict[str, str]

    def __call__(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -m pre_commit ARGS`` in ``cwd``; stdout and stderr together."""
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", *args],
            cwd=cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT,
        )

    def git(self, cwd: Path, *args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=self.env, check=True, capture_output=True, text=True
        ).stdout.strip()

    def new_repo(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.git(root, "init", "-q")
        self.git(root, "config", "user.name", "Test")
        self.git(root, "config", "user.email", "test@example.com")

    def commit_all(self, root: Path, message: str = "snapshot") -> str:
        self.git(root, "add", "-A")
        self.git(root, "commit", "-q", "--no-verify", "-m", message)
        return self.git(root, "rev-parse", "HEAD")

    def config(self, hooks: Sequence[dict[str, str]] = tuple({"id": h} for h in HOOKS)) -> str:
        """A user's ``.pre-commit-config.yaml`` naming the snapshot; each hook a dict of id and overrides."""
        lines = ["repos:", f"  - repo: {self.hooks_repo}", f"    rev: {self.rev}", "    hooks:"]
        for hook in hooks:
            first = True
            for key, value in hook.items():
                lines.append(f"      {'- ' if first else '  '}{key}: {value}")
                first = False
        return "\n".join(lines) + "\n"

    def blog_repo(self, root: Path, subdir: str = "", config: str | None = None) -> Path:
        """A git repository holding a copy of the blog (at ``subdir``), a README and ``config``; returns the
        project folder."""
        project = root / subdir if subdir else root
        shutil.copytree(BLOG, project, ignore=shutil.ignore_patterns("__pycache__"))
        (root / "README.md").write_text("# A repository using fraiseql\n", encoding="utf-8")
        if config is not None:
            (root / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
        self.new_repo(root)
        self.commit_all(root, "blog")
        return project


def _environment(base: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("GIT_", "PRE_COMMIT")) and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env.update(
        PRE_COMMIT_HOME=str(base / "pre-commit-home"),
        VIRTUALENV_OVERRIDE_APP_DATA=str(base / "virtualenv-app-data"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
    )
    return env


def _snapshot(target: Path) -> None:
    """This checkout's working tree, as git sees it (tracked files as on disk, untracked files not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted on disk is left out, as the working tree has it
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def pre_commit(tmp_path_factory: pytest.TempPathFactory) -> PreCommit:
    if importlib.util.find_spec("pre_commit") is None:  # a failure, not a skip: the hooks must be run
        pytest.fail("pre-commit is not installed: it is a test dependency (pyproject.toml, [test])", pytrace=False)
    base = tmp_path_factory.mktemp("pre-commit")
    hooks_repo = base / "fraiseql-compiler"
    hooks_repo.mkdir()
    _snapshot(hooks_repo)
    assert (hooks_repo / ".pre-commit-hooks.yaml").is_file()
    tool = PreCommit(hooks_repo, "", base / "pre-commit-home", _environment(base))
    tool.new_repo(hooks_repo)
    tool = PreCommit(hooks_repo, tool.commit_all(hooks_repo), tool.home, tool.env)

    validated = tool(hooks_repo, "validate-manifest", ".pre-commit-hooks.yaml")
    assert validated.returncode == 0, validated.stdout
    # the one install that every `pre-commit run` below reuses
    scratch = base / "install"
    tool.blog_repo(scratch, config=tool.config())
    installed = tool(scratch, "install-hooks")
    assert installed.returncode == 0, installed.stdout
    envs = list(tool.home.glob("repo*/py_env-*/bin/fraiseql"))
    assert len(envs) == 1, envs  # the hook's own virtualenv, under PRE_COMMIT_HOME
    return tool


def _status(output: str, hook: str) -> str:
    """The status pre-commit printed for ``hook``: Passed, Failed or Skipped."""
    found = re.search(rf"^{re.escape(NAMES[hook])}\.+(?:\(no files to check\))?(Passed|Failed|Skipped)$", output, re.M)
    assert found, output
    return found.group(1)


def test_try_repo_the_blog_passes_both_hooks(pre_commit: PreCommit, tmp_path: Path) -> None:
    """The manifest as try-repo reads it, every hook in it (try-repo installs into its own throwaway store)."""
    target = tmp_path / "repo"
    pre_commit.blog_repo(target)
    result = pre_commit(target, "try-repo", str(pre_commit.hooks_repo), "--all-files", "--color", "never")
    assert result.returncode == 0, result.stdout
    assert [_status(result.stdout, hook) for hook in HOOKS] == ["Passed", "Passed"], result.stdout


def test_lint_hook_fails_on_a_mutation_without_auth(pre_commit: PreCommit, tmp_path: Path) -> None:
    target = tmp_path / "repo"
    project = pre_commit.blog_repo(target, config=pre_commit.config())
    with open(project / "schema.py", "a", encoding="utf-8") as fh:
        fh.write(UNGUARDED)
    pre_commit.git(target, "add", "schema.py")

    result = pre_commit(target, "run", "fraiseql-lint", "--color", "never")  # the staged files, as on commit
    assert result.returncode == 1, result.stdout
    assert _status(result.stdout, "fraiseql-lint") == "Failed"
    assert "FQL304" in result.stdout and '"wipe"' in result.stdout, result.stdout

    # and through git: the installed hook refuses the commit
    head = pre_commit.git(target, "rev-parse", "HEAD")
    installed = pre_commit(target, "install")
    assert installed.returncode == 0, installed.stdout
    commit = subprocess.run(
        ["git", "commit", "-q", "-m", "wipe"],
        cwd=target, env=pre_commit.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT,
    )
    assert commit.returncode != 0, commit.stdout
    assert "FQL304" in commit.stdout, commit.stdout
    assert pre_commit.git(target, "rev-parse", "HEAD") == head


def test_build_check_hook_fails_when_the_build_is_stale(pre_commit: PreCommit, tmp_path: Path) -> None:
    target = tmp_path / "repo"
    project = pre_commit.blog_repo(target, config=pre_commit.config())
    schema = project / "schema.py"
    text = schema.read_text(encoding="utf-8")
    assert '"""A registered user."""' in text
    schema.write_text(text.replace('"""A registered user."""', '"""A registered user of the blog."""'), "utf-8")
    pre_commit.git(target, "add", "schema.py")

    result = pre_commit(target, "run", "--color", "never")
    assert result.returncode == 1, result.stdout
    assert _status(result.stdout, "fraiseql-build-check") == "Failed"
    assert "stale" in result.stdout and "schema.graphql" in result.stdout, result.stdout
    assert _status(result.stdout, "fraiseql-lint") == "Passed"  # a new description is no lint finding


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ("README.md", {"fraiseql-lint": "Skipped", "fraiseql-build-check": "Skipped"}),
        ("schema.py", {"fraiseql-lint": "Passed", "fraiseql-build-check": "Passed"}),
        ("fraiseql.toml", {"fraiseql-lint": "Passed", "fraiseql-build-check": "Passed"}),
        ("db/migrations/0001_base.sql", {"fraiseql-lint": "Passed", "fraiseql-build-check": "Passed"}),
        ("build/schema.graphql", {"fraiseql-lint": "Skipped", "fraiseql-build-check": "Passed"}),
        ("build/fraiseql.manifest.json", {"fraiseql-lint": "Passed", "fraiseql-build-check": "Passed"}),
    ],
)
def test_which_files_trigger_the_hooks(
    pre_commit: PreCommit, tmp_path: Path, changed: str, expected: dict[str, str]
) -> None:
    """The hooks check the whole project; a changed file only decides whether they run (their types_or)."""
    target = tmp_path / "repo"
    pre_commit.blog_repo(target, config=pre_commit.config())
    result = pre_commit(target, "run", "--color", "never", "--files", changed)
    assert result.returncode == 0, result.stdout
    assert {hook: _status(result.stdout, hook) for hook in HOOKS} == expected, result.stdout


def test_a_project_in_a_subdirectory_is_named_by_args(pre_commit: PreCommit, tmp_path: Path) -> None:
    """A monorepo: hooks run from the repository root, so the project folder is passed as args, and files
    narrows the trigger to it."""
    target = tmp_path / "repo"
    overrides = {"args": "[services/api]", "files": "^services/api/"}
    config = pre_commit.config([{"id": hook, **overrides} for hook in HOOKS])
    project = pre_commit.blog_repo(target, "services/api", config=config)
    (target / "tools").mkdir()
    (target / "tools" / "deploy.py").write_text("print('deploy')\n", encoding="utf-8")
    pre_commit.commit_all(target, "tools")

    clean = pre_commit(target, "run", "--all-files", "--color", "never")
    assert clean.returncode == 0, clean.stdout
    assert [_status(clean.stdout, hook) for hook in HOOKS] == ["Passed", "Passed"], clean.stdout

    outside = pre_commit(target, "run", "--color", "never", "--files", "tools/deploy.py")
    assert [_status(outside.stdout, hook) for hook in HOOKS] == ["Skipped", "Skipped"], outside.stdout

    with open(project / "schema.py", "a", encoding="utf-8") as fh:
        fh.write(UNGUARDED)
    pre_commit.git(target, "add", "services/api/schema.py")
    failed = pre_commit(target, "run", "--color", "never")
    assert failed.returncode == 1, failed.stdout
    assert [_status(failed.stdout, hook) for hook in HOOKS] == ["Failed", "Failed"], failed.stdout
    assert "FQL304" in failed.stdout and "stale" in failed.stdout, failed.stdout

    # without args the hooks look for fraiseql.toml at the repository root, and say so (exit 2)
    bare = target / "bare-config.yaml"
    bare.write_text(pre_commit.config(), encoding="utf-8")
    no_args = pre_commit(target, "run", "--config", str(bare), "--all-files", "--color", "never")
    assert no_args.returncode == 1, no_args.stdout
    assert [_status(no_args.stdout, hook) for hook in HOOKS] == ["Failed", "Failed"], no_args.stdout
    assert no_args.stdout.count("exit code: 2") == 2 and "fraiseql.toml" in no_args.stdout, no_args.stdout
