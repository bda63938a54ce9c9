"""Celery app (backend.jobs.celery_app) and thin tasks: each task makes one service call."""
