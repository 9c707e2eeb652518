"""Claims the predicates read must exist (issue 8 §2): a {jwt:<claim>} no token can carry is refused at
build time, a namespaced claim works once mapped, and optional claims are declared."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraiseql_compiler.diagnostics import FraiseQLError
from tests.unit.test_analysis import analyze

SCHEMA = """
import fraiseql
from fraiseql.scalars import ID


@fraiseql.type(table="tb_project", access={{"authenticated": fraiseql.access(read="org_id = {{jwt:{claim}}}")}})
class Project:
    id: ID
    org_id: str
"""
AUTH0 = """
[[security.providers]]
name = "auth0"
kind = "auth0"
issuer = "https://acme.eu.auth0.com/"
jwks_uri = "https://acme.eu.auth0.com/.well-known/jwks.json"
audience = "https://api.acme.test"
claims = {{ {mapping} }}
"""


def policy(tmp_path: Path, claim: str, toml: str = "") -> str:
    analysis = analyze(tmp_path, SCHEMA.format(claim=claim), toml)
    return analysis.facts.policies["type.Project.policy.authenticated.read"]


def refused(tmp_path: Path, claim: str, toml: str = "") -> str:
    with pytest.raises(FraiseQLError) as info:
        analyze(tmp_path, SCHEMA.format(claim=claim), toml)
    [d] = info.value.diagnostics
    assert d.code == "FQL235"
    return f"{d.message} | {d.hint}"


def test_a_claim_no_token_carries_is_refused_with_the_mapping_to_write(tmp_path: Path) -> None:
    text = refused(tmp_path, "org_id")
    assert 'claims = { org_id = "org_id" }' in text and "optional_claims" in text


def test_a_typo_gets_a_did_you_mean(tmp_path: Path) -> None:
    assert "org_id" in refused(tmp_path, "orgId", AUTH0.format(mapping='org_id = "https://acme.test/org_id"'))


def test_a_namespaced_claim_is_refused_until_mapped_then_reads_its_mapped_name(tmp_path: Path) -> None:
    assert 'org_id = "https://acme.test/org_id"' in refused(tmp_path, "https://acme.test/org_id")
    toml = AUTH0.format(mapping='org_id = "https://acme.test/org_id"')
    expected = "org_id = (SELECT fraiseql.claim('org_id')::text)"
    assert policy(tmp_path, "https://acme.test/org_id", toml) == expected
    assert policy(tmp_path, "org_id", toml) == expected


def test_first_party_mappings_and_optional_claims_count(tmp_path: Path) -> None:
    assert policy(tmp_path, "org_id", '[auth.jwt]\nclaims = { org_id = "org" }\n')
    assert policy(tmp_path, "org_id", '[security]\noptional_claims = ["org_id"]\n')


def test_standard_claims_are_always_there(tmp_path: Path) -> None:
    for claim in ("sub", "auth", "jti", "provider", "key_id"):
        assert policy(tmp_path, claim)


def test_a_source_mapped_under_two_names_is_ambiguous(tmp_path: Path) -> None:
    toml = AUTH0.format(mapping='org_id = "https://acme.test/org", team = "https://acme.test/org"')
    assert "ambiguous" in refused(tmp_path, "https://acme.test/org", toml)


def test_the_runtime_passes_mapped_and_optional_claims_through() -> None:
    from fraiseql_compiler.executor.claims import normalize
    from fraiseql_compiler.executor.tokens import Verified

    roles = {"authenticated": "fraiseql_authenticated"}
    raw = {"sub": "u1", "scopes": ["a:b"], "org": "acme", "team": "t", "iat": 1, "exp": 2}
    claims, _ = normalize(Verified(raw, None), roles, {"org_id": "org"}, ("team", "absent"))
    assert claims == {"sub": "u1", "scopes": ["a:b"], "auth": "jwt", "org_id": "acme", "team": "t", "iat": 1, "exp": 2}
