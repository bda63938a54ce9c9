"""AEAD_AES_256_GCM with the APIv3 key: how WeChat Pay seals notification resources and certificates."""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ALGORITHM = "AEAD_AES_256_GCM"


class DecryptionFailed(ValueError):
    """Wrong key, changed ciphertext, nonce or associated data, or not base64 at all."""


def decrypt(apiv3_key: str, nonce: str, associated_data: str, ciphertext: str) -> bytes:
    """The plaintext of a sealed resource; the 16-byte tag is the ciphertext's tail, as WeChat sends it."""
    key = apiv3_key.encode()
    if len(key) != 32:
        raise DecryptionFailed("the APIv3 key must be 32 bytes")
    try:
        sealed = base64.b64decode(ciphertext.encode("ascii"), validate=True)
        return AESGCM(key).decrypt(nonce.encode(), sealed, associated_data.encode() or None)
    except (InvalidTag, binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise DecryptionFailed(type(exc).__name__) from exc
