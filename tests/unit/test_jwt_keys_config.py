"""Issue 8: [auth.jwt] signing_key_id (which key signs while several are published), a provider's
max_token_lifetime_seconds, and the kind-specific hint for a provider without keys."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from fraiseql_compiler.config import CONFIG_FILE, Config, ConfigError, load_config
from fraiseql_compiler.diagnostics import Diagnostic
from fraiseql_compiler.manifest.config import runtime_config

N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjh"
OLD = {"kty": "RSA", "kid": "2025-01", "use": "sig", "alg": "RS256", "n": N, "e": "AQAB"}
NEW = {**OLD, "kid": "2025-07"}
EC = {"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
RS256 = '[auth.jwt]\nalgorithm = "RS256"\nissuer = "app"\njwks_file = "jwks.json"\n'


def load(tmp_path: Path, toml: str, keys: list[dict[str, Any]] | None = None) -> Config:
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": keys if keys is not None else [OLD]}))
    path = tmp_path / CONFIG_FILE
    path.write_text(textwrap.dedent(toml).lstrip("\n"), encoding="utf-8")
    return load_config(path)


def only(tmp_path: Path, toml: str, keys: list[dict[str, Any]] | None = None) -> Diagnostic:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, toml, keys)
    (found,) = caught.value.diagnostics
    return found


def manifest_jwt(config: Config) -> dict[str, Any]:
    return runtime_config(config).model_dump(mode="json")["auth"]["jwt"]  # type: ignore[no-any-return]


def test_the_only_key_signs_by_default(tmp_path: Path) -> None:
    assert manifest_jwt(load(tmp_path, RS256))["signing_key_id"] == "2025-01"


def test_hs256_has_no_signing_key_id(tmp_path: Path) -> None:
    assert manifest_jwt(load(tmp_path, '[auth.jwt]\nissuer = "app"\n'))["signing_key_id"] is None


def test_signing_key_id_names_one_of_several_keys(tmp_path: Path) -> None:
    config = load(tmp_path, RS256 + 'signing_key_id = "2025-07"\n', [OLD, NEW])
    assert manifest_jwt(config)["signing_key_id"] == "2025-07"
    assert [k["kid"] for k in manifest_jwt(config)["jwks"]["keys"]] == ["2025-01", "2025-07"]


def test_a_random_looking_kid_is_not_taken_for_a_secret(tmp_path: Path) -> None:
    kid = "NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg"  # Auth0-style
    config = load(tmp_path, RS256 + f'signing_key_id = "{kid}"\n', [OLD, {**NEW, "kid": kid}])
    assert manifest_jwt(config)["signing_key_id"] == kid


REFUSED = {
    "several keys, none named": (RS256, [OLD, NEW], 4, "FQL132",
                                 ['holds 2 keys ("2025-01", "2025-07")', "which one signs"], "signing_key_id ="),
    "unknown kid": (RS256 + 'signing_key_id = "2024-01"\n', [OLD, NEW], 5, "FQL132",
                    ['signing_key_id "2024-01" is not a kid', '"2025-01", "2025-07"'], "add the new public key"),
    "key without kid": (RS256, [{k: v for k, v in OLD.items() if k != "kid"}], 4, "FQL132",
                        ['needs a "kid"', "rotated without downtime"], '"kid"'),
    "kid twice": (RS256 + 'signing_key_id = "2025-01"\n', [OLD, OLD], 4, "FQL132", ['kid "2025-01"'], "own kid"),
    "not an RS256 key": (RS256 + 'signing_key_id = "ec-1"\n', [OLD, EC], 5, "FQL132",
                         ['"ec-1"', "cannot sign RS256"], "RSA key"),
    "with HS256": ('[auth.jwt]\nissuer = "app"\nsigning_key_id = "2025-01"\n', [OLD], 3, "FQL134",
                   ["not used with HS256"], "remove signing_key_id"),
    "a reference": (RS256 + 'signing_key_id = "${KID}"\n', [OLD, NEW], 5, "FQL132", ["environment reference"], None),
}


@pytest.mark.parametrize(("toml", "keys", "line", "code", "words", "hint"), REFUSED.values(), ids=REFUSED.keys())
def test_signing_key_id_refusals(
    tmp_path: Path, toml: str, keys: list[dict[str, Any]], line: int, code: str, words: list[str], hint: str | None
) -> None:
    d = only(tmp_path, toml, keys)
    assert (d.code, d.span.line if d.span else None) == (code, line), d.message
    assert all(w in d.message for w in words), d.message
    if hint:
        assert d.hint and hint in d.hint, d.hint


PROVIDER = """
[[security.providers]]
name = "{kind}"
kind = "{kind}"
issuer = "{issuer}"
audience = "https://api.example.com"
"""


@pytest.mark.parametrize(
    ("kind", "issuer", "example"),
    [
        ("auth0", "https://example.auth0.com/", "https://<tenant>.auth0.com/.well-known/jwks.json"),
        ("clerk", "https://example.clerk.accounts.dev", "https://<your-clerk-frontend-api>/.well-known/jwks.json"),
        ("oidc", "https://id.example.com", "openid-configuration"),
    ],
)
def test_the_missing_keys_hint_fits_the_kind(tmp_path: Path, kind: str, issuer: str, example: str) -> None:
    d = only(tmp_path, PROVIDER.format(kind=kind, issuer=issuer))
    assert "needs jwks_uri or jwks_file" in d.message
    assert d.hint and example in d.hint
    if kind != "auth0":
        assert "auth0" not in d.hint


def test_provider_lifetime_cap_default_and_setting(tmp_path: Path) -> None:
    toml = PROVIDER.format(kind="clerk", issuer="https://example.clerk.accounts.dev")
    toml += 'jwks_uri = "https://example.clerk.accounts.dev/.well-known/jwks.json"\n'
    providers = runtime_config(load(tmp_path, toml)).security.providers
    assert providers[0].max_token_lifetime_seconds == 86_400
    providers = runtime_config(load(tmp_path, toml + "max_token_lifetime_seconds = 300\n")).security.providers
    assert providers[0].max_token_lifetime_seconds == 300
    d = only(tmp_path, toml + "max_token_lifetime_seconds = 10\n")
    assert d.code == "FQL132" and "60" in d.message
