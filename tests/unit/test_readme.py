"""The README's example compiles, and the error it shows is exactly what the compiler prints."""

from __future__ import annotations

import re
from pathlib import Path

from rich.console import Console

from fraiseql_compiler import api
from fraiseql_compiler.diagnostics import FraiseQLError
from fraiseql_compiler.diagnostics.render import format_all
from tests.cases import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _block(lang: str, containing: str) -> str:
    for match in re.finditer(rf"```{lang}\n(.*?)```", README, re.S):
        if containing in match.group(1):
            return match.group(1)
    raise AssertionError(f"no ```{lang} block containing {containing!r} in README.md")


def test_readme_example_builds(tmp_path: Path) -> None:
    (tmp_path / "schema.py").write_text(_block("python", "@fraiseql.type"))
    result = api.build(tmp_path / "schema.py")
    shown = _block("sh", "fraiseql build schema.py")
    for artifact in result.artifacts:
        assert f"build/{artifact.path}" in shown
    manifest = (tmp_path / "build" / "fraiseql.manifest.json").read_text()
    assert "author_id = (SELECT fraiseql.current_user_id()::uuid)" in manifest
    assert "author_id = (SELECT fraiseql.current_user_id()::uuid)" in README


def test_readme_error_is_real_output(tmp_path: Path) -> None:
    source = _block("python", "@fraiseql.type").replace('row_filter="author_id', 'row_filter="autor_id')
    (tmp_path / "schema.py").write_text(source)
    try:
        api.build(tmp_path / "schema.py")
    except FraiseQLError as exc:
        console = Console(record=True, width=100, no_color=True)
        console.print(format_all(exc.diagnostics, tmp_path))
        printed = console.export_text()
    else:
        raise AssertionError("the misspelt column compiled")
    start = README.index("error[FQL203]")
    shown = README[start : README.index("```", start)]
    assert shown in printed


def test_readme_staged_api_runs(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(REPO / "examples" / "blog", tmp_path / "blog", ignore=shutil.ignore_patterns("build"))
    code = _block("python", "api.analyze(project)").replace('"examples/blog"', repr(str(tmp_path / "blog")))
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    out = tmp_path / "blog" / "build"
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == {a.path for a in namespace["artifacts"]}  # type: ignore[attr-defined]
