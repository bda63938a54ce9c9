"""Errors the services raise; the UI and API turn each into a clear message or status code.

ServiceError
├── ValidationFailed   fields -> error codes, shown next to each field
├── NotFound           also what a caller gets for another tenant's id
├── PermissionDenied   signed in, but the role does not allow it
├── AuthFailed         sign-in refused: a code, and retry_after when throttled
└── RateLimited        too many requests from one client (HTTP 429), with retry_after
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""


class ValidationFailed(ServiceError):
    def __init__(self, fields: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class AuthFailed(ServiceError):
    """code: invalid_credentials | throttled | not_staff | inactive."""

    def __init__(self, code: str, retry_after: int = 0):
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


class RateLimited(ServiceError):
    """Too many requests from one client; retry_after is in seconds (HTTP 429)."""

    def __init__(self, retry_after: int):
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after
