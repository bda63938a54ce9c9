"""Waybill's backend: domain logic, services, integrations, jobs and HTTP routes (no Reflex here)."""
