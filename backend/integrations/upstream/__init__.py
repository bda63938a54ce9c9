"""Upstream order source adapters: one per format (REST feed, CSV, XML, pushed API)."""
