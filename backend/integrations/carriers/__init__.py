"""Carrier adapters: one package per carrier behind the interface in base.py."""
