"""Sandbox carriers: Harbour Post (JSON), Pearl River (XML) and SwiftLink (push) on one Starlette app."""
