"""Every artifact of every example and golden case matches its committed copy byte for byte.

Accepting a change is deliberate: `python -m pytest tests/golden --update-goldens`, then review the diff.
"""

from __future__ import annotations

import json

import pytest

from tests.cases import Case, cases, compiled
from tests.goldens import assert_golden_dir

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_artifacts_match_goldens(case: Case, update_goldens: bool) -> None:
    assert_golden_dir(case.expected, compiled(case), update_goldens)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compile_is_deterministic(case: Case) -> None:
    from fraiseql_compiler.api import analyze, emit
    from fraiseql_compiler.project import resolve_project

    again = emit(analyze(resolve_project(case.project, case.expected)))
    assert {a.path: a.content for a in again} == compiled(case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_manifest_hashes(case: Case) -> None:
    import hashlib

    files = compiled(case)
    manifest = json.loads(files["fraiseql.manifest.json"])
    claimed = manifest.pop("content_hash")
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert claimed == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    for path, digest in manifest["artifacts"].items():
        assert digest == "sha256:" + hashlib.sha256(files[path].encode()).hexdigest()
    assert set(manifest["artifacts"]) == set(files) - {"fraiseql.manifest.json"}
