"""Alipay's RSA2: SHA256withRSA over the sorted "k=v&k=v" of the non-empty parameters, base64.

Requests sign every parameter but `sign`; notifies and return parameters are checked over
every parameter but `sign` and `sign_type`; gateway answers over the raw JSON text of
their `<method>_response` node, exactly as it appears in the body.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGN_TYPE = "RSA2"


def _der(text: str) -> bytes:
    return base64.b64decode("".join(text.split()), validate=True)


@lru_cache(maxsize=64)
def private_key(text: str) -> rsa.RSAPrivateKey:
    """The app's private key: PEM, or the bare base64 (PKCS#8 or PKCS#1) Alipay's key tool prints."""
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = serialization.load_der_private_key(_der(text), password=None)
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise ValueError("not a private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


@lru_cache(maxsize=64)
def public_key(text: str) -> rsa.RSAPublicKey:
    """Alipay's public key: PEM, or the bare base64 shown on the open platform's console."""
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(_der(text))
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise ValueError("not a public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def content(params: Mapping[str, str], exclude: Iterable[str] = ("sign",)) -> str:
    """The signed text: parameters sorted by name, empty ones and `exclude` left out."""
    skipped = set(exclude)
    return "&".join(
        f"{k}={params[k]}" for k in sorted(params) if k not in skipped and params[k] != ""
    )


def sign(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(key: rsa.RSAPublicKey, text: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        key.verify(raw, text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True


def response_node(text: str, node: str) -> tuple[str, dict, str]:
    """(raw JSON text of `node`, the node parsed, the answer's sign or "") of a gateway answer.

    The raw text is taken from the body itself (Alipay signs those exact characters), and
    must parse to the same object json.loads finds at the top level, so a decoy copy of the
    node inside some string cannot be what we check.
    """
    document = json.loads(text)
    if not isinstance(document, dict) or not isinstance(document.get(node), dict):
        raise ValueError(f"no {node} in the answer")
    decoder = json.JSONDecoder()
    for match in re.finditer(rf'"{re.escape(node)}"\s*:\s*', text):
        try:
            parsed, end = decoder.raw_decode(text, match.end())
        except ValueError:
            continue
        if parsed == document[node]:
            signature = document.get("sign", "")
            return text[match.end() : end], parsed, signature if isinstance(signature, str) else ""
    raise ValueError(f"the {node} node cannot be located in the answer")
