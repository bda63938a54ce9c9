"""Reflex configuration; URLs come from backend.config so one setting drives app, workers and Alembic."""

import reflex as rx

from backend.cache import redis_url
from backend.config import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="portal",
    app_module_import="portal.app",
    redis_url=redis_url(),  # Redis state manager: several workers, and pushes from Celery tasks
    state_manager_mode="redis",
    frontend_port=_settings.port,
    backend_port=_settings.port,
    deploy_url=_settings.base_url,
    api_url=_settings.base_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="light", accent_color="indigo", radius="medium")
        ),
    ],
)
