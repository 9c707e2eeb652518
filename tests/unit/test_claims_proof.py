"""The runtime's side of the claims proof (fraiseql_compiler/claims_proof.py, docs/claims-proof.md): the key's
parsing, its id, the HMAC pads the database stores, the proof, and the test vectors
(tests/claims_proof_vectors.json) that a runtime in another language checks itself against. The same vectors
are checked against the database's fraiseql.claims_proven in tests/pg/test_claims_proof.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from fraiseql_compiler import claims_proof
from fraiseql_compiler.claims_proof import BadKey, key_id, new_key, pads, parse_key, prove

VECTORS_FILE = Path(__file__).resolve().parents[1] / "claims_proof_vectors.json"
PROOF = re.compile(r"v1\.[0-9a-f]{16}\.[0-9a-f]{64}")


def vectors() -> list[dict[str, Any]]:
    return list(json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"])


# --- parse_key ------------------------------------------------------------------------------------------------


def test_parse_key_takes_standard_and_url_safe_base64_with_or_without_padding() -> None:
    key = bytes(range(0xE0, 0x100))  # encodes with + and / (standard) or - and _ (URL-safe), and one =
    standard = base64.b64encode(key).decode()
    url_safe = base64.urlsafe_b64encode(key).decode()
    assert "+" in standard and "/" in standard and standard.endswith("=")
    assert "-" in url_safe and "_" in url_safe
    for text in (standard, standard.rstrip("="), url_safe, url_safe.rstrip("="), f"  {standard}\n"):
        assert parse_key(text) == key, text
    two = bytes(range(34))  # 34 bytes: two = of padding
    assert base64.b64encode(two).decode().endswith("==")
    assert parse_key(base64.b64encode(two).decode()) == two
    assert parse_key(base64.b64encode(two).decode().rstrip("=")) == two


def test_parse_key_takes_what_openssl_rand_and_new_key_print() -> None:
    printed = new_key()
    assert len(parse_key(printed)) == 32
    assert new_key() != printed
    assert parse_key(base64.b64encode(os.urandom(64)).decode()) is not None  # longer keys are fine


@pytest.mark.parametrize("size", [0, 1, 16, 31])
def test_a_key_under_32_bytes_is_refused_and_says_how_many(size: int) -> None:
    text = base64.b64encode(bytes(size)).decode() or "=="
    with pytest.raises(BadKey) as info:
        parse_key(text)
    if size:
        assert f"holds {size} bytes" in str(info.value) and "at least 32" in str(info.value)
    assert "openssl rand -base64 32" in str(info.value)


def test_32_bytes_is_the_boundary() -> None:
    assert len(parse_key(base64.b64encode(bytes(32)).decode())) == 32
    with pytest.raises(BadKey):
        parse_key(base64.b64encode(bytes(31)).decode())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not base64 at all!",
        "a" * 43 + "*",  # a character of neither alphabet
        "Zm9v=YmFy" + "A" * 40,  # padding in the middle
        "A" * 44 + "===",  # three padding characters
        "A" * 45,  # a length no base64 text has (4n + 1)
        "ZnJhaXNlcWwtdGVzdC1jbGFpbXMta2V5LTMyLWJ5dGVzIQ==\nZnJh",  # two lines
    ],
)
def test_text_that_is_not_base64_is_refused_without_echoing_it(text: str) -> None:
    with pytest.raises(BadKey) as info:
        parse_key(text)
    message = str(info.value)
    assert "base64" in message or "bytes" in message
    assert text.strip() == "" or text.strip() not in message  # the value is a secret: never in the message


def test_a_hex_key_of_64_digits_is_read_as_base64_and_is_not_that_key() -> None:
    """64 hex digits are valid base64 (48 bytes), but not the 32 bytes they spell: a runtime must decode the
    variable as base64, whatever it looks like."""
    text = "ab" * 32
    assert parse_key(text) != bytes.fromhex(text)
    assert len(parse_key(text)) == 48


# --- key_id, pads, prove ---------------------------------------------------------------------------------------


def test_key_id_is_the_first_16_hex_digits_of_the_keys_sha256() -> None:
    key = bytes(range(32))
    assert key_id(key) == hashlib.sha256(key).hexdigest()[:16] == "630dcd2966c43366"
    assert re.fullmatch(r"[0-9a-f]{16}", key_id(os.urandom(32)))
    assert key_id(key) != key_id(key[:-1] + b"\x00")


@pytest.mark.parametrize("size", [16, 32, 64, 65, 100])
def test_the_pads_give_pythons_hmac(size: int) -> None:
    """sha256(outer || sha256(inner || message)) with the stored pads is HMAC-SHA256, for keys shorter than,
    as long as and longer than SHA-256's 64-byte block (hashed first): what fraiseql.claims_proven computes."""
    for _ in range(5):
        key = os.urandom(size)
        inner, outer = pads(key)
        assert len(inner) == len(outer) == 64
        assert bytes(a ^ b for a, b in zip(inner, outer, strict=True)) == bytes([0x36 ^ 0x5C]) * 64
        for message in (b"", b"fraiseql_authenticated\n{}", os.urandom(1000)):
            ours = hashlib.sha256(outer + hashlib.sha256(inner + message).digest()).digest()
            assert ours == hmac.new(key, message, hashlib.sha256).digest()


def test_a_long_key_is_hashed_before_padding() -> None:
    key = os.urandom(100)
    assert pads(key) == pads(hashlib.sha256(key).digest())
    short = os.urandom(32)
    assert pads(short)[0][:32] == bytes(b ^ 0x36 for b in short)
    assert pads(short)[0][32:] == b"\x36" * 32


def test_prove_is_v1_kid_and_the_hmac_of_role_newline_claims() -> None:
    key = os.urandom(32)
    proof = prove(key, "fraiseql_authenticated", '{"sub":"a"}')
    assert PROOF.fullmatch(proof)
    version, kid, mac = proof.split(".")
    assert (version, kid) == ("v1", key_id(key))
    assert mac == hmac.new(key, b'fraiseql_authenticated\n{"sub":"a"}', hashlib.sha256).hexdigest()


def test_every_input_changes_the_proof() -> None:
    key, role, claims = os.urandom(32), "fraiseql_authenticated", '{"sub":"a","auth":"jwt"}'
    proof = prove(key, role, claims)
    assert prove(key, role, claims) == proof  # deterministic
    changed = {
        prove(os.urandom(32), role, claims),
        prove(key, "fraiseql_api_key", claims),
        prove(key, role, claims + " "),  # the bytes, not the JSON value: no re-serialisation
        prove(key, role, '{"auth":"jwt","sub":"a"}'),
        prove(key, role + "\n", claims[1:]),  # the separator cannot be moved: a role holds no newline
    }
    assert proof not in changed and len(changed) == 5


def test_the_claims_are_proven_as_utf_8() -> None:
    key = os.urandom(32)
    claims = '{"name":"Zoë \U0001f600"}'
    mac = hmac.new(key, ("r\n" + claims).encode("utf-8"), hashlib.sha256).hexdigest()
    assert prove(key, "r", claims).endswith("." + mac)
    assert prove(key, "r", claims) != prove(key, "r", json.dumps(json.loads(claims)))  # ensure_ascii: other bytes


def test_the_manifest_and_the_runtime_agree_on_the_setting() -> None:
    assert claims_proof.PROOF_SETTING == "request.jwt.claims_proof"
    assert claims_proof.DEFAULT_ENV == "FRAISEQL_CLAIMS_KEY"
    assert claims_proof.MIN_KEY_BYTES == 32 and claims_proof.MAX_KEPT == 2


# --- the test vectors ---------------------------------------------------------------------------------------------


def test_the_vectors_file_is_well_formed() -> None:
    found = vectors()
    assert 4 <= len(found) <= 6
    assert len({v["name"] for v in found}) == len(found)
    for v in found:
        assert set(v) == {"name", "key", "key_bytes", "kid", "role", "claims", "proof"}, v["name"]
        assert PROOF.fullmatch(v["proof"]) and v["proof"].split(".")[1] == v["kid"], v["name"]
    # what they cover
    assert any(v["key_bytes"] > 64 for v in found)  # hashed first
    assert any(v["key_bytes"] == 64 for v in found)  # exactly a block
    assert any(not v["key"].endswith("=") and re.search(r"[-_]", v["key"]) for v in found)  # URL-safe, unpadded
    assert any(re.search(r"[^\x00-\x7f]", v["claims"]) for v in found)  # raw non-ASCII
    assert any(len(c.encode()) == 4 for v in found for c in v["claims"])  # outside the BMP
    assert {v["role"] for v in found} >= {
        "fraiseql_anonymous", "fraiseql_authenticated", "fraiseql_api_key", "fraiseql_authenticator",
    }  # fmt: skip


@pytest.mark.parametrize("vector", vectors(), ids=[v["name"] for v in vectors()])
def test_each_vector_matches_the_reference_implementation(vector: dict[str, Any]) -> None:
    key = parse_key(vector["key"])
    assert len(key) == vector["key_bytes"]
    assert key_id(key) == vector["kid"]
    assert prove(key, vector["role"], vector["claims"]) == vector["proof"]
    # and an HMAC computed here, from the bytes alone
    message = vector["role"].encode("utf-8") + b"\n" + vector["claims"].encode("utf-8")
    assert vector["proof"] == f"v1.{vector['kid']}." + hmac.new(key, message, hashlib.sha256).hexdigest()


def test_the_manifests_vectors_are_among_the_test_vectors() -> None:
    """database.claims_proof.vectors (what a runtime server reads) agree with tests/claims_proof_vectors.json."""
    import json
    from pathlib import Path

    from fraiseql_compiler.claims_proof import vectors

    data = json.loads((Path(__file__).resolve().parents[1] / "claims_proof_vectors.json").read_text(encoding="utf-8"))
    known = {(v["key"], v["role"], v["claims"]): v["proof"] for v in data["vectors"]}
    for v in vectors():
        assert known[(v["key"], v["role"], v["claims"])] == v["proof"]
