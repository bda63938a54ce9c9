"""Offline stand-ins for the payment providers: hosted pages, APIs and signed webhooks (demo and tests)."""
