"""Local JWTs: an ES256 key made at start, tokens shaped like the stack's access tokens.

The gateway verifies them with PyJWT exactly as the HTTP API JWT authorizer would
(signature, issuer, audience, expiry); the scopes carry the issuer prefix like Cognito's
resource-server scopes (``taskport/tasks:write``).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infra.local import state
from workers.contract import scopes
from workers.contract.headers import TENANT_CLAIM

ISSUER: Final = "https://taskport.local/issuer"
AUDIENCE: Final = "taskport-local"
ALGORITHM: Final = "ES256"
LOCAL_TENANT: Final = "local"
DEFAULT_TTL_SECONDS: Final = 12 * 3600


class NoSigningKeyError(RuntimeError):
    """No local key: ``taskport local`` has not run here (or the state dir differs)."""


@dataclass(frozen=True)
class SigningKey:
    private_pem: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(pem)

    @property
    def public_pem(self) -> bytes:
        private = serialization.load_pem_private_key(self.private_pem, password=None)
        return private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only from the first byte: never a window where the key is world-readable.
        fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(self.private_pem)
        path.with_suffix(".tmp").replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        try:
            return cls(path.read_bytes())
        except FileNotFoundError:
            raise NoSigningKeyError(
                f"no local signing key at {path}: start `taskport local` (or `make run`) first"
            ) from None


def key_path(directory: Path | None = None) -> Path:
    return (directory or state.state_dir()) / state.KEY_FILE


def prefixed(scope_names: Iterable[str], prefix: str = scopes.DEFAULT_PREFIX) -> str:
    """The space-separated ``scope`` claim, names given with or without the prefix."""
    return " ".join(s if s.startswith(prefix) else prefix + s for s in scope_names)


def mint(
    key: SigningKey,
    *,
    tenant: str = LOCAL_TENANT,
    scope_names: Iterable[str] = scopes.ALL,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    prefix: str = scopes.DEFAULT_PREFIX,
    extra: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": f"local-user-{tenant}",
        TENANT_CLAIM: tenant,
        "scope": prefixed(scope_names, prefix),
        "token_use": "access",
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    claims.update(extra or {})
    return jwt.encode(claims, key.private_pem, algorithm=ALGORITHM)


def verify(public_pem: bytes, token: str) -> dict[str, Any]:
    """The token's claims; raises ``jwt.InvalidTokenError`` for anything the authorizer rejects."""
    claims: dict[str, Any] = jwt.decode(
        token,
        public_pem,
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["exp", "iss", "aud"]},
    )
    return claims
