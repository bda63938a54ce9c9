"""WeChat Pay API v3 signatures: SHA256withRSA (PKCS#1 v1.5) over newline-joined lines, base64.

Requests are signed by the merchant's API key over "METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n"
(the `Authorization: WECHATPAY2-SHA256-RSA2048 ...` header); answers and notifications by
WeChat's platform key over "TIMESTAMP\\nNONCE\\nBODY\\n" (the `Wechatpay-*` headers).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
import time
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
_NONCE_ALPHABET = string.ascii_uppercase + string.digits


def nonce(length: int = 32) -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


@lru_cache(maxsize=64)
def private_key(pem: str) -> rsa.RSAPrivateKey:
    """The merchant's RSA key from its PEM (apiclient_key.pem); ValueError when it is not one."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


@lru_cache(maxsize=64)
def certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def serial_of(cert: x509.Certificate) -> str:
    """A certificate's serial as WeChat writes it: upper-case hex."""
    return format(cert.serial_number, "X")


def request_message(method: str, path: str, timestamp: str, nonce_str: str, body: bytes) -> bytes:
    return (
        b"\n".join(
            [method.upper().encode(), path.encode(), timestamp.encode(), nonce_str.encode(), body]
        )
        + b"\n"
    )


def answer_message(timestamp: str, nonce_str: str, body: bytes) -> bytes:
    return timestamp.encode() + b"\n" + nonce_str.encode() + b"\n" + body + b"\n"


def sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True


def authorization(
    *,
    mchid: str,
    serial_no: str,
    key: rsa.RSAPrivateKey,
    method: str,
    path: str,
    body: bytes,
    timestamp: str | None = None,
    nonce_str: str | None = None,
) -> str:
    """The Authorization header of one request; `path` is the URL's path and query as sent."""
    timestamp = timestamp or str(int(time.time()))
    nonce_str = nonce_str or nonce()
    signature = sign(key, request_message(method, path, timestamp, nonce_str, body))
    return (
        f'{SCHEMA} mchid="{mchid}",nonce_str="{nonce_str}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )
