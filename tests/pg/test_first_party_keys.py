"""First-party RS256 and ES256: the token tool signs with a PEM key file, the executor verifies with the
JWKS compiled into the manifest; an HS256 token signed with the public key (algorithm confusion) fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fraiseql_compiler.executor.errors import ExecutionError
from fraiseql_compiler.manifest.io import dumps
from tests.cases import REPO
from tests.pg.blogdb import build_blog
from tests.pg.sessions import ALICE


def _setup(tmp_path: Path, pg_url: str, algorithm: str) -> tuple[Any, Path, Any]:
    if algorithm == "RS256":
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    else:
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": algorithm})
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file = tmp_path / "signing.pem"  # outside the project: a private key never sits next to the config
    key_file.write_bytes(pem)
    toml = (REPO / "examples" / "blog" / "fraiseql.toml").read_text()
    toml = toml.replace('algorithm = "HS256"', f'algorithm = "{algorithm}"')
    toml = toml.replace('secret_env = "JWT_SECRET"', 'jwks_file = "jwks.json"')
    files = {"jwks.json": json.dumps({"keys": [jwk]})}
    return build_blog(tmp_path, pg_url, files=files, toml_replace=toml), key_file, private


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_asymmetric_first_party_tokens(tmp_path: Path, pg_url: str, algorithm: str) -> None:
    blog, key_file, private = _setup(tmp_path, pg_url, algorithm)
    try:
        manifest = tmp_path / "manifest.json"
        manifest.write_text(dumps(blog.manifest))
        minted = subprocess.run(
            [
                sys.executable,
                "-m",
                "fraiseql_compiler.cli",
                "token",
                "--sub",
                ALICE,
                "--scope",
                "write:posts",
                "--key-file",
                str(key_file),
                "--manifest",
                str(manifest),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path.cwd())},
            check=True,
        ).stdout.strip()
        assert jwt.get_unverified_header(minted) == {"alg": algorithm, "kid": "k1", "typ": "JWT"}
        assert [p["title"] for p in blog.run("myPosts", minted)] == ["Hello"]
        # algorithm confusion: HS256 "signed" with the public key must not pass
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        claims = jwt.decode(minted, options={"verify_signature": False})
        try:
            forged = jwt.encode(claims, public_pem, algorithm="HS256")
        except jwt.InvalidKeyError:
            forged = jwt.api_jws.PyJWS().encode(json.dumps(claims).encode(), b"x" * 32, algorithm="HS256")
        result = blog.run("myPosts", forged)
        assert isinstance(result, ExecutionError) and result.http == 401
    finally:
        blog.admin.close()
