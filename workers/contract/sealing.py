"""Envelope encryption of small secrets with a KMS key (webhook signing secrets).

A fresh AES-256 data key per secret from ``GenerateDataKey``, AES-GCM for the secret, and
the encryption context (tenant, endpoint, version) bound both into KMS and into the GCM
associated data, so a sealed secret copied to another item does not open. Only the
encrypted data key is stored; the plaintext key never leaves this process.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from typing import Any

_NONCE_BYTES = 12


def _aad(context: Mapping[str, str]) -> bytes:
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()


def seal(kms: Any, key_id: str, plaintext: bytes, context: Mapping[str, str]) -> dict[str, str]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    data_key = kms.generate_data_key(
        KeyId=key_id, KeySpec="AES_256", EncryptionContext=dict(context)
    )
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(data_key["Plaintext"]).encrypt(nonce, plaintext, _aad(context))
    return {
        "key": base64.b64encode(data_key["CiphertextBlob"]).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "data": base64.b64encode(ciphertext).decode(),
    }


def unseal(kms: Any, sealed: Mapping[str, str], context: Mapping[str, str]) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    data_key = kms.decrypt(
        CiphertextBlob=base64.b64decode(sealed["key"]), EncryptionContext=dict(context)
    )["Plaintext"]
    return AESGCM(data_key).decrypt(
        base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["data"]), _aad(context)
    )
