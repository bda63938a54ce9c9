"""Offline stand-ins for carriers and payment providers (demo and tests only; the product never imports this)."""
