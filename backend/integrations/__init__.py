"""Adapters to the outside world (carriers, payment providers, upstream order sources); no database here."""
