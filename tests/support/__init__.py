"""Helpers shared by the test suites (servers, databases, factories)."""
