"""The manifest as a typed contract: what the emitter writes is what the models read, deterministically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fraiseql_compiler.diagnostics import FraiseQLError
from fraiseql_compiler.manifest import FORMAT_VERSION, MANIFEST_FILE, Manifest
from fraiseql_compiler.manifest.io import dumps, load
from tests.cases import Case, cases, compiled

CASES = cases()


def _keys_sorted(value: Any, where: str = "$") -> list[str]:
    out = []
    if isinstance(value, dict):
        if list(value) != sorted(value):
            out.append(where)
        for k, v in value.items():
            out += _keys_sorted(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _keys_sorted(v, f"{where}[{i}]")
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_file_is_the_models_dumped_with_sorted_keys(case: Case) -> None:
    text = compiled(case)[MANIFEST_FILE]
    data = json.loads(text)
    assert _keys_sorted(data) == [], "keys out of order (declare model fields alphabetically)"
    assert text == json.dumps(data, indent=2, ensure_ascii=False) + "\n"  # the documented layout
    manifest = Manifest.model_validate_json(text)
    assert dumps(manifest) == text  # a round trip changes nothing
    assert manifest.format_version == FORMAT_VERSION


def test_policies_and_reachable_roles_are_keyed_by_stable_ids() -> None:
    blog = next(c for c in CASES if c.name == "examples/blog")
    manifest = Manifest.model_validate_json(compiled(blog)[MANIFEST_FILE])
    post = next(t for t in manifest.types if t.name == "Post")
    ids = [p.id for p in post.policies]
    assert ids[:2] == ["type.Post.policy.anonymous.read", "type.Post.policy.authenticated.read"]
    assert all(p.sql and p.predicate for p in post.policies)
    assert "source" not in post.policies[0].model_dump()  # ids, not file:line, identify them
    reachable = {op.id: op.reachable_roles for op in (*manifest.queries, *manifest.mutations)}
    assert reachable["query.reports"] == ["api_key"]
    assert reachable["mutation.login"] == ["anonymous", "authenticated"]


def _written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / MANIFEST_FILE
    path.write_text(text, encoding="utf-8")
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(FraiseQLError) as info:
        load(path)
    (d,) = info.value.diagnostics
    assert d.code == "FQL160"
    return d.message


def test_load_refuses_what_it_cannot_trust(tmp_path: Path) -> None:
    text = compiled(next(c for c in CASES if c.name == "examples/blog"))[MANIFEST_FILE]
    assert load(_written(tmp_path, text)).format_version == FORMAT_VERSION
    assert "No such file" in _refusal(tmp_path / "missing.json")
    assert "Invalid JSON" in _refusal(_written(tmp_path, "{not json"))
    old = json.loads(text) | {"format_version": 1}
    assert "format version 1" in _refusal(_written(tmp_path, json.dumps(old)))
    tampered = text.replace('"fraiseql_anonymous"', '"postgres"', 1)
    assert "does not match its content_hash" in _refusal(_written(tmp_path, tampered))
    missing = json.loads(text)
    del missing["queries"]
    assert "queries: Field required" in _refusal(_written(tmp_path, json.dumps(missing)))
