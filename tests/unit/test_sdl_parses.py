"""Every emitted SDL is a valid GraphQL schema for graphql-core, the reference implementation's port."""

from __future__ import annotations

import pytest
from graphql import build_schema

from tests.cases import Case, cases, compiled

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sdl_builds_a_schema(case: Case) -> None:
    schema = build_schema(compiled(case)["schema.graphql"])
    manifest_ops = compiled(case)["fraiseql.manifest.json"]
    if schema.query_type is not None:
        for name in schema.query_type.fields:
            assert f'"graphql_name": "{name}"' in manifest_ops
